"""The campaign plan: one row per wave, as a table, JSON or an iCalendar file."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from icalendar import Calendar, Event

from campaign.bundle import Bundle
from campaign.timing import resolve_starts

EVENT_MINUTES = 60


@dataclass(frozen=True)
class PlanRow:
    wave: str
    title: dict[str, str]
    start: dt.datetime
    audiences: tuple[str, ...]
    channels: tuple[str, ...]
    languages: tuple[str, ...]
    initiatives: tuple[tuple[str, str], ...]  # (initiative id, ambition id)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.wave,
            "title": self.title,
            "start": self.start.isoformat(),
            "start_utc": self.start.astimezone(dt.UTC).isoformat(),
            "audiences": list(self.audiences),
            "channels": list(self.channels),
            "languages": list(self.languages),
            "initiatives": [{"id": i, "ambition": a} for i, a in self.initiatives],
        }


def _ordered_unique(items: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def plan_rows(bundle: Bundle) -> list[PlanRow]:
    spec = bundle.spec
    starts = resolve_starts(spec)
    rows = []
    for wave in spec.waves:
        rows.append(
            PlanRow(
                wave=wave.id,
                title={str(k): v for k, v in wave.title.items()},
                start=starts[wave.id],
                audiences=_ordered_unique([a for m in wave.messages for a in m.audiences]),
                channels=_ordered_unique([c for m in wave.messages for c in m.channels]),
                languages=tuple(spec.campaign.languages),
                initiatives=tuple((i, spec.initiative(i).ambition) for i in wave.initiatives),
            )
        )
    return rows


def plan_ics(bundle: Bundle, lang: str = "en") -> bytes:
    """One VEVENT per wave, with a stable UID so re-importing updates instead of duplicating."""
    spec = bundle.spec
    info = spec.campaign
    lang = lang if lang in info.languages else info.languages[0]
    cal = Calendar()
    cal.add("prodid", "-//wavecast//campaign plan//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", info.name.get(lang, info.id))
    cal.add("x-wr-timezone", info.timezone)
    stamp = dt.datetime.now(dt.UTC).replace(microsecond=0)
    for row in plan_rows(bundle):
        event = Event()
        event.add("uid", f"{info.id}.{row.wave}@wavecast")
        event.add("dtstamp", stamp)
        event.add("dtstart", row.start)
        event.add("dtend", row.start + dt.timedelta(minutes=EVENT_MINUTES))
        event.add("summary", f"{info.name.get(lang, info.id)}: {row.title.get(lang, row.wave)}")
        initiatives = ", ".join(spec.initiative(i).title.get(lang, i) for i, _ in row.initiatives)
        event.add(
            "description",
            "\n".join(
                [
                    f"Audiences: {', '.join(row.audiences)}",
                    f"Channels: {', '.join(row.channels)}",
                    f"Languages: {', '.join(row.languages)}",
                    f"Initiatives: {initiatives or '-'}",
                ]
            ),
        )
        event.add("categories", ["wavecast", info.id])
        cal.add_component(event)
    return cal.to_ical()
