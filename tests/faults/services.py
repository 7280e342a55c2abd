"""Processes the fault suite starts and breaks: a Redis server of its own, and Celery workers
whose main process or pool children can be killed one at a time."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from tests.conftest import free_port
from tests.worker_process import WorkerProcess


class RedisServer:
    """`redis-server` on a free port with no persistence: a restart loses every queued task.

    Never the machine's 6379: restarting that one would break everybody else's work.
    """

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None
        self.restarts = 0

    @staticmethod
    def available() -> bool:
        return shutil.which("redis-server") is not None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 20) -> RedisServer:
        import redis

        self.workdir.mkdir(parents=True, exist_ok=True)
        with (self.workdir / "redis.log").open("ab") as log:
            self.proc = subprocess.Popen(
                [
                    "redis-server",
                    "--port",
                    str(self.port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(self.workdir),
                    "--daemonize",
                    "no",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.time() + timeout
        while time.time() < deadline:
            client = redis.Redis.from_url(self.url, socket_timeout=1, socket_connect_timeout=1)
            try:
                if client.ping():
                    return self
            except redis.RedisError:
                time.sleep(0.05)
            finally:
                client.close()
        raise RuntimeError(f"redis-server on port {self.port} did not start")

    def kill(self) -> None:
        """kill -9: whatever was in memory (queued tasks, the sent journal) is gone."""
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
            self.proc.wait(timeout=10)
            self.proc = None

    def restart(self, down_seconds: float = 1.0) -> None:
        self.kill()
        time.sleep(down_seconds)
        self.restarts += 1
        self.start()

    def flush(self) -> None:
        import redis

        client = redis.Redis.from_url(self.url)
        try:
            client.flushall()
        finally:
            client.close()


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

    def stop(self) -> None:
        """Stop the whole process group, orphans included."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            super().stop()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
