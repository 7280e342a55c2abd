"""Time to the first message: from the `launch_wave` call to the wave's first message at the sink,
at two wave sizes, while the launch is still writing the ledger.

The SmartNation `launch` wave (everyone) on N contacts, PostgreSQL, 2 worker processes warmed up
by a small wave of another campaign first (imports, connections; the measured wave's campaign is
still new to them, as in life). The launch runs in a thread; once the first message has arrived
the wave is cancelled, which also stops the ledger's writing at its next batch, so a wave of
1,000,000 contacts costs its contacts' insert, not its sending. The baseline, measured in the same
run: how long writing the whole ledger takes (`build_ledger` of the same wave, which the first
message used to wait for).

    .venv/bin/python -m bench.first_message [--sizes 10000,1000000]
"""

from __future__ import annotations

import argparse
import threading
import time
from dataclasses import dataclass

from bench.common import BENCH, EXAMPLE, MINIMAL, Rig, approved, campaign_copy, insert_contacts, rig
from bench.services import exit_on_sigterm
from bench.wave_throughput import PROCESSES, WAVE

TARGET_SECONDS = 2.0
WARM_CONTACTS = 20


@dataclass
class First:
    contacts: int
    seconds: float  # launch call -> first message at the sink
    ledger_seconds: float  # the whole ledger of the same wave, written on its own


def measure(current: Rig, contacts: int, name: str) -> First:
    from campaign.timing import resolve_starts
    from waves.control import cancel
    from waves.launch import build_ledger, launch_wave

    bundle = approved(campaign_copy(current.workdir, EXAMPLE, campaign_id=name, unthrottled=True), [WAVE])
    current.sink.reset()
    failures: list[BaseException] = []

    def launch() -> None:
        try:
            launch_wave(bundle, WAVE, BENCH)
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)

    started = time.time()
    launcher = threading.Thread(target=launch, name="launch")
    launcher.start()
    stats = current.sink.wait_for(1, timeout=600)
    seconds = float(stats["first_at"]) - started
    cancel(f"{name}:{WAVE}", BENCH)
    launcher.join()
    if failures:
        raise failures[0]
    # The baseline: the same wave's whole ledger, written under a run of its own that sends nothing.
    copy = approved(campaign_copy(current.workdir, EXAMPLE, campaign_id=f"{name}-ledger", unthrottled=True), [WAVE])
    run_id = _idle_run(copy)
    began = time.perf_counter()
    build_ledger(copy, run_id, WAVE, resolve_starts(copy.spec)[WAVE])
    return First(contacts, seconds, time.perf_counter() - began)


def _idle_run(bundle) -> int:  # type: ignore[no-untyped-def]
    """A run in `launching` (no worker claims its rows) to write a ledger under."""
    from campaign.db import get_engine
    from waves.content import wave_content_hash
    from waves.launch import _claim_run

    with get_engine().begin() as conn:
        run, _created = _claim_run(conn, bundle, WAVE, wave_content_hash(bundle, WAVE), "bench")
    return run.id


def run(sizes: list[int], database: str | None = None) -> list[First]:
    results = []
    with rig(database, name="first-message") as current:
        insert_contacts(WARM_CONTACTS)
        warm = approved(campaign_copy(current.workdir, MINIMAL, campaign_id="warm"))
        current.start_workers(PROCESSES)
        from waves.launch import launch_wave

        launch_wave(warm, "first", BENCH)
        current.sink.wait_for(WARM_CONTACTS)
        have = WARM_CONTACTS
        for size in sorted(sizes):
            insert_contacts(size - have, start=have)
            have = size
            result = measure(current, size, f"first-{size}")
            print(f"  {_line(result)}", flush=True)
            results.append(result)
    return results


def _line(result: First) -> str:
    return (
        f"{result.contacts:,} contacts: first message {result.seconds:.2f} s after the launch call; "
        f"the whole ledger alone takes {result.ledger_seconds:.1f} s"
    )


def report(results: list[First]) -> list[str]:
    lines = [f"time to the first message (launch call -> first message at the sink, {PROCESSES} warm workers):"]
    lines += [f"  {_line(result)}" for result in results]
    lines += [
        f"  RATIO first message at {r.contacts:,} contacts vs {TARGET_SECONDS:g} s: "
        f"{r.seconds / TARGET_SECONDS:.2f} (target <= 1)"
        for r in results
    ]
    return lines


def main(argv: list[str] | None = None) -> list[First]:
    parser = argparse.ArgumentParser(prog="bench.first_message", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,1000000", help="contacts, comma-separated")
    parser.add_argument("--database", choices=["postgresql", "sqlite"], default=None)
    args = parser.parse_args(argv)
    exit_on_sigterm()
    results = run([int(n) for n in args.sizes.split(",") if n.strip()], args.database)
    for line in report(results):
        print(line, flush=True)
    return results


if __name__ == "__main__":
    main()
