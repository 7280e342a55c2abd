"""The audit log: append-only, each entry chained to the one before by a keyed hash.

`record` writes in the caller's transaction, so an action and its entry commit together or
not at all. `verify` walks the chain and names the first entry that was edited, removed or
inserted. The digest is an HMAC keyed with WAVECAST_SECRET_KEY: someone who can write to the
database but does not hold the key cannot rebuild a consistent chain after an edit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select, update
from sqlalchemy.orm import Session

from accounts.models import AuditEntry, AuditHead
from accounts.roles import Actor
from campaign.db import utcnow
from campaign.settings import get_settings

GENESIS = "0" * 64
VERIFY_BATCH = 1000


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def entry_digest(
    prev: str,
    seq: int,
    at: dt.datetime,
    account_id: int | None,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    before: str | None,
    after: str | None,
) -> str:
    fields = [prev, seq, at.astimezone(dt.UTC).isoformat(), account_id, actor, action, object_type, object_id]
    text = json.dumps([*fields, before, after], ensure_ascii=False)
    return hmac.new(get_settings().secret_key.encode(), text.encode(), hashlib.sha256).hexdigest()


def record(
    session: Session,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: str,
    *,
    before: Any = None,
    after: Any = None,
) -> AuditEntry:
    """Append one entry, in the session's transaction. A contact is named by its keyed hash only."""
    # The head's UPDATE comes first: it takes the write lock (SQLite) or the row lock
    # (PostgreSQL) before the last digest is read, so concurrent writers queue up.
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=AuditHead.seq + 1))
    head = session.execute(select(AuditHead.seq, AuditHead.digest).where(AuditHead.id == 1)).one()
    # Second precision: what every database keeps, so the digest recomputes from the stored row.
    at = utcnow().replace(microsecond=0)
    b, a = _json(before), _json(after)
    digest = entry_digest(head.digest, head.seq, at, actor.id, actor.email, action, object_type, object_id, b, a)
    entry = AuditEntry(
        seq=head.seq,
        at=at,
        account_id=actor.id,
        actor=actor.email,
        action=action,
        object_type=object_type,
        object_id=object_id,
        before=b,
        after=a,
        prev=head.digest,
        digest=digest,
    )
    session.add(entry)
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(digest=digest))
    session.flush()
    return entry


@dataclass(frozen=True)
class Verified:
    entries: int
    problems: tuple[str, ...]

    @property
    def intact(self) -> bool:
        return not self.problems


def _rows(conn: Connection) -> Iterator[Any]:
    last = 0
    while True:
        batch = conn.execute(
            select(AuditEntry.__table__).where(AuditEntry.seq > last).order_by(AuditEntry.seq).limit(VERIFY_BATCH)
        ).all()
        yield from batch
        if len(batch) < VERIFY_BATCH:
            return
        last = batch[-1].seq


def verify(conn: Connection) -> Verified:
    """Walk the chain in batches; every break is named by its sequence number."""
    problems: list[str] = []
    prev, expected_seq, count = GENESIS, 1, 0
    for row in _rows(conn):
        count += 1
        if row.seq != expected_seq:
            problems.append(f"entries {expected_seq}..{row.seq - 1} are missing")
        if row.prev != prev:
            problems.append(f"entry {row.seq} does not follow the entry before it")
        fields = (row.account_id, row.actor, row.action, row.object_type, row.object_id, row.before, row.after)
        if not hmac.compare_digest(row.digest, entry_digest(row.prev, row.seq, row.at, *fields)):
            problems.append(f"entry {row.seq} ({row.action} by {row.actor}) was changed after it was written")
        prev, expected_seq = row.digest, row.seq + 1
    head = conn.execute(select(AuditHead.seq, AuditHead.digest).where(AuditHead.id == 1)).one_or_none()
    if head is None:
        problems.append("the log's head row is missing")
    elif head.seq != expected_seq - 1 or head.digest != prev:
        problems.append(f"the log ends at entry {expected_seq - 1} but was written up to entry {head.seq}")
    return Verified(count, tuple(problems))


@dataclass(frozen=True)
class Filter:
    actor: str | None = None
    action: str | None = None
    object_id: str | None = None
    limit: int = 200


def entries(conn: Connection, where: Filter = Filter()) -> list[dict[str, Any]]:
    """Newest first, filtered by person (address), action (prefix, e.g. `wave.`) and object."""
    query = select(AuditEntry.__table__).order_by(AuditEntry.seq.desc()).limit(where.limit)
    if where.actor:
        query = query.where(AuditEntry.actor == where.actor.strip().lower())
    if where.action:
        query = query.where(AuditEntry.action.startswith(where.action.strip(), autoescape=True))
    if where.object_id:
        query = query.where(AuditEntry.object_id == where.object_id.strip())
    return [
        {
            "seq": r.seq,
            "at": r.at.isoformat(),
            "actor": r.actor,
            "account_id": r.account_id,
            "action": r.action,
            "object": f"{r.object_type}:{r.object_id}",
            "before": json.loads(r.before) if r.before else None,
            "after": json.loads(r.after) if r.after else None,
        }
        for r in conn.execute(query)
    ]


def last_by(session: Session, action: str, object_id: str) -> AuditEntry | None:
    """The newest entry of this action on this object (the wave's last proof, say)."""
    return session.scalar(
        select(AuditEntry)
        .where(AuditEntry.action == action, AuditEntry.object_id == object_id)
        .order_by(AuditEntry.seq.desc())
        .limit(1)
    )


def accounts_that(session: Session, action: str, object_id: str) -> set[int]:
    rows = session.scalars(
        select(AuditEntry.account_id).where(AuditEntry.action == action, AuditEntry.object_id == object_id)
    )
    return {r for r in rows if r is not None}
