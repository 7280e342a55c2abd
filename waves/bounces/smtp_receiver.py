"""The SMTP and LMTP receiver: the relay forwards the bounces addressed to our return paths here.

It is neither an open relay nor a mailbox anyone can fill:
- RCPT is accepted only for an address that carries a validly signed VERP token
  (campaign/verp); any other recipient gets 550;
- a message larger than any report could be gets 552 (reports.MAX_REPORT_BYTES).

Each accepted recipient's copy goes through intake with that recipient as the envelope address,
so the token names the ledger row. The receiver answers 250 only after intake committed. A
database error answers 451: the relay keeps the message and tries again, so nothing is lost,
and a report that arrives twice counts once (its evidence is unique).

Over SMTP one reply covers every recipient of a message, so the first failure answers for
all. LMTP (RFC 2033) replies once per recipient, so a relay retries only the ones that failed.

One log line per message, without addresses: what intake made of it (Outcome.summary()).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP
from sqlalchemy.exc import SQLAlchemyError

from campaign import verp
from campaign.errors import WavecastError
from waves.bounces import intake
from waves.bounces.reports import MAX_REPORT_BYTES

log = logging.getLogger(__name__)

SMTP_PORT = 2525
LMTP_PORT = 2424
TAKEN = "250 2.0.0 report taken"
NOT_OURS = "550 5.1.1 no such mailbox: only signed bounce addresses are accepted here"
TRY_LATER = "451 4.3.0 the report cannot be recorded now; try again later"


class BounceHandler:
    """aiosmtpd's handler: who may receive, and what a received message becomes."""

    def __init__(self, protocol: str, executor: ThreadPoolExecutor) -> None:
        self.protocol = protocol  # "smtp" or "lmtp": the intake source
        self.executor = executor  # intake is blocking database work, kept off the event loop

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if verp.delivery_in(address) is None:
            return NOT_OURS
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = bytes(envelope.original_content or b"")
        loop = asyncio.get_running_loop()
        replies = [await loop.run_in_executor(self.executor, self.take, raw, rcpt) for rcpt in envelope.rcpt_tos]
        if self.protocol == "lmtp":
            return "\r\n".join(replies)
        return next((r for r in replies if r != TAKEN), TAKEN)

    def take(self, raw: bytes, recipient: str) -> str:
        """One recipient's copy through intake; the reply for it."""
        try:
            outcome = intake.take_message(raw, source=self.protocol, envelope_to=recipient)
        except SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", None) or type(exc).__name__).splitlines()[0]
            log.warning("%s: database error, answered 451 so the relay retries: %s", self.protocol, reason)
            return TRY_LATER
        except Exception:
            # A fault of ours: keep the report at the relay rather than refuse it for good.
            log.exception("%s: the report could not be taken, answered 451", self.protocol)
            return TRY_LATER
        log.info("%s: %s", self.protocol, outcome.summary())
        return TAKEN


class _Lmtp(LMTP):
    """aiosmtpd's LMTP, with RFC 2033's one reply per recipient also for a refused body
    (too large, a line too long), which aiosmtpd answers once."""

    _recipients = 0

    async def smtp_DATA(self, arg: str) -> None:
        self._recipients = len(self.envelope.rcpt_tos) if self.envelope is not None else 0
        try:
            await super().smtp_DATA(arg)
        finally:
            self._recipients = 0

    async def push(self, status: Any) -> None:
        if self._recipients > 1 and isinstance(status, str) and status[:3] in {"500", "552"} and "\r\n" not in status:
            status = "\r\n".join([status] * self._recipients)
        await super().push(status)


class Receiver(Controller):
    """The receiver on HOST:PORT, served from a thread of its own; `start()` and `stop()`."""

    def __init__(self, host: str, port: int, *, lmtp: bool = False) -> None:
        self.protocol = "lmtp" if lmtp else "smtp"
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"bounces-{self.protocol}")
        super().__init__(
            BounceHandler(self.protocol, self.executor),
            hostname=host,
            port=port,
            server_hostname=socket.gethostname(),  # not getfqdn(): no DNS lookup to start
            ident="wavecast bounces",
            data_size_limit=MAX_REPORT_BYTES,
            enable_SMTPUTF8=True,
            decode_data=False,
            timeout=60,
        )

    def factory(self) -> SMTP:
        server_class = _Lmtp if self.protocol == "lmtp" else SMTP
        return server_class(self.handler, **self.SMTP_kwargs)

    def stop(self, no_assert: bool = False) -> None:
        super().stop(no_assert)
        self.executor.shutdown(wait=True)  # a report being recorded is committed (or not) before exit


def serve(host: str, port: int, *, lmtp: bool = False) -> None:
    """Receive until SIGTERM or SIGINT.

    Stopping closes the connections; a report being recorded is committed (or rolled back)
    before the process exits. A relay that got no reply for a message sends it again."""
    _can_listen(host, port)
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)}
    receiver = Receiver(host, port, lmtp=lmtp)
    try:
        try:
            receiver.start()
        except OSError as exc:  # taken in the moment since the check
            receiver.executor.shutdown()
            raise WavecastError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
        log.info("%s: receiving bounces on %s:%s", receiver.protocol, host, port)
        stop.wait()
        receiver.stop()
        log.info("%s: stopped", receiver.protocol)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _can_listen(host: str, port: int) -> None:
    """Say at once when the address cannot be listened on (aiosmtpd says so only after its
    start-up timeout of several seconds)."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        with socket.create_server((host, port), family=family):
            pass
    except OSError as exc:
        raise WavecastError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
