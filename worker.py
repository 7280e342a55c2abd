"""The Celery application: start workers with `celery -A worker worker`."""

from waves.tasks import app

__all__ = ["app"]
