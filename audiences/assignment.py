"""Who gets which message in a wave: one message per person per wave and channel, decided in SQL.

For each channel of the wave, a contact gets the FIRST message in the wave's order that lists
the channel and has an audience the contact is in; the audience recorded is the first of that
message's audiences that matches. This is one ``CASE`` per channel (its branches in priority
order, so the database stops at the first match) over a ``UNION ALL`` of the channels: one row
per (contact, channel), never a Python loop over contacts. The sending feature turns the result
into ledger rows with ``INSERT ... SELECT``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    String,
    case,
    false,
    func,
    literal,
    null,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from audiences.models import contacts
from audiences.segments import compile_rule, contact_language, eligible_for, local_date, tag_scope
from campaign.model import Campaign, Wave

c = contacts.c


@dataclass(frozen=True)
class Choice:
    """One branch of a channel's CASE: this message, for this audience."""

    channel: str
    message_id: str
    audience_id: str


def wave_channels(wave: Wave) -> tuple[str, ...]:
    """The wave's channels in the order its messages first name them."""
    return tuple(dict.fromkeys(ch for m in wave.messages for ch in m.channels))


def choices(wave: Wave, channel: str) -> list[Choice]:
    """The branches for one channel, in priority order (message order, then audience order)."""
    return [Choice(channel, m.id, a) for m in wave.messages if channel in m.channels for a in m.audiences]


def channel_picks(
    spec: Campaign, wave_id: str, at: dt.datetime, channels: Sequence[str] | None = None
) -> tuple[list[Choice], list[tuple[str, ColumnElement[Any]]]]:
    """Per channel, a CASE giving the index (into the returned choices) of the contact's pick.

    The branches are in priority order, so the database stops at the first match; NULL means
    the channel sends this contact nothing.
    """
    wave = spec.wave(wave_id)
    on = local_date(spec, at)
    languages = spec.campaign.languages
    flat: list[Choice] = []
    picks: list[tuple[str, ColumnElement[Any]]] = []
    tags = tag_scope(spec)
    for channel in wave_channels(wave):
        if channels is not None and channel not in channels:
            continue
        whens = []
        for choice in choices(wave, channel):
            rule = spec.audience(choice.audience_id).rule
            whens.append((compile_rule(rule, on, languages, tags), len(flat)))
            flat.append(choice)
        picks.append((channel, case(*whens, else_=null())))
    return flat, picks


def assignment_select(
    spec: Campaign, wave_id: str, at: dt.datetime, channels: Sequence[str] | None = None
) -> Select:  # five columns of mixed types
    """One row per (contact, channel) the wave sends to, as a SELECT for ``INSERT ... SELECT``.

    Columns: ``contact_id, channel, message_id, audience_id, language``. ``at`` is the wave's
    start (ages and founding dates are read at its local date). ``channels`` restricts the
    result, e.g. to ``("newsletter",)``; by default every channel of the wave.
    """
    languages = spec.campaign.languages
    flat, picks = channel_picks(spec, wave_id, at, channels)
    branches = [
        select(
            c.id.label("contact_id"),
            literal(channel, String).label("channel"),
            pick.label("choice"),
            contact_language(languages).label("language"),
        ).where(eligible_for(spec, local_date(spec, at)))
        for channel, pick in picks
    ]
    if not branches:
        empty = select(
            c.id.label("contact_id"),
            literal("", String).label("channel"),
            literal("", String).label("message_id"),
            literal("", String).label("audience_id"),
            literal("", String).label("language"),
        )
        return empty.where(false())
    rows = (union_all(*branches) if len(branches) > 1 else branches[0]).subquery("per_channel")
    index = rows.c.choice
    message = case({k: literal(ch.message_id, String) for k, ch in enumerate(flat)}, value=index)
    audience = case({k: literal(ch.audience_id, String) for k, ch in enumerate(flat)}, value=index)
    return select(
        rows.c.contact_id,
        rows.c.channel,
        message.label("message_id"),
        audience.label("audience_id"),
        rows.c.language,
    ).where(index.is_not(None))


@dataclass(frozen=True)
class Count:
    """How many people get one message, for one audience, language and channel."""

    message_id: str
    audience_id: str
    language: str
    channel: str
    count: int

    def as_json(self) -> dict[str, str | int]:
        return {
            "message": self.message_id,
            "audience": self.audience_id,
            "language": self.language,
            "channel": self.channel,
            "count": self.count,
        }


def wave_counts(db: Connection | Session, spec: Campaign, wave_id: str, at: dt.datetime) -> list[Count]:
    """Counts per message x audience x language x channel, by one SQL GROUP BY.

    One scan: contacts are grouped by (language, pick on each channel), a handful of groups,
    which are then spread over the channels here. Same picks as ``assignment_select`` (the
    property test checks that they agree).
    """
    wave = spec.wave(wave_id)
    on = local_date(spec, at)
    languages = spec.campaign.languages
    # Channels with the same (message, audience) order pick alike: one CASE serves them all.
    orders = {ch: tuple((x.message_id, x.audience_id) for x in choices(wave, ch)) for ch in wave_channels(wave)}
    distinct = list(dict.fromkeys(orders.values()))
    if not distinct:
        return []
    tags = tag_scope(spec)
    cases = [
        case(
            *[(compile_rule(spec.audience(a).rule, on, languages, tags), k) for k, (_, a) in enumerate(order)],
            else_=null(),
        ).label(f"pick{i}")
        for i, order in enumerate(distinct)
    ]
    per_contact = (
        select(contact_language(languages).label("language"), *cases)
        .where(eligible_for(spec, on))
        .offset(0)  # a fence: each CASE is evaluated once per contact, then grouped
        .subquery("per_contact")
    )
    columns = list(per_contact.c)
    query = select(*columns, func.count()).group_by(*columns)
    totals: dict[tuple[str, str, str, str], int] = {}
    for lang, *chosen, n in db.execute(query):
        for channel, order in orders.items():
            index = chosen[distinct.index(order)]
            if index is None:
                continue
            message_id, audience_id = order[int(index)]
            key = (message_id, audience_id, str(lang), channel)
            totals[key] = totals.get(key, 0) + int(n)
    counts = [Count(m, a, lang, ch, n) for (m, a, lang, ch), n in totals.items()]
    return sorted(counts, key=lambda x: _order(spec, wave_id, x))


def _order(spec: Campaign, wave_id: str, count: Count) -> tuple[int, int, int, int]:
    wave = spec.wave(wave_id)
    messages = [m.id for m in wave.messages]
    audiences = [a.id for a in spec.audiences]
    channels = list(wave_channels(wave))
    languages = list(spec.campaign.languages)
    return (
        messages.index(count.message_id),
        audiences.index(count.audience_id),
        languages.index(count.language) if count.language in languages else len(languages),
        channels.index(count.channel),
    )
