"""Resuming a paused wave: settle what a dead sender left, then queue only what was not sent.

Above ``waves.dispatch`` (it queues chunks), so ``waves.control``, which the workers import,
stays below the dispatcher.
"""

from __future__ import annotations

from accounts.roles import Actor
from campaign.db import get_engine
from campaign.settings import get_settings
from waves.control import find_run, finish_if_done, set_state
from waves.dispatch import enqueue_pending
from waves.models import PAUSED, RUNNING, WaveRun
from waves.recovery import settle_dead_claims


def resume(wave: str, by: Actor) -> WaveRun:
    """Back to sending; queue the rows still pending (sent rows are never touched)."""
    run = set_state(wave, (PAUSED,), RUNNING, None, by=by, action="wave.resume")
    # A sender of this machine that died mid-chunk left rows `sending`: settle them first, so
    # they go out now instead of after their lease (there may be no sweeper at all).
    settle_dead_claims(run.id)
    enqueue_pending(run.id)
    if get_settings().embedded:
        finish_if_done(run.id)
        with get_engine().connect() as conn:
            run = find_run(conn, wave)
    return run
