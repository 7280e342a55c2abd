"""Sending one chunk of a wave: claim, check, personalise, push, mark. The loop knows no channel:
each row's channel (waves/channels/) builds its message and owns the messenger that sends it,
one per channel per chunk, reused for every row.

With a relay, a sending process sends over WAVECAST_SMTP_CONNECTIONS connections at once
(waves/lanes.py): each one checks, sends and journals one message at a time.

The core trade-off (DESIGN.md decision 3): rows are marked `sent` in the database once per
batch, not once per message; the journal records each accepted message with one cheap write,
so a crash leaves at most the one message between the relay's reply and that write unknown,
per relay connection.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Connection, Date, Engine, bindparam, exists, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from audiences.models import contacts
from audiences.segments import eligible
from campaign.channel_contract import (
    Messenger,
    NoAddress,
    PermanentError,
    RunContext,
    TransientError,
    Unaddressable,
    account_scope,
)
from campaign.channel_ids import declarations
from campaign.db import get_engine, utcnow
from campaign.errors import WavecastError
from campaign.mail_transport import TooManyConnections
from campaign.settings import Settings, get_settings
from waves import ledger
from waves.bounces import intake
from waves.bundles import bundle_for_run
from waves.channels import channel
from waves.journal import FileJournal, Journal, JournalUnavailable, RedisJournal
from waves.lanes import Lane, Rows, Shared
from waves.lanes import run as run_lanes
from waves.models import CANCELLED, RUNNING, SENDING, Delivery, WaveRun
from waves.stop_signals import Held, held_stop_signals
from waves.throttle import LocalThrottle, RedisThrottle, Throttle, ThrottleUnavailable

log = logging.getLogger(__name__)

CLAIM_BATCH = 50
FLUSH_EVERY = 100
FLUSH_SECONDS = 1.0


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
    # Accounts whose rows wait (a 429, a spent quota): scope -> when they fall due. The chunk
    # went on without them; the sweeper queues them then (waves/ledger.put_off).
    waiting: dict[str, dt.datetime] = field(default_factory=dict)
    deferred: int = 0  # rows handed back to wait with their account


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


class _Marks:
    """Sent ids waiting for their batched UPDATE; flushed every FLUSH_EVERY messages or second.

    Every lane adds to the same marks. With several lanes, the calling thread writes them
    (`flush_if_due`, while it waits for the lanes). A terminate waits until they are written
    (waves/stop_signals.py).
    """

    def __init__(self, flush: Callable[[list[int]], None]) -> None:
        self.ids: list[int] = []
        self.flush_fn = flush
        self.last = time.monotonic()
        self.lock = threading.RLock()
        self.by_caller = False  # True while lanes run in threads: only the calling thread flushes

    def add(self, ledger_id: int) -> None:
        with self.lock:
            self.ids.append(ledger_id)
            if not self.by_caller:
                self.flush_if_due()

    def flush_if_due(self) -> None:
        with self.lock:
            if len(self.ids) >= FLUSH_EVERY or time.monotonic() - self.last >= FLUSH_SECONDS:
                self.flush()

    def hold(self, ledger_id: int) -> None:
        """Add without flushing: the stop's flush writes it."""
        with self.lock:
            self.ids.append(ledger_id)

    def flush(self) -> None:
        with self.lock:
            if self.ids:
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
CONSENT_WITHDRAWN = "consent withdrawn"
STOPPING = "the sending process was told to stop"


# Built once: the facts checked before every message, read in one round trip. A post has no
# person behind it, so only the run's state and the row's ownership are checked for it.
_HELD = exists().where(
    Delivery.id == bindparam("ledger_id"), Delivery.status == SENDING, Delivery.claimed_by == bindparam("worker")
)
_STATE = select(WaveRun.state).where(WaveRun.id == bindparam("run_id")).scalar_subquery()
_CAMPAIGN = select(WaveRun.campaign_id).where(WaveRun.id == bindparam("run_id")).scalar_subquery()
# Scope: unsubscribed from everything or from this run's campaign, suppressed, or paused past
# today (the UTC date: near midnight a pause ends up to two hours late, never early).
_CHECK = select(
    _STATE,
    exists().where(contacts.c.id == bindparam("contact_id"), eligible(_CAMPAIGN, bindparam("today", type_=Date))),
    _HELD,
)
_CHECK_POST = select(_STATE, _HELD)


