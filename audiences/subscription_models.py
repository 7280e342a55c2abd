"""Tables of the people's side: consent records, scoped unsubscribes, interests, pending
double opt-in requests, the history of preference changes, and aggregate subscription events.

- ``consent_records``: one row per consent given (a confirmed subscription), with the SHA-256
  of the exact consent text shown, its version, the source (page, embed, api) and language.
  No IP address is kept: rate limiting holds only a short-lived keyed hash, outside the database.
- ``campaign_unsubscribes``: the unsubscribe of one campaign (scope ``campaign``). Unsubscribing
  from everything stays ``contacts.unsubscribed_at`` (scope ``global``).
- ``contact_interests``: the interests a person chose for a campaign; campaign.yaml maps each to
  tags, so a segment rule on a tag also matches the people who chose an interest with it.
- ``subscription_requests``: a double opt-in waiting for its link to be followed. It holds the
  address only until then: it is deleted on confirmation and on expiry.
- ``preference_changes``: what a person changed, when, from where (a person's history).
- ``subscription_events``: counts for the report, without any person: event, language, interest.
"""

from __future__ import annotations

import datetime as dt
from typing import cast

from sqlalchemy import ForeignKey, Index, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column

from audiences.models import EMAIL_MAX, NAME_MAX
from campaign.db import Base, UTCDateTime, utcnow

CAMPAIGN_MAX = 64
INTEREST_MAX = 64
SOURCES = ("page", "embed", "api")


class ConsentRecord(Base):
    """A consent a person gave by following a confirmation link."""

    __tablename__ = "consent_records"
    __table_args__ = (Index("ix_consent_records_contact_id", "contact_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    campaign_id: Mapped[str] = mapped_column(String(CAMPAIGN_MAX))
    text_hash: Mapped[str] = mapped_column(String(64))
    text_version: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(8))
    requested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class CampaignUnsubscribe(Base):
    """A person who left one campaign (and only that one)."""

    __tablename__ = "campaign_unsubscribes"

    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(String(CAMPAIGN_MAX), primary_key=True)
    unsubscribed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ContactInterest(Base):
    """An interest (campaign.yaml ``interests``) a person chose for a campaign."""

    __tablename__ = "contact_interests"

    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(String(CAMPAIGN_MAX), primary_key=True)
    interest_id: Mapped[str] = mapped_column(String(INTEREST_MAX), primary_key=True)


class SubscriptionRequest(Base):
    """A subscription waiting for its confirmation link; deleted when confirmed or expired."""

    __tablename__ = "subscription_requests"
    __table_args__ = (
        Index("ix_subscription_requests_expires_at", "expires_at"),
        Index("ix_subscription_requests_email_hash", "email_hash"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # The link names the row by this random nonce, never by the address or a guessable id.
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    campaign_id: Mapped[str] = mapped_column(String(CAMPAIGN_MAX))
    email: Mapped[str] = mapped_column(String(EMAIL_MAX))
    email_hash: Mapped[str] = mapped_column(String(64))
    first_name: Mapped[str | None] = mapped_column(String(NAME_MAX))
    language: Mapped[str] = mapped_column(String(8))
    interests: Mapped[str] = mapped_column(Text, default="")  # interest ids, comma-separated
    text_hash: Mapped[str] = mapped_column(String(64))
    text_version: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class PreferenceChange(Base):
    """One change a person made (or a confirmation): what, to what value, from where."""

    __tablename__ = "preference_changes"
    __table_args__ = (Index("ix_preference_changes_contact_id", "contact_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    campaign_id: Mapped[str] = mapped_column(String(CAMPAIGN_MAX))
    kind: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(500), default="")
    source: Mapped[str] = mapped_column(String(16))
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class SubscriptionEvent(Base):
    """An aggregate-only event for the report: no contact, no address."""

    __tablename__ = "subscription_events"
    __table_args__ = (Index("ix_subscription_events_campaign_event", "campaign_id", "event"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    campaign_id: Mapped[str] = mapped_column(String(CAMPAIGN_MAX))
    event: Mapped[str] = mapped_column(String(16))  # requested, confirmed, expired, changed
    language: Mapped[str] = mapped_column(String(8))
    interest: Mapped[str] = mapped_column(String(INTEREST_MAX), default="")
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


consent_records = cast(Table, ConsentRecord.__table__)
campaign_unsubscribes = cast(Table, CampaignUnsubscribe.__table__)
contact_interests = cast(Table, ContactInterest.__table__)
subscription_requests = cast(Table, SubscriptionRequest.__table__)
preference_changes = cast(Table, PreferenceChange.__table__)
subscription_events = cast(Table, SubscriptionEvent.__table__)
# The tables that name a contact: erasure deletes their rows (the foreign keys cascade as well).
PERSONAL_TABLES = (consent_records, campaign_unsubscribes, contact_interests, preference_changes)
