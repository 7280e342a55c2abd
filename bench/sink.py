"""An SMTP sink in its own process: counts messages and distinct Message-IDs, and misbehaves on cue.

The benchmarks and the fault suite need a relay that does not share a CPU-bound interpreter
with the code under test, and that can be told to fail in the ways real relays do. The sink
is aiosmtpd on loopback; a second port takes one JSON command per line and answers one JSON
line (``SinkClient`` speaks it). Every accepted message is appended to a log file as
``<unix time> <recipient> <Message-ID>``, so a test can tell what arrived when.

Faults (``SinkClient.fault``):
- ``down``: stop listening and cut open connections for N seconds, then listen again;
- ``tempfail``: answer 451 to every DATA for N seconds (``tempfail_next``: to the next N);
- ``reject``: answer 550 to RCPT for the given addresses;
- ``drop_after_data``: take the next N messages, then cut the connection before replying;
- ``max_connections``: greet connections beyond N open ones with 421 (too many connections).

A relay across a network answers each message after milliseconds: ``delay`` (or ``--delay-ms``)
makes the sink answer every DATA that much later, each connection on its own (the sink is not
busy meanwhile).

    python -m bench.sink --port 2525 --control 2526 --log sink.log [--delay-ms 20]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_MESSAGE_ID = re.compile(rb"^Message-ID:[ \t]*(\S+)", re.IGNORECASE | re.MULTILINE)
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class State:
    """What arrived, and what the sink is told to do wrong."""

    log: Any
    messages: int = 0
    ids: set[bytes] = field(default_factory=set)
    first_at: float | None = None
    last_at: float | None = None
    tempfail_until: float = 0.0
    tempfail_next: int = 0
    reject: set[str] = field(default_factory=set)
    drop_after_data: int = 0
    delay: float = 0.0  # seconds before the reply to each DATA
    max_connections: int = 0  # 0: no limit
    sessions: int = 0  # connections accepted
    busy: int = 0  # connections greeted with 421
    in_flight: int = 0  # messages received and not yet answered
    peak_in_flight: int = 0  # the most at once: how many connections a sender really used together
    tempfailed: int = 0
    rejected: int = 0
    dropped: int = 0

    def stats(self) -> dict[str, Any]:
        return {
            "messages": self.messages,
            "distinct": len(self.ids),
            "first_at": self.first_at,
            "last_at": self.last_at,
            "tempfailed": self.tempfailed,
            "rejected": self.rejected,
            "dropped": self.dropped,
            "sessions": self.sessions,
            "busy": self.busy,
            "peak_in_flight": self.peak_in_flight,
        }


class Handler:
    def __init__(self, state: State) -> None:
        self.state = state

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address.lower() in self.state.reject:
            self.state.rejected += 1
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        state = self.state
        now = time.time()
        if now < state.tempfail_until or state.tempfail_next > 0:
            state.tempfail_next = max(0, state.tempfail_next - 1)
            state.tempfailed += 1
            return "451 4.3.0 try again later"
        raw = envelope.original_content or envelope.content
        head = raw[: raw.find(b"\r\n\r\n") + 2] if b"\r\n\r\n" in raw else raw
        found = _MESSAGE_ID.search(head)
        message_id = found.group(1) if found else b"-"
        for rcpt in envelope.rcpt_tos:
            state.messages += 1
            state.log.write(f"{now:.6f} {rcpt.lower()} {message_id.decode('ascii', 'replace')}\n")
        state.ids.add(message_id)
        state.first_at = state.first_at or now
        state.last_at = now
        if state.delay:
            state.in_flight += 1
            state.peak_in_flight = max(state.peak_in_flight, state.in_flight)
            try:
                await asyncio.sleep(state.delay)
            finally:
                state.in_flight -= 1
        if state.drop_after_data > 0:
            # The message is taken (it is in the log), but the sender never hears so.
            state.drop_after_data -= 1
            state.dropped += 1
            server.transport.abort()
        return "250 2.0.0 accepted"


def _open(session: Any) -> bool:
    """Not closed yet: just made (no session before its connection is made), or connected."""
    if session.session is None:
        return True
    return session.transport is not None and not session.transport.is_closing()


class _TooMany(asyncio.Protocol):
    """A connection beyond the limit: greeted with 421 and closed, as a busy relay does."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.WriteTransport)
        transport.write(b"421 4.7.0 sink.local too many connections, try again later\r\n")
        transport.close()


class Sink:
    """The SMTP listener, which can be taken down and brought back on the same port."""

    def __init__(self, port: int, state: State) -> None:
        from aiosmtpd.smtp import SMTP

        self.port = port
        self.state = state
        self.handler = Handler(state)
        self.smtp_class = SMTP
        self.server: asyncio.AbstractServer | None = None
        self.sessions: set[Any] = set()
        self.back_at = 0.0

    def _factory(self) -> Any:
        self.sessions = {s for s in self.sessions if _open(s)}
        if self.state.max_connections and len(self.sessions) >= self.state.max_connections:
            self.state.busy += 1
            return _TooMany()
        self.state.sessions += 1
        session = self.smtp_class(self.handler, hostname="sink.local", data_size_limit=20_000_000, timeout=120)
        self.sessions.add(session)
        return session

    async def listen(self) -> None:
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(self._factory, "127.0.0.1", self.port, reuse_address=True, backlog=512)

    async def down(self, seconds: float) -> None:
        """Refuse connections and cut the open ones, then listen again after `seconds`."""
        if self.server is not None:
            self.server.close()
            self.server = None
        for session in list(self.sessions):
            if session.transport is not None:
                session.transport.abort()
        self.sessions.clear()
        self.back_at = time.time() + seconds
        await asyncio.sleep(seconds)
        await self.listen()


