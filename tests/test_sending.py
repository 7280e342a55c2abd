"""Sending end to end with real parts: Redis, a Celery worker process, aiosmtpd, SQLite and PostgreSQL."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

from campaign.db import get_engine
from tests.accounts_setup import TESTER
from tests.conftest import reset_caches
from tests.sending_setup import LANGS, add_contacts, approved_campaign
from tests.smtp_sink import SmtpSink
from tests.worker_process import WorkerProcess, service_env
from waves.models import Delivery

pytestmark = [pytest.mark.services, pytest.mark.slow]  # slow: on SQLite too only in `make faults`


@dataclass
class Rig:
    sink: SmtpSink
    env: dict[str, str]
    tmp: Path
    workers: list[WorkerProcess]

    def worker(self, name: str = "w1", concurrency: int = 2) -> WorkerProcess:
        process = WorkerProcess(self.env, self.tmp / f"{name}.log", name=name, concurrency=concurrency)
        process.start()
        self.workers.append(process)
        return process


@pytest.fixture
def rig(database_url: str, redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Rig]:
    sink = SmtpSink()
    sink.start()
    settings = {
        "WAVECAST_BROKER_URL": redis_url,
        "WAVECAST_SMTP_URL": sink.url,
        "WAVECAST_SEND_LEASE_SECONDS": "3",
        "WAVECAST_SWEEP_INTERVAL_SECONDS": "1",
        "WAVECAST_RETRY_BASE_SECONDS": "0.5",
        "WAVECAST_RETRY_MAX_SECONDS": "2",
        "WAVECAST_CHUNK_SIZE": "100",
        # The tempfail test refuses up to 5 messages after a 3 s outage: the retry budget must
        # outlast that however the refusals fall on the chunks' first rows.
        "WAVECAST_MAX_ATTEMPTS": "12",
    }
    for key, value in settings.items():
        monkeypatch.setenv(key, value)
    reset_caches()
    result = Rig(sink, service_env(**settings), tmp_path, [])
    try:
        yield result
    finally:
        for process in result.workers:
            process.stop()
        sink.stop()


def statuses(run_id: int, posts: bool = False) -> dict[str, int]:
    """The run's e-mail rows by status (or, with `posts`, its social post rows)."""
    kind = Delivery.account.isnot(None) if posts else Delivery.account.is_(None)
    with get_engine().connect() as conn:
        rows = conn.execute(
            select(Delivery.status, func.count()).where(Delivery.run_id == run_id, kind).group_by(Delivery.status)
        ).all()
    return {status: int(count) for status, count in rows}


def failure_reasons(run_id: int) -> list[str]:
    """Why rows failed, for the assertion message of a test that expected none."""
    with get_engine().connect() as conn:
        failed = select(Delivery.last_error).where(Delivery.run_id == run_id, Delivery.status == "failed")
        return list(conn.scalars(failed))


def wait_until_settled(run_id: int, timeout: float = 90) -> dict[str, int]:
    """Wait until no e-mail and no post of the run is pending or being sent; the e-mail counts."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        counts = statuses(run_id)
        if os.environ.get("WAVECAST_TEST_TRACE"):
            print(f"{time.strftime('%X')} run {run_id}: {counts}", flush=True)
        posts = statuses(run_id, posts=True)
        if not any(c.get("pending") or c.get("sending") for c in (counts, posts)):
            return counts
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} not settled in {timeout} s: {statuses(run_id)}")


def wait_until_quiet(sink: SmtpSink, run_id: int, timeout: float = 90) -> int:
    """Wait until no row of the run is being sent and the sink holds exactly the rows marked
    sent; return that number. What a pause let finish has finished by then, however slow the
    machine (a fixed pause would guess)."""
    deadline = time.monotonic() + timeout
    while True:
        counts, received = statuses(run_id), len(sink.received)
        if not counts.get("sending") and received == counts.get("sent", 0):
            return received
        assert time.monotonic() < deadline, f"run {run_id} still sending after {timeout} s: {counts}, {received} in"
        time.sleep(0.1)


def stays(value: Callable[[], object], expected: object, seconds: float = 1.5) -> None:
    """Check that nothing happens: `value()` keeps `expected` for `seconds`. A window, not a
    wait for an event, so a busy machine can only make it miss a fault, never fail a good run."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        assert value() == expected
        time.sleep(0.1)


