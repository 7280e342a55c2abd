"""The IMAP poller: bounces delivered to a mailbox (WAVECAST_BOUNCE_IMAP_URL) are read from there.

For a setup whose return-path mailbox is an ordinary mailbox rather than a relay that can
forward to the receiver. Each poll reads the messages not yet handled, with BODY.PEEK so none
is marked read, and gives each to intake; the mail server's Delivered-To / X-Original-To
header holds the signed return path the report came back to (waves/bounces/reports reads it).

What happens to a message afterwards:
- A report that names one of our messages (recorded now, already known, or about a row or a
  person since erased) is flagged \\Deleted only after intake committed, and the mailbox is
  expunged at the end of the poll. A crash in between never loses a report: it is read again
  next time, and a report seen twice counts once (its evidence is unique). Keeping a report
  about an erased person would keep that person's address, so it goes too.
- Anything else (no report at all: a reply, an out-of-office, a stray message; or a report
  without a valid token: another sender's bounce, a forgery) is left where it is, unread, and
  flagged \\Flagged so the next poll passes it by. A person may need it, so the poller never
  deletes it, and \\Flagged is the one mark every mail client shows and every server keeps
  (a folder would have to be created, and custom keywords are optional in IMAP).
"""

from __future__ import annotations

import imaplib
import logging
import re
import signal
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from sqlalchemy.exc import SQLAlchemyError

from campaign.db import DatabaseError
from campaign.errors import WavecastError
from waves.bounces import intake
from waves.bounces.reports import MAX_REPORT_BYTES

log = logging.getLogger(__name__)

TIMEOUT = 30.0  # seconds for any one exchange with the server
# Reports intake ignored although they named one of our messages: nothing more can come of
# them, so they go like the ones recorded. Any other reason keeps the message for a person.
SETTLED = frozenset({"no such message", "the person was erased"})
BATCH = 200  # messages whose sizes are asked for in one command
_FETCHED = re.compile(rb"UID (\d+) RFC822\.SIZE (\d+)|RFC822\.SIZE (\d+) UID (\d+)")


class ImapError(WavecastError):
    """The mailbox cannot be polled: unset, unreachable, login refused, no such mailbox."""


@dataclass(frozen=True)
class Mailbox:
    """Where the bounces are: parsed from imap(s)://user:password@host[:port]/MAILBOX."""

    host: str
    port: int
    tls: bool
    user: str
    password: str = field(repr=False)
    name: str = "INBOX"

    @property
    def shown(self) -> str:
        """The mailbox for messages: never the password."""
        return f"{'imaps' if self.tls else 'imap'}://{self.user}@{self.host}:{self.port}/{self.name}"


@dataclass
class Poll:
    """What one poll did: messages read, removed after intake, left for a person; and the sum
    of intake's outcomes."""

    read: int = 0
    removed: int = 0
    kept: int = 0
    outcome: intake.Outcome = field(default_factory=intake.Outcome)

    def summary(self) -> str:
        text = f"{self.read} messages: {self.removed} removed, {self.kept} left for a person"
        return text + (f"; {self.outcome.summary()}" if self.read else "")


def mailbox_of(url: str | None) -> Mailbox:
    """The mailbox of WAVECAST_BOUNCE_IMAP_URL; settings already checked its scheme and host."""
    if not url:
        raise ImapError("WAVECAST_BOUNCE_IMAP_URL is not set: nothing to poll (imap://user:password@host/MAILBOX)")
    parts = urlsplit(url)
    tls = parts.scheme == "imaps"
    if not parts.username or parts.password is None:
        raise ImapError("WAVECAST_BOUNCE_IMAP_URL: the URL needs a user and a password (imap://user:password@host)")
    return Mailbox(
        host=parts.hostname or "",
        port=parts.port or (993 if tls else 143),
        tls=tls,
        user=unquote(parts.username),
        password=unquote(parts.password),
        name=unquote(parts.path.strip("/")) or "INBOX",
    )


@contextmanager
def session(box: Mailbox) -> Iterator[imaplib.IMAP4]:
    """Logged in, with the mailbox selected for writing; logged out afterwards."""
    try:
        if box.tls:
            conn: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                box.host, box.port, ssl_context=ssl.create_default_context(), timeout=TIMEOUT
            )
        else:
            conn = imaplib.IMAP4(box.host, box.port, timeout=TIMEOUT)
    except (OSError, imaplib.IMAP4.error) as exc:
        raise ImapError(f"cannot reach the IMAP server {box.shown}: {_reason(exc)}") from None
    try:
        try:
            conn.login(box.user, box.password)
        except imaplib.IMAP4.error as exc:
            raise ImapError(f"the IMAP server refused the login of {box.shown}: {_reason(exc)}") from None
        status, data = conn.select(_quoted(box.name))
        if status != "OK":
            raise ImapError(f"cannot open the mailbox {box.shown}: {_text(data)}")
        yield conn
    finally:
        # A connection already gone has nothing half done on our side: flags are set one by one.
        with suppress(OSError, imaplib.IMAP4.error):
            conn.logout()


