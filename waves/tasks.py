"""Celery tasks: thin. Each takes ids, calls a plain function in waves/, maps errors to retry."""

from __future__ import annotations

import logging

from celery import Task

from waves.bundles import ContentChanged
from waves.celery_app import make_celery
from waves.queues import SEND_CHUNK

log = logging.getLogger(__name__)
app = make_celery()


@app.task(bind=True, name=SEND_CHUNK, max_retries=None, acks_late=True, reject_on_worker_lost=True)
def send_chunk_task(self: Task, run_id: int, first_id: int, last_id: int) -> dict[str, object]:
    from waves.control import pause_for
    from waves.delivery import RetryLater, send_chunk

    try:
        result = send_chunk(run_id, first_id, last_id)
    except RetryLater as exc:
        # Short countdowns only (capped by WAVECAST_RETRY_MAX_SECONDS): no long ETAs on Redis.
        raise self.retry(countdown=exc.delay) from None
    except ContentChanged as exc:
        pause_for(run_id, str(exc))
        return {"stopped": str(exc)}
    return {"sent": result.sent, "failed": result.failed, "stopped": result.stopped}
