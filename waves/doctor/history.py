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
from waves.bounces.models import Kind, bounce_events
from waves.bounces.policy import COMPLAINT, HARD_BOUNCE, SOFT_BOUNCES
from waves.doctor.check import Check, Status
from waves.doctor.context import Context
from waves.models import FAILED, SENT, Delivery


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
        found = f"not checked: the database cannot be read ({first})"
        return [Check("bounce history", Status.WARN, found, "check WAVECAST_DATABASE_URL; `wavecast db upgrade`")]
    rules = ctx.settings.bounces
    if past.sent < rules.breaker_min_messages:
        if past.sent == 0:
            found = "no history yet: no e-mail has been sent from this database"
        else:
            found = (
                f"too little history to judge: {past.sent:,} e-mail(s) sent, fewer than the "
                f"{rules.breaker_min_messages:,} the breaker judges from (WAVECAST_BREAKER_MIN_MESSAGES)"
            )
        return [Check("bounce history", Status.PASS, found)]
    return [_hard_bounces(past, rules.breaker_hard_rate), _complaints(past, rules.breaker_complaint_rate)]


def _hard_bounces(past: History, limit: float) -> Check:
    rate = past.hard / past.sent
    figures = (
        f"{past.hard:,} of {past.sent:,} e-mails sent hard-bounced ({rate:.1%}; the breaker pauses above {limit:.1%})"
    )
    if past.soft_suppressed:
        figures += f", {past.soft_suppressed:,} address(es) suppressed after repeated soft bounces"
    expected = [(wave, size, round(size * rate)) for wave, size in past.waves if size]
    per_wave = "; ".join(f"wave {wave}: ~{bounces:,} of {size:,}" for wave, size, bounces in expected)
    if rate > limit:
        paused = f"; at that rate the breaker would pause {', '.join(w for w, _, _ in expected)}" if expected else ""
        return Check(
            "hard-bounce history",
            Status.WARN,
            f"{figures}{paused} (expected hard bounces: {per_wave or 'no wave sends e-mail'})",
            "clean the list before sending: drop addresses never confirmed or long silent",
        )
    found = f"{figures}; expected hard bounces: {per_wave}" if per_wave else figures
    return Check("hard-bounce history", Status.PASS, found)


def _complaints(past: History, limit: float) -> Check:
    rate = past.complaints / past.sent
    figures = f"{past.complaints:,} complaint(s) for {past.sent:,} e-mails sent ({rate:.2%}; the line is {limit:.2%})"
    if rate > limit:
        return Check(
            "complaint history",
            Status.FAIL,
            figures,
            "find out why people press 'spam' (consent, frequency, content) before sending more",
        )
    return Check("complaint history", Status.PASS, figures)
