"""What the dashboard's home shows on Monday morning, gathered in one place: the next wave, the
waves still waiting for approvals, what is sending now, how the last wave did, and every
problem that needs a person. Plain functions over the campaign and the database; the page
(``frontends/web/home.py``) only lays it out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from audiences.coverage import coverage
from campaign.bundle import Bundle
from campaign.clicks import click_counts
from campaign.render import translated
from campaign.timing import resolve_starts
from frontends.web.i18n import N_, Nn_, gettext, ngettext, spoken
from waves import doctor
from waves.deliverability import DeliverabilityLine, deliverability
from waves.models import PAUSED
from waves.status import all_status, settled

SENDING_STATES = ("launching", "running", PAUSED)


@dataclass(frozen=True)
class Problem:
    """One thing a person must look at: what, and the page that explains it. The text is an
    English message with %(name)s fields, shown (``str()``) in the language of the page."""

    text: str
    link: str
    fields: tuple[tuple[str, object], ...] = ()
    plural: str = ""  # the message when `count` is not one
    count: int = 0

    @classmethod
    def counted(cls, texts: tuple[str, str], count: int, link: str) -> Problem:
        return cls(texts[0], link, plural=texts[1], count=count)

    def __str__(self) -> str:
        message = ngettext(self.text, self.plural, self.count) if self.plural else gettext(self.text)
        fields: dict[str, object] = {k: spoken(v) for k, v in self.fields}
        return message % {**fields, "count": self.count}


@dataclass
class Overview:
    now: dt.datetime  # in the campaign's time zone
    as_of: bool  # `now` is a chosen day, not the clock
    next_wave: dict[str, Any] | None = None
    last_started: dict[str, Any] | None = None
    first_day: dt.date | None = None  # the first wave's local start day, to read the campaign as of
    awaiting: list[dict[str, Any]] = field(default_factory=list)
    sending: list[dict[str, Any]] = field(default_factory=list)
    last_run: dict[str, Any] | None = None
    results: list[dict[str, Any]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def campaign_runs(conn: Connection, campaign_id: str) -> list[dict[str, Any]]:
    """The campaign's runs as `wavecast status` reports them, read once for the whole page."""
    return [r for r in all_status(conn) if r["campaign"] == campaign_id]


def waves_ahead(bundle: Bundle, now: dt.datetime, lang: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(the next wave to start after `now`, the last one that started before it)."""
    spec = bundle.spec
    starts = resolve_starts(spec)

    def line(wave_id: str) -> dict[str, Any]:
        start = starts[wave_id]
        title = translated(spec, next(w.title for w in spec.waves if w.id == wave_id), lang)
        return {"id": wave_id, "title": title, "start": start}

    ahead = sorted((s, w) for w, s in starts.items() if s > now)
    behind = sorted((s, w) for w, s in starts.items() if s <= now)
    return (line(ahead[0][1]) if ahead else None), (line(behind[-1][1]) if behind else None)


def awaiting_approval(plan: list[dict[str, Any]], now: dt.datetime) -> list[dict[str, Any]]:
    """Waves not yet launched whose approvals are short, soonest first, with who approved so far."""
    waiting = [
        {**row, "missing": row["required"] - len(row["approvers"]), "late": row["start"] <= now}
        for row in plan
        if not row["launched"] and not row["approved"]
    ]
    return sorted(waiting, key=lambda r: r["start"])


def sending_now(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The campaign's runs (as `wavecast status` reports them) still sending or paused."""
    lines = []
    for run in (r for r in runs if r["state"] in SENDING_STATES):
        done, everything = settled(run["totals"])
        lines.append(
            {
                "wave": run["wave"],
                "run_id": run["run_id"],
                "state": run["state"],
                "note": run["note"],
                "settled": done,
                "total": everything,
                "percent": round(100 * done / everything) if everything else 0,
            }
        )
    return lines


def last_results(
    conn: Connection, bundle: Bundle, runs: list[dict[str, Any]]
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The last finished wave's e-mails per audience and language, with their clicks (the last
    launched one while none has finished: what sends now is under "Sending now")."""
    if not runs:
        return None, []
    finished = [r for r in runs if r["state"] not in SENDING_STATES] or runs
    run = max(finished, key=lambda r: r["launched_at"])
    unsubscribes: dict[tuple[str, str, str], int] = {}
    clicks: dict[tuple[str, str], int] = {}
    for click in click_counts(conn, bundle.spec.campaign.id, run["wave"]):
        key = (click["audience"], click["language"])
        clicks[key] = clicks.get(key, 0) + click["clicks"]
    order = {a.id: i for i, a in enumerate(bundle.spec.audiences)}
    langs = {x: i for i, x in enumerate(bundle.spec.campaign.languages)}
    lines: list[DeliverabilityLine] = deliverability(conn, [run["run_id"]], unsubscribes)
    lines.sort(key=lambda x: (order.get(x.audience, 99), langs.get(x.language, 99)))
    results = [
        {
            "audience": x.audience,
            "language": x.language,
            "emails": x.emails,
            "delivered": x.delivered,
            "bounces": x.hard_bounces + x.soft_bounces,
            "complaints": x.complaints,
            "unsubscribes": x.unsubscribes,
            "clicks": clicks.get((x.audience, x.language), 0),
        }
        for x in lines
    ]
    return {"wave": run["wave"], "state": run["state"], "launched_at": run["launched_at"]}, results


def problems(
    conn: Connection, bundle: Bundle, sending: list[dict[str, Any]], checks: list[doctor.Check], today: dt.date
) -> list[Problem]:
    """Everything that needs a person, each with the page that explains it."""
    found = [
        Problem(N_("%(where)s: %(message)s"), "/plan", (("where", f"{p.file}:{p.line}"), ("message", p.message)))
        for p in bundle.warnings
    ]
    for run in sending:
        if run["state"] == PAUSED:
            text = (
                N_("wave %(wave)s is paused: %(reason)s")
                if run["note"]
                else N_("wave %(wave)s is paused: no reason given")
            )
            found.append(Problem(text, "/status", (("wave", run["wave"]), ("reason", run["note"]))))
    cover = coverage(conn, bundle.spec, today)
    if cover.no_audience:
        found.append(
            Problem.counted(
                Nn_(
                    "%(count)d contact is in no audience: no wave writes to them",
                    "%(count)d contacts are in no audience: no wave writes to them",
                ),
                cover.no_audience,
                "/report#coverage",
            )
        )
    for check in doctor.failing(checks):
        found.append(
            Problem(
                N_("preflight check failed: %(check)s: %(found)s"),
                "/doctor",
                (("check", check.name), ("found", check.found)),
            )
        )
    return found
