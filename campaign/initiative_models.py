"""Tables for initiative publication requests and the audit trail of their review.

An organisation asks for its project to be published; the team approves it only when it fits
one of the campaign's ambitions. The request holds the contact address only until the decision
(it is needed to answer, not after), and every step leaves a row in ``initiative_reviews``:
who, when, what and why.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from campaign.db import Base, UTCDateTime, utcnow

PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"
REQUEST_STATES = (PENDING, APPROVED, REJECTED)
SUBMITTED = "submitted"  # the first audit event of every request


class InitiativeRequest(Base):
    """One organisation's request to have a project published as an initiative of a campaign."""

    __tablename__ = "initiative_requests"
    __table_args__ = (
        UniqueConstraint("campaign_id", "initiative_id"),
        Index("ix_initiative_requests_status", "campaign_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[str] = mapped_column(String(64))
    initiative_id: Mapped[str] = mapped_column(String(64))
    organisation: Mapped[str] = mapped_column(String(300))
    contact_email: Mapped[str | None] = mapped_column(String(320), default=None)
    title: Mapped[dict[str, Any]] = mapped_column(JSON)
    description: Mapped[dict[str, Any]] = mapped_column(JSON)
    ambition: Mapped[str] = mapped_column(String(64))
    url: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default=PENDING)
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    decided_by: Mapped[str | None] = mapped_column(String(200), default=None)
    reason: Mapped[str | None] = mapped_column(Text, default=None)


class InitiativeReview(Base):
    """The audit trail: one row per event of a request (submitted, approved, rejected)."""

    __tablename__ = "initiative_reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("initiative_requests.id", ondelete="CASCADE"), index=True)
    event: Mapped[str] = mapped_column(String(10))
    by: Mapped[str] = mapped_column(String(300))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    reason: Mapped[str | None] = mapped_column(Text, default=None)
