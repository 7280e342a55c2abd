"""The sweeper settles rows a dead worker left `sending`, using the sent journal."""

from __future__ import annotations

import datetime as dt
import threading
import time
from pathlib import Path

from sqlalchemy import select, update

from campaign.db import get_engine, utcnow
from campaign.settings import get_settings
from tests.sending_setup import add_contacts, approved_campaign
from waves.content import wave_content_hash
from waves.delivery import make_journal
from waves.launch import _claim_run, build_ledger
from waves.models import Delivery, WaveRun
from waves.sweeper import sweep


def ledger_in_state(tmp_path: Path, state: str):  # type: ignore[no-untyped-def]
    """The minimal campaign's first wave, its run in `state`, its ledger built; returns the run."""
    bundle = approved_campaign(tmp_path)
    with get_engine().begin() as conn:
        run, _ = _claim_run(conn, bundle, "first", wave_content_hash(bundle, "first"), "test")
        conn.execute(update(WaveRun).where(WaveRun.id == run.id).values(state=state))
    build_ledger(bundle, run.id, "first", utcnow())
    return run


def test_rows_left_sending_are_settled_from_the_journal(tmp_path: Path, database_url: str) -> None:
    add_contacts(6)
    run = ledger_in_state(tmp_path, "running")
    engine = get_engine()
    long_ago = utcnow() - dt.timedelta(hours=1)
    with engine.begin() as conn:
        ids = list(conn.scalars(select(Delivery.id).where(Delivery.run_id == run.id).order_by(Delivery.id)))
        # A worker claimed four rows, got two accepted by the relay (journalled), then died.
        conn.execute(update(Delivery).where(Delivery.id.in_(ids[:4])).values(status="sending", claimed_at=long_ago))
    journal = make_journal(get_settings())
    journal.record(run.id, ids[0])
    journal.record(run.id, ids[1])
    swept = sweep()
    assert swept.settled_sent == 2 and swept.released == 2
    with engine.connect() as conn:
        rows = dict(conn.execute(select(Delivery.id, Delivery.status).where(Delivery.run_id == run.id)).all())
        attempts = dict(conn.execute(select(Delivery.id, Delivery.attempts).where(Delivery.run_id == run.id)).all())
    assert [rows[i] for i in ids[:2]] == ["sent", "sent"]
    # The other two were pending again, and the embedded sweeper queued them in-process: sent now.
    assert [rows[i] for i in ids[2:]] == ["sent"] * 4
    assert attempts[ids[2]] == 1 and attempts[ids[3]] == 1  # the lost try counts as an attempt


def test_a_row_that_keeps_dying_fails_after_max_attempts(tmp_path: Path, database_url: str, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("WAVECAST_MAX_ATTEMPTS", "2")
    from tests.conftest import reset_caches

    reset_caches()
    add_contacts(1)
    run = ledger_in_state(tmp_path, "paused")
    engine = get_engine()
    long_ago = utcnow() - dt.timedelta(hours=1)
    for _ in range(2):
        with engine.begin() as conn:
            conn.execute(
                update(Delivery).where(Delivery.run_id == run.id).values(status="sending", claimed_at=long_ago)
            )
        sweep()
    with engine.connect() as conn:
        status, error = conn.execute(select(Delivery.status, Delivery.last_error)).one()
    assert status == "failed" and "gave up after 2 attempts" in error


def test_a_slow_live_sender_keeps_its_rows(tmp_path: Path, database_url: str, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A sender slower than its lease renews it: the sweeper takes nothing from it, and no try is
    counted against rows that were never lost."""
    from tests.conftest import reset_caches
    from tests.smtp_sink import SmtpSink
    from waves.delivery import send_chunk

    sink = SmtpSink()
    sink.start()
    sink.handler.behaviour.slow_seconds = 0.1  # 30 messages: 3 s of sending against a 1 s lease
    monkeypatch.setenv("WAVECAST_SMTP_URL", sink.url)
    monkeypatch.setenv("WAVECAST_SEND_LEASE_SECONDS", "1")
    reset_caches()
    try:
        add_contacts(30)
        run = ledger_in_state(tmp_path, "running")
        engine = get_engine()
        with engine.connect() as conn:
            ids = list(conn.scalars(select(Delivery.id).where(Delivery.run_id == run.id)))
        outcome: list[object] = []
        sender = threading.Thread(target=lambda: outcome.append(send_chunk(run.id, min(ids), max(ids))))
        sender.start()
        released = 0
        while sender.is_alive():
            released += sweep().released
            time.sleep(0.2)
        sender.join()
        assert released == 0
        with engine.connect() as conn:
            rows = conn.execute(select(Delivery.status, Delivery.attempts).where(Delivery.run_id == run.id)).all()
        assert [tuple(r) for r in rows] == [("sent", 0)] * len(ids)
        assert sorted(r.to for r in sink.received) == sorted({r.to for r in sink.received})
        assert len(sink.received) == len(ids)
    finally:
        sink.stop()
