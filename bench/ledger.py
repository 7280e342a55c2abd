"""Ledger creation: rows per second of `build_ledger` (INSERT ... SELECT in keyset batches, inside
the database) against a raw bulk INSERT of the same rows through the same engine.

The raw INSERT gets its rows ready-made in memory (read before its clock starts) and writes
them in batches of the same size, one transaction per batch, as `build_ledger` does. It runs
first, so the ledger is measured on the fuller table: if anything, that favours the baseline.

    .venv/bin/python -m bench.ledger [--contacts N] [--database postgresql|sqlite]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

from bench.common import EXAMPLE, approved, campaign_copy, insert_contacts, rig
from bench.services import exit_on_sigterm, own_peak_rss_mb

WAVE = "launch"


@dataclass
class LedgerRate:
    contacts: int
    database: str
    rows: int
    ledger_seconds: float
    raw_seconds: float
    peak_mb: float

    @property
    def ledger_rate(self) -> float:
        return self.rows / self.ledger_seconds

    @property
    def raw_rate(self) -> float:
        return self.rows / self.raw_seconds


def _new_run(bundle, key: str) -> int:  # type: ignore[no-untyped-def]
    from campaign.db import session_scope, utcnow
    from waves.content import wave_content_hash
    from waves.models import LAUNCHING, WaveRun

    with session_scope() as session:
        run = WaveRun(
            run_key=key,
            campaign_id=bundle.spec.campaign.id,
            wave_id=WAVE,
            campaign_dir=str(bundle.root),
            content_hash=wave_content_hash(bundle, WAVE),
            state=LAUNCHING,
            launched_by="bench",
            created_at=utcnow(),
            updated_at=utcnow(),
        )
        session.add(run)
        session.flush()
        return int(run.id)


def run(contacts: int, database: str | None = None) -> LedgerRate:
    from sqlalchemy import insert

    from audiences.assignment import assignment_select
    from campaign.channel_ids import PERSON_CHANNELS
    from campaign.db import get_engine
    from campaign.settings import get_settings
    from campaign.timing import resolve_starts
    from waves.launch import build_ledger
    from waves.models import PENDING, Delivery

    with rig(database, name="ledger") as current:
        insert_contacts(contacts)
        bundle = approved(campaign_copy(current.workdir, EXAMPLE), [WAVE])
        at = resolve_starts(bundle.spec)[WAVE]
        engine = get_engine()
        batch = get_settings().ledger_batch_size

        raw_run = _new_run(bundle, "bench:raw")
        with engine.connect() as conn:
            assigned = conn.execute(assignment_select(bundle.spec, WAVE, at, channels=PERSON_CHANNELS)).all()
        rows = [
            {
                "run_id": raw_run,
                "contact_id": contact_id,
                "channel": channel,
                "message_id": message_id,
                "audience_id": audience_id,
                "language": language,
                "status": PENDING,
                "attempts": 0,
            }
            for contact_id, channel, message_id, audience_id, language in assigned
        ]
        del assigned
        started = time.perf_counter()
        for low in range(0, len(rows), batch):
            with engine.begin() as conn:
                conn.execute(insert(Delivery.__table__), rows[low : low + batch])
        raw_seconds = time.perf_counter() - started
        count = len(rows)
        del rows

        ledger_run = _new_run(bundle, "bench:ledger")
        started = time.perf_counter()
        made = build_ledger(bundle, ledger_run, WAVE, at)
        ledger_seconds = time.perf_counter() - started
        if made != count:
            raise RuntimeError(f"build_ledger made {made} rows, the raw insert {count}")
        return LedgerRate(contacts, current.db_kind, count, ledger_seconds, raw_seconds, own_peak_rss_mb())


def report(result: LedgerRate) -> list[str]:
    return [
        f"ledger creation ({result.database}, {result.contacts:,} contacts, {result.rows:,} rows):",
        f"  build_ledger (INSERT ... SELECT in batches): {result.ledger_rate:,.0f} rows/s "
        f"({result.ledger_seconds:.1f} s)",
        f"  raw bulk INSERT of the same rows, same engine: {result.raw_rate:,.0f} rows/s ({result.raw_seconds:.1f} s)",
        f"  RATIO ledger vs raw insert: {result.ledger_rate / result.raw_rate:.2f} (target >= 0.5)",
    ]


def main(argv: list[str] | None = None) -> LedgerRate:
    parser = argparse.ArgumentParser(prog="bench.ledger", description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--database", choices=["postgresql", "sqlite"], default=None)
    args = parser.parse_args(argv)
    exit_on_sigterm()
    result = run(args.contacts, args.database)
    for line in report(result):
        print(line, flush=True)
    return result


if __name__ == "__main__":
    main()