def launch(bundle, wave: str = "first"):  # type: ignore[no-untyped-def]
    from waves.launch import launch_wave

    return launch_wave(bundle, wave, TESTER)


def test_wave_arrives_once_per_person_in_their_language(rig: Rig, tmp_path: Path) -> None:
    ids = add_contacts(1200)
    bundle = approved_campaign(tmp_path)
    rig.worker()
    launched = launch(bundle)
    assert launched.rows == len(ids)
    counts = wait_until_settled(launched.run_id)
    assert counts == {"sent": len(ids)}
    # The wave's posts (2 audiences x 4 languages on x) went through the same ledger and worker.
    assert statuses(launched.run_id, posts=True) == {"sent": 8}
    by_person = rig.sink.by_recipient()
    assert len(by_person) == len(ids)
    assert all(len(copies) == 1 for copies in by_person.values())
    for index in (0, 1, 2, 3, 777):
        message = by_person[f"person{index}@example.org"][0].parsed()
        assert message["Content-Language"] == LANGS[index % 4]
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert "<https://" in message["List-Unsubscribe"] or "<http://" in message["List-Unsubscribe"]
        assert "mailto:" in message["List-Unsubscribe"]
        html = message.get_body(("html",)).get_content()
        assert f'lang="{LANGS[index % 4]}"' in html
        assert f"Person{index}" in message.get_body(("plain",)).get_content()
    # Launching again adds nothing and sends nothing.
    again = launch(bundle)
    assert not again.created and again.rows == len(ids)
    stays(lambda: (len(rig.sink.received), statuses(launched.run_id)), (len(ids), {"sent": len(ids)}))


def test_tempfail_then_accept_delivers_everything(rig: Rig, tmp_path: Path) -> None:
    ids = add_contacts(300)
    bundle = approved_campaign(tmp_path)
    rig.worker()
    rig.sink.handler.behaviour.tempfail_next = 5  # a few refusals here and there...
    rig.sink.handler.behaviour.tempfail_until = time.time() + 3  # ...and a relay that refuses all for 3 s
    launched = launch(bundle)
    assert wait_until_settled(launched.run_id) == {"sent": len(ids)}, failure_reasons(launched.run_id)
    assert len({r.to for r in rig.sink.received}) == len(ids)
    with get_engine().connect() as conn:
        assert conn.scalar(select(func.max(Delivery.attempts))) >= 1  # retries were counted


def test_permanent_refusal_fails_only_those_addresses(rig: Rig, tmp_path: Path) -> None:
    ids = add_contacts(200)
    refused = {"person3@example.org", "person150@example.org"}
    rig.sink.handler.behaviour.reject = set(refused)
    bundle = approved_campaign(tmp_path)
    rig.worker()
    launched = launch(bundle)
    assert wait_until_settled(launched.run_id) == {"sent": len(ids) - 2, "failed": 2}
    with get_engine().connect() as conn:
        errors = conn.scalars(select(Delivery.last_error).where(Delivery.status == "failed")).all()
    assert all(e.startswith("550") for e in errors)
    assert not any("@example.org" in e for e in errors), "the relay's reply kept the address"
    assert not refused & {r.to for r in rig.sink.received}


def wait_for_count(sink: SmtpSink, count: int, timeout: float = 60) -> None:
    sink.wait_for(count, timeout)


