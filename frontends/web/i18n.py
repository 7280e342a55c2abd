"""The web app's own language: English, Dutch or French, from gettext catalogues.

The catalogues are the ``.po`` files in ``frontends/web/locales`` (``frontends/web/catalogues.py``
says what is extracted into ``messages.pot``). They are compiled in memory the first time a
language is asked for, so no build step stands between a changed ``.po`` file and the page, and no binary
``.mo`` file sits in the repository beside the text it was made from.

A page is in the signed-in account's language; without an account (sign-in, errors) in the
first language the browser's Accept-Language names that the app speaks; otherwise English.
The language of the render in progress is a context variable: the template's ``_()``,
``ngettext`` and ``{% trans %}``, and the date and number filters, read it.
"""

from __future__ import annotations

import datetime as dt
import gettext as gettext_module
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.dates import format_date as babel_date
from babel.dates import format_datetime as babel_datetime
from babel.dates import get_day_names
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations

from accounts.models import INTERFACE_LANGUAGES
from campaign.model import WEEKDAYS
from campaign.phrase import Phrase
from frontends.web.accept_language import preferred

LOCALES = Path(__file__).resolve().parent / "locales"
# What extraction looks for, beyond gettext's usual names: the two markers below.
KEYWORDS = {"N_": None, "Nn_": (1, 2), "Phrase": None}
# What extraction looks for in the lower layers' modules that hand text to the pages.
PHRASE_KEYWORDS = {"Phrase": None}
DEFAULT = "en"
# The Babel locale of each language's dates and numbers: Belgian Dutch and French, and English
# as wavecast has always written it ("Sep", not the British "Sept").
_FORMATS = {"en": "en", "nl": "nl_BE", "fr": "fr_BE"}
_current: ContextVar[str] = ContextVar("interface_language", default=DEFAULT)


def N_(message: str) -> str:
    """Marks a message for extraction where it is defined; it is translated where it is shown."""
    return message


def Nn_(singular: str, plural: str) -> tuple[str, str]:
    """Marks a counted message (both forms) for extraction; `ngettext` picks the form where it is shown."""
    return singular, plural


def catalogue(language: str) -> Path:
    return LOCALES / language / "LC_MESSAGES" / "messages.po"


@cache
def translations(language: str) -> gettext_module.NullTranslations:
    """The language's catalogue, compiled from its .po file (English is the source text itself)."""
    if language == DEFAULT or language not in INTERFACE_LANGUAGES:
        return gettext_module.NullTranslations()
    with catalogue(language).open("rb") as po:
        compiled = BytesIO()
        write_mo(compiled, read_po(po, locale=language))  # fuzzy entries are left out
    compiled.seek(0)
    return Translations(compiled, domain="messages")


def negotiate(chosen: str | None, accept_language: str | None) -> str:
    """The account's choice; else the browser's most wanted language the app speaks; else English."""
    if chosen in INTERFACE_LANGUAGES:
        return str(chosen)
    return preferred(accept_language, INTERFACE_LANGUAGES) or DEFAULT


@contextmanager
def speaking(language: str) -> Iterator[None]:
    """Everything rendered inside is in `language`."""
    token = _current.set(language if language in INTERFACE_LANGUAGES else DEFAULT)
    try:
        yield
    finally:
        _current.reset(token)


def current() -> str:
    return _current.get()


def gettext(message: str) -> str:
    return translations(_current.get()).gettext(message)


def say(text: object) -> str:
    """A message in the page's language: a Phrase with its fields (each said in turn), else
    the text looked up as it is (unknown text stays as it is)."""
    if not text:
        return ""  # gettext("") is the catalogue's header
    if isinstance(text, Phrase):
        message = gettext(text.message)
        return message % {k: spoken(v) for k, v in text.fields.items()} if text.fields else message
    return gettext(str(text))


def spoken(value: object) -> object:
    """A field's value for a translated message: a Phrase in the page's language, a tuple of them
    joined with commas, else unchanged."""
    if isinstance(value, tuple):
        return ", ".join(str(spoken(v)) for v in value)
    return say(value) if isinstance(value, Phrase) else value


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(_current.get()).ngettext(singular, plural, n)


def number(value: int | float) -> str:
    """1,234 / 1.234 / 1 234: grouped the way the language writes it."""
    return format_decimal(value, locale=_FORMATS[_current.get()])


def when(moment: dt.datetime) -> str:
    """'Mon 12 Jun 2023, 10:00 CEST' in English, 'ma 12 jun 2023, 10:00 CEST' in Dutch: local to
    the moment's own time zone (the campaign's), whose abbreviation follows."""
    shown = babel_datetime(moment, "EEE dd MMM yyyy, HH:mm", tzinfo=moment.tzinfo, locale=_FORMATS[_current.get()])
    return f"{shown} {moment.strftime('%Z')}".rstrip()


def day(value: dt.date, pattern: str = "EEE dd MMM") -> str:
    """A day in the language, by a CLDR pattern ('EEE dd MMM' -> 'Mon 12 Jun', 'LLLL yyyy' -> 'June 2023')."""
    return babel_date(value, pattern, locale=_FORMATS[_current.get()])


def weekday(code: str) -> str:
    """A weekday of campaign.yaml ('mon') as the language abbreviates it ('Mon', 'ma', 'lun.')."""
    return str(get_day_names("abbreviated", locale=_FORMATS[_current.get()])[WEEKDAYS.index(code)])
