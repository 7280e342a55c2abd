"""The Celery application's configuration: Redis broker, JSON only, safe acknowledgements."""

from __future__ import annotations

from celery import Celery
from celery.signals import worker_process_init
from kombu import Queue

from campaign.db import dispose_engines
from campaign.settings import Settings, get_settings
from waves.queues import CONTROL_QUEUE, ROUTES, SEND_QUEUE

# A send task may run this long; retries wait at most settings.retry_max_seconds. Both stay
# well under the broker's visibility timeout, so Redis never redelivers a task still in use.
SEND_TIME_LIMIT = 900


def transport_options(settings: Settings) -> dict[str, object]:
    """Redis transport options: the visibility timeout, and a key prefix per installation."""
    return {"visibility_timeout": settings.visibility_timeout_seconds, "global_keyprefix": settings.redis_prefix}


def make_celery() -> Celery:
    settings = get_settings()
    app = Celery("wavecast", broker=settings.broker_url or "redis://127.0.0.1:6379/0")
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        task_ignore_result=True,
        task_routes=ROUTES,
        task_default_queue=CONTROL_QUEUE,
        task_queues=(Queue(SEND_QUEUE), Queue(CONTROL_QUEUE)),
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_time_limit=SEND_TIME_LIMIT,
        task_soft_time_limit=SEND_TIME_LIMIT - 30,
        broker_transport_options=transport_options(settings),
        broker_connection_retry_on_startup=True,
        worker_cancel_long_running_tasks_on_connection_loss=True,
        worker_hijack_root_logger=False,
        timezone="UTC",
        enable_utc=True,
    )
    return app


@worker_process_init.connect
def _fresh_connections(**_: object) -> None:
    """A forked child must not share the parent's database connections."""
    dispose_engines()
