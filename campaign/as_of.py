"""The day a command takes as today, and which waves lie before it.

The shipped example is a real campaign from 2023: run today, every one of its waves lies in the
past, and a scheduler would only report them missed. Commands that schedule say so plainly,
and `--as-of DATE` lets plan and forecast be read as if today were a given day (the launch day,
say) without changing a single date in the campaign files.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from campaign.errors import WavecastError

PAST, TODAY, UPCOMING = "past", "today", "upcoming"


def parse_as_of(text: str | None) -> dt.date | None:
    """`--as-of` as a date, or a one-line error naming the option."""
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise WavecastError(f"--as-of {text!r}: not a date; give it as YYYY-MM-DD, e.g. 2023-10-10") from None


@dataclass(frozen=True)
class Today:
    """The reference day in the campaign's time zone; `given` when it came from --as-of."""

    day: dt.date
    given: bool

    @classmethod
    def of(cls, as_of: dt.date | None, tz: ZoneInfo) -> Today:
        if as_of is not None:
            return cls(as_of, True)
        return cls(dt.datetime.now(tz).date(), False)

    def standing(self, start: dt.datetime) -> str:
        """past, today or upcoming, by the wave's local start date."""
        day = start.date()
        return PAST if day < self.day else TODAY if day == self.day else UPCOMING

    def label(self) -> str:
        return f"as of {self.day.isoformat()}" if self.given else f"today, {self.day.isoformat()}"

    def past_notice(self, starts: Mapping[str, dt.datetime]) -> str | None:
        """One line when waves start before the reference day; None when none does."""
        past = [w for w, start in starts.items() if self.standing(start) == PAST]
        if not past:
            return None
        first = min(starts.values()).date().isoformat()
        count = f"all {len(starts)}" if len(past) > 1 and len(past) == len(starts) else f"{len(past)} of {len(starts)}"
        waves = ", ".join(past)
        hint = (
            ""
            if self.given
            else f"; to read the plan as if today were the launch day, add --as-of {first} (plan, forecast)"
        )
        return (
            f"note: {count} waves {'lies' if len(past) == 1 else 'lie'} in the past ({self.label()}): {waves}; "
            f"the scheduler marks such a wave missed (`wavecast send` launches it by hand){hint}"
        )

    def late_launch_notice(self, wave: str, start: dt.datetime) -> str | None:
        """For `send`: one line when the wave's planned start lies before the reference day."""
        if self.standing(start) != PAST:
            return None
        return (
            f"note: wave {wave} was planned for {start.strftime('%a %d %b %Y %H:%M %Z')}, "
            f"in the past ({self.label()}); it is sent now"
        )