async def control(sink: Sink, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, stop: asyncio.Event) -> None:
    try:
        await _commands(sink, reader, writer, stop)
    except (asyncio.CancelledError, ConnectionError):
        pass
    finally:
        writer.close()


async def _commands(
    sink: Sink, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, stop: asyncio.Event
) -> None:
    state = sink.state
    while line := await reader.readline():
        command = json.loads(line)
        name = command.get("cmd")
        answer: dict[str, Any] = {"ok": True}
        if name == "stats":
            answer = state.stats()
        elif name == "flush":
            state.log.flush()
        elif name == "reset":
            state.messages, state.ids, state.first_at, state.last_at = 0, set(), None, None
            state.sessions = state.busy = state.peak_in_flight = 0
            state.log.truncate(0)
            state.log.seek(0)
        elif name == "down":
            asyncio.get_running_loop().create_task(sink.down(float(command["seconds"])))
        elif name == "tempfail":
            state.tempfail_until = time.time() + float(command.get("seconds", 0))
            state.tempfail_next = int(command.get("next", 0))
        elif name == "reject":
            state.reject = {a.lower() for a in command.get("addresses", [])}
        elif name == "delay":
            state.delay = float(command.get("ms", 0)) / 1000
        elif name == "max_connections":
            state.max_connections = int(command.get("count", 0))
        elif name == "drop_after_data":
            state.drop_after_data = int(command.get("count", 1))
        elif name == "quit":
            stop.set()
        else:
            answer = {"ok": False, "error": f"unknown command {name!r}"}
        writer.write(json.dumps(answer).encode() + b"\n")
        await writer.drain()


async def serve(port: int, control_port: int, log_path: Path, delay_ms: float = 0.0) -> None:
    logging.getLogger("mail.log").setLevel(logging.CRITICAL)  # aiosmtpd logs every command at INFO
    stop = asyncio.Event()
    with log_path.open("a", encoding="ascii", buffering=1 << 20) as log:
        sink = Sink(port, State(log, delay=delay_ms / 1000))
        await sink.listen()
        controller = await asyncio.start_server(
            lambda r, w: control(sink, r, w, stop), "127.0.0.1", control_port, reuse_address=True
        )
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, stop.set)

        async def flush_often() -> None:
            while True:
                await asyncio.sleep(0.2)
                log.flush()

        flusher = loop.create_task(flush_often())
        print("sink ready", flush=True)
        await stop.wait()
        flusher.cancel()
        controller.close()
        if sink.server is not None:
            sink.server.close()
        log.flush()


class SinkClient:
    """Start the sink process, and talk to it."""

    def __init__(self, log: Path, port: int | None = None, control_port: int | None = None) -> None:
        self.port = port or free_port()
        self.control_port = control_port or free_port()
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None
        self._conn: socket.socket | None = None
        self._file: Any = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> SinkClient:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self.log.touch()
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        with self.log.with_suffix(".out").open("ab") as out:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "bench.sink",
                    "--port",
                    str(self.port),
                    "--control",
                    str(self.control_port),
                    "--log",
                    str(self.log),
                ],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                self.stats()
                return self
            except OSError:
                self._conn = None
                time.sleep(0.05)
        output = self.log.with_suffix(".out").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"the SMTP sink did not start:\n{output}")

    def call(self, cmd: str, **args: Any) -> dict[str, Any]:
        if self._conn is None:
            self._conn = socket.create_connection(("127.0.0.1", self.control_port), timeout=30)
            self._file = self._conn.makefile("rb")
        self._conn.sendall(json.dumps({"cmd": cmd, **args}).encode() + b"\n")
        answer: dict[str, Any] = json.loads(self._file.readline())
        return answer

    def stats(self) -> dict[str, Any]:
        return self.call("stats")

    def fault(self, kind: str, **args: Any) -> None:
        self.call(kind, **args)

    def count(self) -> int:
        return int(self.stats()["messages"])

    def wait_for(self, count: int, timeout: float = 600, poll: float = 0.05) -> dict[str, Any]:
        """Wait until `count` messages have arrived; returns the stats."""
        deadline = time.time() + timeout
        while True:
            stats = self.stats()
            if stats["messages"] >= count:
                return stats
            if time.time() > deadline:
                raise TimeoutError(f"only {stats['messages']} of {count} messages arrived within {timeout} s")
            time.sleep(poll)

    def records(self) -> list[tuple[float, str, str]]:
        """(arrival time, recipient, Message-ID) of every message so far."""
        self.call("flush")
        found = []
        with self.log.open(encoding="ascii") as handle:
            for line in handle:
                parts = line.split()
                if len(parts) == 3:
                    found.append((float(parts[0]), parts[1], parts[2]))
        return found

    def reset(self) -> None:
        self.call("reset")

    def stop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(OSError, ValueError):
                self.call("quit")
            self._conn.close()
            self._conn = None
        if self.proc is not None:
            if self.proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
            self.proc = None

    def __enter__(self) -> SinkClient:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench.sink", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--control", type=int, required=True)
    parser.add_argument("--log", type=Path, required=True)
    parser.add_argument("--delay-ms", type=float, default=0.0, help="answer each message this much later")
    args = parser.parse_args(argv)
    asyncio.run(serve(args.port, args.control, args.log, args.delay_ms))


if __name__ == "__main__":
    main()
