"""Coverage: how many contacts each audience holds, where audiences overlap, who is forgotten.

Everything is counted by one SQL query with GROUP BY over per-audience 0/1 flags, never by
looping over contacts. Definitions (all among *eligible* contacts: not unsubscribed from
everything or from this campaign, not suppressed, not paused at the date):

- ``audiences``: members of each audience per language (the language the contact gets).
- ``overlaps``: members of both audiences of each pair.
- ``no_audience``: members of none of the campaign's audiences.
- ``only_citizens``: members of a campaign-wide audience (rule ``everyone: true``, such as
  ``citizens``) who are in no *targeted* audience that a message addresses: they only ever
  get the message meant for everybody. Targeted = any audience whose rule is not
  ``everyone``, addressed by at least one message of any wave.
"""

from __future__ import annotations

import datetime as dt
import operator
from dataclasses import dataclass, field
from functools import reduce
from typing import Any

from sqlalchemy import Connection, case, func, literal, select

from audiences.assignment import Count, wave_counts
from audiences.models import contacts, suppressions
from audiences.segments import compile_rule, contact_language, eligible, eligible_for, is_everyone, tag_scope
from campaign.model import Campaign


@dataclass
class Coverage:
    on: dt.date
    languages: tuple[str, ...]
    contacts: int = 0
    eligible: int = 0
    unsubscribed: int = 0
    suppressed: int = 0
    left_campaign: int = 0  # unsubscribed from this campaign only
    paused: int = 0  # paused mail past the date
    audiences: dict[str, dict[str, int]] = field(default_factory=dict)
    overlaps: dict[str, dict[str, int]] = field(default_factory=dict)
    no_audience: int = 0
    only_citizens: int = 0
    wave: dict[str, Any] | None = None

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "date": self.on.isoformat(),
            "contacts": self.contacts,
            "eligible": self.eligible,
            "unsubscribed": self.unsubscribed,
            "suppressed": self.suppressed,
            "left_campaign": self.left_campaign,
            "paused": self.paused,
            "audiences": self.audiences,
            "overlaps": self.overlaps,
            "no_audience": self.no_audience,
            "only_citizens": self.only_citizens,
        }
        if self.wave is not None:
            data["wave"] = self.wave
        return data


def targeted_audiences(spec: Campaign) -> list[str]:
    """Audiences that are not campaign-wide and that some message addresses."""
    addressed = {a for w in spec.waves for m in w.messages for a in m.audiences}
    return [a.id for a in spec.audiences if not is_everyone(a.rule) and a.id in addressed]


def _total(columns: list[Any]) -> Any:
    """The SQL sum of 0/1 flag columns (0 for none)."""
    return reduce(operator.add, columns) if columns else literal(0)


def _count(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _totals(conn: Connection, spec: Campaign, cover: Coverage) -> None:
    """Each contact counted once, under the first reason that keeps them out: unsubscribed from
    everything, suppressed, unsubscribed from this campaign, paused."""
    c = contacts.c
    held = select(suppressions.c.email_hash).where(suppressions.c.email_hash == c.email_hash).exists()
    subscribed = c.unsubscribed_at.is_(None) & ~held
    in_campaign = eligible(spec.campaign.id)
    row = conn.execute(
        select(
            func.count(),
            _count(c.unsubscribed_at.is_not(None)),
            _count(c.unsubscribed_at.is_(None) & held),
            _count(subscribed & ~in_campaign),
            _count(in_campaign & ~eligible_for(spec, cover.on)),
        ).select_from(contacts)
    ).one()
    cover.contacts, cover.unsubscribed, cover.suppressed, cover.left_campaign, cover.paused = (int(x) for x in row)
    cover.eligible = cover.contacts - cover.unsubscribed - cover.suppressed - cover.left_campaign - cover.paused


def coverage(conn: Connection, spec: Campaign, on: dt.date) -> Coverage:
    """Counts per audience x language, pairwise overlaps and the forgotten, at a date."""
    languages = spec.campaign.languages
    ids = [a.id for a in spec.audiences]
    cover = Coverage(on=on, languages=tuple(languages))
    _totals(conn, spec, cover)
    flags = (
        select(
            contact_language(languages).label("language"),
            *[
                case((compile_rule(a.rule, on, languages, tag_scope(spec)), 1), else_=0).label(f"a{i}")
                for i, a in enumerate(spec.audiences)
            ],
        )
        .where(eligible_for(spec, on))
        .offset(0)
        .subquery("flags")
    )  # OFFSET 0: evaluate each flag once per contact
    f = [flags.c[f"a{i}"] for i in range(len(ids))]
    targeted = sorted(ids.index(a) for a in targeted_audiences(spec))
    everyone = [i for i, a in enumerate(spec.audiences) if is_everyone(a.rule)]
    pairs = [(i, j) for i in range(len(ids)) for j in range(i + 1, len(ids))]
    in_none = case((_total(f) == 0, 1), else_=0)
    only_everyone = case(((_total([f[i] for i in targeted]) == 0) & (_total([f[i] for i in everyone]) > 0), 1), else_=0)
    columns = [
        *[func.sum(x) for x in f],
        *[func.sum(f[i] * f[j]) for i, j in pairs],
        func.sum(in_none),
        func.sum(only_everyone),
    ]
    query = select(flags.c.language, *columns).group_by(flags.c.language)
    cover.audiences = {a: dict.fromkeys(languages, 0) for a in ids}
    cover.overlaps = {ids[i]: {} for i in range(len(ids) - 1)}
    for i, j in pairs:
        cover.overlaps[ids[i]][ids[j]] = 0
    for lang, *values in conn.execute(query):
        counts = [int(v or 0) for v in values]
        for i, audience in enumerate(ids):
            cover.audiences[audience][lang] = cover.audiences[audience].get(lang, 0) + counts[i]
        for k, (i, j) in enumerate(pairs):
            cover.overlaps[ids[i]][ids[j]] += counts[len(ids) + k]
        cover.no_audience += counts[-2]
        cover.only_citizens += counts[-1]
    return cover


def wave_breakdown(conn: Connection, spec: Campaign, wave_id: str, at: dt.datetime) -> dict[str, Any]:
    """Who gets which message in one wave: counts per message x audience x language x channel."""
    counts: list[Count] = wave_counts(conn, spec, wave_id, at)
    return {
        "id": wave_id,
        "start": at.isoformat(),
        "start_utc": at.astimezone(dt.UTC).isoformat(),
        "total": sum(x.count for x in counts),
        "counts": [x.as_json() for x in counts],
    }
