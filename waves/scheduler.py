"""The scheduler process: launches waves when they fall due, and runs the sweeper.

With a broker it sends nothing itself: a launch queues the due chunks, and each tick queues the
posts that fall due later (waves/due_posts.py); the workers send both. In the embedded default
(no broker) the same calls send in this process.

Due times live in the database (`wave_schedules`, UTC). APScheduler drives three jobs in this
process only (its job store is never shared): renew the lease, look for due waves, sweep.
Only the lease holder launches and sweeps; the others wait as standby.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
from dataclasses import dataclass
from pathlib import Path

from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from accounts.roles import Actor
from audiences.subscriptions import expire as expire_requests
from campaign.bundle import Bundle
from campaign.db import get_engine, session_scope, utcnow
from campaign.errors import WavecastError
from campaign.phrase import Phrase
from campaign.settings import get_settings
from campaign.timing import allowed, next_allowed, resolve_starts
from waves import due_posts, lease, sweeper
from waves.approval import approval_state
from waves.bundles import bundle_at
from waves.launch import launch_wave
from waves.models import WaveSchedule

log = logging.getLogger(__name__)
LEASE_NAME = "scheduler"
SCHEDULED, LAUNCHED, MISSED, BLOCKED = "scheduled", "launched", "missed", "blocked"


@dataclass(frozen=True)
class ScheduleLine:
    wave_id: str
    due_at: dt.datetime | None
    state: str
    note: str


# Stored as the schedule's note; a page says it in its language (the note is looked up as it is).
WAITING = Phrase("waiting for the send window / after a blackout date")


def store_schedule(bundle: Bundle) -> list[ScheduleLine]:
    """Store the due times of the approved waves; report the others and why."""
    spec = bundle.spec
    info = spec.campaign
    starts = resolve_starts(spec)
    lines = []
    with session_scope() as session:
        for wave in spec.waves:
            state = approval_state(session, bundle, wave.id)
            existing = session.get(WaveSchedule, (info.id, wave.id))
            if not state.valid:
                lines.append(ScheduleLine(wave.id, None, "not scheduled", state.describe()))
                continue
            due = next_allowed(info, starts[wave.id])
            note = "" if due == starts[wave.id] else "moved to the next allowed time (send window / blackout)"
            if existing is None:
                session.add(
                    WaveSchedule(
                        campaign_id=info.id,
                        wave_id=wave.id,
                        campaign_dir=str(Path(bundle.root).resolve()),
                        content_hash=state.content_hash,
                        due_at=due.astimezone(dt.UTC),
                        state=SCHEDULED,
                        note=note or None,
                    )
                )
            elif existing.state in (SCHEDULED, BLOCKED):
                existing.due_at = due.astimezone(dt.UTC)
                existing.content_hash = state.content_hash
                existing.campaign_dir = str(Path(bundle.root).resolve())
                existing.state = SCHEDULED
                existing.note = note or None
            else:
                note = existing.note or existing.state
                due = existing.due_at.astimezone(info.tz)
                lines.append(ScheduleLine(wave.id, due, existing.state, note))
                continue
            lines.append(ScheduleLine(wave.id, due, SCHEDULED, note))
    return lines


def _set(campaign_id: str, wave_id: str, **values: object) -> None:
    with get_engine().begin() as conn:
        conn.execute(
            update(WaveSchedule)
            .where(WaveSchedule.campaign_id == campaign_id, WaveSchedule.wave_id == wave_id)
            .values(updated_at=utcnow(), **values)
        )


def launch_due(by: Actor, now: dt.datetime | None = None) -> list[str]:
    """Launch every scheduled wave whose time has come, as `by` (the scheduler's service account);
    report missed ones. Returns launched ids."""
    settings = get_settings()
    now = now or utcnow()
    grace = dt.timedelta(seconds=settings.misfire_grace_seconds)
    with get_engine().connect() as conn:
        due = (
            Session(bind=conn)
            .scalars(select(WaveSchedule).where(WaveSchedule.state == SCHEDULED, WaveSchedule.due_at <= now))
            .all()
        )
    launched = []
    for item in due:
        late = now - item.due_at
        if late > grace:
            note = f"missed: due {item.due_at.isoformat()}, no scheduler ran within the grace time ({grace})"
            log.error("wave %s %s; launch it by hand with `wavecast send`", item.wave_id, note)
            _set(item.campaign_id, item.wave_id, state=MISSED, note=note)
            continue
        try:
            bundle = bundle_at(item.campaign_dir)
            if not allowed(bundle.spec.campaign, now):
                later = next_allowed(bundle.spec.campaign, now)
                _set(
                    item.campaign_id,
                    item.wave_id,
                    due_at=later.astimezone(dt.UTC),
                    note=str(WAITING),
                )
                continue
            launch_wave(bundle, item.wave_id, by)
        except WavecastError as exc:
            log.error("wave %s cannot be launched: %s", item.wave_id, exc)
            _set(item.campaign_id, item.wave_id, state=BLOCKED, note=str(exc)[:2000])
            continue
        _set(item.campaign_id, item.wave_id, state=LAUNCHED, note=None)
        launched.append(item.wave_id)
    return launched


class Scheduler:
    """One scheduler process; active while it holds the lease, standby otherwise."""

    def __init__(self, account: Actor, name: str | None = None, tick_seconds: float = 0.5) -> None:
        account.require("wave.launch")  # refused at start, not at the first due wave
        self.account = account
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        self.tick_seconds = tick_seconds
        self.active = False

    def renew(self) -> None:
        settings = get_settings()
        try:
            with get_engine().begin() as conn:
                now_active = lease.hold(conn, LEASE_NAME, self.name, settings.scheduler_lease_seconds)
        except Exception:
            log.exception("scheduler %s: cannot renew the lease", self.name)
            now_active = False
        if now_active != self.active:
            log.warning("scheduler %s is now %s", self.name, "active" if now_active else "standby")
        self.active = now_active

    def tick(self) -> None:
        if self.active:
            for wave_id in launch_due(self.account):
                log.warning("scheduler %s launched wave %s", self.name, wave_id)
            # Posts go when they fall due, not at the next sweep (a minute later by default).
            due_posts.publish_due()

    def sweep(self) -> None:
        if self.active:
            sweeper.sweep()
            with get_engine().begin() as conn:
                gone = expire_requests(conn)  # unconfirmed double opt-ins: the address goes too
            if gone:
                log.warning("scheduler %s deleted %d expired subscription request(s)", self.name, gone)

    def stop(self) -> None:
        if self.active:
            with get_engine().begin() as conn:
                lease.release(conn, LEASE_NAME, self.name)
            self.active = False

    def run_forever(self) -> None:
        settings = get_settings()
        # A launch that outlasts a tick makes APScheduler skip the next tick; that is intended.
        logging.getLogger("apscheduler").setLevel(logging.ERROR)
        engine = BlockingScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1})
        self.renew()
        engine.add_job(self.renew, "interval", seconds=max(1, settings.scheduler_lease_seconds // 3), id="lease")
        engine.add_job(self.tick, "interval", seconds=self.tick_seconds, id="launch", misfire_grace_time=None)
        engine.add_job(self.sweep, "interval", seconds=settings.sweep_interval_seconds, id="sweep")
        log.warning("scheduler %s started (%s)", self.name, "active" if self.active else "standby")
        try:
            engine.start()
        finally:
            self.stop()
