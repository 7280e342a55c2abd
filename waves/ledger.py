"""The delivery ledger's state changes: claim, mark sent in batches, fail, release for retry.

Every change is a single UPDATE guarded by the row's current status, so a redelivered task,
a second worker or the sweeper can never move a row backwards or send it twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import cast

from sqlalchemy import ColumnElement, Connection, Table, and_, exists, func, not_, or_, select, tuple_, update

from audiences.models import contact_attributes, contacts
from audiences.segments import eligible
from campaign.channel_ids import declarations
from campaign.db import utcnow
from waves.models import FAILED, PENDING, RUNNING, SENDING, SENT, SKIPPED, Delivery, WaveRun

d = cast(Table, Delivery.__table__).c
r = cast(Table, WaveRun.__table__).c
deliveries = cast(Table, Delivery.__table__)
runs = cast(Table, WaveRun.__table__)

# Why a person's row was skipped when they unsubscribed, were erased or were suppressed after
# the ledger was made: the report counts these as "suppressed before sending".
WITHDRAWN_NOTE = "consent withdrawn before sending"


@dataclass(frozen=True)
class Claimed:
    """A claimed row: a person's message (contact and address set) or a post (account set)."""

    id: int
    channel: str
    account: str | None
    contact_id: int | None
    message_id: str
    audience_id: str
    language: str
    email: str | None
    first_name: str | None
    organisation_name: str | None
    # The contact attribute the row's channel addresses (an SMS's phone number), as stored; None
    # when the channel writes to the e-mail address or to no person, or the contact has none.
    address: str | None = None

    @property
    def is_post(self) -> bool:
        return self.account is not None


def _ids_in(ids: Sequence[int]) -> ColumnElement[bool]:
    return d.id.in_(list(ids))


def due(now: dt.datetime | None = None) -> ColumnElement[bool]:
    """Rows whose time has come: posts wait for their scheduled time, retries for their delay."""
    return or_(d.not_before.is_(None), d.not_before <= (now or utcnow()))


def claim(conn: Connection, run_id: int, first_id: int, last_id: int, worker: str, limit: int) -> list[Claimed]:
    """Claim up to `limit` pending rows of a running wave in [first_id, last_id].

    In the same transaction: person rows whose contact withdrew consent (unsubscribed, erased
    or suppressed) become `skipped`, and nothing is claimed unless the run is still `running`.
    Post rows (an account, no person) have no consent to check. PostgreSQL locks with SKIP
    LOCKED, so two workers on one range take different rows.
    """
    now = utcnow()
    running = exists().where(r.id == run_id, r.state == RUNNING)
    in_range = and_(d.run_id == run_id, d.id.between(first_id, last_id), d.status == PENDING, due(now))
    # Consent is re-checked here, at send time, not only when the ledger was made: in the scope of
    # this run's campaign, and a pause past today (UTC) holds the row back as well.
    campaign = select(r.campaign_id).where(r.id == run_id).scalar_subquery()
    allowed = eligible(campaign, now.date())
    withdrawn = and_(
        d.account.is_(None),
        or_(d.contact_id.is_(None), not_(exists().where(contacts.c.id == d.contact_id, allowed))),
    )
    conn.execute(
        update(deliveries)
        .where(in_range, withdrawn, running)
        .values(status=SKIPPED, last_error=WITHDRAWN_NOTE, claimed_at=now)
    )
    pick = select(d.id).where(in_range, running).order_by(d.id).limit(limit)
    if conn.dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    ids = list(conn.scalars(pick))
    if not ids:
        return []
    claimed_ids = list(
        conn.scalars(
            update(deliveries)
            .where(_ids_in(ids), d.status == PENDING)
            .values(status=SENDING, claimed_at=now, claimed_by=worker)
            .returning(d.id)
        )
    )
    if not claimed_ids:
        return []
    rows = conn.execute(
        select(
            d.id,
            d.channel,
            d.account,
            d.contact_id,
            d.message_id,
            d.audience_id,
            d.language,
            contacts.c.email,
            contacts.c.first_name,
            contacts.c.organisation_name,
        )
        .outerjoin(contacts, contacts.c.id == d.contact_id)
        .where(_ids_in(claimed_ids))
        .order_by(d.id)
    )
    return _with_addresses(conn, [Claimed(**row._asdict()) for row in rows])


def _with_addresses(conn: Connection, rows: list[Claimed]) -> list[Claimed]:
    """The rows, those of a channel that addresses a contact attribute (an SMS's phone number)
    with it: one query for the batch, none for a batch without such rows (e-mails, posts)."""
    attributes = {d.id: d.address.attribute for d in declarations() if d.address is not None}
    wanted = {(r.contact_id, attributes[r.channel]) for r in rows if r.channel in attributes and r.contact_id}
    if not wanted:
        return rows
    a = contact_attributes.c
    found = {
        (contact_id, name): value
        for contact_id, name, value in conn.execute(
            select(a.contact_id, a.name, a.value).where(tuple_(a.contact_id, a.name).in_(sorted(wanted)))
        )
    }
    return [
        replace(r, address=found.get((r.contact_id, attributes[r.channel]))) if r.channel in attributes else r
        for r in rows
    ]


