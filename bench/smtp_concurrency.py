"""Threads or asyncio for several relay connections in one sending process, measured.

The same pre-built messages (the SmartNation `launch` newsletter, personalised as the wave sends
it) go to the same sink over N connections from one process, two ways:

- **threads**: one thread per connection, each with an `smtplib` client, taking messages from one
  shared queue (the shape of `waves/lanes.py`);
- **asyncio**: one event loop, one `aiosmtplib` client per connection, each a task taking messages
  from one shared `asyncio.Queue`.

The sink answers each message `delay` ms late. For each cell it prints the rate (messages/s,
from the first send to the last message at the sink) and the sending process's CPU time per
message. Alternating runs, the median of each.

The send path does more than SMTP between two messages (the consent check on the database, the
journal in Redis), through blocking clients; asyncio would need asynchronous drivers for both or a
thread per call. That is not measured here: only what the SMTP clients themselves cost.

    .venv/bin/python -m bench.smtp_concurrency [--messages 1000] [--connections 1,4,16]
        [--delays 0,20] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import queue
import shutil
import smtplib
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from bench.common import EXAMPLE
from bench.sink import SinkClient
from bench.wave_throughput import prebuilt

SENDER = "campaign@example.org"  # the sink takes any envelope sender


@dataclass
class Cell:
    model: str
    connections: int
    delay_ms: int
    rates: list[float]
    cpu_ms: list[float]  # the sending process's CPU time per message

    @property
    def rate(self) -> float:
        return statistics.median(self.rates)

    @property
    def cpu(self) -> float:
        return statistics.median(self.cpu_ms)


def messages(count: int) -> list[tuple[str, bytes]]:
    """`count` personalised newsletters of the example, in its four languages, as bytes."""
    _sender, built = prebuilt(str(EXAMPLE), 0, count)
    return [built[i % len(built)] for i in range(count)]


def pairs(cells: list[Cell]) -> list[tuple[Cell, Cell]]:
    """Each threads cell with the asyncio cell of the same connections and delay."""
    by_key = {(c.model, c.connections, c.delay_ms): c for c in cells}
    return [(cell, by_key[("asyncio", n, delay)]) for (model, n, delay), cell in by_key.items() if model == "threads"]


def with_threads(url: str, batch: list[tuple[str, bytes]], connections: int) -> None:
    parts = urlsplit(url)
    work: queue.SimpleQueue[tuple[str, bytes]] = queue.SimpleQueue()
    for item in batch:
        work.put(item)

    def lane() -> None:
        client = smtplib.SMTP(parts.hostname or "127.0.0.1", parts.port or 25, timeout=60)
        try:
            while True:
                try:
                    to, data = work.get_nowait()
                except queue.Empty:
                    return
                client.sendmail(SENDER, [to], data)
        finally:
            client.quit()

    threads = [threading.Thread(target=lane) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def with_asyncio(url: str, batch: list[tuple[str, bytes]], connections: int) -> None:
    import aiosmtplib  # only this benchmark uses it

    parts = urlsplit(url)

    async def main() -> None:
        work: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()
        for item in batch:
            work.put_nowait(item)

        async def lane() -> None:
            client = aiosmtplib.SMTP(hostname=parts.hostname or "127.0.0.1", port=parts.port or 25, timeout=60)
            await client.connect(start_tls=False, use_tls=False)
            try:
                while not work.empty():
                    to, data = work.get_nowait()
                    await client.sendmail(SENDER, [to], data)
            finally:
                await client.quit()

        await asyncio.gather(*(lane() for _ in range(connections)))

    asyncio.run(main())


MODELS = {"threads": with_threads, "asyncio": with_asyncio}


def measure(sink: SinkClient, model: str, batch: list[tuple[str, bytes]], connections: int) -> tuple[float, float]:
    before = sink.count()
    cpu = time.process_time()
    started = time.time()
    MODELS[model](sink.url, batch, connections)
    cpu = time.process_time() - cpu
    stats = sink.wait_for(before + len(batch))
    return len(batch) / (float(stats["last_at"]) - started), cpu / len(batch) * 1000


def run(count: int, connections: list[int], delays: list[int], rounds: int) -> list[Cell]:
    batch = messages(count)
    cells = {
        (model, n, delay): Cell(model, n, delay, [], []) for delay in delays for n in connections for model in MODELS
    }
    workdir = Path(tempfile.mkdtemp(prefix="wavecast-smtp-concurrency-"))
    try:
        with SinkClient(workdir / "sink.log") as sink:
            for delay in delays:
                sink.fault("delay", ms=delay)
                for _round in range(rounds):
                    for n in connections:
                        for model in MODELS:  # alternating, so a busy moment hits both
                            rate, cpu = measure(sink, model, batch, n)
                            cells[(model, n, delay)].rates.append(rate)
                            cells[(model, n, delay)].cpu_ms.append(cpu)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return list(cells.values())


def report(cells: list[Cell]) -> list[str]:
    lines = [
        f"load average {os.getloadavg()[0]:.1f}; medians of the rounds",
        "| delay | connections | threads: messages/s | asyncio: messages/s | threads ÷ asyncio "
        "| threads: CPU ms/message | asyncio: CPU ms/message |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for cell, other in pairs(cells):
        lines.append(
            f"| {cell.delay_ms} ms | {cell.connections} | {cell.rate:.0f} | {other.rate:.0f} "
            f"| {cell.rate / other.rate:.2f} "
            f"| {cell.cpu:.2f} | {other.cpu:.2f} |"
        )
    return lines


def main(argv: list[str] | None = None) -> list[Cell]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--connections", default="1,4,16")
    parser.add_argument("--delays", default="0,20")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    cells = run(
        args.messages,
        [int(n) for n in args.connections.split(",")],
        [int(d) for d in args.delays.split(",")],
        args.rounds,
    )
    print("\n".join(report(cells)))
    return cells


if __name__ == "__main__":
    main()
