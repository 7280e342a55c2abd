"""A real Celery worker process, started from the repository with the test's settings.

The process handling is the benchmarks' (`bench.services.Worker`); a test only wants a failure
it can read when the worker does not come up."""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path

from bench.services import Worker
from tests.conftest import ROOT


class WorkerProcess(Worker):
    def __init__(self, env: dict[str, str], log: Path, name: str = "w1", concurrency: int = 2) -> None:
        super().__init__(env, log, name, concurrency=concurrency)

    def start(self, timeout: float = 60) -> None:
        self.spawn()
        try:
            self.wait_ready(timeout)
        except RuntimeError as exc:
            raise AssertionError(str(exc)) from None

    def stop(self) -> None:
        """End a worker the test is done with: kill -9 the whole process group at once.

        What a test checks is in the ledger and the sink by then, and Celery's warm shutdown
        costs about 2 s per worker even when idle. The ledger is what makes a sudden death
        harmless; where a graceful shutdown is itself under test, the fault suite's
        ``FaultWorker.warm_shutdown`` sends SIGTERM and waits."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        self.proc = None

    def kill9(self) -> None:
        """Kill the main process and its children at once, as a machine losing power would."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)


def service_env(**values: str) -> dict[str, str]:
    """The test process's environment plus the WAVECAST_* settings a child process needs."""
    env = dict(os.environ)  # the test's WAVECAST_* settings (database, outbox, Redis prefix...) included
    env.update(values)
    env["PYTHONPATH"] = str(ROOT)
    return env
