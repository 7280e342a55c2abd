"""A sending process told to stop finishes the messages on the wire, writes what the relay took,
and only then goes.

Celery terminates a running task with SIGTERM when it loses the broker, and its pool processes
take SIGTERM with the default action: the process ends at once, with no Python cleanup. A chunk
keeps the sent marks of the last second in memory (the journal knows them, but a broker restarted
without persistence takes the journal with it). Dying at once would forget them, and every one of
them would be sent again.

So while a chunk runs in the main thread, SIGTERM and SIGINT only raise a flag. The chunk asks
`requested()` before each message; once it is true, each relay connection finishes the message
it is on, the marks are written, the rest is handed back, and then the signal is raised again
under the handler it had before: the process ends, or KeyboardInterrupt is raised.

A flag, not a blocked signal mask: a signal sent to the process reaches any thread that does not
block it (the render watchdog, a client library's), and there the default action would end the
process whatever the main thread blocks. A Python handler runs in the main thread wherever the
signal landed. Away from the main thread nothing is held (Python takes signals there only).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Held:
    """The stop signals that arrived while held, in order; none where nothing is held."""

    def __init__(self) -> None:
        self.caught: list[int] = []

    def catch(self, signum: int, _frame: FrameType | None) -> None:
        self.caught.append(signum)

    def requested(self) -> bool:
        return bool(self.caught)


@contextlib.contextmanager
def held_stop_signals() -> Iterator[Held]:
    """Hold SIGTERM and SIGINT for the block, in the main thread; raise them again when it ends."""
    held = Held()
    if threading.current_thread() is not threading.main_thread():
        yield held
        return
    previous = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}
    if any(handler is None for handler in previous.values()):  # set outside Python: leave it be
        yield held
        return
    # An ignored signal stays ignored: a Celery pool process ignores SIGINT, so that Ctrl-C on a
    # foreground worker lets the running tasks finish; held, it would stop them half-way.
    watched = [signum for signum, handler in previous.items() if handler is not signal.SIG_IGN]
    for signum in watched:
        signal.signal(signum, held.catch)
    try:
        yield held
    finally:
        for signum in watched:
            signal.signal(signum, previous[signum])
        if held.caught:
            signal.raise_signal(held.caught[0])
