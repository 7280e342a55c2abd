"""The fixed texts the newsletter layout needs in each language: footer, unsubscribe link, and
what stands in for a missing first name or organisation.

templates/newsletter/strings.yaml holds them for the languages wavecast ships with; a campaign
in another language (Italian, Luxembourgish...) gives them in campaign.yaml under
``campaign.layout_strings.<lang>``, which may also reword a shipped text. A language for which
neither has every text is a validation error that names the missing keys: a newsletter never
goes out with a footer in another language than its body.

Two things make a footer read as written by the same hand as the body above it:
- the register: a text that addresses the reader comes per pronoun (``fr: {vous: ..., tu: ...}``)
  and ``register_for`` picks the one the campaign declares for the audience and language, so a
  youth mail that says "tu" does not end with "vous";
- typography: French puts a no-break space before ``: ; ! ?`` and inside guillemets; ``typeset``
  adds it to every layout text, the shipped ones and the campaign's own, so a footer never
  breaks a line before its question mark.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path

import yaml

from campaign.model import Campaign, CampaignInfo

STRINGS_FILE = Path(__file__).resolve().parent.parent / "templates" / "newsletter" / "strings.yaml"
# What a recipient without a first name or organisation sees instead (``{{ first_name }}``...).
NAME_KEYS = ("reader", "your_organisation")
NAME_FALLBACKS: dict[str, tuple[str, str]] = {
    "nl": ("lezer", "uw organisatie"),
    "fr": ("lectrice, lecteur", "votre organisation"),
    "de": ("Leserin, Leser", "Ihre Organisation"),
    "en": ("reader", "your organisation"),
}
# The pronouns a text can address its reader with, formal first (the default).
REGISTERS: dict[str, tuple[str, ...]] = {
    "nl": ("u", "je"),
    "fr": ("vous", "tu"),
    "de": ("Sie", "du"),
    "en": ("you",),
}
INFORMAL_NAME_FALLBACKS: dict[str, tuple[str, str]] = {
    "nl": ("lezer", "je organisatie"),
    "fr": ("lectrice, lecteur", "ton organisation"),
    "de": ("Leserin, Leser", "deine Organisation"),
}
# U+202F (narrow no-break space) before ; ! ? and inside guillemets, U+00A0 before the colon,
# as the Imprimerie nationale has it.
NARROW, NBSP = "\u202f", "\u00a0"
_FR_BEFORE = re.compile(r"[ \u00a0\u202f]*([;!?»])")
_FR_COLON = re.compile(r"(?<=\S)[ \u00a0\u202f]*:(?=\s|$)")
_FR_AFTER = re.compile(r"«[ \u00a0\u202f]*")

# A text in strings.yaml: one for every register, or one per pronoun.
Text = str | dict[str, str]


def typeset(lang: str, text: str) -> str:
    """``text`` with the language's spacing around punctuation: for French, a no-break space
    before ``: ; ! ?`` and inside « », whatever space (or none) the source had there."""
    if lang != "fr" and not lang.startswith("fr-"):
        return text
    text = _FR_BEFORE.sub(lambda m: NARROW + m.group(1), text)
    text = _FR_COLON.sub(NBSP + ":", text)
    return _FR_AFTER.sub("«" + NARROW, text)


def colon(lang: str) -> str:
    """The colon after a label ("Site web : https://..."), as ``typeset`` spaces it."""
    return typeset(lang, "x:")[1:]


def register_for(spec: Campaign, audience_id: str, lang: str) -> str:
    """The pronoun the campaign addresses this audience with in `lang`: the audience's
    ``register``, else the campaign's, else the language's formal one."""
    try:
        own = spec.audience(audience_id).register_
    except KeyError:
        own = {}
    formal = REGISTERS.get(lang, ("",))[0]
    return own.get(lang) or spec.campaign.register_.get(lang) or formal


def pick(text: Text, lang: str, register: str) -> str:
    """The text for `register`, else the formal one, else the first given."""
    if isinstance(text, str):
        return text
    formal = REGISTERS.get(lang, ("",))[0]
    return text.get(register) or text.get(formal) or next(iter(text.values()))


@cache
def _read(path: Path, stamp: tuple[int, int]) -> dict[str, dict[str, Text]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {
        str(key): {
            str(lang): {str(r): str(t) for r, t in text.items()} if isinstance(text, dict) else str(text)
            for lang, text in texts.items()
        }
        for key, texts in data.items()
    }


def shipped(path: Path = STRINGS_FILE) -> dict[str, dict[str, Text]]:
    """strings.yaml as {key: {lang: text}}, re-read when the file changes (the preview follows edits)."""
    stat = path.stat()
    return _read(path, (stat.st_mtime_ns, stat.st_size))


def required_keys(layout: Mapping[str, Mapping[str, Text]]) -> tuple[str, ...]:
    """Every text a language needs: the layout's keys, then the name fallbacks."""
    return (*layout, *NAME_KEYS)


def texts_for(
    info: CampaignInfo, lang: str, layout: Mapping[str, Mapping[str, Text]], register: str = ""
) -> dict[str, str]:
    """The layout's texts in `lang` and `register` (formal when empty), typeset: the campaign's
    own first, then strings.yaml's; a key neither has is absent (validation reports it before
    anything renders)."""
    register = register or REGISTERS.get(lang, ("",))[0]
    found = {key: pick(texts[lang], lang, register) for key, texts in layout.items() if lang in texts}
    informal = register != REGISTERS.get(lang, ("",))[0]
    fallbacks = INFORMAL_NAME_FALLBACKS if informal and lang in INFORMAL_NAME_FALLBACKS else NAME_FALLBACKS
    if lang in fallbacks:
        found.update(zip(NAME_KEYS, fallbacks[lang], strict=True))
    found.update(info.layout_strings.get(lang, {}))
    return {key: typeset(lang, text) for key, text in found.items()}


def missing_texts(info: CampaignInfo, lang: str, layout: Mapping[str, Mapping[str, Text]]) -> list[str]:
    have = texts_for(info, lang, layout)
    return [key for key in required_keys(layout) if key not in have]
