"""How the bulk-scheduling CSV writes a post's date: each scheduler reads its own format, and
a date it misreads (day and month swapped, the zone dropped) schedules the post at the wrong
time without any error. So the format is chosen for the scheduler, by a preset or a pattern.

Presets (the post's local time in the campaign's zone unless an offset is written):

    local         2023-06-12 10:00            the default; a spreadsheet reads it as a date
    iso           2023-06-12T10:00:00+02:00   ISO 8601 with the offset, for tools and APIs
    buffer        2023-06-12 10:00            Buffer's bulk import: year first, 24-hour clock
    hootsuite     12/06/2023 10:00            Hootsuite's bulk composer, "DD/MM/YYYY" chosen on upload
    hootsuite-us  06/12/2023 10:00            the same, "MM/DD/YYYY" chosen on upload

Anything else containing ``%`` is a strftime pattern (``%d.%m.%Y %H:%M``); it must write the
year, month, day, hour and minute, or two posts could share one date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from campaign.errors import WavecastError

DateWriter = Callable[[dt.datetime], str]


def _pattern(pattern: str) -> DateWriter:
    return lambda when: when.strftime(pattern)


PRESETS: dict[str, DateWriter] = {
    "local": _pattern("%Y-%m-%d %H:%M"),
    "iso": lambda when: when.isoformat(timespec="seconds"),
    "buffer": _pattern("%Y-%m-%d %H:%M"),
    "hootsuite": _pattern("%d/%m/%Y %H:%M"),
    "hootsuite-us": _pattern("%m/%d/%Y %H:%M"),
}
DEFAULT = "local"

# One moment, and the same moment with each field changed: a pattern must tell them all apart.
_PROBE = dt.datetime(2023, 6, 12, 10, 30)
_CHANGED = (
    _PROBE.replace(year=2024),
    _PROBE.replace(month=7),
    _PROBE.replace(day=13),
    _PROBE.replace(hour=11),
    _PROBE.replace(minute=31),
)


def date_writer(choice: str | None) -> DateWriter:
    """The writer for a preset name or a strftime pattern; a clear error for anything else."""
    choice = DEFAULT if choice is None else choice
    if choice in PRESETS:
        return PRESETS[choice]
    names = ", ".join(PRESETS)
    if "%" not in choice:
        raise WavecastError(f"--date-format {choice}: not a preset ({names}) nor a strftime pattern (%d/%m/%Y %H:%M)")
    try:
        probe = _PROBE.strftime(choice)
        lost = [moment for moment in _CHANGED if moment.strftime(choice) == probe]
    except ValueError as exc:
        raise WavecastError(f"--date-format {choice}: not a strftime pattern ({exc})") from None
    if lost:
        raise WavecastError(
            f"--date-format {choice}: the pattern must write the year, month, day, hour and minute "
            "(%Y %m %d %H %M, or their other spellings)"
        )
    return _pattern(choice)
