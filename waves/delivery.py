"""Sending one chunk of a wave: claim rows, render per recipient from the segment cache, send
over one reused connection, and mark rows sent in batches backed by the sent journal.

The core trade-off (DESIGN.md decision 3): rows are marked `sent` in the database once per
batch, not once per message; the journal records each accepted message with one cheap write,
so a crash leaves at most the one message between the relay's reply and that write unknown.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, exists, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from audiences.models import contacts
from audiences.segments import eligible
from audiences.tokens import unsubscribe_url
from campaign.db import get_engine, utcnow
from campaign.errors import WavecastError
from campaign.settings import Settings, get_settings
from waves import ledger
from waves.bundles import bundle_for_run
from waves.journal import FileJournal, Journal, JournalUnavailable, RedisJournal
from waves.models import CANCELLED, RUNNING, SENDING, Delivery, WaveRun
from waves.outputs import newsletter_for, newsletter_message_id
from waves.throttle import LocalThrottle, RedisThrottle, Throttle, ThrottleUnavailable
from waves.transport import PermanentError, TransientError, Transport, Unaddressable, make_transport

log = logging.getLogger(__name__)

CLAIM_BATCH = 50
FLUSH_EVERY = 100
FLUSH_SECONDS = 1.0
CHANNEL = "newsletter"


class RetryLater(Exception):
    """The chunk met a transient failure; its unsent rows are pending again after `delay`."""

    def __init__(self, delay: float, reason: str) -> None:
        super().__init__(reason)
        self.delay = delay


@dataclass
class ChunkResult:
    sent: int = 0
    failed: int = 0
    stopped: str | None = None
    errors: list[str] = field(default_factory=list)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def backoff(settings: Settings, attempts: int) -> float:
    return float(min(settings.retry_max_seconds, settings.retry_base_seconds * (2 ** max(0, attempts - 1))))


def make_journal(settings: Settings) -> Journal:
    if settings.broker_url:
        return RedisJournal(settings.broker_url, settings.redis_prefix, settings.database_url)
    return FileJournal(settings.outbox_dir / ".journal")


def make_throttle(settings: Settings, rates: dict[str, float]) -> Throttle:
    if settings.broker_url:
        return RedisThrottle(settings.broker_url, rates, settings.redis_prefix)
    return LocalThrottle(rates)


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold SIGTERM and SIGINT while sent marks are written, so a terminate cannot cut the write.

    Celery terminates running tasks when it loses the broker; without this, the signal could
    land inside the final flush and the database would never learn what the relay accepted.
    The signal is delivered as soon as the write is done.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


class _Marks:
    """Sent ids waiting for their batched UPDATE; flushed every FLUSH_EVERY messages or second."""

    def __init__(self, flush: Callable[[list[int]], None]) -> None:
        self.ids: list[int] = []
        self.flush_fn = flush
        self.last = time.monotonic()

    def add(self, ledger_id: int) -> None:
        self.ids.append(ledger_id)
        if len(self.ids) >= FLUSH_EVERY or time.monotonic() - self.last >= FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        if self.ids:
            with _signals_deferred():
                self.flush_fn(self.ids)
            self.ids = []
        self.last = time.monotonic()


def _with_db_retry(action: Callable[[], None], attempts: int = 8) -> None:
    """A database that is briefly unreachable must not lose marks: wait and try again."""
    for attempt in range(attempts):
        try:
            action()
            return
        except OperationalError:
            if attempt == attempts - 1:
                raise
            time.sleep(min(5.0, 0.25 * 2**attempt))


CLAIM_LOST = "claim lost"


# Built once: the three facts checked before every message, read in one round trip.
_CHECK = select(
    select(WaveRun.state).where(WaveRun.id == bindparam("run_id")).scalar_subquery(),
    exists().where(contacts.c.id == bindparam("contact_id"), eligible()),
    exists().where(
        Delivery.id == bindparam("ledger_id"), Delivery.status == SENDING, Delivery.claimed_by == bindparam("worker")
    ),
)


def _still_wanted(conn: Connection, run_id: int, ledger_id: int, contact_id: int, worker: str) -> str | None:
    """None if the message may go now; otherwise why not: the run stopped, consent was withdrawn,
    or this process no longer holds the row (it was slow past its lease and the sweeper gave the
    row to someone else).

    `conn` is an AUTOCOMMIT connection, so every check reads what is committed at that moment."""
    params = {"run_id": run_id, "contact_id": contact_id, "ledger_id": ledger_id, "worker": worker}
    state, allowed, held = conn.execute(_CHECK, params).one()
    if not held:
        return CLAIM_LOST
    if state != RUNNING:
        return f"run {state}"
    if not allowed:
        return "consent withdrawn"
    return None


def send_chunk(run_id: int, first_id: int, last_id: int, transport: Transport | None = None) -> ChunkResult:
    """Send every pending newsletter row of `run_id` with an id in [first_id, last_id].

    Raises RetryLater after a transient failure (the unsent rows are pending again).
    """
    settings = get_settings()
    engine = get_engine()
    result = ChunkResult()
    with engine.connect() as conn:
        run = Session(bind=conn).get(WaveRun, run_id)
    if run is None or run.state != RUNNING:
        result.stopped = "no such run" if run is None else f"run {run.state}"
        return result
    bundle = bundle_for_run(run.campaign_dir, run.wave_id, run.content_hash)
    spec = bundle.spec
    sender = spec.campaign.sender.address
    domain = sender.rsplit("@", 1)[1]
    rate = spec.channels.get("newsletter")
    rates = {CHANNEL: (rate.rate_per_second if rate and rate.rate_per_second else settings.rate_per_second)}
    throttle = make_throttle(settings, rates)
    journal = make_journal(settings)
    transport = transport or make_transport(settings)
    worker = worker_name()

    def flush(ids: list[int]) -> None:
        def action() -> None:
            with engine.begin() as conn:
                ledger.mark_sent(conn, ids)

        _with_db_retry(action)

    marks = _Marks(flush)
    try:
        while True:
            with engine.begin() as conn:
                rows = ledger.claim(conn, run_id, first_id, last_id, worker, CLAIM_BATCH)
            if not rows:
                break
            # One connection checks the whole claimed batch; AUTOCOMMIT, so each check sees what
            # is committed at that moment (an unsubscribe, a pause) and no snapshot is held.
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as checks:
                renewed = time.monotonic()
                for index, row in enumerate(rows):
                    if time.monotonic() - renewed > settings.send_lease_seconds / 3:
                        ledger.renew(checks, [r.id for r in rows[index:]], worker)
                        renewed = time.monotonic()
                    why_not = _still_wanted(checks, run_id, row.id, row.contact_id, worker)
                    if why_not == CLAIM_LOST:
                        continue  # another process owns it now; it will send it once
                    if why_not == "consent withdrawn":
                        with engine.begin() as conn:
                            ledger.skip(conn, [row.id], "consent withdrawn before sending")
                        continue
                    if why_not is not None:
                        # Paused or cancelled: hand back what this process had claimed but not sent.
                        with engine.begin() as conn:
                            ledger.unclaim(conn, [r.id for r in rows[index:]], cancelled=why_not == f"run {CANCELLED}")
                        result.stopped = why_not
                        return result
                    try:
                        message = _build(bundle, run, row, domain)
                    except Exception as exc:  # one recipient's fault stays with that recipient
                        result.failed += 1
                        _fail_one(engine, run_id, row, f"message could not be built: {_reason(exc)}")
                        continue
                    try:
                        throttle.wait(CHANNEL)
                    except ThrottleUnavailable as exc:
                        marks.flush()
                        with engine.begin() as conn:
                            ledger.unclaim(conn, [r.id for r in rows[index:]])
                        raise RetryLater(backoff(settings, 1), str(exc)) from None
                    try:
                        transport.send(sender, row.email, message, key=f"run-{run_id}/{row.id}")
                    except PermanentError as exc:
                        result.failed += 1
                        _fail_one(engine, run_id, row, str(exc))
                        continue
                    except Unaddressable as exc:
                        result.failed += 1
                        _fail_one(engine, run_id, row, str(exc))
                        continue
                    except TransientError as exc:
                        marks.flush()
                        delay = backoff(settings, _attempts(engine, row.id) + 1)
                        with engine.begin() as conn:
                            ledger.retry_later(
                                conn,
                                row.id,
                                [r.id for r in rows[index + 1 :]],
                                str(exc),
                                utcnow() + dt.timedelta(seconds=delay),
                                settings.max_attempts,
                            )
                        raise RetryLater(delay, str(exc)) from None
                    result.sent += 1
                    try:
                        journal.record(run_id, row.id)
                    except JournalUnavailable as exc:
                        # The relay took this message but nothing durable knows it yet: tell the
                        # database now, give the rest back, and stop until the journal is back.
                        marks.ids.append(row.id)
                        marks.flush()
                        delay = backoff(settings, 1)
                        with engine.begin() as conn:
                            ledger.unclaim(conn, [r.id for r in rows[index + 1 :]])
                        raise RetryLater(delay, str(exc)) from None
                    marks.add(row.id)
        return result
    finally:
        marks.flush()
        transport.close()


def _build(bundle: Any, run: WaveRun, row: ledger.Claimed, domain: str) -> bytes:
    """One recipient's message from the segment's cached skeleton."""
    segment = newsletter_for(bundle, run.wave_id, row.audience_id, row.language)
    return bytes(
        segment.personalise(
            to=row.email,
            fields={"first_name": row.first_name or "", "organisation_name": row.organisation_name or ""},
            unsubscribe_url=unsubscribe_url(row.contact_id),
            message_id=newsletter_message_id(bundle.spec.campaign.id, run.wave_id, row.contact_id, domain),
        )
    )


def _reason(exc: BaseException) -> str:
    """Why a message could not be built, in words; our own errors never hold the person's values."""
    if isinstance(exc, WavecastError):
        return str(exc)
    return f"internal error ({type(exc).__name__})"


def _fail_one(engine: Engine, run_id: int, row: ledger.Claimed, reason: str) -> None:
    """Fail this row alone, with its reason; the chunk goes on with the others."""
    log.warning("run %s, ledger row %s (contact %s): failed: %s", run_id, row.id, row.contact_id, reason)

    def action() -> None:
        with engine.begin() as conn:
            ledger.mark_failed(conn, row.id, reason)

    _with_db_retry(action)


def _attempts(engine: Engine, ledger_id: int) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(Delivery.attempts).where(Delivery.id == ledger_id)) or 1)
