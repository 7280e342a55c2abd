"""Redis restarted mid-wave without persistence: the queued tasks are gone, the ledger is not."""

from __future__ import annotations

import os
import signal
import time

import pytest
from sqlalchemy import select

from .rig import FaultRig, check, unknown_at_most

pytestmark = [pytest.mark.faults, pytest.mark.services]


def test_redis_restarted_without_persistence_loses_nothing(fault_rig: FaultRig) -> None:
    worker, run_id = fault_rig.mid_wave()  # the sweeper queues again the pending rows whose tasks vanished
    sending = len(worker.children())
    fault_rig.redis.restart(down_seconds=1.0)  # kill -9, then an empty server on the same port
    fault_rig.settle(run_id)
    check(fault_rig.outcome(run_id, "Redis restarted mid-wave without persistence", allowed=unknown_at_most(sending)))


def _unmarked(fault_rig: FaultRig, run_id: int) -> int:
    """Messages the relay took whose rows are still `sending`: known to the journal only."""
    import redis

    from campaign.db import get_engine
    from waves.models import SENDING, Delivery

    with get_engine().connect() as conn:
        sending = set(conn.scalars(select(Delivery.id).where(Delivery.run_id == run_id, Delivery.status == SENDING)))
    client = redis.Redis.from_url(fault_rig.redis.url)
    try:
        keys = [k for k in client.scan_iter(match="*sent:*") if k.endswith(f":{run_id}".encode())]
        journal = {int(x) for key in keys for x in client.smembers(key)}
    finally:
        client.close()
    return len(sending & journal)


def test_broker_lost_while_marks_are_flushed_duplicates_at_most_one_per_process(fault_rig: FaultRig) -> None:
    """The Redis restart above, with its unlucky interleaving made certain.

    Each party is held at the right point: the sending processes are caught holding sent but
    unmarked rows; a lock on those rows makes their final flush wait (as a busy database would);
    the worker's main process is frozen while Redis dies, so the children meet the dead broker
    first and start that flush; then the main process wakes, notices, and terminates the tasks.
    """
    from campaign.db import get_engine
    from waves.models import SENDING, Delivery

    worker, run_id = fault_rig.mid_wave()
    children = worker.children()
    for _attempt in range(20):
        for pid in children:
            os.kill(pid, signal.SIGSTOP)
        time.sleep(0.3)  # let a flush already on its way to the database land
        unmarked = _unmarked(fault_rig, run_id)
        if unmarked >= 3:
            break
        for pid in children:
            os.kill(pid, signal.SIGCONT)
        time.sleep(0.3)
    else:
        pytest.fail("never caught a sending process holding unmarked rows")
    with get_engine().connect() as lock:
        locked = lock.execute(
            select(Delivery.id).where(Delivery.run_id == run_id, Delivery.status == SENDING).with_for_update()
        ).all()
        assert locked
        os.kill(worker.main_pid, signal.SIGSTOP)
        fault_rig.redis.kill()  # the broker, the throttle and the sent journal go at once
        for pid in children:
            os.kill(pid, signal.SIGCONT)  # each fails on Redis, stops, and flushes: the flush waits
        time.sleep(2.0)
        os.kill(worker.main_pid, signal.SIGCONT)  # Celery notices the lost broker, terminates the tasks
        time.sleep(2.0)
        lock.rollback()
    fault_rig.redis.start()  # back, empty
    fault_rig.settle(run_id)
    result = fault_rig.outcome(
        run_id,
        "broker lost while the last marks are flushed (made certain)",
        allowed=unknown_at_most(len(children)),
        note=f"{unmarked} rows sent but unmarked at the fault",
    )
    check(result)
