"""Languages are data: a campaign in Italian and Luxembourgish validates, previews and sends with
no code change, dates in each language's own locale; a language code Babel does not know, or a
language whose layout texts nobody wrote, is refused at its FILE:LINE."""

from __future__ import annotations

import email
import json
from email import policy
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.campaign_copy import MINIMAL, copy_campaign, edit, line_of
from tests.cli import wavecast

# These commands change state: they run as an account with every role (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("signed_in")

# The layout's texts, which templates/newsletter/strings.yaml has only for nl, fr, de and en.
LAYOUT_STRINGS = {
    "it": {
        "why": "Ricevi questa e-mail perché ti sei iscritto alle notizie di questa campagna.",
        "unsubscribe_intro": "Non vuoi più ricevere questi messaggi?",
        "unsubscribe": "Annulla l'iscrizione",
        "preferences": "Le tue preferenze",
        "sent_by": "Inviato da",
        "website": "Sito web",
        "view_in_browser": "Apri questa newsletter nel browser",
        "reader": "lettrice, lettore",
        "your_organisation": "la tua organizzazione",
    },
    "lb": {
        "why": "Dir kritt dës E-Mail, well Dir Iech fir Neiegkeeten iwwer dës Campagne ageschriwwen hutt.",
        "unsubscribe_intro": "Wëllt Dir keng Messagen méi kréien?",
        "unsubscribe": "Ofmellen",
        "preferences": "Är Astellungen",
        "sent_by": "Geschéckt vum",
        "website": "Websäit",
        "view_in_browser": "Dëse Newsletter am Browser kucken",
        "reader": "Lieserin, Lieser",
        "your_organisation": "Är Organisatioun",
    },
}
# From the minimal campaign's languages to the new ones: nl texts become Italian, de texts Luxembourgish.
SOURCE = {"it": "nl", "lb": "de"}
# {{ wave.start }} of the first wave (2023-06-12) as each language's Babel locale writes it.
LONG_DATE = {"it": "12 giugno 2023", "lb": "12. Juni 2023"}


def _relabel(value: Any) -> Any:
    """Every per-language mapping of campaign.yaml, rewritten for it and lb."""
    if isinstance(value, dict):
        if set(value) == {"nl", "fr", "de", "en"}:
            return {lang: value[source] for lang, source in SOURCE.items()}
        return {k: _relabel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_relabel(v) for v in value]
    return value


