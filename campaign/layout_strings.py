"""The fixed texts the newsletter layout needs in each language: footer, unsubscribe link, and
what stands in for a missing first name or organisation.

templates/newsletter/strings.yaml holds them for the languages wavecast ships with; a campaign
in another language (Italian, Luxembourgish...) gives them in campaign.yaml under
``campaign.layout_strings.<lang>``, which may also reword a shipped text. A language for which
neither has every text is a validation error that names the missing keys: a newsletter never
goes out with a footer in another language than its body.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path

import yaml

from campaign.model import CampaignInfo

STRINGS_FILE = Path(__file__).resolve().parent.parent / "templates" / "newsletter" / "strings.yaml"
# What a recipient without a first name or organisation sees instead (``{{ first_name }}``...).
NAME_KEYS = ("reader", "your_organisation")
NAME_FALLBACKS: dict[str, tuple[str, str]] = {
    "nl": ("lezer", "uw organisatie"),
    "fr": ("lectrice, lecteur", "votre organisation"),
    "de": ("Leserin, Leser", "Ihre Organisation"),
    "en": ("reader", "your organisation"),
}


@cache
def _read(path: Path, stamp: tuple[int, int]) -> dict[str, dict[str, str]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {str(key): {str(k): str(v) for k, v in texts.items()} for key, texts in data.items()}


def shipped(path: Path = STRINGS_FILE) -> dict[str, dict[str, str]]:
    """strings.yaml as {key: {lang: text}}, re-read when the file changes (the preview follows edits)."""
    stat = path.stat()
    return _read(path, (stat.st_mtime_ns, stat.st_size))


def required_keys(layout: Mapping[str, Mapping[str, str]]) -> tuple[str, ...]:
    """Every text a language needs: the layout's keys, then the name fallbacks."""
    return (*layout, *NAME_KEYS)


def texts_for(info: CampaignInfo, lang: str, layout: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
    """The layout's texts in `lang`: the campaign's own first, then strings.yaml's; a key
    neither has is absent (validation reports it before anything renders)."""
    found = {key: texts[lang] for key, texts in layout.items() if lang in texts}
    if lang in NAME_FALLBACKS:
        found.update(zip(NAME_KEYS, NAME_FALLBACKS[lang], strict=True))
    found.update(info.layout_strings.get(lang, {}))
    return found


def missing_texts(info: CampaignInfo, lang: str, layout: Mapping[str, Mapping[str, str]]) -> list[str]:
    have = texts_for(info, lang, layout)
    return [key for key in required_keys(layout) if key not in have]
