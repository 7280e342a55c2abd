"""Scheduling precision: waves due a few seconds apart, the delay from each due time to the
wave's first message at the SMTP sink.

A real `wavecast scheduler` process (ticking every 0.5 s) launches them; 2 worker processes send.
Each wave belongs to its own copy of the minimal campaign (its own campaign id), so each is a
first launch for the scheduler and a first sight of the campaign for the workers, as in life.

    .venv/bin/python -m bench.scheduling [--waves 20] [--gap 3] [--contacts 40]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench.common import MINIMAL, Rig, approved, campaign_copy, insert_contacts, rig, scheduler_token
from bench.services import ROOT, exit_on_sigterm

WAVE = "first"
TARGET_SECONDS = 1.0


@dataclass
class Precision:
    database: str
    gap: float
    delays: list[float]
    cold: float

    @property
    def worst(self) -> float:
        return max(self.delays)


def _schedule(bundles: list, first_due: dt.datetime, gap: float) -> dict[str, float]:  # type: ignore[type-arg]
    """Store one due time per campaign's wave, `gap` seconds apart; returns them as timestamps."""
    from campaign.db import session_scope
    from waves.content import wave_content_hash
    from waves.models import WaveSchedule
    from waves.scheduler import SCHEDULED

    due: dict[str, float] = {}
    with session_scope() as session:
        for index, bundle in enumerate(bundles):
            at = first_due + dt.timedelta(seconds=index * gap)
            campaign_id = bundle.spec.campaign.id
            due[campaign_id] = at.timestamp()
            session.add(
                WaveSchedule(
                    campaign_id=campaign_id,
                    wave_id=WAVE,
                    campaign_dir=str(bundle.root),
                    content_hash=wave_content_hash(bundle, WAVE),
                    due_at=at,
                    state=SCHEDULED,
                )
            )
    return due


def _first_arrivals(current: Rig, due: dict[str, float], log: Path) -> dict[str, float]:
    """When the first message of each campaign reached the sink."""
    first: dict[str, float] = {}
    deadline = max(due.values()) + 120
    while len(first) < len(due) and time.time() < deadline:
        time.sleep(0.5)
        for at, _to, message_id in current.sink.records():
            campaign_id = message_id.lstrip("<").split(".", 1)[0]
            if campaign_id in due and campaign_id not in first:
                first[campaign_id] = at
    missing = sorted(set(due) - set(first))
    if missing:
        raise RuntimeError(f"no message arrived for {missing}:\n{log.read_text(errors='replace')[-2000:]}")
    return first


def run(waves: int, gap: float, contacts: int, database: str | None = None) -> Precision:
    from campaign.db import utcnow

    with rig(database, name="scheduling", settings={"WAVECAST_SWEEP_INTERVAL_SECONDS": "5"}) as current:
        insert_contacts(contacts)
        bundles = [
            approved(campaign_copy(current.workdir, MINIMAL, campaign_id=f"sched{i:02d}", always_open=True), [WAVE])
            for i in range(waves + 2)
        ]
        log = current.workdir / "scheduler.log"
        with log.open("ab") as handle:
            scheduler = subprocess.Popen(
                [sys.executable, "-m", "frontends", "scheduler", "--name", "bench"],
                cwd=ROOT,
                env={**current.env, "WAVECAST_TOKEN": scheduler_token()},
                stdout=handle,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            current.start_workers(2)
            deadline = time.time() + 60
            while "started (active)" not in log.read_text(errors="replace"):
                if time.time() > deadline or scheduler.poll() is not None:
                    raise RuntimeError(f"the scheduler did not start:\n{log.read_text(errors='replace')[-2000:]}")
                time.sleep(0.1)
            # A first wave warms the worker processes up (imports, database connections): a worker
            # started long ago is the normal case. Two waves due at once reach both workers; their
            # delay is reported apart, as the cold start.
            cold = _schedule(bundles[:2], utcnow() + dt.timedelta(seconds=1), 0)
            cold_first = _first_arrivals(current, cold, log)
            due = _schedule(bundles[2:], utcnow() + dt.timedelta(seconds=2), gap)
            first = _first_arrivals(current, due, log)
            cold_delay = max(cold_first[c] - cold[c] for c in cold)
            return Precision(current.db_kind, gap, [first[c] - due[c] for c in sorted(due)], cold_delay)
        finally:
            scheduler.terminate()
            scheduler.wait(timeout=30)


def report(result: Precision) -> list[str]:
    within = sum(1 for d in result.delays if d <= TARGET_SECONDS)
    return [
        f"scheduling precision ({result.database}, {len(result.delays)} waves due {result.gap:g} s apart, "
        "scheduler tick 0.5 s, 2 worker processes):",
        "  delay from due time to first message (s): " + " ".join(f"{d:.2f}" for d in result.delays),
        f"  median {statistics.median(result.delays):.2f} s, worst {result.worst:.2f} s; "
        f"{within} of {len(result.delays)} within {TARGET_SECONDS:g} s",
        f"  cold start (the first waves after the workers started, not counted above): {result.cold:.2f} s",
        f"  RATIO scheduling worst delay vs target: {result.worst / TARGET_SECONDS:.2f} (target <= 1.00)",
    ]


def main(argv: list[str] | None = None) -> Precision:
    parser = argparse.ArgumentParser(prog="bench.scheduling", description=__doc__.splitlines()[0])
    parser.add_argument("--waves", type=int, default=20)
    parser.add_argument("--gap", type=float, default=3.0, help="seconds between due times")
    parser.add_argument("--contacts", type=int, default=40)
    parser.add_argument("--database", choices=["postgresql", "sqlite"], default=None)
    args = parser.parse_args(argv)
    exit_on_sigterm()
    result = run(args.waves, args.gap, args.contacts, args.database)
    for line in report(result):
        print(line, flush=True)
    return result


if __name__ == "__main__":
    main()
