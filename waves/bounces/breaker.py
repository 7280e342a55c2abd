"""The circuit breaker: a wave that bounces or draws complaints too much pauses itself.

Among a run's last WAVECAST_BREAKER_WINDOW e-mails that went out or were refused (judged once
at least WAVECAST_BREAKER_MIN_MESSAGES did), the run is paused when
- hard bounces pass WAVECAST_BREAKER_HARD_BOUNCE_RATE (default 5 %), or
- complaints pass WAVECAST_BREAKER_COMPLAINT_RATE (default 0.3 %, Gmail's and Yahoo's line).

The reason is the run's note, shown by `status` and the dashboard. Only an operator resumes
it; from that moment the breaker judges only what is sent after the resume.
"""

from __future__ import annotations

import logging

from sqlalchemy import func, select

from campaign.db import get_engine
from campaign.settings import get_settings
from waves.bounces.models import Kind, bounce_events
from waves.control import pause_for
from waves.models import FAILED, RUNNING, SENT, Delivery, WaveRun

log = logging.getLogger(__name__)

NOTE_PREFIX = "paused by the bounce breaker"


def check(run_id: int) -> str | None:
    """Pause the run if it crossed a line; the reason when it did."""
    rules = get_settings().bounces
    with get_engine().connect() as conn:
        run = conn.execute(select(WaveRun.state, WaveRun.breaker_from).where(WaveRun.id == run_id)).first()
        if run is None or run.state != RUNNING:
            return None
        recent = select(Delivery.id).where(
            Delivery.run_id == run_id, Delivery.account.is_(None), Delivery.status.in_([SENT, FAILED])
        )
        if run.breaker_from is not None:
            recent = recent.where(Delivery.claimed_at >= run.breaker_from)
        window = recent.order_by(Delivery.id.desc()).limit(rules.breaker_window).subquery()
        judged = conn.scalar(select(func.count()).select_from(window)) or 0
        if judged < rules.breaker_min_messages:
            return None
        counts: dict[str, int] = dict(
            conn.execute(
                select(bounce_events.c.kind, func.count(func.distinct(bounce_events.c.delivery_id)))
                .where(bounce_events.c.delivery_id.in_(select(window.c.id)))
                .group_by(bounce_events.c.kind)
            ).all()
        )
    reason = _reason(judged, counts.get(Kind.HARD.value, 0), counts.get(Kind.COMPLAINT.value, 0))
    if reason is not None:
        log.warning("run %s: %s", run_id, reason)
        pause_for(run_id, reason)
    return reason


def _reason(judged: int, hard: int, complaints: int) -> str | None:
    rules = get_settings().bounces
    if hard / judged > rules.breaker_hard_rate:
        rate = f"{hard / judged:.1%}, above {rules.breaker_hard_rate:.1%}"
        what = f"{hard} hard bounce{'s' if hard != 1 else ''} in the last {judged} e-mails ({rate})"
    elif complaints / judged > rules.breaker_complaint_rate:
        what = (
            f"{complaints} spam complaint{'s' if complaints != 1 else ''} in the last {judged} e-mails "
            f"({complaints / judged:.2%}, above {rules.breaker_complaint_rate:.2%})"
        )
    else:
        return None
    return f"{NOTE_PREFIX}: {what}; check the list, then resume the wave"
