"""The forecast: for every wave, when it starts and how many messages go out where.

This is the dry run the team checks before approving: the same SQL the sending feature uses
(``assignment_select``), counted by GROUP BY, with ages read at each wave's own date.
For a newsletter a count is the number of emails; for a social channel it is the number of
people in the audience the post is meant for (a post is published once per audience and
language, not per person).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from audiences.assignment import Count, wave_counts
from campaign.model import Campaign
from campaign.timing import resolve_starts


@dataclass(frozen=True)
class WaveForecast:
    wave_id: str
    start: dt.datetime
    counts: tuple[Count, ...]

    @property
    def total(self) -> int:
        return sum(c.count for c in self.counts)

    def per_channel(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for count in self.counts:
            totals[count.channel] = totals.get(count.channel, 0) + count.count
        return totals

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.wave_id,
            "start": self.start.isoformat(),
            "start_utc": self.start.astimezone(dt.UTC).isoformat(),
            "total": self.total,
            "per_channel": self.per_channel(),
            "counts": [c.as_json() for c in self.counts],
        }


def forecast(conn: Connection, spec: Campaign) -> list[WaveForecast]:
    """Every wave in start order with its counts per message x audience x language x channel."""
    starts = resolve_starts(spec)
    waves = sorted(spec.waves, key=lambda w: (starts[w.id], w.id))
    return [WaveForecast(w.id, starts[w.id], tuple(wave_counts(conn, spec, w.id, starts[w.id]))) for w in waves]