def test_pause_then_resume_loses_and_doubles_nothing(rig: Rig, tmp_path: Path) -> None:
    from waves.control import pause
    from waves.resume import resume

    ids = add_contacts(500)
    bundle = approved_campaign(tmp_path, rate=100)
    rig.worker()
    launched = launch(bundle)
    wait_for_count(rig.sink, 100)
    pause("first", TESTER)
    at_pause = wait_until_quiet(rig.sink, launched.run_id)  # in-flight sends finish, claimed rows go back
    stays(lambda: len(rig.sink.received), at_pause)  # and nothing new is claimed
    assert at_pause < len(ids)
    resume("first", TESTER)
    assert wait_until_settled(launched.run_id) == {"sent": len(ids)}
    by_person = rig.sink.by_recipient()
    assert len(by_person) == len(ids)
    assert max(len(v) for v in by_person.values()) == 1


def test_cancel_stops_sending_for_good(rig: Rig, tmp_path: Path) -> None:
    from waves.control import cancel

    ids = add_contacts(500)
    bundle = approved_campaign(tmp_path, rate=100)
    rig.worker()
    launched = launch(bundle)
    wait_for_count(rig.sink, 80)
    cancel("first", TESTER)
    counts = wait_until_settled(launched.run_id)  # no row pending or being sent: nothing more can go
    at_cancel = len(rig.sink.received)
    assert counts["sent"] == at_cancel and counts["skipped"] == len(ids) - at_cancel
    stays(lambda: len(rig.sink.received), at_cancel)


def test_unsubscribe_mid_wave_stops_that_persons_message(rig: Rig, tmp_path: Path) -> None:
    from audiences.consent import unsubscribe_email

    ids = add_contacts(500)
    bundle = approved_campaign(tmp_path, rate=100)
    rig.worker()
    launched = launch(bundle)
    wait_for_count(rig.sink, 60)
    late = [f"person{i}@example.org" for i in range(450, 460)]
    for email in late:
        assert unsubscribe_email(email)
    committed = time.time()
    counts = wait_until_settled(launched.run_id)
    after = [r for r in rig.sink.received if r.to in late and r.at > committed]
    assert after == []
    assert counts == {"sent": len(ids) - len(late), "skipped": len(late)}


def test_test_send_creates_no_ledger_rows(rig: Rig, tmp_path: Path) -> None:
    from waves.proofs import send_proofs

    add_contacts(20)
    bundle = approved_campaign(tmp_path)
    subjects = send_proofs(bundle, "first", "proofs@example.org", TESTER)
    assert len(subjects) == 2 * 4  # two audiences × four languages
    received = rig.sink.received
    assert len(received) == 8 and {r.to for r in received} == {"proofs@example.org"}
    assert all(str(r.parsed()["Subject"]).startswith("[TEST]") for r in received)
    with get_engine().connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Delivery)) == 0


def test_worker_killed_mid_wave_loses_nothing(rig: Rig, tmp_path: Path) -> None:
    """kill -9 the whole worker mid-wave, start a new one: 0 lost, duplicates only with the same Message-ID."""
    from tests.scheduler_process import SchedulerProcess

    ids = add_contacts(600)
    bundle = approved_campaign(tmp_path, rate=100)
    scheduler = SchedulerProcess(rig.env, tmp_path / "scheduler.log")
    scheduler.start()
    try:
        first = rig.worker("w1", concurrency=2)
        launched = launch(bundle)
        wait_for_count(rig.sink, 150)
        first.kill9()
        rig.worker("w2", concurrency=2)
        counts = wait_until_settled(launched.run_id, timeout=120)
    finally:
        scheduler.stop()
    assert counts == {"sent": len(ids)}
    by_person = rig.sink.by_recipient()
    assert len(by_person) == len(ids), "lost messages"
    duplicates = {to: copies for to, copies in by_person.items() if len(copies) > 1}
    assert sum(len(c) - 1 for c in duplicates.values()) <= 2  # at most one per sending process
    for copies in duplicates.values():
        assert len({c.message_id for c in copies}) == 1
