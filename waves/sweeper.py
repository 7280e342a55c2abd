"""The sweeper: finds rows a dead worker left `sending`, pending rows no task will take, and
social posts that have fallen due.

Rows left `sending` past their lease are settled with the sent journal: those the relay took
become `sent`, the others are pending again (or failed after too many attempts). Pending rows
whose task is gone (a broker restarted without persistence) are queued again.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, or_, select

from campaign.db import get_engine, utcnow
from campaign.settings import get_settings
from waves import ledger
from waves.control import finish_if_done
from waves.delivery import make_journal
from waves.dispatch import enqueue_pending
from waves.due_posts import fell_due
from waves.models import PENDING, RUNNING, SENDING, Delivery, WaveRun
from waves.queues import SEND_QUEUE

log = logging.getLogger(__name__)
BATCH = 1000


@dataclass
class Swept:
    settled_sent: int = 0
    released: int = 0
    requeued_chunks: int = 0
    finished_runs: int = 0


def _queue_is_empty() -> bool:
    settings = get_settings()
    if not settings.broker_url:
        return True
    import redis  # only a run with a broker looks at the queue (~0.1 s to load)

    client = redis.Redis.from_url(settings.broker_url, socket_timeout=5)
    try:
        return int(client.llen(settings.redis_prefix + SEND_QUEUE)) == 0
    finally:
        client.close()


def _waiting(run_id: int, condition: ColumnElement[bool]) -> bool:
    """True when a pending row of the run meets `condition`."""
    with get_engine().connect() as conn:
        found = conn.scalar(
            select(Delivery.id).where(Delivery.run_id == run_id, Delivery.status == PENDING, condition).limit(1)
        )
    return found is not None


def sweep(now: dt.datetime | None = None) -> Swept:
    settings = get_settings()
    engine = get_engine()
    journal = make_journal(settings)
    now = now or utcnow()
    cutoff = now - dt.timedelta(seconds=settings.send_lease_seconds)
    swept = Swept()
    while True:
        with engine.connect() as conn:
            stale = conn.execute(
                select(Delivery.id, Delivery.run_id)
                .where(Delivery.status == SENDING, Delivery.claimed_at < cutoff)
                .order_by(Delivery.id)
                .limit(BATCH)
            ).all()
        if not stale:
            break
        by_run: dict[int, list[int]] = {}
        for ledger_id, run_id in stale:
            by_run.setdefault(run_id, []).append(ledger_id)
        for run_id, ids in by_run.items():
            done = journal.recorded(run_id, ids)
            with engine.begin() as conn:
                swept.settled_sent += ledger.mark_sent(conn, done)
                rest = [i for i in ids if i not in done]
                ledger.release(conn, rest, "worker lost while sending", now, settings.max_attempts)
                swept.released += len(rest)
        if len(stale) < BATCH:
            break
    with engine.connect() as conn:
        # A run whose launch still writes its ledger is the launcher's: it queues each batch of
        # rows as it commits, and the run is not finished before the last batch.
        running = list(
            conn.scalars(select(WaveRun.id).where(WaveRun.state == RUNNING, WaveRun.ledger_growing.is_(False)))
        )
    orphaned = and_(or_(Delivery.enqueued_at.is_(None), Delivery.enqueued_at < cutoff))
    # Posts that fell due since the launch, or since their account's 429 or spent quota (the
    # chunk went on without them, ledger.put_off): no task carries them, and none will unless
    # this queues them. They go now, even while e-mails of the wave fill the queue.
    posts = fell_due(now)
    for run_id in running:
        if finish_if_done(run_id):
            swept.finished_runs += 1
            continue
        if _waiting(run_id, posts):
            swept.requeued_chunks += enqueue_pending(run_id, posts)
        if _waiting(run_id, and_(orphaned, ledger.due(now))) and _queue_is_empty():
            swept.requeued_chunks += enqueue_pending(run_id, orphaned)
    if swept.settled_sent or swept.released or swept.requeued_chunks:
        log.warning("sweeper: %s", swept)
    return swept
