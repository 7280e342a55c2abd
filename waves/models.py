"""Tables for what happened in time: approvals, schedules, wave runs, the delivery ledger
(e-mails and social posts alike) and the scheduler's lease. The files say what to send; these say what was sent.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from campaign.db import Base, UTCDateTime, utcnow


class Status(StrEnum):
    """A ledger row's status. A row is claimed (`sending`) before its message goes out and
    marked after; e-mails and social posts go through the same five."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"


class RunState(StrEnum):
    """A wave run's state. `running` is the run's; `sending` is only ever a row's (until
    migration 0006 the run said `sending` too, which made one word mean two things)."""

    LAUNCHING = "launching"
    RUNNING = "running"
    PAUSED = "paused"
    CANCELLED = "cancelled"
    DONE = "done"


# Short names for the members, used across waves/.
PENDING, SENDING, SENT, FAILED, SKIPPED = Status.PENDING, Status.SENDING, Status.SENT, Status.FAILED, Status.SKIPPED
STATUSES: tuple[Status, ...] = tuple(Status)
LAUNCHING, RUNNING, PAUSED, CANCELLED, DONE = (
    RunState.LAUNCHING,
    RunState.RUNNING,
    RunState.PAUSED,
    RunState.CANCELLED,
    RunState.DONE,
)

BigId = BigInteger().with_variant(Integer(), "sqlite")


class Approval(Base):
    """One person's approval of one wave's content hash; kept forever as the audit trail."""

    __tablename__ = "approvals"
    __table_args__ = (UniqueConstraint("campaign_id", "wave_id", "content_hash", "approved_by"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[str] = mapped_column(String(64))
    wave_id: Mapped[str] = mapped_column(String(64))
    content_hash: Mapped[str] = mapped_column(String(64))
    approved_by: Mapped[str] = mapped_column(String(200))  # the account's address, as shown
    # The account that approved (accounts.id; no foreign key: the trail outlives an account).
    # NULL on approvals made before accounts (revision 0010): those no longer count.
    account_id: Mapped[int | None] = mapped_column(Integer, default=None)
    approved_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set when the approver went past a failing `doctor` check: which checks, and why.
    doctor_override: Mapped[str | None] = mapped_column(Text, default=None)


class WaveSchedule(Base):
    """When an approved wave falls due (UTC), and what became of it."""

    __tablename__ = "wave_schedules"

    campaign_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    wave_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    campaign_dir: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    state: Mapped[str] = mapped_column(String(16), default="scheduled")  # scheduled|launched|missed
    note: Mapped[str | None] = mapped_column(Text, default=None)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class WaveRun(Base):
    """One launch of one wave. `run_key` is unique: a wave is launched once, whoever tries."""

    __tablename__ = "wave_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_key: Mapped[str] = mapped_column(String(140), unique=True)
    campaign_id: Mapped[str] = mapped_column(String(64))
    wave_id: Mapped[str] = mapped_column(String(64))
    campaign_dir: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default=LAUNCHING)
    launched_by: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text, default=None)
    # The bounce breaker judges only messages claimed after this (an operator's resume).
    breaker_from: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    # True while the launch still writes the ledger of a run that already sends; until it is
    # done the run is never finished (waves/control.finish_if_done), however few rows wait.
    ledger_growing: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Delivery(Base):
    """The ledger: one row per (wave run, contact, channel) for a person's message, and one per
    (wave run, platform, audience, language, account) for a social post. It holds no e-mail
    address, so an erased contact leaves only counts behind (contact_id becomes NULL).

    `account` is what tells the two apart: NULL on a person's row, the platform account on a
    post. Both unique keys hold because SQL never finds two NULLs equal: person rows are
    unique by contact, post rows by account."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("run_id", "contact_id", "channel", name="uq_deliveries_run_contact_channel"),
        Index("uq_deliveries_post", "run_id", "channel", "audience_id", "language", "account", unique=True),
        Index("ix_deliveries_run_status_id", "run_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("wave_runs.id", ondelete="CASCADE"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    account: Mapped[str | None] = mapped_column(String(64), default=None)
    message_id: Mapped[str] = mapped_column(String(64))
    audience_id: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(10), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    claimed_by: Mapped[str | None] = mapped_column(String(120), default=None)
    not_before: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    enqueued_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    # A post's banner as the platform stored it (Mastodon's media id), kept from the upload on:
    # a retry after a crash attaches it again instead of uploading a second copy.
    media_id: Mapped[str | None] = mapped_column(String(64), default=None)


class SchedulerLease(Base):
    """The lock that makes one scheduler active; a standby takes it when the lease runs out."""

    __tablename__ = "scheduler_lease"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    holder: Mapped[str] = mapped_column(String(120))
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
