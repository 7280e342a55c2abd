"""How cost grows with the wave: throughput and peak memory at several wave sizes, each size with
its own baselines measured in the same run (the wire's limit, the naive design), drawn as charts.

Each size is one `bench.wave_throughput` run: a fresh database and fresh processes, the wave end
to end, then the wire's limit on at most --wire messages and the naive design on --naive
recipients (neither rate depends on the wave's size; their samples keep a size of 1,000,000 from
costing hours of baseline). Peak memory is each role's resident-set high-water mark (VmHWM):
wavecast's sending processes and worker main processes, the wire's client processes, the naive
design's sending processes.

    .venv/bin/python -m bench.growth [--sizes 10000,100000,1000000] [--wire 20000] [--naive 2000]
        [--chart-dir docs]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
from pathlib import Path

from bench import wave_throughput
from bench.memory import LIMIT_MB
from bench.services import ROOT, exit_on_sigterm
from bench.wave_throughput import PROCESSES, Throughput

THROUGHPUT_CHART = "growth_throughput.png"
MEMORY_CHART = "growth_memory.png"


def run(sizes: list[int], wire: int, naive: int, database: str | None = None, connections: int = 1) -> list[Throughput]:
    results = []
    for size in sorted(sizes):
        print(f"  {size:,} contacts...", flush=True)
        result = wave_throughput.run(size, naive, database, connections, wire)
        print(f"  {_line(result)}", flush=True)
        results.append(result)
    return results


def _line(r: Throughput) -> str:
    return (
        f"{r.contacts:>9,} contacts: wavecast {r.wavecast:6,.0f}/s, wire {r.wire:6,.0f}/s, naive {r.naive:6,.1f}/s; "
        f"peak RSS (MB) sending process {r.sending_mb:6.1f}, worker main {r.worker_main_mb:6.1f}, "
        f"wire client {r.wire_mb:6.1f}, naive sending process {r.naive_mb:6.1f}"
    )


def report(results: list[Throughput]) -> list[str]:
    first = results[0]
    lines = [
        f"growth ({first.database}, {PROCESSES} worker processes, {first.connections} relay connection(s) each; "
        f"wire on at most {max(r.wire_sample for r in results):,} messages, naive on {first.naive_sample:,}):"
    ]
    lines += [f"  {_line(r)}" for r in results]
    return lines


def charts(results: list[Throughput], directory: Path, note: str = "") -> list[Path]:
    """Throughput and peak memory against the wave's size, each with the baselines of the same run;
    `note` goes under the chart (when, and the machine's load)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    sizes = [r.contacts for r in results]
    where = f"{results[0].database}, {PROCESSES} sending processes"
    drawn = []
    for name, title, ylabel, lines, limit in (
        (
            THROUGHPUT_CHART,
            f"Throughput against the wave's size ({where})",
            "messages/s",
            [
                ("wavecast, end to end", [r.wavecast for r in results], "o-"),
                ("the wire's limit (smtplib, pre-built messages)", [r.wire for r in results], "s--"),
                ("the naive design (one task per recipient)", [r.naive for r in results], "^--"),
            ],
            None,
        ),
        (
            MEMORY_CHART,
            f"Peak memory (RSS high-water mark) against the wave's size ({where})",
            "MB, the highest process of its role",
            [
                ("wavecast sending process", [r.sending_mb for r in results], "o-"),
                ("wavecast worker main process", [r.worker_main_mb for r in results], "o:"),
                ("wire client process", [r.wire_mb for r in results], "s--"),
                ("naive design sending process", [r.naive_mb for r in results], "^--"),
            ],
            LIMIT_MB,
        ),
    ):
        figure, axes = pyplot.subplots(figsize=(7, 4.2), dpi=120)
        for label, values, style in lines:
            axes.plot(sizes, values, style, label=label)
        if limit is not None:
            axes.axhline(limit, color="black", linewidth=1, label=f"target: at most {limit:.0f} MB")
            axes.set_ylim(top=1.15 * max(limit, *(v for _label, values, _style in lines for v in values)))
        axes.set_xscale("log")
        axes.set_xticks(sizes)
        axes.get_xaxis().set_major_formatter(matplotlib.ticker.FuncFormatter(lambda x, _pos: f"{x:,.0f}"))
        axes.get_xaxis().set_minor_formatter(matplotlib.ticker.NullFormatter())
        axes.set_xlabel("contacts in the wave")
        axes.set_ylabel(ylabel)
        axes.set_title(title, fontsize=9)
        axes.set_ylim(bottom=0)
        axes.legend(fontsize=7, loc="best")
        axes.grid(alpha=0.3)
        if note:
            figure.text(0.99, 0.01, note, fontsize=6, ha="right", va="bottom", color="dimgray")
        figure.tight_layout()
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / name
        figure.savefig(path)
        pyplot.close(figure)
        drawn.append(path)
    return drawn


def main(argv: list[str] | None = None) -> list[Throughput]:
    parser = argparse.ArgumentParser(prog="bench.growth", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="contacts, comma-separated (1000000 takes long)")
    parser.add_argument("--wire", type=int, default=20_000, help="messages the wire's limit is measured on, at most")
    parser.add_argument("--naive", type=int, default=2_000, help="recipients in the naive baseline")
    parser.add_argument("--connections", type=int, default=1, help="relay connections per sending process")
    parser.add_argument("--database", choices=["postgresql", "sqlite"], default=None)
    parser.add_argument(
        "--chart-dir", type=Path, help=f"draw the charts into this directory (make bench: {ROOT / 'docs'})"
    )
    args = parser.parse_args(argv)
    exit_on_sigterm()
    sizes = [int(n) for n in args.sizes.split(",") if n.strip()]
    results = run(sizes, args.wire, args.naive, args.database, args.connections)
    for line in report(results):
        print(line, flush=True)
    if args.chart_dir:
        load = " ".join(f"{x:.1f}" for x in os.getloadavg())
        note = f"measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; load average {load} when drawn"
        for path in charts(results, args.chart_dir, note):
            print(f"  chart: {path}", flush=True)
    return results


if __name__ == "__main__":
    main()
