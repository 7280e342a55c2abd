"""Celery tasks: thin. Each takes ids, calls a plain function in waves/, maps errors to retry."""

from __future__ import annotations

from celery import Task

from waves.celery_app import make_celery
from waves.chunk_attempt import attempt_chunk
from waves.queues import SEND_CHUNK

app = make_celery()


@app.task(bind=True, name=SEND_CHUNK, max_retries=None, acks_late=True, reject_on_worker_lost=True)
def send_chunk_task(self: Task, run_id: int, first_id: int, last_id: int) -> dict[str, object]:
    attempt = attempt_chunk(run_id, first_id, last_id)
    if attempt.retry_in is not None:
        # Short countdowns only (capped by WAVECAST_RETRY_MAX_SECONDS): no long ETAs on Redis.
        raise self.retry(countdown=attempt.retry_in)
    return attempt.as_json()
