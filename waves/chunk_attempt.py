"""One try at a chunk, and what it means: written once for the Celery task and the in-process
runner, which differ only in how they wait before the next try.

- the chunk ran (fully, or stopped because the run was paused or cancelled): done;
- a transient failure (relay, throttle, journal): try the chunk again after `retry_in` seconds;
- one platform account had to wait (a 429, a spent quota) while the rest went: if its rows fall
  due within WAVECAST_RETRY_MAX_SECONDS the chunk comes back for them, else nothing holds a
  worker or an embedded `send` for longer; the sweeper queues them when they fall due;
- the campaign files changed since approval: the run is paused with the reason, done.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from campaign.db import utcnow
from campaign.settings import get_settings
from waves.bundles import ContentChanged
from waves.control import pause_for
from waves.delivery import ChunkResult, RetryLater, send_chunk

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Attempt:
    result: ChunkResult | None = None
    retry_in: float | None = None  # try again after this many seconds
    stopped: str | None = None  # why nothing more of this run should be tried now

    def as_json(self) -> dict[str, object]:
        sent = self.result.sent if self.result else 0
        failed = self.result.failed if self.result else 0
        return {"sent": sent, "failed": failed, "stopped": self.stopped, "retry_in": self.retry_in}


def attempt_chunk(run_id: int, first_id: int, last_id: int) -> Attempt:
    try:
        result = send_chunk(run_id, first_id, last_id)
    except ContentChanged as exc:
        pause_for(run_id, str(exc))
        log.error("run %s paused: %s", run_id, exc)
        return Attempt(stopped=str(exc))
    except RetryLater as exc:
        log.warning("chunk %s-%s of run %s: %s; retrying in %.0f s", first_id, last_id, run_id, exc, exc.delay)
        return Attempt(retry_in=exc.delay)
    return Attempt(result=result, retry_in=_comes_back_in(result), stopped=result.stopped)


def _comes_back_in(result: ChunkResult) -> float | None:
    """Seconds until the first waiting account's rows fall due, when that is soon enough to come
    back for them (a short backoff); None when nothing waits or the wait is long."""
    if not result.waiting or result.stopped:
        return None
    wait = max(0.0, (min(result.waiting.values()) - utcnow()).total_seconds())
    return wait if wait <= get_settings().retry_max_seconds else None
