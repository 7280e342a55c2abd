"""The list's past, against the waves to come: bounces and complaints per e-mail sent.

The history is every e-mail the ledger shows sent or refused, and the addresses that hard
bounced or complained, from the bounce events and from the suppression list (which keeps its
reason after the events' ledger rows are gone). Each wave's size is what `wavecast forecast`
counts. At the list's past hard-bounce rate, a wave above WAVECAST_BREAKER_HARD_BOUNCE_RATE
would be paused by the breaker half-way: a warning before approval. A complaint rate above
WAVECAST_BREAKER_COMPLAINT_RATE (0.3 %, Gmail's and Yahoo's line) is a fail: sending more of
the same makes it worse.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, func, select, union
from sqlalchemy.exc import SQLAlchemyError

from audiences.forecast import forecast
from audiences.models import suppressions
from campaign.channel_ids import NEWSLETTER
from campaign.db import get_engine
from campaign.errors import WavecastError
from campaign.phrase import Phrase
from waves.bounces.models import Kind, bounce_events
from waves.bounces.policy import COMPLAINT, HARD_BOUNCE, SOFT_BOUNCES
from waves.doctor.check import Check, Status
from waves.doctor.context import Context
from waves.models import FAILED, SENT, Delivery

BOUNCE_HISTORY = Phrase("bounce history")
HARD_BOUNCE_HISTORY = Phrase("hard-bounce history")
COMPLAINT_HISTORY = Phrase("complaint history")


@dataclass(frozen=True)
class History:
    sent: int
    hard: int
    soft_suppressed: int
    complaints: int
    waves: tuple[tuple[str, int], ...]  # (wave, e-mails it is expected to send)


def _addresses(conn: Connection, kind: Kind, reason: str) -> int:
    events = select(bounce_events.c.email_hash).where(bounce_events.c.kind == kind.value)
    suppressed = select(suppressions.c.email_hash).where(suppressions.c.reason == reason)
    return conn.scalar(select(func.count()).select_from(union(events, suppressed).subquery())) or 0


def read_history(ctx: Context) -> History:
    with get_engine().connect() as conn:
        sent = conn.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(Delivery.account.is_(None), Delivery.channel == NEWSLETTER, Delivery.status.in_([SENT, FAILED]))
        )
        soft = conn.scalar(select(func.count()).select_from(suppressions).where(suppressions.c.reason == SOFT_BOUNCES))
        waves = forecast(conn, ctx.bundle.spec) if ctx.bundle is not None else []
        return History(
            sent=sent or 0,
            hard=_addresses(conn, Kind.HARD, HARD_BOUNCE),
            soft_suppressed=soft or 0,
            complaints=_addresses(conn, Kind.COMPLAINT, COMPLAINT),
            waves=tuple((w.wave_id, w.per_channel().get(NEWSLETTER, 0)) for w in waves),
        )


def history(ctx: Context) -> list[Check]:
    try:
        past = read_history(ctx)
    except (WavecastError, SQLAlchemyError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        found = Phrase("not checked: the database cannot be read (%(error)s)", error=first)
        fix = Phrase("check WAVECAST_DATABASE_URL; `wavecast db upgrade`")
        return [Check(BOUNCE_HISTORY, Status.WARN, found, fix)]
    rules = ctx.settings.bounces
    if past.sent < rules.breaker_min_messages:
        if past.sent == 0:
            found = Phrase("no history yet: no e-mail has been sent from this database")
        else:
            found = Phrase(
                "too little history to judge: %(sent)s e-mail(s) sent, fewer than the "
                "%(least)s the breaker judges from (WAVECAST_BREAKER_MIN_MESSAGES)",
                sent=format(past.sent, ","),
                least=format(rules.breaker_min_messages, ","),
            )
        return [Check(BOUNCE_HISTORY, Status.PASS, found)]
    return [_hard_bounces(past, rules.breaker_hard_rate), _complaints(past, rules.breaker_complaint_rate)]


def _hard_bounces(past: History, limit: float) -> Check:
    rate = past.hard / past.sent
    figures = Phrase(
        "%(hard)s of %(sent)s e-mails sent hard-bounced (%(rate)s; the breaker pauses above %(limit)s)",
        hard=format(past.hard, ","),
        sent=format(past.sent, ","),
        rate=format(rate, ".1%"),
        limit=format(limit, ".1%"),
    )
    if past.soft_suppressed:
        figures = Phrase(
            "%(figures)s, %(soft)s address(es) suppressed after repeated soft bounces",
            figures=figures,
            soft=format(past.soft_suppressed, ","),
        )
    expected = [(wave, size, round(size * rate)) for wave, size in past.waves if size]
    per_wave = tuple(
        Phrase(
            "wave %(wave)s: ~%(bounces)s of %(size)s", wave=wave, bounces=format(bounces, ","), size=format(size, ",")
        )
        for wave, size, bounces in expected
    )
    if rate > limit:
        found = Phrase(
            "%(figures)s (expected hard bounces: %(per_wave)s)",
            figures=figures,
            per_wave=per_wave or Phrase("no wave sends e-mail"),
        )
        if expected:
            found = Phrase(
                "%(figures)s; at that rate the breaker would pause %(waves)s (expected hard bounces: %(per_wave)s)",
                figures=figures,
                waves=", ".join(w for w, _, _ in expected),
                per_wave=per_wave,
            )
        return Check(
            HARD_BOUNCE_HISTORY,
            Status.WARN,
            found,
            Phrase("clean the list before sending: drop addresses never confirmed or long silent"),
        )
    if per_wave:
        figures = Phrase("%(figures)s; expected hard bounces: %(per_wave)s", figures=figures, per_wave=per_wave)
    return Check(HARD_BOUNCE_HISTORY, Status.PASS, figures)


def _complaints(past: History, limit: float) -> Check:
    rate = past.complaints / past.sent
    figures = Phrase(
        "%(complaints)s complaint(s) for %(sent)s e-mails sent (%(rate)s; the line is %(limit)s)",
        complaints=format(past.complaints, ","),
        sent=format(past.sent, ","),
        rate=format(rate, ".2%"),
        limit=format(limit, ".2%"),
    )
    if rate > limit:
        return Check(
            COMPLAINT_HISTORY,
            Status.FAIL,
            figures,
            Phrase("find out why people press 'spam' (consent, frequency, content) before sending more"),
        )
    return Check(COMPLAINT_HISTORY, Status.PASS, figures)