def _still_wanted(conn: Connection, run_id: int, row: ledger.Claimed, worker: str) -> str | None:
    """None if the message may go now; otherwise why not: the run stopped, consent was withdrawn,
    or this process no longer holds the row (it was slow past its lease and the sweeper gave the
    row to someone else).

    `conn` is an AUTOCOMMIT connection, so every check reads what is committed at that moment."""
    params = {"run_id": run_id, "ledger_id": row.id, "worker": worker}
    if row.is_post:
        state, held = conn.execute(_CHECK_POST, params).one()
        allowed = True
    else:
        facts = {**params, "contact_id": row.contact_id, "today": utcnow().date()}
        state, allowed, held = conn.execute(_CHECK, facts).one()
    if not held:
        return CLAIM_LOST
    if state != RUNNING:
        return f"run {state}"
    if not allowed:
        return CONSENT_WITHDRAWN
    return None


class _Stop(Exception):
    """The chunk stops here. `untried` rows go back; `tried` (a transient failure) count a try.

    `delay` None: the run was paused or cancelled, nothing to retry. Otherwise the chunk is
    retried after `delay` seconds (RetryLater)."""

    def __init__(
        self, reason: str, untried: list[int], *, delay: float | None = None, tried: list[int] | None = None
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.untried = untried
        self.delay = delay
        self.tried = tried or []

    @classmethod
    def merged(cls, stops: list[_Stop], left: list[int]) -> _Stop:
        """What several lanes met, and the rows no lane took, as one stop. A pause or a cancel
        wins over a transient failure: nothing is retried; the longest delay otherwise."""
        final = next((stop for stop in stops if stop.delay is None), None)
        untried = [*left, *(i for stop in stops for i in stop.untried)]
        tried = [i for stop in stops for i in stop.tried]
        if final is not None:
            return cls(final.reason, untried, tried=tried)
        delay = max(stop.delay or 0.0 for stop in stops)
        return cls(stops[0].reason, untried, delay=delay, tried=tried)


class _Busy(Exception):
    """The relay refused a new connection with 421: this lane sits out the rest of the chunk while
    the others go on; the last one left makes the chunk wait like after any 4xx."""


class _Chunk:
    """One chunk's sending: its run, its lanes (one per relay connection, each with its messengers,
    opened on first use), the rows claimed and not yet taken, the pending sent marks, and what
    happened."""

    def __init__(self, run: RunContext, settings: Settings, held: Held) -> None:
        self.run = run
        self.held = held  # a stop signal waiting: finish the messages on the wire, then stop
        self.settings = settings
        self.engine = get_engine()
        self.worker = worker_name()
        self.journal = make_journal(settings)
        self.throttle = make_throttle(settings, _rates(run, settings))
        # A channel whose far side takes several connections at once (e-mail over a relay) has a
        # messenger per lane; the others have one that every lane shares.
        self.per_lane = {d.id for d in declarations() if d.connections is not None}
        count = max((d.connections(settings) for d in declarations() if d.connections is not None), default=1)
        self.lanes = [Lane(index) for index in range(count)]
        self.shared: dict[str, Shared] = {}  # the other channels' messengers, one each for all lanes
        self.marks = _Marks(self._write_marks)
        self.result = ChunkResult()
        self.why: dict[str, str] = {}  # scope -> why its rows wait, kept on each of them
        self.lock = threading.RLock()  # the result, the waiting accounts, the shared messengers
        self.rows: Rows | None = None
        self.stops: list[_Stop] = []
        self.left: list[int] = []  # rows no lane took before the chunk stopped
        self.renewed = time.monotonic()

    def _write_marks(self, ids: list[int]) -> None:
        def action() -> None:
            with self.engine.begin() as conn:
                ledger.mark_sent(conn, ids)

        _with_db_retry(action)

    def messenger(self, lane: Lane, channel_id: str) -> Messenger:
        if channel_id in self.per_lane:
            if channel_id not in lane.messengers:
                lane.messengers[channel_id] = channel(channel_id).messenger(self.settings)
            return lane.messengers[channel_id]
        with self.lock:
            if channel_id not in self.shared:
                self.shared[channel_id] = Shared(channel(channel_id).messenger(self.settings))
            return self.shared[channel_id]

    def claim(self, first_id: int, last_id: int) -> list[ledger.Claimed]:
        with self.engine.begin() as conn:
            return ledger.claim(conn, self.run.run_id, first_id, last_id, self.worker, CLAIM_BATCH)

    def send_all(self, first_id: int, last_id: int) -> None:
        """Send every row of the range over the lanes; raise _Stop when the chunk must stop."""
        self.rows = Rows(lambda: self.claim(first_id, last_id))
        self.marks.by_caller = len(self.lanes) > 1
        run_lanes(self.lanes, self.rows, self.send_lane, self.tick)
        if self.stops:
            raise _Stop.merged(self.stops, [*self.left, *self.rows.halt()])

    def tick(self) -> None:
        """The calling thread, while the lanes run: write the marks when due, and at once when the
        chunk stops, so a lane still finishing its message does not keep them from the database."""
        assert self.rows is not None
        if self.held.requested() and not self.rows.halted:
            self.stopped(_Stop(STOPPING, []))
        if self.rows.halted:
            self.marks.flush()
        else:
            self.marks.flush_if_due()

    def send_lane(self, lane: Lane) -> None:
        """One lane's loop: take a row, send it, until the chunk is done or stops."""
        rows = self.rows
        assert rows is not None
        # Each lane checks on a connection of its own; AUTOCOMMIT, so each check sees what is
        # committed at that moment (an unsubscribe, a pause) and no snapshot is held.
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as checks:
            while (row := rows.take(lane)) is not None:
                if self.held.requested():
                    self.stopped(_Stop(STOPPING, [row.id]))
                    return
                self.renew(checks)
                try:
                    if not self.held_back(row):
                        self.send_one(checks, row, lane)
                except _Busy as busy:
                    if rows.rest(lane, row):  # the other connections carry the rest of the chunk
                        log.warning("run %s: one relay connection fewer for this chunk: %s", self.run.run_id, busy)
                        return
                    self.stopped(_Stop(str(busy), [row.id], delay=backoff(self.settings, 1)))
                    return
                except _Stop as stop:
                    self.stopped(stop)
                    return

    def stopped(self, stop: _Stop) -> None:
        assert self.rows is not None
        with self.lock:
            self.stops.append(stop)
            self.left.extend(self.rows.halt())

    def renew(self, checks: Connection) -> None:
        """Extend the lease of the rows this process holds, a few times per lease."""
        assert self.rows is not None
        with self.lock:
            if time.monotonic() - self.renewed <= self.settings.send_lease_seconds / 3:
                return
            self.renewed = time.monotonic()
        ledger.renew(checks, self.rows.held(), self.worker)

    def held_back(self, row: ledger.Claimed) -> bool:
        """True when the row's account already waits in this chunk: the row goes back untried,
        due with the rest of its account (a 429 answers for the account, not one post)."""
        scope = _scope(row)
        with self.lock:
            if scope is None or scope not in self.result.waiting:
                return False
            why, until = self.why[scope], self.result.waiting[scope]
            self.result.deferred += 1
        with self.engine.begin() as conn:
            ledger.put_off(conn, [], [row.id], why, until, self.settings.max_attempts)
        return True

    def send_one(self, checks: Connection, row: ledger.Claimed, lane: Lane) -> None:
        """Wait for the rate, check, personalise, push, journal one row; raise _Stop when the chunk
        must stop. The check comes after the wait, right before the message leaves: an unsubscribe
        committed while the row waited for its turn is seen (with several connections sharing
        one rate, that wait is the longest part of a message)."""
        try:
            self.throttle.wait(row.channel)
        except ThrottleUnavailable as exc:
            raise _Stop(str(exc), [row.id], delay=backoff(self.settings, 1)) from None
        why_not = _still_wanted(checks, self.run.run_id, row, self.worker)
        if why_not == CLAIM_LOST:
            return  # another process owns it now; it will send it once
        if why_not == CONSENT_WITHDRAWN:
            with self.engine.begin() as conn:
                ledger.skip(conn, [row.id], ledger.WITHDRAWN_NOTE)
            return
        if why_not is not None:
            raise _Stop(why_not, [row.id])
        try:
            message = channel(row.channel).build(self.run, row)
        except NoAddress as exc:  # no address on this channel (no phone number): not a failure
            with self.engine.begin() as conn:
                ledger.skip(conn, [row.id], str(exc))
            return
        except Exception as exc:  # one recipient's fault stays with that recipient
            self.fail(row, f"message could not be built: {_reason(exc)}")
            return
        try:
            self.messenger(lane, row.channel).push(message)
        except PermanentError as exc:
            self.fail(row, str(exc))
            if exc.refused_recipient:  # the relay refused the address: a bounce like any other
                self.marks.flush()  # the breaker judges what is marked sent: tell it all first
                intake.refused_at_send(row.id, str(exc))
            return
        except Unaddressable as exc:
            self.fail(row, str(exc))
            return
        except TooManyConnections as exc:  # nothing was sent: the row goes to another lane
            raise _Busy(str(exc)) from None
        except TransientError as exc:
            delay = backoff(self.settings, _attempts(self.engine, row.id) + 1)
            delay = max(delay, exc.retry_after or 0.0)  # a 429's Retry-After, a quota's next window
            if exc.scope is None:  # a far side the whole chunk shares (the relay): all of it waits
                raise _Stop(str(exc), [], delay=delay, tried=[row.id]) from None
            self.defer(row, exc.scope, str(exc), delay)
            return
        with self.lock:
            self.result.sent += 1
        try:
            self.journal.record(self.run.run_id, row.id)
        except JournalUnavailable as exc:
            # The far side took this message but nothing durable knows it yet: tell the database
            # now (with the stop's flush), give the rest back, and stop until the journal is back.
            self.marks.hold(row.id)
            raise _Stop(str(exc), [], delay=backoff(self.settings, 1)) from None
        self.marks.add(row.id)

    def defer(self, row: ledger.Claimed, scope: str, reason: str, delay: float) -> None:
        """Only this account waits: the row counts a try and waits `delay`; the account's later
        rows in this chunk go back untried (held_back), due at the same moment."""
        until = utcnow() + dt.timedelta(seconds=delay)
        with self.lock:
            self.result.waiting[scope] = until
            self.why[scope] = reason  # the account's, so its rows show (and group) by one reason
            self.result.deferred += 1
        log.warning("run %s, ledger row %s: %s waits %.0f s: %s", self.run.run_id, row.id, scope, delay, reason)
        with self.engine.begin() as conn:
            ledger.put_off(conn, [row.id], [], reason, until, self.settings.max_attempts)

    def fail(self, row: ledger.Claimed, reason: str) -> None:
        """Fail this row alone, with its reason; the chunk goes on with the others."""
        with self.lock:
            self.result.failed += 1
        log.warning("run %s, ledger row %s (%s): failed: %s", self.run.run_id, row.id, row.channel, reason)

        def action() -> None:
            with self.engine.begin() as conn:
                ledger.mark_failed(conn, row.id, reason)

        _with_db_retry(action)

    def hand_back(self, stop: _Stop) -> None:
        """The one cleanup on stop: write the marks of what was sent, then give back the rest."""
        self.marks.flush()
        with self.engine.begin() as conn:
            if stop.tried and stop.delay is not None:
                not_before = utcnow() + dt.timedelta(seconds=stop.delay)
                ledger.retry_later(conn, stop.tried, stop.untried, stop.reason, not_before, self.settings.max_attempts)
                return
            if stop.tried:  # tried by a lane when another met a pause: a try, nothing to wait for
                ledger.release(conn, stop.tried, stop.reason, utcnow(), self.settings.max_attempts)
            ledger.unclaim(conn, stop.untried, cancelled=stop.reason == f"run {CANCELLED}")

    def close(self) -> None:
        self.marks.flush()
        messengers = [*(m for lane in self.lanes for m in lane.messengers.values()), *self.shared.values()]
        for messenger in messengers:
            messenger.flush()
            messenger.close()


def _rates(run: RunContext, settings: Settings) -> dict[str, float]:
    """Messages per second per channel: the campaign's own, else the installation's pace for the
    channel (its declaration's `pace`: for e-mail, WAVECAST_RATE_PER_SECOND).

    A rate is the far side's limit. A channel whose messages reach no far side (e-mail written as
    .eml files to the outbox) is not paced: the embedded default writes as fast as the disk allows.
    """
    rates: dict[str, float] = {}
    for channel_id, config in run.bundle.spec.channels.items():
        if config.rate_per_second:
            rates[channel_id] = config.rate_per_second
    for declared in declarations():
        if declared.pace is None:
            continue
        pace = declared.pace(settings)
        if pace is None:
            rates.pop(declared.id, None)
        else:
            rates.setdefault(declared.id, pace)
    return rates


def send_chunk(run_id: int, first_id: int, last_id: int) -> ChunkResult:
    """Send every due pending row of `run_id` with an id in [first_id, last_id], whatever its channel.

    Raises RetryLater after a transient failure the whole chunk shares (the relay): the unsent
    rows are pending again. When only one platform account must wait (its TransientError names a
    scope), its rows are pending again, due when it says, and the result lists it in `waiting`.
    """
    with get_engine().connect() as conn:
        run = Session(bind=conn).get(WaveRun, run_id)
    if run is None or run.state != RUNNING:
        return ChunkResult(stopped="no such run" if run is None else f"run {run.state}")
    bundle = bundle_for_run(run.campaign_dir, run.wave_id, run.content_hash)
    # A SIGTERM or Ctrl-C lands when the block ends: after the marks are written and the rest
    # handed back (waves/stop_signals.py).
    with held_stop_signals() as held:
        chunk = _Chunk(RunContext(run.id, run.wave_id, bundle), get_settings(), held)
        try:
            chunk.send_all(first_id, last_id)
        except _Stop as stop:
            chunk.hand_back(stop)
            if stop.delay is not None:
                # The rows wait the whole delay (not_before: a 429's Retry-After is honoured); the
                # chunk comes back after at most WAVECAST_RETRY_MAX_SECONDS, so no long ETA sits on
                # Redis and no embedded `send` sleeps for an hour. Rows not due by then stay
                # pending, and the sweeper queues them once they are.
                raise RetryLater(min(stop.delay, chunk.settings.retry_max_seconds), stop.reason) from None
            chunk.result.stopped = stop.reason
        finally:
            chunk.close()
    return chunk.result


def _scope(row: ledger.Claimed) -> str | None:
    """The key a messenger's TransientError names when only this row's account must wait."""
    return account_scope(row.channel, row.account) if row.account is not None else None


def _reason(exc: BaseException) -> str:
    """Why a message could not be built, in words; our own errors never hold the person's values."""
    if isinstance(exc, WavecastError):
        return str(exc)
    return f"internal error ({type(exc).__name__})"


def _attempts(engine: Engine, ledger_id: int) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(Delivery.attempts).where(Delivery.id == ledger_id)) or 1)
