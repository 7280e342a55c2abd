"""Chunk ranges for queueing: every pending row in exactly one range of at most `chunk` rows."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select, update

from campaign.db import get_engine
from tests.sending_setup import add_contacts
from tests.test_sweeper import ledger_in_state
from waves import ledger
from waves.models import Delivery


def test_ranges_cover_each_pending_row_once_in_chunks(tmp_path: Path, database_url: str) -> None:
    add_contacts(23)
    run = ledger_in_state(tmp_path, "running")
    engine = get_engine()
    with engine.begin() as conn:
        ids = list(conn.scalars(select(Delivery.id).where(Delivery.run_id == run.id).order_by(Delivery.id)))
        # Rows already sent, here and there, are not queued again.
        done = set(ids[:3]) | {ids[10], ids[11]}
        conn.execute(update(Delivery).where(Delivery.id.in_(done)).values(status="sent"))
    with engine.connect() as conn:
        ranges = ledger.pending_ranges(conn, run.id, 5)
        tail = ledger.pending_ranges(conn, run.id, 5, Delivery.id > ids[15])
    pending = [i for i in ids if i not in done]
    assert len(pending) == 18
    expected = [pending[k : k + 5] for k in range(0, len(pending), 5)]
    assert ranges == [(part[0], part[-1]) for part in expected]
    later = [i for i in pending if i > ids[15]]
    assert tail == [(later[k], later[min(k + 4, len(later) - 1)]) for k in range(0, len(later), 5)]
