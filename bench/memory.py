"""Peak memory of the launching process and of each worker process, 10,000 contacts against N.

Each size gets a fresh database, fresh worker processes and its own launching process (a child
of this one, so that its peak RSS is its own). Streaming (keyset batches for the ledger, chunked
tasks, a bounded segment cache) should keep every peak flat while N grows.

    .venv/bin/python -m bench.memory [--small 10000] [--large N]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench.common import BENCH, EXAMPLE, ROOT, approved, campaign_copy, insert_contacts, rig, wait_settled
from bench.services import exit_on_sigterm, own_peak_rss_mb, peak_rss_mb

WAVE = "launch"
PROCESSES = 2
LIMIT_MB = 150.0
GROWTH = 1.25


@dataclass
class Peaks:
    contacts: int
    launcher_mb: float
    workers_mb: list[float]  # each sending (pool) process
    worker_mains_mb: list[float]  # each worker's main process
    seconds: float

    @property
    def highest(self) -> float:
        return max([self.launcher_mb, *self.workers_mb, *self.worker_mains_mb])


def _launch_child(campaign_dir: str) -> None:
    """In the launching process: load, launch, report peak RSS."""
    from campaign.bundle import load_bundle
    from waves.launch import launch_wave

    started = time.time()
    launched = launch_wave(load_bundle(Path(campaign_dir)), WAVE, BENCH)
    print(
        json.dumps({"run_id": launched.run_id, "rows": launched.rows, "started": started, "peak_mb": own_peak_rss_mb()})
    )


def measure(contacts: int, database: str | None) -> Peaks:
    with rig(database, name="memory") as current:
        insert_contacts(contacts)
        camp = campaign_copy(current.workdir, EXAMPLE, unthrottled=True)
        approved(camp, [WAVE])
        workers = current.start_workers(PROCESSES)
        result = subprocess.run(
            [sys.executable, "-m", "bench.memory", "--launch-child", str(camp)],
            cwd=ROOT,
            env=current.env,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"the launching process failed:\n{result.stderr[-3000:]}")
        launched = json.loads(result.stdout.strip().splitlines()[-1])
        if launched["rows"] != contacts:
            raise RuntimeError(f"{launched['rows']} ledger rows, expected {contacts}")
        stats = current.sink.wait_for(contacts, timeout=24 * 3600, poll=0.5)
        wait_settled(launched["run_id"])
        pool = [peak_rss_mb(pid) for worker in workers for pid in worker.children()]
        mains = [peak_rss_mb(worker.pid) for worker in workers]
        return Peaks(contacts, float(launched["peak_mb"]), pool, mains, float(stats["last_at"]) - launched["started"])


def growth(small: Peaks, large: Peaks) -> float:
    """The largest growth of a role's peak (launcher, sending process, worker main) from small to large."""
    pairs = [
        (large.launcher_mb, small.launcher_mb),
        (max(large.workers_mb), max(small.workers_mb)),
        (max(large.worker_mains_mb), max(small.worker_mains_mb)),
    ]
    return max(a / b for a, b in pairs if b)


def report(small: Peaks, large: Peaks) -> list[str]:
    def row(p: Peaks) -> str:
        workers = " ".join(f"{mb:6.1f}" for mb in p.workers_mb)
        mains = " ".join(f"{mb:6.1f}" for mb in p.worker_mains_mb)
        return f"  {p.contacts:>10,} {p.launcher_mb:>9.1f}   {workers}   {mains}   {p.seconds:8.0f}"

    worst = growth(small, large)
    return [
        f"memory: peak RSS in MB ({PROCESSES} worker processes; sending process = the worker's pool child)",
        "    contacts  launcher   sending processes   worker main processes   seconds",
        row(small),
        row(large),
        f"  highest peak at {large.contacts:,}: {large.highest:.1f} MB (target <= {LIMIT_MB:.0f} MB)",
        f"  RATIO memory large vs small: {worst:.2f} (the role that grew most; "
        f"{large.contacts:,} vs {small.contacts:,} "
        f"contacts; target <= {GROWTH})",
    ]


def main(argv: list[str] | None = None) -> tuple[Peaks, Peaks] | None:
    parser = argparse.ArgumentParser(prog="bench.memory", description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--database", choices=["postgresql", "sqlite"], default=None)
    parser.add_argument("--launch-child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    exit_on_sigterm()
    if args.launch_child:
        _launch_child(args.launch_child)
        return None
    small = measure(args.small, args.database)
    large = measure(args.large, args.database)
    for line in report(small, large):
        print(line, flush=True)
    return small, large


if __name__ == "__main__":
    main()
