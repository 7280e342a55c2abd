"""The newsletter's own words in each language: French spacing, the register the campaign
declares per audience, the same "unsubscribe" in the footer and on the page, and the hosted
copy ("view in browser") that names no reader."""

from __future__ import annotations

import datetime as dt
import re
from email import message_from_bytes, policy
from pathlib import Path

import httpx
import pytest

from audiences.tokens import unsubscribe_token
from audiences.upsert import add_contacts
from campaign.bundle import load_bundle
from campaign.layout_strings import REGISTERS, shipped, texts_for
from campaign.newsletter import NewsletterSegment
from campaign.segment import render_segment
from frontends.web import unsubscribe
from frontends.web.hosted_copy import hosted_html
from tests.campaign_copy import copy_campaign, edit, line_of
from tests.cli import wavecast
from tests.conftest import ROOT, reset_caches
from tests.live_app import live_app

EXAMPLE = ROOT / "examples" / "smartnation"
BASE = "https://wavecast.example.org"
NNBSP, NBSP = "\u202f", "\u00a0"


@pytest.fixture
def camp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The minimal campaign, speaking to its youth informally in French and German."""
    monkeypatch.setenv("WAVECAST_BASE_URL", BASE)
    reset_caches()
    directory = copy_campaign(tmp_path)
    edit(
        directory / "campaign.yaml",
        "    rule: {age: {min: 16, max: 25}}\n",
        "    rule: {age: {min: 16, max: 25}}\n    register: {fr: tu, de: du}\n",
    )
    for lang in ("fr", "nl"):
        (directory / "messages" / "hello" / f"youth.{lang}.md").write_text(
            (directory / "messages" / "hello" / "youth.de.md").read_text(encoding="utf-8").replace("(de)", f"({lang})"),
            encoding="utf-8",
        )
    return directory


def newsletter(camp: Path, audience: str, lang: str) -> NewsletterSegment:
    output = render_segment(load_bundle(camp), "first", audience, lang, "newsletter")
    assert isinstance(output, NewsletterSegment)
    return output


def footer(text: str) -> str:
    return text[text.index("\n-- \n") :]


def test_french_layout_texts_take_no_break_spaces_and_the_others_keep_theirs(camp: Path) -> None:
    info = load_bundle(camp).spec.campaign
    for register in REGISTERS["fr"]:
        for key, text in texts_for(info, "fr", shipped(), register).items():
            assert not re.search(r"[ \u00a0][;!?»]|« | :", text), (register, key, text)
    assert texts_for(info, "fr", shipped(), "vous")["unsubscribe_intro"].endswith(f"messages{NNBSP}?")
    for lang in ("nl", "de", "en"):
        assert not any(NNBSP in t or NBSP in t for t in texts_for(info, lang, shipped()).values()), lang
    # Rendered: the text part's labels and the HTML alike, in both registers.
    for audience in ("citizens", "youth"):
        segment = newsletter(camp, audience, "fr")
        tail = footer(segment.text)
        assert f"Site web{NBSP}: https://example.org/fr" in tail
        assert f"Se désinscrire{NBSP}:\n" in tail
        assert re.search(f"messages{NNBSP}\\? Se désinscrire", tail), tail
        assert f"messages{NNBSP}? <a href=" in segment.html
    german = footer(newsletter(camp, "citizens", "de").text)
    assert "Website: https://example.org/de" in german and "erhalten? Abmelden:\n" in german


def test_the_youth_footer_speaks_as_the_example_campaign_declares() -> None:
    bundle = load_bundle(EXAMPLE)
    assert bundle.spec.audience("youth").register_ == {"nl": "je", "fr": "tu", "de": "du"}

    def tail(wave: str, audience: str, lang: str) -> str:
        output = render_segment(bundle, wave, audience, lang, "newsletter")
        assert isinstance(output, NewsletterSegment)
        return footer(output.text)

    youth_fr, youth_de = tail("youth", "youth", "fr"), tail("youth", "youth", "de")
    assert "Tu reçois cet e-mail" in youth_fr and "Tu ne veux plus" in youth_fr
    assert not re.search(r"\b[Vv]ous\b", youth_fr), youth_fr
    assert "Du erhältst diese E-Mail" in youth_de and "Du möchtest" in youth_de
    assert not re.search(r"\bSie\b", youth_de), youth_de
    citizens_fr = tail("launch", "citizens", "fr")
    assert "Vous recevez cet e-mail" in citizens_fr and not re.search(r"\b[Tt]u\b", citizens_fr)
    assert "U ontvangt" in tail("everyday-digital", "seniors", "nl")


def test_a_register_that_is_not_the_languages_is_refused_naming_the_line(
    camp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit(camp / "campaign.yaml", "register: {fr: tu, de: du}", "register: {fr: tu, de: tu}")
    result = wavecast(capsys, "validate", str(camp))
    assert result.code == 1 and "Traceback" not in result.err
    [error] = [e for e in result.err.splitlines() if "register" in e]
    line = line_of(camp / "campaign.yaml", "register: {fr: tu, de: tu}")
    assert f"minimal/campaign.yaml:{line}:" in error and "'tu' is no register of 'de': use Sie or du" in error


def test_unsubscribe_says_the_footers_words_in_the_footers_register(database_url: str, camp: Path) -> None:
    info = load_bundle(camp).spec.campaign
    for lang in ("nl", "fr", "de", "en"):
        for register in REGISTERS[lang]:
            assert (
                unsubscribe.texts(lang, register)["title"] == texts_for(info, lang, shipped(), register)["unsubscribe"]
            )
    assert unsubscribe.texts("fr")["title"] == "Se désinscrire"
    # The youth newsletter's footer link names its register; the page then says "tu".
    token_url = f"{BASE}/u/TOKEN"
    raw = newsletter(camp, "youth", "fr").personalise("lea@example.org", {}, token_url, "<a.1@example.org>")
    message = message_from_bytes(raw, policy=policy.default)
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert f'<a href="{token_url}?register=tu"' in html
    assert message["List-Unsubscribe"].startswith(f"<{token_url}>")  # the header keeps the bare address
    (contact_id,) = add_contacts([{"email": "lea.dubois@example.org", "language": "fr"}])
    token = unsubscribe_token(contact_id)
    with live_app(camp) as base, httpx.Client(base_url=base, timeout=10) as http:
        informal = http.get(f"/u/{token}", params={"register": "tu"}).text
        formal = http.get(f"/u/{token}").text
        done = http.post(f"/u/{token}?register=tu").text
    assert (
        "<h1>Se désinscrire</h1>" in informal
        and f"Tu ne veux plus recevoir les messages de cette campagne{NNBSP}?" in informal
    )
    assert "<h1>Se désinscrire</h1>" in formal and "Vous ne souhaitez plus" in formal and "Tu " not in formal
    assert "Tu es désinscrit·e." in done


def test_the_hosted_copy_shows_the_segment_to_anyone_without_personal_fields(camp: Path) -> None:
    segment = newsletter(camp, "youth", "nl")
    url = f"{BASE}/v/mini/first/youth/nl"
    assert f'<a href="{url}"' in segment.html and url in segment.text
    with live_app(camp) as base, httpx.Client(base_url=base, timeout=10) as http:
        response = http.get("/v/mini/first/youth/nl")
        assert response.status_code == 200, response.text
        page = response.text
        assert "Hello lezer," in page and segment.sample["first_name"] not in page
        assert "/u/" not in page and "Hello youth (nl)" in page
        assert "public" in response.headers["cache-control"]
        again = http.get("/v/mini/first/youth/nl", headers={"If-None-Match": response.headers["etag"]})
        assert again.status_code == 304
        for unknown in (
            "/v/other/first/youth/nl",
            "/v/mini/third/youth/nl",
            "/v/mini/first/nobody/nl",
            "/v/mini/first/youth/it",
            "/v/mini/second/youth/nl",
        ):
            assert http.get(unknown).status_code == 404, unknown
    # Before its wave starts, a copy is not public.
    before = dt.datetime(2023, 6, 12, 7, 59, tzinfo=dt.UTC)
    assert hosted_html(load_bundle(camp), "first", "youth", "nl", before) is None
