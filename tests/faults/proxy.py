"""A TCP proxy on loopback, in its own process, that can make a server unreachable for a while.

The fault suite puts it between the workers (and the scheduler) and PostgreSQL. On `block`,
it cuts every open connection and refuses new ones for N seconds, as a network partition or a
database restart would; then it forwards again.

    python -m tests.faults.proxy --listen 6543 --target 127.0.0.1:5432 --control 6544
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent.parent


class Proxy:
    def __init__(self, listen: int, host: str, port: int) -> None:
        self.listen_port = listen
        self.host = host
        self.port = port
        self.server: asyncio.AbstractServer | None = None
        self.links: set[asyncio.StreamWriter] = set()
        self.blocked = 0

    async def start(self) -> None:
        self.server = await asyncio.start_server(self.accept, "127.0.0.1", self.listen_port, reuse_address=True)

    async def accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(self.host, self.port)
        except OSError:
            writer.transport.abort()
            return
        self.links.update((writer, up_writer))
        await asyncio.gather(self.pipe(reader, up_writer), self.pipe(up_reader, writer))

    async def pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            self.links.discard(writer)
            writer.transport.abort()

    async def block(self, seconds: float) -> None:
        """Refuse new connections and cut the open ones for `seconds`."""
        self.blocked += 1
        if self.server is not None:
            self.server.close()
            self.server = None
        for writer in list(self.links):
            writer.transport.abort()
        self.links.clear()
        await asyncio.sleep(seconds)
        await self.start()


async def serve(listen: int, target: str, control_port: int) -> None:
    host, port = target.rsplit(":", 1)
    proxy = Proxy(listen, host, int(port))
    await proxy.start()
    stop = asyncio.Event()

    async def control(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.CancelledError):
            while line := await reader.readline():
                command = json.loads(line)
                if command["cmd"] == "block":
                    asyncio.get_running_loop().create_task(proxy.block(float(command["seconds"])))
                elif command["cmd"] == "quit":
                    stop.set()
                writer.write(json.dumps({"ok": True, "blocked": proxy.blocked}).encode() + b"\n")
                await writer.drain()

    controller = await asyncio.start_server(control, "127.0.0.1", control_port, reuse_address=True)
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    controller.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ProxyProcess:
    """Start the proxy and tell it to cut the line."""

    def __init__(self, target: str, log: Path) -> None:
        self.target = target
        self.port = free_port()
        self.control_port = free_port()
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30) -> ProxyProcess:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tests.faults.proxy",
                    "--listen",
                    str(self.port),
                    "--target",
                    self.target,
                    "--control",
                    str(self.control_port),
                ],
                cwd=ROOT,
                env=dict(os.environ, PYTHONPATH=str(ROOT)),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.time() + timeout
        while time.time() < deadline:
            with contextlib.suppress(OSError):
                self.call("ping")
                return self
            time.sleep(0.05)
        raise RuntimeError(f"the proxy did not start:\n{self.log.read_text(errors='replace')}")

    def call(self, cmd: str, **args: Any) -> dict[str, Any]:
        with socket.create_connection(("127.0.0.1", self.control_port), timeout=10) as conn:
            conn.sendall(json.dumps({"cmd": cmd, **args}).encode() + b"\n")
            answer: dict[str, Any] = json.loads(conn.makefile("rb").readline())
            return answer

    def block(self, seconds: float) -> None:
        self.call("block", seconds=seconds)

    def stop(self) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.proc = None


def main() -> None:
    parser = argparse.ArgumentParser(prog="tests.faults.proxy", description=__doc__.splitlines()[0])
    parser.add_argument("--listen", type=int, required=True)
    parser.add_argument("--target", required=True)
    parser.add_argument("--control", type=int, required=True)
    args = parser.parse_args()
    asyncio.run(serve(args.listen, args.target, args.control))


if __name__ == "__main__":
    main()