def poll(box: Mailbox) -> Poll:
    """Read every message not yet handled, give each to intake, remove what intake took."""
    done = Poll()
    try:
        with session(box) as conn:
            for uid, size in _waiting(conn):
                raw = _body(conn, uid) if size <= MAX_REPORT_BYTES else b""
                # An oversized message is no report (intake would say so too, after reading it all).
                outcome = intake.take_message(raw, source="imap") if raw else _not_a_report()
                done.read += 1
                done.outcome.add(outcome)
                if _taken(outcome):
                    _store(conn, uid, "\\Deleted")  # intake has committed: the report is safe
                    done.removed += 1
                else:
                    _store(conn, uid, "\\Flagged")
                    done.kept += 1
            conn.expunge()
    except (OSError, imaplib.IMAP4.abort) as exc:
        raise ImapError(f"the IMAP server {box.shown} went away: {_reason(exc)}") from None
    except imaplib.IMAP4.error as exc:
        raise ImapError(f"the IMAP server {box.shown} refused a command: {_reason(exc)}") from None
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or type(exc).__name__).splitlines()[0]
        raise DatabaseError(f"cannot record bounce reports now ({reason}); they stay in the mailbox") from None
    return done


def watch(box: Mailbox, interval: float) -> None:
    """Poll every INTERVAL seconds until SIGTERM or SIGINT (a poll in hand finishes first).

    An error in the first poll stops it: the setting is wrong. Later ones (the mail server
    restarting, the database failing over) are logged, and the next poll tries again."""
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        first = True
        while not stop.is_set():
            try:
                log.info("imap: %s", poll(box).summary())
            except WavecastError as exc:
                if first:
                    raise
                log.warning("imap: %s; trying again in %g s", exc, interval)
            first = False
            stop.wait(interval)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _waiting(conn: imaplib.IMAP4) -> list[tuple[int, int]]:
    """(uid, size) of the messages neither removed nor left for a person, oldest first."""
    status, data = conn.uid("SEARCH", "UNDELETED", "UNFLAGGED")
    if status != "OK":
        raise imaplib.IMAP4.error(_text(data))
    uids = [int(u) for u in b" ".join(d for d in data if isinstance(d, bytes)).split()]
    if not uids:
        return []
    sizes: dict[int, int] = {}
    for start in range(0, len(uids), BATCH):
        status, data = conn.uid("FETCH", ",".join(map(str, uids[start : start + BATCH])), "(RFC822.SIZE)")
        if status != "OK":
            raise imaplib.IMAP4.error(_text(data))
        for line in data:
            found = _FETCHED.search(line if isinstance(line, bytes) else b"")
            if found:
                uid, size = (found.group(1), found.group(2)) if found.group(1) else (found.group(4), found.group(3))
                sizes[int(uid)] = int(size)
    return [(uid, sizes[uid]) for uid in uids if uid in sizes]  # one expunged meanwhile is not asked for


def _body(conn: imaplib.IMAP4, uid: int) -> bytes:
    status, data = conn.uid("FETCH", str(uid), "(BODY.PEEK[])")  # PEEK: a person still sees it unread
    if status != "OK":
        raise imaplib.IMAP4.error(_text(data))
    return next((part[1] for part in data if isinstance(part, tuple) and len(part) == 2), b"")


def _store(conn: imaplib.IMAP4, uid: int, flag: str) -> None:
    status, data = conn.uid("STORE", str(uid), "+FLAGS.SILENT", f"({flag})")
    if status != "OK":
        raise imaplib.IMAP4.error(_text(data))


def _taken(outcome: intake.Outcome) -> bool:
    """Did the message name one of our messages, and is it dealt with for good?"""
    if outcome.ignored:
        return set(outcome.ignored) <= SETTLED
    return outcome.recorded + outcome.duplicates > 0


def _not_a_report() -> intake.Outcome:
    outcome = intake.Outcome()
    outcome.ignored["not a bounce or complaint"] += 1
    return outcome


def _quoted(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _text(data: object) -> str:
    items = data if isinstance(data, list) else [data]
    parts = [i.decode("utf-8", "replace") if isinstance(i, bytes) else str(i) for i in items if i is not None]
    return " ".join(parts).strip() or "no reason given"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, socket.gaierror):
        return "the host name does not resolve"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return _text(exc.args[0] if exc.args else type(exc).__name__)
