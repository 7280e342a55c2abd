"""Posts that fall due after their wave was launched: a post row waits for its scheduled time,
and for an account's 429 or spent quota, with no task carrying it. Something long-running must
publish it when the time comes:

- with a broker, `wavecast scheduler` queues it for the workers (and sweeps);
- in the embedded default, `wavecast serve` or `wavecast scheduler` sends it in its own process.

`publish_due` is what both call, as often as they like: the ledger's claim keeps a post from
going twice, so two processes publishing at once is harmless.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading

from sqlalchemy import ColumnElement, and_, select

from campaign.db import get_engine, utcnow
from waves import ledger
from waves.control import finish_if_done
from waves.dispatch import enqueue_pending
from waves.models import PENDING, RUNNING, Delivery, WaveRun

log = logging.getLogger(__name__)


def fell_due(now: dt.datetime | None = None) -> ColumnElement[bool]:
    """Post rows whose time has come and that no task carries."""
    return and_(Delivery.account.isnot(None), Delivery.enqueued_at.is_(None), ledger.due(now))


def publish_due(now: dt.datetime | None = None) -> int:
    """Queue (embedded: send) the posts of running waves that have fallen due; returns chunks.
    A wave whose last rows they were is done."""
    now = now or utcnow()
    with get_engine().connect() as conn:
        runs = list(
            conn.scalars(
                select(Delivery.run_id)
                .join(WaveRun, WaveRun.id == Delivery.run_id)
                .where(WaveRun.state == RUNNING, Delivery.status == PENDING, fell_due(now))
                .distinct()
            )
        )
    chunks = 0
    for run_id in runs:
        chunks += enqueue_pending(run_id, fell_due(now))
        finish_if_done(run_id)  # embedded, the posts were the last of the wave: it is done now
    return chunks


def publish_until(stop: threading.Event, every: float = 1.0) -> None:
    """Publish posts as they fall due until `stop` is set: the loop of `wavecast serve`."""
    while not stop.wait(every):
        try:
            publish_due()
        except Exception:  # a database hiccup must not end the loop; the next turn tries again
            log.exception("publishing the posts that fell due failed; trying again in %s s", every)
