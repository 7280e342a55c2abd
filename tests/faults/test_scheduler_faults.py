"""The active scheduler frozen (SIGSTOP) past its lease, then resumed (SIGCONT): still one launch."""

from __future__ import annotations

import datetime as dt
import signal
import time

import pytest
from sqlalchemy import select

from campaign.db import session_scope, utcnow
from waves.content import wave_content_hash
from waves.models import WaveRun, WaveSchedule
from waves.scheduler import SCHEDULED

from .rig import WAVE, FaultRig, check

pytestmark = [pytest.mark.faults, pytest.mark.services]


def test_frozen_scheduler_resumed_mid_wave_launches_once(fault_rig: FaultRig) -> None:
    bundle = fault_rig.campaign(always_open=True)
    lease = int(fault_rig.settings["WAVECAST_SCHEDULER_LEASE_SECONDS"])
    first = fault_rig.scheduler("s1")
    first.wait_for_log("started (active)")
    second = fault_rig.scheduler("s2")
    second.wait_for_log("started (standby)")
    fault_rig.worker("w1", concurrency=2)
    first.signal(signal.SIGSTOP)  # frozen while it holds the lease, before the wave is due
    fault_rig.started = time.time()
    with session_scope() as session:
        session.add(
            WaveSchedule(
                campaign_id=bundle.spec.campaign.id,
                wave_id=WAVE,
                campaign_dir=str(bundle.root),
                content_hash=wave_content_hash(bundle, WAVE),
                due_at=utcnow() + dt.timedelta(seconds=1),
                state=SCHEDULED,
            )
        )
    second.wait_for_log(f"launched wave {WAVE}", timeout=lease * 4 + 30)  # the standby took over
    fault_rig.wait_sent(0.3)
    first.signal(signal.SIGCONT)  # wakes up believing it is still active, with a tick overdue
    with session_scope() as session:
        runs = session.scalars(select(WaveRun)).all()
        assert len(runs) == 1
        run_id = runs[0].id
    fault_rig.settle(run_id)
    # Awake, it finds the lease gone; stopped after that, any tick it ran while it still
    # believed itself active has finished: whatever it did is in the database now.
    first.wait_for_log("scheduler s1 is now standby", timeout=lease * 4 + 30)
    first.stop()
    with session_scope() as session:
        assert [(r.wave_id, r.launched_by) for r in session.scalars(select(WaveRun))] == [
            (WAVE, "scheduler@service.invalid")
        ]
    assert f"launched wave {WAVE}" not in first.log.read_text(errors="replace")
    # No sending process failed: no duplicate is expected at all.
    check(
        fault_rig.outcome(run_id, "active scheduler frozen past its lease, then resumed", allowed=0, note="one launch")
    )
