"""Wave throughput end to end (launch -> ledger -> Celery -> per-recipient render -> SMTP sink),
against the wire's limit and against the naive design, measured in the same run on the same sink.

- wavecast: `launch_wave` on N contacts, 2 worker processes (`celery -A worker`), clock from the
  launch call to the N-th message at the sink.
- the wire's limit: N pre-built messages (or a sample of them, --wire) sent by plain smtplib
  clients, one reused connection each, as many processes as wavecast had sending.
- the naive design: one Celery task per recipient rendering from scratch (bench/naive_app.py),
  on a sample of recipients (its rate does not depend on the wave's size).

    .venv/bin/python -m bench.wave_throughput [--contacts N] [--naive M] [--database postgresql|sqlite]
        [--connections C] [--wire W]

Each role's peak resident set (VmHWM) is read too: wavecast's sending processes and worker main
processes, the wire's client processes, the naive design's sending processes.
"""

from __future__ import annotations

import argparse
import multiprocessing
import smtplib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.common import BENCH, EXAMPLE, Rig, approved, campaign_copy, insert_contacts, rig, wait_settled
from bench.services import exit_on_sigterm, own_peak_rss_mb, peak_rss_mb

WAVE = "launch"
PROCESSES = 2
DISTINCT_PREBUILT = 400  # messages each wire client builds before the clock starts, then reuses
TARGET_WIRE = 0.85  # issue 17: at least 0.85 x the wire's limit on loopback
TARGET_NAIVE = 5.0  # ... and at least 5 x the naive design


@dataclass
class Throughput:
    contacts: int
    database: str
    wavecast: float
    launch_seconds: float
    first_message_seconds: float
    wire: float
    naive: float
    naive_sample: int
    message_kb: float
    connections: int = 1
    wire_sample: int = 0  # messages the wire's limit was measured on
    sending_mb: float = 0.0  # the highest peak RSS of wavecast's sending processes
    worker_main_mb: float = 0.0  # ... of its worker main processes
    wire_mb: float = 0.0  # ... of the wire's client processes
    naive_mb: float = 0.0  # ... of the naive design's sending processes

    @property
    def vs_wire(self) -> float:
        return self.wavecast / self.wire

    @property
    def vs_naive(self) -> float:
        return self.wavecast / self.naive


def _segments(campaign_dir: str) -> tuple[Any, dict[str, Any]]:
    from campaign.bundle import load_bundle
    from campaign.segment import render_segment

    bundle = load_bundle(Path(campaign_dir))
    spec = bundle.spec
    audience = spec.wave(WAVE).messages[0].audiences[0]
    return bundle, {
        lang: render_segment(bundle, WAVE, audience, lang, "newsletter") for lang in spec.campaign.languages
    }


def prebuilt(campaign_dir: str, first: int, count: int) -> tuple[str, list[tuple[str, bytes]]]:
    """The campaign's sender and up to DISTINCT_PREBUILT personalised newsletters (recipient,
    message), built with wavecast's own renderer, in the campaign's languages in turn."""
    from campaign.mime import message_id

    bundle, segments = _segments(campaign_dir)
    spec = bundle.spec
    langs = list(spec.campaign.languages)
    sender = spec.campaign.sender.address
    domain = sender.rpartition("@")[2]
    built = []
    for i in range(first, first + min(count, DISTINCT_PREBUILT)):
        to = f"person{i}@example.org"
        body = segments[langs[i % len(langs)]].personalise(
            to,
            {"first_name": f"Person{i}", "organisation_name": ""},
            f"https://wavecast.example.org/u/t{i}",
            message_id(spec.campaign.id, WAVE, i, "newsletter", domain),
        )
        built.append((to, body))
    return sender, built


def _wire_client(
    campaign_dir: str, smtp_url: str, first: int, count: int, barrier: Any, peaks: Any, index: int
) -> None:
    """One wire process: build messages with the same renderer, then send them over one connection."""
    sender, built = prebuilt(campaign_dir, first, count)
    parts = urlsplit(smtp_url)
    conn = smtplib.SMTP(parts.hostname or "127.0.0.1", parts.port or 25, timeout=60)
    barrier.wait()
    for n in range(count):
        to, data = built[n % len(built)]
        conn.sendmail(sender, [to], data)
    conn.quit()
    peaks[index] = own_peak_rss_mb()


def patience(count: int) -> float:
    """How long to wait for `count` messages: 10 minutes, or longer at 50 messages/s."""
    return max(600.0, count / 50)


