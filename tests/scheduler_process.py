"""A real `wavecast scheduler` process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import ROOT


class SchedulerProcess:
    def __init__(self, env: dict[str, str], log: Path, name: str = "s1") -> None:
        self.env = env
        self.log = log
        self.name = name
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        if "WAVECAST_TOKEN" not in self.env:  # the scheduler launches as its service account
            from tests.accounts_setup import service_token

            self.env["WAVECAST_TOKEN"] = service_token(self.env["WAVECAST_DATABASE_URL"])
        handle = self.log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "frontends", "scheduler", "--name", self.name],
            cwd=ROOT,
            env=self.env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_for_log(self, text: str, timeout: float = 30) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if text in self.log.read_text(errors="replace"):
                return
            time.sleep(0.1)
        raise AssertionError(f"{text!r} not in {self.log}:\n{self.log.read_text(errors='replace')[-2000:]}")

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, sig)

    def kill9(self) -> None:
        self.signal(signal.SIGKILL)
        assert self.proc is not None
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill9()
