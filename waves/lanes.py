"""Several relay connections per sending process: lanes that take rows from one shared queue.

A lane is one relay connection (and, in waves/delivery.py, the database connection that checks
its messages). Lanes take a chunk's claimed rows one at a time from `Rows`, which claims the next
batch when it runs dry, so no lane waits for another lane's batch. Each lane sends one message at
a time and journals it before it takes the next, so a crash leaves at most one unknown message
per lane. With one lane everything runs in the calling thread, as a single connection always did.

A SIGTERM or SIGINT only raises a flag while the chunk runs; each lane finishes its message, and
the signal lands once the marks are written (waves/stop_signals.py).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from campaign.channel_contract import Messenger, Outgoing
from waves.ledger import Claimed


@dataclass
class Lane:
    """One relay connection of a sending process: its own messenger for e-mail."""

    index: int
    messengers: dict[str, Messenger] = field(default_factory=dict)


class Shared:
    """A messenger every lane uses (a platform account's client): one push at a time."""

    def __init__(self, messenger: Messenger) -> None:
        self.messenger = messenger
        self.lock = threading.Lock()

    def push(self, message: Outgoing) -> None:
        with self.lock:
            self.messenger.push(message)

    def flush(self) -> None:
        self.messenger.flush()

    def close(self) -> None:
        self.messenger.close()


class Rows:
    """The claimed rows no lane has taken yet; `claim` fetches the next batch when it runs dry."""

    def __init__(self, claim: Callable[[], list[Claimed]]) -> None:
        self.lock = threading.RLock()
        self.claim = claim
        self.queue: deque[Claimed] = deque()
        self.in_flight: dict[int, int] = {}  # lane index -> the ledger id it is sending
        self.halted = False
        self.active = 0  # lanes still taking rows

    def take(self, lane: Lane) -> Claimed | None:
        """The next row for this lane, or None when the chunk is done or stopping."""
        with self.lock:
            self.in_flight.pop(lane.index, None)
            if self.halted:
                return None
            if not self.queue:
                self.queue.extend(self.claim())
            if not self.queue:
                return None
            row = self.queue.popleft()
            self.in_flight[lane.index] = row.id
            return row

    def rest(self, lane: Lane, row: Claimed) -> bool:
        """The lane's row goes back to the queue and the lane leaves the chunk, if another lane
        is still taking rows; False when it is the last (then the chunk must wait)."""
        with self.lock:
            if self.active <= 1:
                return False
            self.active -= 1
            self.in_flight.pop(lane.index, None)
            self.queue.appendleft(row)
            return True

    def halt(self) -> list[int]:
        """No lane takes another row; returns the ids of the rows no lane took."""
        with self.lock:
            self.halted = True
            left = [row.id for row in self.queue]
            self.queue.clear()
            return left

    def held(self) -> list[int]:
        """Ids this process holds and has not finished: queued or being sent."""
        with self.lock:
            return [*(row.id for row in self.queue), *self.in_flight.values()]


def _lane(work: Callable[[Lane], None], lane: Lane, failures: list[BaseException], rows: Rows) -> None:
    try:
        work(lane)
    except BaseException as exc:  # re-raised in the calling thread, once every lane has stopped
        failures.append(exc)
        rows.halt()


TICK_SECONDS = 0.05


def run(lanes: list[Lane], rows: Rows, work: Callable[[Lane], None], tick: Callable[[], None]) -> None:
    """`work(lane)` on every lane, each in a thread of its own unless there is only one; returns
    when all have stopped. Meanwhile the calling thread calls `tick` every TICK_SECONDS (the sent
    marks' write)."""
    rows.active = len(lanes)
    if len(lanes) == 1:
        work(lanes[0])
        return
    failures: list[BaseException] = []
    threads = [
        threading.Thread(target=_lane, args=(work, lane, failures, rows), name=f"relay-{lane.index}") for lane in lanes
    ]
    for thread in threads:
        thread.start()
    try:
        while alive := [thread for thread in threads if thread.is_alive()]:
            alive[0].join(TICK_SECONDS)
            tick()
    except BaseException:
        rows.halt()  # an error in this thread: let the lanes finish the message they are on
        for thread in threads:
            thread.join()
        raise
    if failures:
        raise failures[0]