def measure_wire(
    current: Rig, campaign_dir: Path, count: int, processes: int = PROCESSES, peaks: list[float] | None = None
) -> float:
    """Messages per second that plain smtplib clients push through the sink (and, into `peaks`,
    each client process's peak RSS in MB)."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(processes + 1)
    measured = context.Array("d", processes)
    share = [count // processes + (1 if i < count % processes else 0) for i in range(processes)]
    starts = [sum(share[:i]) for i in range(processes)]
    clients = [
        context.Process(
            target=_wire_client,
            args=(str(campaign_dir), current.sink.url, starts[i], share[i], barrier, measured, i),
        )
        for i in range(processes)
    ]
    before = current.sink.count()
    for client in clients:
        client.start()
    barrier.wait(timeout=300)
    started = time.time()
    stats = current.sink.wait_for(before + count, timeout=patience(count))
    for client in clients:
        client.join(timeout=60)
    if peaks is not None:
        peaks.extend(measured[:])
    return count / (float(stats["last_at"]) - started)


def measure_wavecast(current: Rig, bundle: Any, count: int) -> tuple[float, float, float]:
    """(messages/s end to end, seconds the launch call took, seconds to the first message)."""
    from waves.launch import launch_wave

    before = current.sink.count()
    started = time.time()
    launched = launch_wave(bundle, WAVE, BENCH)
    launch_seconds = time.time() - started
    if launched.rows != count:
        raise RuntimeError(f"the wave has {launched.rows} ledger rows, expected {count}")
    stats = current.sink.wait_for(before + count, timeout=patience(count))
    wait_settled(launched.run_id)
    return count / (float(stats["last_at"]) - started), launch_seconds, float(stats["first_at"]) - started


def measure_naive(current: Rig, campaign_dir: Path, bundle: Any, count: int) -> float:
    """Messages per second with one task per recipient (tasks queued inside the clock)."""
    from sqlalchemy import select

    from audiences.models import contacts
    from bench.naive_app import app, naive_send
    from campaign.db import get_engine
    from campaign.settings import get_settings

    audience = bundle.spec.wave(WAVE).messages[0].audiences[0]
    with get_engine().connect() as conn:
        ids = list(conn.scalars(select(contacts.c.id).order_by(contacts.c.id).limit(count)))
    before = current.sink.count()
    started = time.time()
    # The rig's broker, not the one the naive app was imported with (a second rig has its own).
    with app.connection_for_write(get_settings().broker_url) as connection:
        for contact_id in ids:
            naive_send.apply_async(args=[str(campaign_dir), WAVE, audience, contact_id], connection=connection)
    stats = current.sink.wait_for(before + count, timeout=patience(count))
    return count / (float(stats["last_at"]) - started)


def _sending_peak(workers: list[Any]) -> float:
    """The highest peak RSS (MB) among the pool children of these worker processes."""
    return max((peak_rss_mb(pid) for worker in workers for pid in worker.children()), default=0.0)


def run(
    contacts: int, naive: int, database: str | None = None, connections: int = 1, wire: int | None = None
) -> Throughput:
    """One wave of `contacts`, then the wire on `wire` messages (all of them by default) and the
    naive design on `naive` recipients, each with fresh processes, so that each peak is its own."""
    settings = {"WAVECAST_SMTP_CONNECTIONS": str(connections)}
    wire_sample = min(contacts, wire or contacts)
    with rig(database, name="throughput", settings=settings) as current:
        insert_contacts(contacts)
        camp = campaign_copy(current.workdir, EXAMPLE, unthrottled=True)
        bundle = approved(camp, [WAVE])
        workers = current.start_workers(PROCESSES)
        wavecast, launch_seconds, first_seconds = measure_wavecast(current, bundle, contacts)
        sending_mb = _sending_peak(workers)
        worker_main_mb = max(peak_rss_mb(worker.pid) for worker in workers)
        current.stop_workers()
        wire_peaks: list[float] = []
        wire_rate = measure_wire(current, camp, wire_sample, peaks=wire_peaks)
        naive_workers = current.start_workers(PROCESSES, app="bench.naive_app", prefix="n")
        naive_rate = measure_naive(current, camp, bundle, naive)
        naive_mb = _sending_peak(naive_workers)
        _bundle, segments = _segments(str(camp))
        kb = len(next(iter(segments.values())).personalise("a@example.org", {}, "https://x/u/t", "<a@b>")) / 1024
        return Throughput(
            contacts,
            current.db_kind,
            wavecast,
            launch_seconds,
            first_seconds,
            wire_rate,
            naive_rate,
            naive,
            kb,
            connections,
            wire_sample,
            sending_mb,
            worker_main_mb,
            max(wire_peaks, default=0.0),
            naive_mb,
        )


def report(result: Throughput) -> list[str]:
    return [
        f"wave throughput ({result.database}, {PROCESSES} worker processes, {result.connections} relay "
        f"connection(s) each, {result.contacts:,} contacts, "
        f"{result.message_kb:.0f} KB per message):",
        f"  wavecast end to end: {result.wavecast:,.0f} messages/s (launch call {result.launch_seconds:.1f} s, "
        f"first message after {result.first_message_seconds:.2f} s)",
        f"  wire's limit (smtplib, {PROCESSES} processes, pre-built messages; {result.wire_sample:,} messages): "
        f"{result.wire:,.0f} messages/s",
        f"  naive (one task per recipient, rendered from scratch; {result.naive_sample:,} recipients): "
        f"{result.naive:,.1f} messages/s",
        f"  peak RSS (MB): wavecast sending process {result.sending_mb:.1f}, worker main {result.worker_main_mb:.1f}; "
        f"wire client {result.wire_mb:.1f}; naive sending process {result.naive_mb:.1f}",
        f"  RATIO throughput vs wire: {result.vs_wire:.2f} (target >= {TARGET_WIRE})",
        f"  RATIO throughput vs naive: {result.vs_naive:.1f} (target >= {TARGET_NAIVE:g})",
    ]


def main(argv: list[str] | None = None) -> Throughput:
    parser = argparse.ArgumentParser(prog="bench.wave_throughput", description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--naive", type=int, default=2_000, help="recipients in the naive baseline")
    parser.add_argument("--database", choices=["postgresql", "sqlite"], default=None)
    parser.add_argument("--connections", type=int, default=1, help="relay connections per sending process")
    parser.add_argument("--wire", type=int, help="messages the wire's limit is measured on (default: --contacts)")
    args = parser.parse_args(argv)
    exit_on_sigterm()
    result = run(args.contacts, args.naive, args.database, args.connections, args.wire)
    for line in report(result):
        print(line, flush=True)
    return result


if __name__ == "__main__":
    main()