def italian_and_luxembourgish(tmp_path: Path, *, layout_strings: bool = True) -> Path:
    """tests/fixtures/minimal, turned into a campaign in Italian and Luxembourgish (files only)."""
    camp = copy_campaign(tmp_path)
    data = _relabel(yaml.safe_load((camp / "campaign.yaml").read_text(encoding="utf-8")))
    data["campaign"]["languages"] = list(SOURCE)
    if layout_strings:
        data["campaign"]["layout_strings"] = LAYOUT_STRINGS
    (camp / "campaign.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    for template in (camp / "messages" / "hello").glob("*.md"):
        name, lang, _ = template.name.split(".")
        if lang in SOURCE.values():
            new = next(k for k, v in SOURCE.items() if v == lang)
            text = (
                template.read_text(encoding="utf-8")
                .replace(f"({lang})", f"({new})")
                .replace(f" in {lang}.", f" in {new}.")
            )
            text += "\nOn {{ wave.start|format_date('long') }}.\n"
            (template.parent / f"{name}.{new}.md").write_text(text, encoding="utf-8")
        template.unlink()
    return camp


def test_an_italian_and_luxembourgish_campaign_validates_previews_and_sends(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    camp = italian_and_luxembourgish(tmp_path)
    checked = wavecast(capsys, "validate", "--strict", str(camp))
    assert checked.code == 0, checked.err
    assert "2 languages" in checked.out

    shown = wavecast(
        capsys,
        "preview",
        str(camp),
        "--wave",
        "first",
        "--audience",
        "citizens",
        "--lang",
        "lb",
        "--channel",
        "newsletter",
    )
    assert shown.code == 0, shown.err
    assert LONG_DATE["lb"] in shown.out and LAYOUT_STRINGS["lb"]["unsubscribe"] in shown.out
    out = tmp_path / "preview"
    assert wavecast(capsys, "preview", str(camp), "--out", str(out)).code == 0
    pages = {p.name: p.read_text(encoding="utf-8") for p in out.rglob("*.html")}
    italian = [text for name, text in pages.items() if ".it." in name or "-it" in name or "_it" in name]
    assert italian, sorted(pages)
    assert any(LONG_DATE["it"] in text and LAYOUT_STRINGS["it"]["why"] in text for text in italian)

    contacts = tmp_path / "contacts.csv"
    contacts.write_text(
        "email,first_name,language,birth_year\n"
        "giulia@example.org,Giulia,it,2005\n"
        "marc@example.org,Marc,lb,1970\n"
        "lina@example.org,,lb,2004\n",
        encoding="utf-8",
    )
    imported = wavecast(capsys, "contacts", "import", str(contacts), "--campaign", str(camp))
    assert imported.code == 0, imported.err
    assert wavecast(capsys, "approve", str(camp), "--wave", "first").code == 0
    sent = wavecast(capsys, "send", str(camp), "--wave", "first")
    assert sent.code == 0, sent.err

    mails = [
        email.message_from_bytes(p.read_bytes(), policy=policy.default)
        for p in (tmp_path / "outbox" / "email").rglob("*.eml")
    ]
    by_person = {str(m["To"]).split("<")[-1].rstrip(">"): m for m in mails}
    assert sorted(by_person) == ["giulia@example.org", "lina@example.org", "marc@example.org"]
    for address, lang, hello in [
        ("giulia@example.org", "it", "Hello Giulia,"),
        ("marc@example.org", "lb", "Hello Marc,"),
        ("lina@example.org", "lb", "Hello Lieserin, Lieser,"),  # no first name: the campaign's own fallback
    ]:
        mail = by_person[address]
        assert mail["Content-Language"] == lang
        body = mail.get_body(preferencelist=("plain",))
        assert body is not None
        text = body.get_content()
        assert hello in text and LONG_DATE[lang] in text, text
        assert LAYOUT_STRINGS[lang]["unsubscribe_intro"] in text


def test_a_language_without_the_layout_texts_is_refused_naming_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    camp = italian_and_luxembourgish(tmp_path, layout_strings=False)
    monkeypatch.chdir(tmp_path)
    result = wavecast(capsys, "validate", str(camp.name))
    assert result.code == 1 and "Traceback" not in result.err
    errors = [e for e in result.err.splitlines() if "the newsletter layout has no text for" in e]
    assert len(errors) == 2, result.err
    for lang in SOURCE:
        [error] = [e for e in errors if f"language {lang!r}" in e]
        assert error.startswith(f"minimal/campaign.yaml:{line_of(camp / 'campaign.yaml', f'- {lang}')}:"), error
        assert (
            "why, unsubscribe_intro, unsubscribe, preferences, sent_by, website, view_in_browser, "
            "reader, your_organisation" in error
        )
        assert f"campaign.layout_strings.{lang}" in error


@pytest.mark.parametrize(
    ("written", "says"),
    [
        ("xx", "unknown language 'xx'"),
        ("tlh", "unknown language 'tlh'"),
        ("IT", "'IT' is not a language code"),
        ("nl-BE", "'nl-BE' is not a language code"),
        ("italiano", "'italiano' is not a language code"),
    ],
)
def test_an_unknown_language_code_is_named_at_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, written: str, says: str
) -> None:
    camp = copy_campaign(tmp_path)
    monkeypatch.chdir(tmp_path)
    edit(camp / "campaign.yaml", "languages: [nl, fr, de, en]", f"languages: [nl, fr, de, {written}]")
    edit(camp / "campaign.yaml", "en: Mini}", f"en: Mini, {written}: Mini}}")
    result = wavecast(capsys, "validate", str(camp))
    assert result.code == 1 and "Traceback" not in result.err
    where = f"minimal/campaign.yaml:{line_of(camp / 'campaign.yaml', 'languages:')}:"
    assert any(line.startswith(where) and says in line for line in result.err.splitlines()), result.err
    # the same code as a mapping key (a translated name) is named at its own line too
    key_line = f"minimal/campaign.yaml:{line_of(camp / 'campaign.yaml', 'name: {nl: Mini')}:"
    assert any(line.startswith(key_line) and says in line for line in result.err.splitlines()), result.err


def test_the_json_schema_describes_a_language_as_a_code() -> None:
    from campaign.model import Campaign

    schema = json.dumps(Campaign.model_json_schema(by_alias=True))
    assert "BCP 47 primary language tag" in schema and "^[a-z]{2,3}$" in schema
    assert '"enum": ["nl", "fr", "de", "en"]' not in schema


def test_minimal_campaign_in_its_own_languages_is_unchanged(capsys: pytest.CaptureFixture[str]) -> None:
    assert wavecast(capsys, "validate", "--strict", str(MINIMAL)).code == 0
