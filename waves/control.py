"""A run's state: pause, cancel, and what workers decide (paused for a reason, done).

Resuming queues work, so it lives above the dispatcher, in ``waves.resume``; the workers' own
code imports this module, so it must not import the dispatcher.
"""

from __future__ import annotations

from sqlalchemy import Connection, select, update
from sqlalchemy.orm import Session

from accounts import audit
from accounts.roles import Actor
from campaign.db import get_engine, utcnow
from campaign.errors import WavecastError
from waves.models import CANCELLED, DONE, PAUSED, PENDING, RUNNING, SENDING, SKIPPED, Delivery, WaveRun


def find_run(conn: Connection, wave: str) -> WaveRun:
    """A run by wave id (or `campaign:wave` key); the newest if several campaigns share the id."""
    query = select(WaveRun).where((WaveRun.wave_id == wave) | (WaveRun.run_key == wave)).order_by(WaveRun.id.desc())
    run = Session(bind=conn).scalars(query).first()
    if run is None:
        raise WavecastError(f"wave {wave!r} has not been launched")
    return run


def set_state(
    wave: str, allowed_from: tuple[str, ...], to: str, note: str | None = None, *, by: Actor, action: str
) -> WaveRun:
    """The run of `wave` moved to `to`, only from one of `allowed_from`; a cancel skips what is
    pending. `by` needs the role of `action`; the change and its audit entry commit together."""
    by.require(action)
    engine = get_engine()
    with engine.begin() as conn:
        run = find_run(conn, wave)
        if run.state == to:
            return run
        if run.state not in allowed_from:
            raise WavecastError(f"wave {run.wave_id!r} is {run.state}; cannot make it {to}")
        values = {"state": to, "note": note, "updated_at": utcnow()}
        if to == RUNNING:  # an operator resumed: the bounce breaker judges what is sent from now
            values["breaker_from"] = utcnow()
        conn.execute(update(WaveRun).where(WaveRun.id == run.id).values(**values))
        if to == CANCELLED:
            conn.execute(
                update(Delivery)
                .where(Delivery.run_id == run.id, Delivery.status == PENDING)
                .values(status=SKIPPED, last_error="wave cancelled")
            )
        audit.record(
            Session(bind=conn), by, action, "wave", run.run_key, before={"state": run.state}, after={"state": to}
        )
        return find_run(conn, wave)


def pause(wave: str, by: Actor) -> WaveRun:
    return set_state(wave, (RUNNING,), PAUSED, f"paused by {by.email}", by=by, action="wave.pause")


def cancel(wave: str, by: Actor) -> WaveRun:
    return set_state(wave, (RUNNING, PAUSED), CANCELLED, f"cancelled by {by.email}", by=by, action="wave.cancel")


def pause_for(run_id: int, note: str) -> None:
    """Pause a run for a reason found by a worker (its content changed, say)."""
    with get_engine().begin() as conn:
        conn.execute(
            update(WaveRun)
            .where(WaveRun.id == run_id, WaveRun.state == RUNNING)
            .values(state=PAUSED, note=note, updated_at=utcnow())
        )


def finish_if_done(run_id: int) -> bool:
    """Mark a sending run done when its ledger is complete and no row is pending or sending any more.

    A run sends while its launch still writes the ledger: with every row written so far sent,
    it is not done until the launch has written the last one (`ledger_growing`)."""
    with get_engine().begin() as conn:
        if conn.scalar(select(WaveRun.ledger_growing).where(WaveRun.id == run_id)):
            return False
        busy = conn.scalar(
            select(Delivery.id).where(Delivery.run_id == run_id, Delivery.status.in_([PENDING, SENDING])).limit(1)
        )
        if busy is not None:
            return False
        conn.execute(
            update(WaveRun)
            .where(WaveRun.id == run_id, WaveRun.state == RUNNING)
            .values(state=DONE, updated_at=utcnow())
        )
        return True
