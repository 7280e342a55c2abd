"""A real Celery worker process, started from the repository with the test's settings."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import ROOT


class WorkerProcess:
    def __init__(self, env: dict[str, str], log: Path, name: str = "w1", concurrency: int = 2) -> None:
        self.env = env
        self.log = log
        self.name = name
        self.concurrency = concurrency
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60) -> None:
        handle = self.log.open("ab")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "worker",
                "worker",
                "--loglevel=INFO",
                f"--concurrency={self.concurrency}",
                "--pool=prefork",
                f"--hostname={self.name}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.time() + timeout
        while time.time() < deadline:
            if b" ready." in self.log.read_bytes():
                return
            if self.proc.poll() is not None:
                raise AssertionError(f"worker exited early:\n{self.log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.1)
        raise AssertionError(f"worker not ready in {timeout} s:\n{self.log.read_text(errors='replace')[-3000:]}")

    def children(self) -> list[int]:
        assert self.proc is not None
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(self.proc.pid)], capture_output=True, text=True)
        return [int(p) for p in out.stdout.split()]

    def kill9(self) -> None:
        """Kill the main process and its children at once, as a machine losing power would."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)


def service_env(**values: str) -> dict[str, str]:
    """The test process's environment plus the WAVECAST_* settings a child process needs."""
    env = dict(os.environ)  # the test's WAVECAST_* settings (database, outbox, Redis prefix...) included
    env.update(values)
    env["PYTHONPATH"] = str(ROOT)
    return env
