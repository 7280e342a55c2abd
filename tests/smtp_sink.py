"""A real SMTP server on loopback (aiosmtpd) that counts what arrives and can misbehave on cue."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from tests.conftest import free_port


@dataclass
class Received:
    to: str
    message_id: str
    raw: bytes
    at: float

    def parsed(self) -> EmailMessage:
        return message_from_bytes(self.raw, policy=policy.SMTP)  # type: ignore[return-value]


@dataclass
class Behaviour:
    tempfail_next: int = 0  # answer 451 to the next N messages
    tempfail_until: float = 0.0  # answer 451 to every message until this time.time()
    reject: set[str] = field(default_factory=set)  # 550 for these recipients
    drop_after_data_next: int = 0  # take the message, then drop the connection without a reply
    slow_seconds: float = 0.0  # think this long before answering each message (a slow relay)


class SinkHandler:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self.behaviour = Behaviour()
        self.lock = threading.Lock()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any) -> str:
        if address.lower() in self.behaviour.reject:
            return f"550 5.1.1 <{address}>: mailbox unavailable"  # relays quote the address, as Postfix does
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.behaviour.slow_seconds:
            await asyncio.sleep(self.behaviour.slow_seconds)
        with self.lock:
            if time.time() < self.behaviour.tempfail_until:
                return "451 4.3.0 try again later"
            if self.behaviour.tempfail_next > 0:
                self.behaviour.tempfail_next -= 1
                return "451 4.3.0 try again later"
            raw = envelope.original_content or envelope.content
            parsed = message_from_bytes(raw, policy=policy.SMTP)
            for rcpt in envelope.rcpt_tos:
                self.received.append(Received(rcpt.lower(), str(parsed["Message-ID"]), raw, time.time()))
            if self.behaviour.drop_after_data_next > 0:
                self.behaviour.drop_after_data_next -= 1
                server.transport.abort()
        return "250 2.0.0 accepted"


class SmtpSink:
    """Start, stop and restart on the same port (the relay being down for a while)."""

    def __init__(self, *, smtputf8: bool = False) -> None:
        self.port = free_port()
        self.handler = SinkHandler()
        self.controller: Controller | None = None
        self.smtputf8 = smtputf8  # offer SMTPUTF8 (RFC 6531), for internationalised mailboxes

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.controller = Controller(
            self.handler,
            hostname="127.0.0.1",
            port=self.port,
            data_size_limit=10_000_000,
            enable_SMTPUTF8=self.smtputf8,
        )
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def received(self) -> list[Received]:
        with self.handler.lock:
            return list(self.handler.received)

    def by_recipient(self) -> dict[str, list[Received]]:
        found: dict[str, list[Received]] = {}
        for item in self.received:
            found.setdefault(item.to, []).append(item)
        return found

    def wait_for(self, count: int, timeout: float = 60) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if len(self.received) >= count:
                return
            time.sleep(0.05)
        raise AssertionError(f"only {len(self.received)} of {count} messages arrived within {timeout} s")
