"""Workers that die or are stopped mid-wave: 0 lost, at most one duplicate per relay connection of
each process that was sending, and every duplicate with the Message-ID of its first copy."""

from __future__ import annotations

import pytest

from .rig import FaultRig, check, unknown_at_most

pytestmark = [pytest.mark.faults, pytest.mark.services]


def test_worker_main_process_killed_then_replaced_loses_nothing(fault_rig: FaultRig) -> None:
    first, run_id = fault_rig.mid_wave()  # its sweeper settles what the dead worker left `sending`
    sending = len(first.children())
    first.kill_main()  # kill -9 the main process only: its pool children are orphaned
    fault_rig.worker("w2", concurrency=2)
    fault_rig.settle(run_id)
    what = "kill -9 a worker's main process, start a new one"
    check(fault_rig.outcome(run_id, what, allowed=unknown_at_most(sending)))


def test_worker_child_process_killed_loses_nothing(fault_rig: FaultRig) -> None:
    worker, run_id = fault_rig.mid_wave()
    worker.kill_child()  # the main process sees it die, requeues the task and forks a new child
    fault_rig.settle(run_id)
    check(fault_rig.outcome(run_id, "kill -9 only a worker's child process", allowed=unknown_at_most(1)))


def test_warm_shutdown_mid_wave_then_new_worker_loses_nothing(fault_rig: FaultRig) -> None:
    first, run_id = fault_rig.mid_wave()
    first.warm_shutdown()  # SIGTERM: the running chunks finish, nothing new is taken
    fault_rig.worker("w2", concurrency=2)
    fault_rig.settle(run_id)
    # A warm shutdown finishes what it started: no duplicate is expected at all.
    check(fault_rig.outcome(run_id, "SIGTERM (warm shutdown) mid-wave, start a new one", allowed=0))
