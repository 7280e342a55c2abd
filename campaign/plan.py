"""The campaign plan: one row per wave, as a table, JSON or an iCalendar file."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from icalendar import Calendar, Event

from campaign.bundle import Bundle
from campaign.errors import WavecastError
from campaign.template_context import translated
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


# The words of an event's description, per language; any other language reads them in English.
# French puts a no-break space before the colon.
_LABELS: dict[str, tuple[str, str, str, str, str]] = {
    "en": ("Audiences", "Channels", "Languages", "Initiatives", ":"),
    "nl": ("Doelgroepen", "Kanalen", "Talen", "Initiatieven", ":"),
    "fr": ("Publics", "Canaux", "Langues", "Initiatives", "\u00a0:"),
    "de": ("Zielgruppen", "Kanäle", "Sprachen", "Initiativen", ":"),
}


def plan_language(bundle: Bundle, lang: str | None) -> str:
    """The language a plan is shown in: the one asked for, which the campaign must have, else
    the campaign's first."""
    languages = bundle.spec.campaign.languages
    if lang is None:
        return languages[0]
    if lang not in languages:
        raise WavecastError(f"--lang {lang}: not a language of this campaign ({', '.join(languages)})")
    return lang


def plan_ics(bundle: Bundle, lang: str | None = None) -> bytes:
    """One VEVENT per wave in one language (default: the campaign's first), with a stable UID
    so re-importing updates instead of duplicating.

    Starts carry TZID=<the campaign's zone> and the calendar holds that zone's VTIMEZONE,
    built from zoneinfo over the events' years: a reader without it (Mozilla's) takes every
    time as floating and shows it in its own zone. The UID is the same in every language, so
    one wave is one event whichever feed a calendar subscribes to.
    """
    spec = bundle.spec
    info = spec.campaign
    lang = plan_language(bundle, lang)
    name = translated(spec, info.name, lang) or info.id
    audiences_of, channels_of, languages_of, initiatives_of, colon = _LABELS.get(lang, _LABELS["en"])
    cal = Calendar()
    cal.add("prodid", "-//wavecast//campaign plan//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", info.timezone)
    stamp = dt.datetime.now(dt.UTC).replace(microsecond=0)
    rows = plan_rows(bundle)
    for row in rows:
        event = Event()
        event.add("uid", f"{info.id}.{row.wave}@wavecast")
        event.add("dtstamp", stamp)
        event.add("dtstart", row.start)
        event.add("dtend", row.start + dt.timedelta(minutes=EVENT_MINUTES))
        event.add("summary", f"{name} – {translated(spec, row.title, lang) or row.wave}", parameters={"LANGUAGE": lang})
        audiences = ", ".join(translated(spec, spec.audience(a).title, lang) or a for a in row.audiences)
        initiatives = ", ".join(translated(spec, spec.initiative(i).title, lang) or i for i, _ in row.initiatives)
        event.add(
            "description",
            "\n".join(
                [
                    f"{audiences_of}{colon} {audiences}",
                    f"{channels_of}{colon} {', '.join(row.channels)}",
                    f"{languages_of}{colon} {', '.join(row.languages)}",
                    f"{initiatives_of}{colon} {initiatives or '-'}",
                ]
            ),
            parameters={"LANGUAGE": lang},
        )
        event.add("categories", ["wavecast", info.id])
        cal.add_component(event)
    if rows:
        # A year either side, so the zone's rule in force at each event is in the component.
        first = min(r.start for r in rows).date() - dt.timedelta(days=366)
        last = max(r.start for r in rows).date() + dt.timedelta(days=366)
        cal.add_missing_timezones(first_date=first, last_date=last)
    return cal.to_ical()
