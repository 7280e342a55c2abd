"""Handing chunks of ledger ids to senders: Celery tasks with a broker, plain calls without.

Tasks carry id ranges (hundreds of rows each), never one recipient, and are queued only
after the transaction that made their rows has committed.
"""

from __future__ import annotations

import logging
import time

from sqlalchemy import ColumnElement

from campaign.db import get_engine
from campaign.settings import get_settings
from waves import ledger

log = logging.getLogger(__name__)
EMBEDDED_MAX_ROUNDS = 50


def enqueue_pending(run_id: int, where: ColumnElement[bool] | None = None) -> int:
    """Queue every pending row of the run in chunks; returns the number of chunks."""
    settings = get_settings()
    engine = get_engine()
    with engine.connect() as conn:
        ranges = ledger.pending_ranges(conn, run_id, settings.chunk_size, where)
    if not ranges:
        return 0
    if settings.embedded:
        run_in_process(run_id, ranges)
        return len(ranges)
    from waves.celery_app import transport_options
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
    """The embedded default: the same send function, called directly, retries included."""
    from waves.bundles import ContentChanged
    from waves.control import pause_for
    from waves.delivery import RetryLater, send_chunk

    todo = list(ranges)
    for _round in range(EMBEDDED_MAX_ROUNDS):
        deferred: list[tuple[int, int]] = []
        wait = 0.0
        for first, last in todo:
            try:
                result = send_chunk(run_id, first, last)
            except ContentChanged as exc:
                pause_for(run_id, str(exc))
                log.error("run %s paused: %s", run_id, exc)
                return
            except RetryLater as exc:
                log.warning("chunk %s-%s of run %s: %s; retrying in %.0f s", first, last, run_id, exc, exc.delay)
                deferred.append((first, last))
                wait = max(wait, exc.delay)
                continue
            if result.stopped:
                return
        if not deferred:
            return
        time.sleep(wait)
        todo = deferred
