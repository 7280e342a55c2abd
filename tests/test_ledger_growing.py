"""Sending starts while the launch is still writing the ledger: each batch of rows is queued as soon
as it commits, and the run cannot be finished before its last batch.

Real parts: Redis (the broker), a Celery worker process, the benchmark's SMTP sink in its own
process; SQLite and PostgreSQL. The launch runs in this process. After its first batch of rows is
queued it waits, on a hook around the queueing, until the worker has sent and marked every row
written so far: the moment a sweeper could wrongly call the run done.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bench.sink import SinkClient
from campaign.db import get_engine
from tests.accounts_setup import TESTER
from tests.conftest import reset_caches
from tests.sending_setup import add_contacts, approved_campaign, person_statuses
from tests.waiting import wait_for
from tests.worker_process import WorkerProcess, service_env
from waves.launch import Launched
from waves.models import DONE, RUNNING, WaveRun

pytestmark = [pytest.mark.services]

CONTACTS = 100
BATCH = 20  # contacts per ledger batch: the wave's ledger is written in 5 batches


@pytest.fixture
def worker(database_url: str, redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SinkClient]:
    settings = {
        "WAVECAST_BROKER_URL": redis_url,
        "WAVECAST_ALLOW_INSECURE_RELAY": "1",
        "WAVECAST_LEDGER_BATCH_SIZE": str(BATCH),
        "WAVECAST_CHUNK_SIZE": "10",
        "WAVECAST_SEND_LEASE_SECONDS": "3",
    }
    with SinkClient(tmp_path / "sink.log") as sink:
        settings["WAVECAST_SMTP_URL"] = sink.url
        for key, value in settings.items():
            monkeypatch.setenv(key, value)
        reset_caches()
        process = WorkerProcess(service_env(**settings), tmp_path / "worker.log", concurrency=1)
        process.start()
        try:
            yield sink
        finally:
            process.stop()


def run_of(run_id: int) -> WaveRun:
    with get_engine().connect() as conn:
        return conn.execute(select(WaveRun).where(WaveRun.id == run_id)).one()


def launch_holding_after_the_first_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hold: Callable[[int], None]
) -> Launched:
    """Launch the wave to CONTACTS people; `hold(run_id)` runs once the first batch of ledger rows
    is queued, before the launch writes the second."""
    import waves.launch
    from waves.launch import launch_wave

    add_contacts(CONTACTS)
    bundle = approved_campaign(tmp_path)
    queue = waves.launch.enqueue_pending
    held: list[int] = []

    def queue_then_hold(run_id: int, where: Any = None) -> int:
        chunks = queue(run_id, where)
        if where is not None and not held:  # a batch's rows (the first call queues what was there)
            held.append(run_id)
            hold(run_id)
        return chunks

    monkeypatch.setattr(waves.launch, "enqueue_pending", queue_then_hold)
    return launch_wave(bundle, "first", TESTER)


def test_the_first_batch_is_sent_while_the_ledger_grows_and_the_run_ends_only_after_the_last(
    worker: SinkClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from waves.control import finish_if_done
    from waves.sweeper import sweep

    seen: dict[str, Any] = {}

    def first_batch_sent(run_id: int) -> None:
        # Only the first batch is written: the worker sends it, and marks it, now.
        seen["arrived"] = wait_for(lambda: worker.count() >= BATCH and worker.count(), "the first batch")
        seen["rows"] = wait_for(lambda: person_statuses(run_id) == {"sent": BATCH} and person_statuses(run_id), "marks")
        seen["finished"] = finish_if_done(run_id)
        sweep()
        seen["state"] = run_of(run_id).state

    launched = launch_holding_after_the_first_batch(tmp_path, monkeypatch, first_batch_sent)
    # While only the first batch existed, its messages went out, and nothing could end the run.
    assert seen["arrived"] == BATCH
    assert seen["rows"] == {"sent": BATCH}
    assert seen["finished"] is False
    assert seen["state"] == RUNNING
    assert launched.rows == CONTACTS
    wait_for(lambda: person_statuses(launched.run_id) == {"sent": CONTACTS}, "the whole wave")
    copies = Counter(to for _at, to, _message_id in worker.records())
    assert len(copies) == CONTACTS and set(copies.values()) == {1}
    wait_for(lambda: sweep() and run_of(launched.run_id).state == DONE, "the sweeper to finish the run")


def test_a_cancel_while_the_ledger_grows_stops_its_writing(
    worker: SinkClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from waves.control import cancel

    launched = launch_holding_after_the_first_batch(tmp_path, monkeypatch, lambda _run_id: cancel("mini:first", TESTER))
    assert run_of(launched.run_id).state == "cancelled"
    assert launched.rows == BATCH  # the other four batches were never written
    statuses = wait_for(lambda: (s := person_statuses(launched.run_id)) and "sending" not in s and s, "the chunks")
    assert sum(statuses.values()) == BATCH and set(statuses) <= {"sent", "skipped"}
    assert worker.count() == statuses.get("sent", 0)  # nothing was sent after the cancel but what the ledger says
