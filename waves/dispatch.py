"""Handing chunks of ledger ids to senders: Celery tasks with a broker, plain calls without.

Tasks carry id ranges (hundreds of rows each), never one recipient, and are queued only
after the transaction that made their rows has committed.
"""

from __future__ import annotations

import logging
import time

from sqlalchemy import ColumnElement, and_

from campaign.db import get_engine
from campaign.settings import get_settings
from waves import ledger
from waves.celery_app import transport_options
from waves.chunk_attempt import attempt_chunk

log = logging.getLogger(__name__)
EMBEDDED_MAX_ROUNDS = 50


def enqueue_pending(run_id: int, where: ColumnElement[bool] | None = None) -> int:
    """Queue every due pending row of the run in chunks; returns the number of chunks.

    A post is due at its scheduled time: until then no task carries it (the sweeper queues it
    when it falls due), so no worker holds a task, and no Redis ETA waits, for hours."""
    settings = get_settings()
    engine = get_engine()
    due = ledger.due() if where is None else and_(ledger.due(), where)
    with engine.connect() as conn:
        ranges = ledger.pending_ranges(conn, run_id, settings.chunk_size, due)
    if not ranges:
        return 0
    if settings.embedded:
        run_in_process(run_id, ranges)
        return len(ranges)
    # Imported here, not at the top: building the Celery app reads the broker settings, which
    # an embedded process (no broker) never needs. Not a cycle.
    from waves.tasks import app, send_chunk_task

    # The broker comes from the settings in force now, not from when the app was imported.
    app.conf.broker_transport_options = transport_options(settings)
    with app.connection_for_write(settings.broker_url) as connection:
        for first, last in ranges:
            with engine.begin() as conn:
                ledger.stamp_enqueued(conn, run_id, first, last)
            send_chunk_task.apply_async(args=[run_id, first, last], connection=connection)
    return len(ranges)


def run_in_process(run_id: int, ranges: list[tuple[int, int]]) -> None:
    """The embedded default: the same try as a worker's (waves/chunk_attempt.py), called directly;
    a chunk to retry waits here instead of in the broker."""
    todo = list(ranges)
    for _round in range(EMBEDDED_MAX_ROUNDS):
        deferred: list[tuple[int, int]] = []
        wait = 0.0
        for first, last in todo:
            attempt = attempt_chunk(run_id, first, last)
            if attempt.retry_in is not None:
                deferred.append((first, last))
                wait = max(wait, attempt.retry_in)
            elif attempt.stopped:
                return
        if not deferred:
            return
        time.sleep(wait)
        todo = deferred
