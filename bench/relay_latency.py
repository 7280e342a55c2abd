"""A relay with latency: the wave's throughput at 0, 5 and 20 ms per message × 1, 4 and 16 relay
connections per sending process, against the ideal `connections × processes / delay`, capped by
the wire's limit measured in the same run on the same sink.

The sink answers every message `delay` ms late, each connection on its own, as a relay across a
network does. Each cell sends the SmartNation `launch` wave (21 KB per message) from its own copy
of the campaign, with 2 worker processes started with WAVECAST_SMTP_CONNECTIONS set; the clock runs
from the first message at the sink to the last (the launch and the ledger are the throughput
benchmark's business), so the figure is the sending rate.

    .venv/bin/python -m bench.relay_latency [--contacts N] [--delays 0,5,20] [--connections 1,4,16]
        [--chart docs/relay_latency.png]
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import BENCH, EXAMPLE, Rig, approved, campaign_copy, insert_contacts, rig, wait_settled
from bench.services import exit_on_sigterm
from bench.wave_throughput import PROCESSES, WAVE, measure_wire

TARGET = 0.8
WIRE = 2_000  # messages, at least, for the wire's limit


@dataclass
class Cell:
    delay_ms: float
    connections: int
    rate: float  # messages/s from the first message at the sink to the last
    ideal: float  # connections × processes / delay, capped by the wire's limit

    @property
    def ratio(self) -> float:
        return self.rate / self.ideal


@dataclass
class Latency:
    contacts: int
    database: str
    wire: float
    cells: list[Cell] = field(default_factory=list)


def ideal(connections: int, delay_ms: float, wire: float) -> float:
    if delay_ms <= 0:
        return wire
    return min(wire, connections * PROCESSES * 1000 / delay_ms)


def send_cell(current: Rig, contacts: int, delay_ms: float, connections: int) -> float:
    """Messages per second of one wave sent with this delay and this many connections per process."""
    from waves.launch import launch_wave

    name = f"lat-{delay_ms:g}-{connections}".replace(".", "_")
    bundle = approved(campaign_copy(current.workdir, EXAMPLE, campaign_id=name, unthrottled=True), [WAVE])
    current.settings["WAVECAST_SMTP_CONNECTIONS"] = str(connections)
    current.start_workers(PROCESSES, prefix=f"{name}-")
    current.sink.reset()
    current.sink.fault("delay", ms=delay_ms)
    try:
        launched = launch_wave(bundle, WAVE, BENCH)
        stats = current.sink.wait_for(contacts)
        wait_settled(launched.run_id)
    finally:
        current.sink.fault("delay", ms=0)
        current.stop_workers()
    return (contacts - 1) / (float(stats["last_at"]) - float(stats["first_at"]))


def run(contacts: int, delays: list[float], connections: list[int], database: str | None = None) -> Latency:
    with rig(database, name="latency") as current:
        insert_contacts(contacts)
        # At least 2,000 messages: fewer measure the clients' start more than the wire.
        wire = measure_wire(current, campaign_copy(current.workdir, EXAMPLE, campaign_id="wire"), max(contacts, WIRE))
        result = Latency(contacts, current.db_kind, wire)
        for delay_ms in delays:
            for count in connections:
                rate = send_cell(current, contacts, delay_ms, count)
                cell = Cell(delay_ms, count, rate, ideal(count, delay_ms, wire))
                result.cells.append(cell)
                print(f"  {_line(cell)}", flush=True)
        return result


def _line(cell: Cell) -> str:
    return (
        f"{cell.delay_ms:g} ms x {cell.connections} connection(s): {cell.rate:,.0f} messages/s; "
        f"ideal {cell.ideal:,.0f}; ratio {cell.ratio:.2f}"
    )


def report(result: Latency) -> list[str]:
    lines = [
        f"relay latency ({result.database}, {PROCESSES} worker processes, {result.contacts:,} contacts per wave; "
        f"ideal = connections x processes / delay, capped by the wire's limit):",
        f"  wire's limit (smtplib, {PROCESSES} processes, no delay): {result.wire:,.0f} messages/s",
    ]
    lines += [f"  {_line(cell)}" for cell in result.cells]
    lines += [
        f"  RATIO relay {cell.delay_ms:g} ms x {cell.connections} vs ideal: {cell.ratio:.2f} (target >= {TARGET})"
        for cell in result.cells
    ]
    return lines


def chart(result: Latency, path: Path) -> None:
    """Messages/s against connections per process, one line per delay, each with its ideal
    (dashed) and the wire's limit measured in the same run."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(figsize=(7, 4.2), dpi=120)
    delays = sorted({cell.delay_ms for cell in result.cells})
    for index, delay in enumerate(delays):
        cells = sorted((c for c in result.cells if c.delay_ms == delay), key=lambda c: c.connections)
        colour = f"C{index}"
        x = [c.connections for c in cells]
        axes.plot(x, [c.rate for c in cells], "o-", color=colour, label=f"{delay:g} ms per message")
        axes.plot(x, [c.ideal for c in cells], "--", color=colour, alpha=0.6, label=f"ideal at {delay:g} ms")
    axes.axhline(result.wire, color="black", linewidth=1, label=f"wire's limit ({result.wire:,.0f}/s)")
    axes.set_xscale("log", base=2)
    axes.set_xticks(sorted({c.connections for c in result.cells}))
    axes.get_xaxis().set_major_formatter(matplotlib.ticker.ScalarFormatter())
    axes.set_xlabel(f"relay connections per sending process ({PROCESSES} processes)")
    axes.set_ylabel("messages/s")
    axes.set_title(f"The wave over a relay with latency ({result.contacts:,} contacts per wave, {result.database})")
    axes.set_ylim(bottom=0)
    axes.legend(fontsize=7, loc="lower right")
    axes.grid(alpha=0.3)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    pyplot.close(figure)


def _numbers(text: str) -> list[float]:
    return [float(part) for part in text.split(",") if part.strip()]


def main(argv: list[str] | None = None) -> Latency:
    parser = argparse.ArgumentParser(prog="bench.relay_latency", description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=4_000)
    parser.add_argument("--delays", default="0,5,20", help="ms per message, comma-separated")
    parser.add_argument("--connections", default="1,4,16", help="per sending process, comma-separated")
    parser.add_argument("--database", choices=["postgresql", "sqlite"], default=None)
    parser.add_argument("--chart", type=Path, help="draw the figures into this PNG file")
    args = parser.parse_args(argv)
    exit_on_sigterm()
    result = run(args.contacts, _numbers(args.delays), [int(n) for n in _numbers(args.connections)], args.database)
    for line in report(result):
        print(line, flush=True)
    if args.chart:
        chart(result, args.chart)
        print(f"  chart: {args.chart}", flush=True)
    return result


if __name__ == "__main__":
    main()
