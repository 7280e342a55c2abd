"""Languages are data: any language a campaign declares, by its BCP 47 primary tag.

A code is the lower-case primary language subtag (``nl``, ``fr``, ``it``, ``lb``...) that
Babel knows a locale for, because dates, numbers and lists are formatted in that locale
(``campaign.locale_filters``). Nothing else in wavecast lists the languages a campaign may use.
"""

from __future__ import annotations

import re
from typing import Annotated

from babel import Locale, UnknownLocaleError
from pydantic import AfterValidator, WithJsonSchema

# The languages of the #SmartNation campaign, and of the web app's own pages. A default, not a limit.
DEFAULT_LANGS: tuple[str, ...] = ("nl", "fr", "de", "en")
_PRIMARY_TAG = r"^[a-z]{2,3}$"
_SHAPE = re.compile(_PRIMARY_TAG)


def language_code(value: str) -> str:
    """The code itself when Babel knows it; else a ValueError that says what to write."""
    if not _SHAPE.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a language code: write the BCP 47 primary language tag, "
            "two or three lower-case letters (nl, fr, de, en, it, lb...)"
        )
    try:
        Locale.parse(value)
    except (UnknownLocaleError, ValueError):
        raise ValueError(f"unknown language {value!r}: no locale for it is known (Babel)") from None
    return value


Lang = Annotated[
    str,
    AfterValidator(language_code),
    WithJsonSchema({"type": "string", "pattern": _PRIMARY_TAG, "description": "BCP 47 primary language tag"}),
]
