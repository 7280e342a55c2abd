"""Jinja filters that format dates, numbers and lists in the message's locale, with Babel.

The locale is the message's language: in Belgium for Belgium's languages (nl_BE, fr_BE,
de_BE), else the language's own default (it, lb, en...), whatever the campaign declares;
times are shown in the campaign's time zone. Templates write
``{{ wave.start|format_date }}``, ``{{ 0.8|format_percent }}`` or
``{{ initiatives|map(attribute='title')|format_list }}``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime, format_time
from babel.lists import format_list
from babel.numbers import format_decimal, format_percent
from jinja2 import pass_context
from jinja2.runtime import Context
from jinja2.sandbox import SecurityError

LOCALES = {"nl": "nl_BE", "fr": "fr_BE", "de": "de_BE", "en": "en"}
MAX_ITEMS = 10_000
_LIST_STYLES = ("standard", "standard-short", "or", "or-short", "unit", "unit-short", "unit-narrow")


class TemplateLimit(SecurityError):
    """A template tried something the sandbox refuses (power operator, huge strings...)."""


@cache
def _locale(lang: str) -> Locale:
    return Locale.parse(LOCALES.get(lang, lang))


def _ctx_locale(ctx: Context) -> Locale:
    return _locale(str(ctx.get("lang", "en")))


def _ctx_tz(ctx: Context) -> Any:
    campaign = ctx.get("campaign")
    zone = campaign.get("timezone") if isinstance(campaign, Mapping) else None
    return ZoneInfo(zone or "Europe/Brussels")


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value) if "T" in value else dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise TypeError(f"expected a date, got {value!r}")


@pass_context
def _f_date(ctx: Context, value: Any, format: str = "long") -> str:
    when = _as_date(value)
    if isinstance(when, dt.datetime) and when.tzinfo is not None:
        when = when.astimezone(_ctx_tz(ctx))
    return str(format_date(when, format=format, locale=_ctx_locale(ctx)))


@pass_context
def _f_datetime(ctx: Context, value: Any, format: str = "long") -> str:
    when = _as_date(value)
    if not isinstance(when, dt.datetime):
        raise TypeError(f"expected a date and time, got {value!r}")
    return str(format_datetime(when, format=format, tzinfo=_ctx_tz(ctx), locale=_ctx_locale(ctx)))


@pass_context
def _f_time(ctx: Context, value: Any, format: str = "short") -> str:
    when = _as_date(value)
    if not isinstance(when, dt.datetime):
        raise TypeError(f"expected a date and time, got {value!r}")
    return str(format_time(when, format=format, tzinfo=_ctx_tz(ctx), locale=_ctx_locale(ctx)))


@pass_context
def _f_number(ctx: Context, value: Any, format: str | None = None) -> str:
    return str(format_decimal(value, format=format, locale=_ctx_locale(ctx)))


@pass_context
def _f_percent(ctx: Context, value: Any, format: str | None = None) -> str:
    return str(format_percent(value, format=format, locale=_ctx_locale(ctx)))


@pass_context
def _f_list(ctx: Context, value: Any, style: str = "standard") -> str:
    if isinstance(value, str) or not hasattr(value, "__iter__"):
        raise TypeError(f"format_list needs a list, got {value!r}")
    items = [str(v) for v in value]
    if len(items) > MAX_ITEMS:
        raise TemplateLimit("list too long")
    if style not in _LIST_STYLES:
        raise ValueError(f"format_list style must be one of {', '.join(_LIST_STYLES)}, not {style!r}")
    return str(format_list(items, style=style, locale=_ctx_locale(ctx)))  # type: ignore[arg-type]


BABEL_FILTERS: dict[str, Callable[..., str]] = {
    "format_date": _f_date,
    "format_datetime": _f_datetime,
    "format_time": _f_time,
    "format_number": _f_number,
    "format_percent": _f_percent,
    "format_list": _f_list,
}
