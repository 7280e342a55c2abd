"""The bounce and complaint events: one row per report about one message.

An event names the address only by its keyed hash (as the suppression list does), so erasure
leaves it behind without the address, and the ledger row it came back for (NULL once that row
is gone). `evidence` is unique: the same report arriving twice (by IMAP and by a webhook, or a
poller that ran twice) counts once.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import cast

from sqlalchemy import ForeignKey, Index, String, Table
from sqlalchemy.orm import Mapped, mapped_column

from campaign.db import Base, UTCDateTime, utcnow
from waves.models import BigId


class Kind(StrEnum):
    HARD = "hard"  # the address does not exist or refuses us for good
    SOFT = "soft"  # full mailbox, greylisted, down for now
    COMPLAINT = "complaint"  # the person pressed "spam" (an ARF report)


class BounceEvent(Base):
    __tablename__ = "bounce_events"
    __table_args__ = (
        Index("ix_bounce_events_hash_kind", "email_hash", "kind", "reported_at"),
        Index("ix_bounce_events_run_kind", "run_id", "kind"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    email_hash: Mapped[str] = mapped_column(String(64))
    delivery_id: Mapped[int | None] = mapped_column(ForeignKey("deliveries.id", ondelete="SET NULL"), index=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("wave_runs.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(10))
    status_code: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(16))
    reported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    evidence: Mapped[str] = mapped_column(String(64), unique=True)


bounce_events = cast(Table, BounceEvent.__table__)
