"""`python -m bench`: every benchmark in turn, then a summary of the ratios against their targets.

    .venv/bin/python -m bench            # the issue's sizes (make bench)
    .venv/bin/python -m bench --quick    # tiny sizes: a smoke run, a minute or so
    .venv/bin/python -m bench --only throughput,ledger
    .venv/bin/python -m bench --growth-sizes 10000,100000,1000000   # the growth charts up to 1M

Every sending benchmark starts its own services on loopback (bench/common.py): PostgreSQL when a
server answers on 127.0.0.1:5432 (else SQLite), Redis database 15, the SMTP sink process, and
2 Celery worker processes. The django-post-office peer runs in a virtual environment of its own,
created on first use (bench/post_office_comparison.py); --quick uses it only if it is already there.

The summary at the end is one table of every ratio against its target; the targets of issue 17
are marked, and one that was not measured (its benchmark failed, was skipped or not chosen)
shows as such, never left out.
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
from dataclasses import dataclass, replace
from pathlib import Path

from bench import (
    contacts_import,
    dkim_signing,
    first_message,
    growth,
    ledger,
    memory,
    post_office_comparison,
    preview,
    relay_latency,
    scheduling,
    smtp_concurrency,
    wave_throughput,
)
from bench.common import EXAMPLE, machine
from bench.services import ROOT, exit_on_sigterm

ORDER = (
    "throughput",
    "post_office",
    "latency",
    "smtp_concurrency",
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
    value: float | None  # None: not measured
    target: str
    met: bool
    issue: str = ""  # the issue whose target this is
    why: str = ""  # why it was not measured

    def line(self) -> str:
        value = "-" if self.value is None else f"{self.value:.2f}"
        verdict = "met" if self.met else "MISSED" if self.value is not None else f"NOT MEASURED: {self.why}"
        return f"RATIO {self.name + ':':<52} {value:>7}  {self.target:<17} {self.issue:<5} {verdict}"


HEADER = f"      {'ratio':<52} {'value':>7}  {'target':<17} {'issue':<5} verdict"


class Skipped(Exception):
    """A benchmark that could not run here, and why."""


# Every target of issue 17: (benchmark, the start of its ratios' names, its row when nothing
# measured it, target).
ISSUE_17 = (
    ("throughput", "throughput vs wire", "throughput vs wire", f">= {wave_throughput.TARGET_WIRE:.2f}"),
    ("throughput", "throughput vs naive", "throughput vs naive", f">= {wave_throughput.TARGET_NAIVE:.2f}"),
    (
        "post_office",
        "throughput vs django-post-office",
        "throughput vs django-post-office",
        f">= {post_office_comparison.TARGET:.2f}",
    ),
    ("latency", "relay ", "relay, every delay x connections vs ideal", f">= {relay_latency.TARGET:.2f}"),
    ("first_message", "first message at ", "first message at each size vs 2 s", "<= 1.00"),
)


def issue_17(ratios: list[Ratio], why_not: dict[str, str]) -> list[Ratio]:
    """The ratios, those of issue 17 marked, and a row for each of its targets nothing measured."""
    out = []
    for ratio in ratios:
        mine = any(ratio.name.startswith(prefix) for _bench, prefix, _row, _target in ISSUE_17)
        out.append(replace(ratio, issue="17") if mine else ratio)
    for bench, prefix, row, target in ISSUE_17:
        if not any(ratio.name.startswith(prefix) for ratio in ratios):
            out.append(Ratio(row, None, target, False, "17", why_not.get(bench, "not run")))
    return out


@dataclass(frozen=True)
class Sizes:
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
    growth: str  # wave sizes of the throughput benchmark and its growth charts; the largest gives the ratios
    wire: int  # messages the wire's limit is measured on, at most
    peer: int  # contacts of each round of wavecast against django-post-office
    peer_rounds: int
    connections: int  # relay connections per sending process in the throughput benchmark
    smtp_messages: int  # messages per cell of threads against asyncio


FULL = Sizes(
    2_000,
    10_000,
    1_000_000,
    1_000_000,
    20,
    3.0,
    100_000,
    300,
    10_000,
    4_000,
    "10000,1000000",
    "10000,100000",
    20_000,
    20_000,
    3,
    4,
    600,
)
QUICK = Sizes(20, 200, 800, 5_000, 2, 1.5, 2_000, 10, 600, 300, "1000,5000", "300,600", 600, 300, 1, 4, 60)


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
    """The wave at each growth size with its baselines; the charts (not with --quick); the ratios
    of the largest size."""
    charts = [] if sizes is QUICK else ["--chart-dir", str(ROOT / "docs")]
    results = growth.main(
        [
            "--sizes",
            sizes.growth,
            "--wire",
            str(sizes.wire),
            "--naive",
            str(sizes.naive),
            "--connections",
            str(sizes.connections),
            *charts,
        ]
    )
    largest = results[-1]
    wire, naive = wave_throughput.TARGET_WIRE, wave_throughput.TARGET_NAIVE
    return [
        Ratio("throughput vs wire", largest.vs_wire, f">= {wire:.2f}", largest.vs_wire >= wire),
        Ratio("throughput vs naive", largest.vs_naive, f">= {naive:.2f}", largest.vs_naive >= naive),
    ]


def run_post_office(sizes: Sizes) -> list[Ratio]:
    if sizes is QUICK:
        try:  # --quick does not download: it measures the peer only if its environment is there
            post_office_comparison.peer_python(create=False)
        except post_office_comparison.PeerUnavailable as exc:
            raise Skipped(f"{exc} (--quick does not create it)") from exc
    result = post_office_comparison.main(["--contacts", str(sizes.peer), "--rounds", str(sizes.peer_rounds)])
    assert result is not None
    target = post_office_comparison.TARGET
    return [Ratio("throughput vs django-post-office", result.ratio, f">= {target:.2f}", result.ratio >= target)]


def run_latency(sizes: Sizes) -> list[Ratio]:
    chart = [] if sizes is QUICK else ["--chart", str(ROOT / "docs" / "relay_latency.png")]
    result = relay_latency.main(["--contacts", str(sizes.latency), *chart])
    target = relay_latency.TARGET
    return [
        Ratio(f"relay {c.delay_ms:g} ms x {c.connections} vs ideal", c.ratio, f">= {target:.2f}", c.ratio >= target)
        for c in result.cells
    ]


def run_smtp_concurrency(sizes: Sizes) -> list[Ratio]:
    """Threads against asyncio for the relay connections: the CPU per message of each."""
    cells = smtp_concurrency.main(["--messages", str(sizes.smtp_messages), "--rounds", "1" if sizes is QUICK else "3"])
    return [
        Ratio(
            f"smtp {cell.delay_ms} ms x {cell.connections}: asyncio / threads CPU",
            other.cpu / cell.cpu,
            "(no target)",
            True,
        )
        for cell, other in smtp_concurrency.pairs(cells)
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
    "post_office": run_post_office,
    "latency": run_latency,
    "smtp_concurrency": run_smtp_concurrency,
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
    parser.add_argument(
        "--growth-sizes", help=f"wave sizes of the throughput benchmark and its charts (default {FULL.growth})"
    )
    args = parser.parse_args(argv)
    exit_on_sigterm()
    sizes = QUICK if args.quick else FULL
    if args.growth_sizes:
        sizes = replace(sizes, growth=args.growth_sizes)
    chosen = args.only.split(",") if args.only else list(ORDER)
    unknown = set(chosen) - set(ORDER)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    print("machine: " + "; ".join(f"{k} {v}" for k, v in machine().items()), flush=True)
    ratios: list[Ratio] = []
    failed: list[str] = []
    why_not = {name: "not chosen (--only)" for name in ORDER if name not in chosen}
    started = time.time()
    for name in chosen:
        print(f"\n== {name} ==", flush=True)
        began = time.time()
        try:
            ratios.extend(RUNNERS[name](sizes))
        except Skipped as exc:
            print(f"{name}: skipped: {exc}", flush=True)
            why_not[name] = f"skipped: {exc}"
        except Exception:
            traceback.print_exc()
            failed.append(name)
            why_not[name] = "its benchmark failed"
        print(f"({name}: {time.time() - began:.0f} s)", flush=True)
    print(f"\n== summary ({'--quick' if args.quick else 'full sizes'}, {time.time() - started:.0f} s) ==")
    print(HEADER)
    for ratio in issue_17(ratios, why_not):
        print(ratio.line())
    for name in failed:
        print(f"FAILED {name}: see the traceback above")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
