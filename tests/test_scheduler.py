"""Scheduling: due times in UTC, grace for missed waves, windows, and exactly one active scheduler."""

from __future__ import annotations

import datetime as dt
import signal
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from campaign.bundle import load_bundle
from campaign.db import get_engine, session_scope, utcnow
from tests.accounts_setup import TESTER
from tests.campaign_copy import copy_campaign, edit
from tests.conftest import reset_caches
from tests.scheduler_process import SchedulerProcess
from tests.sending_setup import add_contacts, always_open
from tests.worker_process import service_env
from waves.approval import approve
from waves.models import WaveRun, WaveSchedule
from waves.scheduler import LAUNCHED, MISSED, SCHEDULED, launch_due, store_schedule


def approved(camp: Path):  # type: ignore[no-untyped-def]
    bundle = load_bundle(camp)
    with session_scope() as session:
        for wave in bundle.spec.waves:
            approve(session, bundle, wave.id, TESTER)
    return bundle


def schedule_row(campaign_dir: Path, wave: str, due: dt.datetime, content_hash: str = "x") -> None:
    from waves.content import wave_content_hash

    bundle = load_bundle(campaign_dir)
    with session_scope() as session:
        session.merge(
            WaveSchedule(
                campaign_id="mini",
                wave_id=wave,
                campaign_dir=str(campaign_dir.resolve()),
                content_hash=wave_content_hash(bundle, wave),
                due_at=due,
                state=SCHEDULED,
            )
        )


def runs() -> list[tuple[str, str]]:
    with session_scope() as session:
        return [(r.wave_id, r.launched_by) for r in session.scalars(select(WaveRun).order_by(WaveRun.id))]


def test_schedule_stores_utc_and_shows_local_across_dst(tmp_path: Path, database_url: str) -> None:
    camp = copy_campaign(tmp_path)
    # Friday 27 October 2023, CEST; the second wave 3 days later falls after the switch to CET.
    edit(camp / "campaign.yaml", "start: 2023-06-12T10:00:00", "start: 2023-10-27T10:00:00")
    edit(camp / "campaign.yaml", 'days: 7, at: "11:00"', "days: 3")
    lines = store_schedule(approved(camp))
    assert [(line.wave_id, line.state) for line in lines] == [("first", SCHEDULED), ("second", SCHEDULED)]
    assert lines[1].due_at is not None and lines[1].due_at.hour == 10
    with session_scope() as session:
        rows = {r.wave_id: r.due_at for r in session.scalars(select(WaveSchedule))}
    assert rows["first"] == dt.datetime(2023, 10, 27, 8, 0, tzinfo=dt.UTC)
    assert rows["second"] == dt.datetime(2023, 10, 30, 9, 0, tzinfo=dt.UTC)


def test_unapproved_wave_is_not_scheduled(tmp_path: Path, database_url: str) -> None:
    camp = copy_campaign(tmp_path)
    lines = store_schedule(load_bundle(camp))
    assert all(line.state == "not scheduled" and "0 of 1" in line.note for line in lines)


def test_missed_wave_within_grace_is_launched_later_past_grace_reported(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WAVECAST_MISFIRE_GRACE_SECONDS", "600")
    reset_caches()
    camp = copy_campaign(tmp_path)
    always_open(camp)
    approved(camp)
    now = utcnow()
    schedule_row(camp, "first", now - dt.timedelta(minutes=5))
    schedule_row(camp, "second", now - dt.timedelta(hours=2))
    assert launch_due(TESTER, now) == ["first"]
    with session_scope() as session:
        states = {r.wave_id: (r.state, r.note) for r in session.scalars(select(WaveSchedule))}
    assert states["first"][0] == LAUNCHED
    assert states["second"][0] == MISSED and "missed" in (states["second"][1] or "")
    assert runs() == [("first", TESTER.email)]


def test_due_wave_waits_outside_the_send_window(tmp_path: Path, database_url: str) -> None:
    camp = copy_campaign(tmp_path)
    approved(camp)
    tz = load_bundle(camp).spec.campaign.tz
    saturday = dt.datetime(2023, 6, 17, 12, 0, tzinfo=tz)
    schedule_row(camp, "first", saturday - dt.timedelta(minutes=1))
    assert launch_due(TESTER, saturday.astimezone(dt.UTC)) == []
    with session_scope() as session:
        row = session.get(WaveSchedule, ("mini", "first"))
        assert row is not None and row.state == SCHEDULED
        assert row.due_at.astimezone(tz) == dt.datetime(2023, 6, 19, 8, 0, tzinfo=tz)


@pytest.mark.services
@pytest.mark.slow  # scheduler processes: on SQLite too only in `make faults`
def test_two_schedulers_launch_once_and_the_standby_takes_over(tmp_path: Path, database_url: str) -> None:
    camp = copy_campaign(tmp_path)
    always_open(camp)
    add_contacts(10)
    approved(camp)
    env = service_env(WAVECAST_SCHEDULER_LEASE_SECONDS="3", WAVECAST_SWEEP_INTERVAL_SECONDS="1")
    first = SchedulerProcess(env, tmp_path / "s1.log", "s1")
    second = SchedulerProcess(env, tmp_path / "s2.log", "s2")
    first.start()
    first.wait_for_log("started (active)")
    second.start()
    second.wait_for_log("started (standby)")
    try:
        schedule_row(camp, "first", utcnow() + dt.timedelta(seconds=2))
        deadline = time.time() + 30
        while time.time() < deadline and len(runs()) < 1:
            time.sleep(0.2)
        first.wait_for_log("launched wave first")
        assert runs() == [("first", "scheduler@service.invalid")]
        first.kill9()
        schedule_row(camp, "second", utcnow() + dt.timedelta(seconds=1))
        deadline = time.time() + 30
        while time.time() < deadline and len(runs()) < 2:
            time.sleep(0.2)
        second.wait_for_log("launched wave second")
        assert runs() == [("first", "scheduler@service.invalid"), ("second", "scheduler@service.invalid")]
    finally:
        first.stop()
        second.stop()
    # Checked over the whole run once both have stopped, rather than in a guessed pause.
    assert "launched wave first" not in (tmp_path / "s2.log").read_text()
    with get_engine().connect() as conn:
        assert conn.scalar(select(func.count()).select_from(WaveRun)) == 2


@pytest.mark.services
@pytest.mark.slow  # scheduler processes: on SQLite too only in `make faults`
def test_frozen_scheduler_resumed_does_not_launch_twice(tmp_path: Path, database_url: str) -> None:
    camp = copy_campaign(tmp_path)
    always_open(camp)
    approved(camp)
    env = service_env(WAVECAST_SCHEDULER_LEASE_SECONDS="3")
    first = SchedulerProcess(env, tmp_path / "s1.log", "s1")
    second = SchedulerProcess(env, tmp_path / "s2.log", "s2")
    first.start()
    first.wait_for_log("started (active)")
    second.start()
    second.wait_for_log("started (standby)")
    try:
        first.signal(signal.SIGSTOP)
        schedule_row(camp, "first", utcnow() + dt.timedelta(seconds=1))
        second.wait_for_log("launched wave first", timeout=30)
        first.signal(signal.SIGCONT)
        # Awake, it finds the lease gone; stopping it then lets any tick it ran first finish.
        first.wait_for_log("scheduler s1 is now standby", timeout=60)
    finally:
        first.stop()
        second.stop()
    assert runs() == [("first", "scheduler@service.invalid")]
