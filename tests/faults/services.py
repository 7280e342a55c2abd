"""Processes the fault suite starts and breaks: a Redis server of its own (bench.services'), and
Celery workers whose main process or pool children can be killed one at a time."""

from __future__ import annotations

import os
import signal

from tests.worker_process import WorkerProcess


class FaultWorker(WorkerProcess):
    """A `celery -A worker worker` (prefork) whose processes can be hit one by one."""

    @property
    def main_pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def kill_main(self) -> None:
        """kill -9 the main process only; its pool children are orphaned, not killed."""
        os.kill(self.main_pid, signal.SIGKILL)
        assert self.proc is not None
        self.proc.wait(timeout=30)

    def kill_child(self) -> int:
        """kill -9 one pool child; the main process replaces it. Returns the pid killed."""
        children = self.children()
        assert children, "the worker has no pool process"
        os.kill(children[0], signal.SIGKILL)
        return children[0]

    def warm_shutdown(self, timeout: float = 120) -> None:
        """SIGTERM to the main process: finish the running tasks, take no new ones, exit."""
        assert self.proc is not None
        os.kill(self.main_pid, signal.SIGTERM)
        self.proc.wait(timeout=timeout)
