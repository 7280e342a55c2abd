"""Launching a wave: one run per wave, its ledger made inside SQL, chunks queued as it grows.

With a broker, the run is `running` from its first ledger batch: each batch's rows are queued
as chunks as soon as the batch commits, so the first message goes out while the rest of the
ledger is still being written, whatever the wave's size. The run's `ledger_growing` stays
set until the last batch; until then neither the sweeper nor a worker can call the run done.
Embedded (no broker), the chunks run in this process, so the whole ledger is written first.

Launching is idempotent: the run's key is unique, ledger rows are unique per (run, contact,
channel) and inserted with ON CONFLICT DO NOTHING, so a second launch, by a second scheduler
or after a crash half-way, adds nothing that is already there.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, func, literal, select, update
from sqlalchemy.orm import Session

from accounts import audit
from accounts.roles import Actor
from audiences.assignment import assignment_select
from audiences.models import contacts
from campaign.bundle import Bundle
from campaign.channel_ids import person_channels
from campaign.db import dialect_insert, get_engine, session_scope, utcnow
from campaign.settings import get_settings
from campaign.timing import resolve_starts
from waves.approval import require_approval
from waves.control import finish_if_done
from waves.dispatch import enqueue_pending
from waves.models import CANCELLED, LAUNCHING, PAUSED, PENDING, RUNNING, Delivery, WaveRun
from waves.post_rows import add_post_rows
from waves.recovery import settle_dead_claims

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Launched:
    run_id: int
    created: bool  # False: the wave had been launched before (or its launch is being completed)
    rows: int  # messages to people (ledger rows with a contact)
    chunks: int
    resumed: bool = False  # an earlier launch stopped half-way; this one completed it
    recovered: int | None = None  # embedded: the run's sender had stopped; rows of it settled
    posts: int = 0  # social posts (ledger rows of a platform account)


def _person_rows(conn: Connection, run_id: int) -> int:
    return int(conn.scalar(select(func.count()).where(Delivery.run_id == run_id, Delivery.account.is_(None))) or 0)


def _post_rows(conn: Connection, run_id: int) -> int:
    return int(conn.scalar(select(func.count()).where(Delivery.run_id == run_id, Delivery.account.isnot(None))) or 0)


def _claim_run(conn: Connection, bundle: Bundle, wave_id: str, content_hash: str, by: str) -> tuple[WaveRun, bool]:
    key = f"{bundle.spec.campaign.id}:{wave_id}"
    now = utcnow()
    inserted = conn.execute(
        dialect_insert(conn, WaveRun.__table__)
        .values(
            run_key=key,
            campaign_id=bundle.spec.campaign.id,
            wave_id=wave_id,
            campaign_dir=str(Path(bundle.root).resolve()),
            content_hash=content_hash,
            state=LAUNCHING,
            launched_by=by,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["run_key"])
        .returning(WaveRun.id)  # psycopg reports rowcount -1 for an INSERT: ask for the row instead
    ).first()
    run = Session(bind=conn).scalars(select(WaveRun).where(WaveRun.run_key == key)).one()
    return run, inserted is not None


def build_ledger(
    bundle: Bundle, run_id: int, wave_id: str, at: dt.datetime, after_batch: Callable[[int], object] | None = None
) -> int:
    """INSERT ... SELECT the wave's person rows (one per contact and channel), a batch of contact
    ids per transaction. After each batch commits, `after_batch(newer_than)` gets the highest
    ledger id there was before it (the launch queues the batch's rows); a cancelled run stops
    the build."""
    settings = get_settings()
    engine = get_engine()
    assigned = assignment_select(bundle.spec, wave_id, at, channels=person_channels()).subquery("assigned")
    columns = ["run_id", "contact_id", "channel", "message_id", "audience_id", "language", "status", "attempts"]
    with engine.connect() as conn:
        top = conn.scalar(select(func.max(contacts.c.id))) or 0
    low = 0
    while low < top:
        high = low + settings.ledger_batch_size
        rows = select(
            literal(run_id),
            assigned.c.contact_id,
            assigned.c.channel,
            assigned.c.message_id,
            assigned.c.audience_id,
            assigned.c.language,
            literal(PENDING),
            literal(0),
        ).where(assigned.c.contact_id > low, assigned.c.contact_id <= high)
        with engine.begin() as conn:
            newer_than = conn.scalar(select(func.max(Delivery.id))) or 0
            conn.execute(dialect_insert(conn, Delivery.__table__).from_select(columns, rows).on_conflict_do_nothing())
        low = high
        if after_batch is not None:
            after_batch(newer_than)
            if _state(run_id) == CANCELLED:
                break
    with engine.connect() as conn:
        return _person_rows(conn, run_id)


def _state(run_id: int) -> str | None:
    with get_engine().connect() as conn:
        return conn.scalar(select(WaveRun.state).where(WaveRun.id == run_id))


def _finish_stopped(run_id: int) -> Launched:
    """Embedded default: a run still `sending` whose sending process is gone (killed, crashed)
    is finished here, by this process, with no scheduler or sweeper running. Posts that have
    fallen due since are sent now, like any due row."""
    settled = settle_dead_claims(run_id)
    chunks = enqueue_pending(run_id)
    finish_if_done(run_id)
    with get_engine().connect() as conn:
        rows, posts = _person_rows(conn, run_id), _post_rows(conn, run_id)
    return Launched(run_id, False, rows, chunks, recovered=settled, posts=posts)


def launch_wave(bundle: Bundle, wave_id: str, by: Actor) -> Launched:
    """Launch now. Requires the operator role and a valid approval; a wave is launched at most once.

    The ledger gets the wave's e-mails and its posts; the posts wait for their scheduled time.
    The run and the audit entry of its launch commit together.
    """
    by.require("wave.launch")
    with session_scope() as session:
        content_hash = require_approval(session, bundle, wave_id)
    engine = get_engine()
    with engine.begin() as conn:
        run, created = _claim_run(conn, bundle, wave_id, content_hash, by.email)
        if created:
            audit.record(
                Session(bind=conn), by, "wave.launch", "wave", run.run_key, after={"content_hash": content_hash}
            )
    embedded = get_settings().embedded
    if run.state == RUNNING and not run.ledger_growing and embedded:
        return _finish_stopped(run.id)
    if run.state != LAUNCHING and not (run.ledger_growing and run.state in (RUNNING, PAUSED)):
        log.info("wave %s was launched before (run %s, %s); nothing new", wave_id, run.id, run.state)
        with engine.connect() as conn:
            rows, posts = _person_rows(conn, run.id), _post_rows(conn, run.id)
        return Launched(run.id, False, rows, 0, posts=posts)
    start = resolve_starts(bundle.spec)[wave_id]
    posts = add_post_rows(bundle, run.id, wave_id, start)
    resumed = not created
    if embedded:  # the chunks run here, one after the other: the whole ledger first
        rows = build_ledger(bundle, run.id, wave_id, start)
        _running(run.id, growing=False)
        chunks = enqueue_pending(run.id)
        finish_if_done(run.id)
        return Launched(run.id, created, rows, chunks, resumed, posts=posts)
    # Workers send each batch's rows while the next batch is written. First what is there already:
    # posts due now, and the rows of a launch cut half-way (their tasks may be gone).
    _running(run.id, growing=True)
    chunks = enqueue_pending(run.id)

    def queue_batch(newer_than: int) -> None:
        nonlocal chunks
        chunks += enqueue_pending(run.id, Delivery.id > newer_than)

    rows = build_ledger(bundle, run.id, wave_id, start, queue_batch)
    _built(run.id)
    chunks += enqueue_pending(run.id, Delivery.enqueued_at.is_(None))  # rows another launcher wrote meanwhile
    return Launched(run.id, created, rows, chunks, resumed, posts=posts)


def _built(run_id: int) -> None:
    with get_engine().begin() as conn:
        conn.execute(update(WaveRun).where(WaveRun.id == run_id).values(ledger_growing=False))


def _running(run_id: int, *, growing: bool) -> None:
    """The run sends from now; `growing`: while the launch still writes its ledger."""
    with get_engine().begin() as conn:
        conn.execute(
            update(WaveRun)
            .where(WaveRun.id == run_id, WaveRun.state == LAUNCHING)
            .values(state=RUNNING, ledger_growing=growing, updated_at=utcnow())
        )
