"""Contacts import at scale: rows per second and peak memory, 100,000 rows against N (default 1,000,000).

Each import runs in a fresh process on a fresh SQLite database, so its peak RSS
(VmHWM, read from /proc) is its own. Streaming means the peak at N rows stays close to the
peak at 100,000 rows: the printed ratio should stay near 1.0 while the row count grows tenfold.

    python -m bench.contacts_import [--rows N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.services import own_peak_rss_mb

BASELINE_ROWS = 100_000
DEFAULT_ROWS = 1_000_000


def _child(csv_file: str) -> None:
    """Import one file into the database in the environment and print what it took."""
    from zoneinfo import ZoneInfo

    from audiences.importer import import_contacts
    from campaign.db import get_engine

    get_engine()  # create the schema before the clock starts
    started = time.perf_counter()
    summary = import_contacts(Path(csv_file), languages=("nl", "fr", "de", "en"), tz=ZoneInfo("Europe/Brussels"))
    seconds = time.perf_counter() - started
    peak_kb = own_peak_rss_mb() * 1024  # VmHWM: ru_maxrss would carry the parent's peak across exec
    print(json.dumps({"rows": summary.rows, "created": summary.created, "seconds": seconds, "peak_kb": peak_kb}))


def _measure(csv_file: Path, workdir: Path) -> dict[str, float]:
    env = dict(os.environ, WAVECAST_DATABASE_URL=f"sqlite:///{workdir / (csv_file.stem + '.db')}")
    result = subprocess.run(
        [sys.executable, "-m", "bench.contacts_import", "--child", str(csv_file)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"import of {csv_file} failed:\n{result.stderr}")
    measured: dict[str, float] = json.loads(result.stdout.strip().splitlines()[-1])
    return measured


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench.contacts_import", description=__doc__)
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS, help="rows in the large import")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args, _ = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    if args.child:
        _child(args.child)
        return
    from audiences.synthetic import write_csv

    rows = max(args.rows, BASELINE_ROWS)
    with tempfile.TemporaryDirectory(prefix="wavecast-bench-") as tmp:
        workdir = Path(tmp)
        results = {}
        for n in (BASELINE_ROWS, rows):
            csv_file = workdir / f"contacts-{n}.csv"
            write_csv(csv_file, n, seed=1, today=dt.date(2025, 6, 1))
            results[n] = _measure(csv_file, workdir)
            csv_file.unlink()
    base, large = results[BASELINE_ROWS], results[rows]
    print("contacts import (SQLite, one process per run)")
    print(f"{'rows':>10} {'seconds':>9} {'rows/s':>9} {'peak RSS MB':>12}")
    for n, r in results.items():
        print(f"{n:>10} {r['seconds']:>9.1f} {r['rows'] / r['seconds']:>9.0f} {r['peak_kb'] / 1024:>12.1f}")
    print(
        f"rows ratio {rows / BASELINE_ROWS:.1f}x: "
        f"peak memory ratio {large['peak_kb'] / base['peak_kb']:.2f} (1.0 = constant memory), "
        f"throughput ratio {(large['rows'] / large['seconds']) / (base['rows'] / base['seconds']):.2f}"
    )


if __name__ == "__main__":
    main()