def mark_sent(conn: Connection, ids: Iterable[int], at: dt.datetime | None = None) -> int:
    """Mark a batch sent; only rows still `sending` move (a swept row is not overwritten)."""
    batch = list(ids)
    if not batch:
        return 0
    result = conn.execute(
        update(deliveries)
        .where(_ids_in(batch), d.status.in_([SENDING, PENDING]))
        .values(status=SENT, sent_at=at or utcnow(), last_error=None)
    )
    return int(result.rowcount or 0)


def mark_failed(conn: Connection, ledger_id: int, reason: str) -> None:
    conn.execute(
        update(deliveries).where(d.id == ledger_id, d.status == SENDING).values(status=FAILED, last_error=reason[:2000])
    )


def skip(conn: Connection, ids: Iterable[int], reason: str) -> None:
    conn.execute(
        update(deliveries)
        .where(_ids_in(list(ids)), d.status.in_([SENDING, PENDING]))
        .values(status=SKIPPED, last_error=reason)
    )


def renew(conn: Connection, ids: Iterable[int], worker: str) -> None:
    """Extend the lease on rows this process still holds, so the sweeper leaves a slow but live
    sender alone; it only takes rows from a process that stopped renewing."""
    batch = list(ids)
    if batch:
        conn.execute(
            update(deliveries)
            .where(_ids_in(batch), d.status == SENDING, d.claimed_by == worker)
            .values(claimed_at=utcnow())
        )


def unclaim(conn: Connection, ids: Iterable[int], *, cancelled: bool = False) -> None:
    """Hand back rows that were claimed but not tried (the run was paused or cancelled)."""
    batch = list(ids)
    if not batch:
        return
    if cancelled:
        skip(conn, batch, "wave cancelled")
        return
    conn.execute(
        update(deliveries)
        .where(_ids_in(batch), d.status == SENDING)
        .values(status=PENDING, claimed_by=None, claimed_at=None)
    )


def release(conn: Connection, ids: Iterable[int], reason: str, not_before: dt.datetime, max_attempts: int) -> None:
    """Count a try against claimed rows, then give them back for later, or fail those out of tries."""
    batch = list(ids)
    if not batch:
        return
    conn.execute(update(deliveries).where(_ids_in(batch), d.status == SENDING).values(attempts=d.attempts + 1))
    conn.execute(
        update(deliveries)
        .where(_ids_in(batch), d.status == SENDING, d.attempts >= max_attempts)
        .values(status=FAILED, last_error=f"gave up after {max_attempts} attempts: {reason}"[:2000])
    )
    conn.execute(
        update(deliveries)
        .where(_ids_in(batch), d.status == SENDING)
        .values(status=PENDING, not_before=not_before, claimed_by=None, last_error=reason[:2000])
    )


def retry_later(
    conn: Connection,
    tried: Sequence[int],
    untried: Iterable[int],
    reason: str,
    not_before: dt.datetime,
    max_attempts: int,
) -> None:
    """After a transient failure: the rows that were tried (one per relay connection) count an
    attempt; the rest wait with them."""
    release(conn, tried, reason, not_before, max_attempts)
    rest = list(untried)
    if rest:
        conn.execute(
            update(deliveries)
            .where(_ids_in(rest), d.status == SENDING)
            .values(status=PENDING, not_before=not_before, claimed_by=None)
        )


def put_off(
    conn: Connection,
    tried: Sequence[int],
    untried: Sequence[int],
    reason: str,
    not_before: dt.datetime,
    max_attempts: int,
) -> None:
    """One account's rows wait until `not_before` (its 429, its spent quota); the chunk goes on.

    The row that met it counts a try; the account's other rows go back untried. No task carries
    them any more (the chunk does not come back for them), so `enqueued_at` is cleared: the
    sweeper queues them once they fall due, as it queues a post that falls due."""
    release(conn, tried, reason, not_before, max_attempts)
    if untried:
        conn.execute(
            update(deliveries)
            .where(_ids_in(untried), d.status == SENDING)
            .values(status=PENDING, not_before=not_before, claimed_by=None, last_error=reason[:2000])
        )
    both = [*tried, *untried]
    conn.execute(update(deliveries).where(_ids_in(both), d.status == PENDING).values(enqueued_at=None))


def stamp_enqueued(conn: Connection, run_id: int, first_id: int, last_id: int) -> None:
    """Note that a task carries these rows; a post not yet due stays unstamped until it falls due."""
    now = utcnow()
    conn.execute(
        update(deliveries)
        .where(d.run_id == run_id, d.id.between(first_id, last_id), d.status == PENDING, due(now))
        .values(enqueued_at=now)
    )


def pending_ranges(
    conn: Connection, run_id: int, chunk: int, where: ColumnElement[bool] | None = None
) -> list[tuple[int, int]]:
    """[first, last] id ranges of `chunk` pending rows each, numbered in one pass over the rows.

    One statement and one sort: paging with `id > last ORDER BY id LIMIT chunk` sorted the run's
    pending rows again for every chunk, a cost that grew with the square of the wave."""
    condition = and_(d.run_id == run_id, d.status == PENDING)
    if where is not None:
        condition = and_(condition, where)
    # Integer division in both databases (`//` would render FLOOR, which SQLite may lack).
    part = (func.row_number().over(order_by=d.id) - 1).self_group().op("/")(chunk)
    numbered = select(d.id.label("id"), part.label("part")).where(condition).subquery()
    first_last = select(func.min(numbered.c.id), func.max(numbered.c.id))
    rows = conn.execute(first_last.group_by(numbered.c.part).order_by(numbered.c.part)).all()
    return [(int(first), int(last)) for first, last in rows]
