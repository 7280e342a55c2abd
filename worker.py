"""The Celery application: `celery -A worker worker` (filled in by the sending feature)."""
