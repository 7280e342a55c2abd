"""`python -m bench`: every benchmark in turn, then a summary of the ratios against their targets.

    .venv/bin/python -m bench            # the issue's sizes (make bench)
    .venv/bin/python -m bench --quick    # tiny sizes: a smoke run, a minute or so
    .venv/bin/python -m bench --only throughput,ledger

Every sending benchmark starts its own services on loopback (bench/common.py): PostgreSQL when a
server answers on 127.0.0.1:5432 (else SQLite), Redis database 15, the SMTP sink process, and
2 Celery worker processes.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import re
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench import (
    contacts_import,
    dkim_signing,
    first_message,
    ledger,
    memory,
    preview,
    relay_latency,
    scheduling,
    wave_throughput,
)
from bench.common import EXAMPLE, machine
from bench.services import ROOT, exit_on_sigterm

ORDER = (
    "throughput",
    "latency",
    "first_message",
    "dkim",
    "memory",
    "ledger",
    "scheduling",
    "preview",
    "contacts_import",
)


@dataclass(frozen=True)
class Ratio:
    name: str
    value: float
    target: str
    met: bool

    def line(self) -> str:
        verdict = "met" if self.met else "MISSED"
        return f"RATIO {self.name}: {self.value:.2f} (target {self.target}) {verdict}"


@dataclass(frozen=True)
class Sizes:
    contacts: int
    naive: int
    memory_small: int
    memory_large: int
    ledger: int
    waves: int
    gap: float
    recipients: int
    scratch: int
    signing: int  # contacts of each of the DKIM benchmark's three waves
    latency: int  # contacts of each wave of the relay latency benchmark (9 waves)
    first: str  # wave sizes of the time-to-first-message benchmark


FULL = Sizes(100_000, 2_000, 10_000, 1_000_000, 1_000_000, 20, 3.0, 100_000, 300, 10_000, 4_000, "10000,1000000")
QUICK = Sizes(600, 20, 200, 800, 5_000, 2, 1.5, 2_000, 10, 600, 300, "1000,5000")


PREVIEW_CHILD = """
import json, sys, time
from pathlib import Path
started = time.perf_counter()
from campaign.bundle import load_bundle
from campaign.segment import forget, render_matrix
imports = time.perf_counter() - started
started = time.perf_counter()
outputs = len(render_matrix(load_bundle(Path(sys.argv[1]))).outputs)
cold = time.perf_counter() - started
forget()
started = time.perf_counter()
render_matrix(load_bundle(Path(sys.argv[1])))
warm = time.perf_counter() - started
print(json.dumps({"outputs": outputs, "imports": imports, "cold": cold, "warm": warm}))
"""


def preview_total(directory: Path = EXAMPLE) -> list[Ratio]:
    """Validate and render the whole matrix in a fresh interpreter, as `wavecast preview` does."""
    result = subprocess.run(
        [sys.executable, "-c", PREVIEW_CHILD, str(directory)], cwd=ROOT, capture_output=True, text=True, check=True
    )
    measured = json.loads(result.stdout.strip().splitlines()[-1])
    print(
        f"preview of {directory.name}: validate + render the whole matrix ({measured['outputs']} outputs) in a "
        f"fresh process: {measured['cold']:.2f} s (after {measured['imports']:.2f} s of imports); "
        f"again after an edit in the same process: {measured['warm']:.2f} s"
    )
    return [Ratio("preview validate+render vs 1 s", measured["cold"], "< 1.00", measured["cold"] < 1.0)]


def run_throughput(sizes: Sizes) -> list[Ratio]:
    result = wave_throughput.main(["--contacts", str(sizes.contacts), "--naive", str(sizes.naive)])
    return [
        Ratio("throughput vs wire", result.vs_wire, ">= 0.75", result.vs_wire >= 0.75),
        Ratio("throughput vs naive", result.vs_naive, ">= 4.00", result.vs_naive >= 4),
    ]


def run_latency(sizes: Sizes) -> list[Ratio]:
    chart = [] if sizes is QUICK else ["--chart", str(ROOT / "docs" / "relay_latency.png")]
    result = relay_latency.main(["--contacts", str(sizes.latency), *chart])
    target = relay_latency.TARGET
    return [
        Ratio(f"relay {c.delay_ms:g} ms x {c.connections} vs ideal", c.ratio, f">= {target:.2f}", c.ratio >= target)
        for c in result.cells
    ]


def run_first_message(sizes: Sizes) -> list[Ratio]:
    results = first_message.main(["--sizes", sizes.first])
    target = first_message.TARGET_SECONDS
    return [
        Ratio(f"first message at {r.contacts:,} contacts vs {target:g} s", r.seconds / target, "<= 1.00", ok)
        for r in results
        for ok in [r.seconds <= target]
    ]


def run_dkim(sizes: Sizes) -> list[Ratio]:
    quick = sizes is QUICK
    result = dkim_signing.main(
        ["--contacts", str(sizes.signing), "--rounds", "1" if quick else "3", "--micro", "200" if quick else "2000"]
    )
    rsa, ed25519 = result.ratio("rsa-sha256"), result.ratio("ed25519-sha256")
    return [
        Ratio("dkim rsa-sha256 vs unsigned", rsa, ">= 0.70", rsa >= 0.7),
        Ratio("dkim ed25519-sha256 vs unsigned", ed25519, "(no target)", True),
    ]


def run_memory(sizes: Sizes) -> list[Ratio]:
    measured = memory.main(["--small", str(sizes.memory_small), "--large", str(sizes.memory_large)])
    assert measured is not None
    small, large = measured
    growth = memory.growth(small, large)
    return [
        Ratio(f"memory {large.contacts:,} vs {small.contacts:,} contacts", growth, "<= 1.25", growth <= 1.25),
        Ratio("memory highest peak vs 150 MB", large.highest / 150, "<= 1.00", large.highest <= 150),
    ]


def run_ledger(sizes: Sizes) -> list[Ratio]:
    result = ledger.main(["--contacts", str(sizes.ledger)])
    value = result.ledger_rate / result.raw_rate
    return [Ratio("ledger vs raw insert", value, ">= 0.50", value >= 0.5)]


def run_scheduling(sizes: Sizes) -> list[Ratio]:
    result = scheduling.main(["--waves", str(sizes.waves), "--gap", str(sizes.gap)])
    return [Ratio("scheduling worst delay vs 1 s", result.worst, "<= 1.00", result.worst <= 1.0)]


def _tee(function: Callable[[], object]) -> str:
    """Run a benchmark that prints; show its output and return it."""
    buffer = io.StringIO()

    class Tee(io.TextIOBase):
        def write(self, text: str) -> int:
            sys.__stdout__.write(text)  # type: ignore[union-attr]
            sys.__stdout__.flush()  # type: ignore[union-attr]
            return buffer.write(text)

    with contextlib.redirect_stdout(Tee()):
        function()
    return buffer.getvalue()


def run_preview(sizes: Sizes) -> list[Ratio]:
    ratios = preview_total()
    text = _tee(lambda: preview.main(["--recipients", str(sizes.recipients), "--scratch", str(sizes.scratch)]))
    found = re.search(r"personalise is ([\d,]+)x faster", text)
    if found:
        value = float(found.group(1).replace(",", ""))
        ratios.append(Ratio("personalise vs render from scratch", value, "(no target)", True))
    return ratios


def run_contacts_import(sizes: Sizes) -> list[Ratio]:
    if sizes is QUICK:
        print("contacts import: skipped with --quick (its baseline alone is 100,000 rows)")
        return []
    text = _tee(lambda: contacts_import.main([]))
    found = re.search(r"peak memory ratio ([\d.]+)", text)
    if not found:
        return []
    value = float(found.group(1))
    return [Ratio("contacts import peak memory 1,000,000 vs 100,000 rows", value, "(no target; 1.0 is flat)", True)]


RUNNERS: dict[str, Callable[[Sizes], list[Ratio]]] = {
    "throughput": run_throughput,
    "latency": run_latency,
    "first_message": run_first_message,
    "dkim": run_dkim,
    "memory": run_memory,
    "ledger": run_ledger,
    "scheduling": run_scheduling,
    "preview": run_preview,
    "contacts_import": run_contacts_import,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for a smoke run")
    parser.add_argument("--only", help=f"comma-separated, of: {', '.join(ORDER)}")
    args = parser.parse_args(argv)
    exit_on_sigterm()
    sizes = QUICK if args.quick else FULL
    chosen = args.only.split(",") if args.only else list(ORDER)
    unknown = set(chosen) - set(ORDER)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    print("machine: " + "; ".join(f"{k} {v}" for k, v in machine().items()), flush=True)
    ratios: list[Ratio] = []
    failed: list[str] = []
    started = time.time()
    for name in chosen:
        print(f"\n== {name} ==", flush=True)
        began = time.time()
        try:
            ratios.extend(RUNNERS[name](sizes))
        except Exception:
            traceback.print_exc()
            failed.append(name)
        print(f"({name}: {time.time() - began:.0f} s)", flush=True)
    print(f"\n== summary ({'--quick' if args.quick else 'full sizes'}, {time.time() - started:.0f} s) ==")
    for ratio in ratios:
        print(ratio.line())
    for name in failed:
        print(f"FAILED {name}: see the traceback above")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
