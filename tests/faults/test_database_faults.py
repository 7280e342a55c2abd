"""The database unreachable for a few seconds mid-wave.

PostgreSQL: the workers and the scheduler reach it through a proxy that cuts every connection and
refuses new ones for a while. SQLite is a file, not a server: the nearest fault is another
process holding an exclusive lock for as long, so every writer waits (busy_timeout) or fails.
"""

from __future__ import annotations

import sqlite3
import time

import pytest

from .rig import FULL, FaultRig, check, unknown_at_most

pytestmark = [pytest.mark.faults, pytest.mark.services]

# Shorter than the small suite's 3 s send lease: a sender renews every lease/3, so the outage alone
# does not make a live sender lose its rows; a loaded machine may still stretch it past the lease
# once, which the allowance (one unknown message per relay connection) covers.
OUTAGE_SECONDS = 10 if FULL else 2


@pytest.mark.parametrize("fault_rig", ["postgresql-proxied", "sqlite"], indirect=True)
def test_database_unreachable_for_a_few_seconds_loses_nothing(fault_rig: FaultRig) -> None:
    worker, run_id = fault_rig.mid_wave()
    sending = len(worker.children())
    if fault_rig.proxy is not None:
        fault_rig.proxy.block(OUTAGE_SECONDS)
        what = f"database unreachable for {OUTAGE_SECONDS} s (connections cut, new ones refused)"
    else:
        path = fault_rig.service_database_url.removeprefix("sqlite:///")
        lock = sqlite3.connect(path, timeout=30, isolation_level=None)
        lock.execute("BEGIN EXCLUSIVE")
        time.sleep(OUTAGE_SECONDS)
        lock.execute("ROLLBACK")
        lock.close()
        what = f"database locked exclusively for {OUTAGE_SECONDS} s"
    fault_rig.settle(run_id)
    check(fault_rig.outcome(run_id, what, allowed=unknown_at_most(sending)))
