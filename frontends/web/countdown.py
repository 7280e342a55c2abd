"""How long until the next wave, in words of the interface language: 'in 3 days 4 h',
'in 2 h 5 min', 'in 12 min 30 s'. The dashboard's script ticks the same words (the patterns
below, in data attributes) down to 'sending now'."""

from __future__ import annotations

import datetime as dt

from frontends.web.i18n import gettext, ngettext


def _days(days: int) -> str:
    return ngettext("in %(days)d day %(hours)d h", "in %(days)d days %(hours)d h", days)


def countdown(now: dt.datetime, then: dt.datetime) -> str:
    """How long until `then`: to the hour past a day, to the minute past an hour, else to the second."""
    seconds = max(0, int((then - now).total_seconds()))
    days, rest = divmod(seconds, 24 * 3600)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return _days(days) % {"days": days, "hours": hours}
    if hours:
        return gettext("in %(hours)d h %(minutes)d min") % {"hours": hours, "minutes": minutes}
    if minutes or secs:
        return gettext("in %(minutes)d min %(seconds)d s") % {"minutes": minutes, "seconds": secs}
    return gettext("sending now")


def countdown_patterns() -> dict[str, str]:
    """The countdown's words for the script (a day counted once or more: the same rule in en, nl, fr)."""
    return {
        "day": _days(1),
        "days": _days(2),
        "hours": gettext("in %(hours)d h %(minutes)d min"),
        "minutes": gettext("in %(minutes)d min %(seconds)d s"),
        "now": gettext("sending now"),
    }
