"""Tables for contacts and consent: who we hold, what we know of them, and who must stay out.

Tags and custom attributes live in side tables (``contact_tags``, ``contact_attributes``) rather
than in a JSON column: segment rules then compile to plain ``EXISTS`` subqueries that behave
the same on SQLite and PostgreSQL and use ordinary indexes.

Erasure deletes the ``contacts`` row (its tags and attributes go with it, ``ON DELETE
CASCADE``) and keeps only a keyed hash of the address in ``suppressions``. Anything that
refers to a contact (the delivery ledger) must therefore hold the contact's id, never the
address, and let the id become NULL when the person is erased.
"""

from __future__ import annotations

import datetime as dt
from typing import cast

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaign.db import Base, UTCDateTime, utcnow

EMAIL_MAX = 320  # RFC 5321: 64 local + @ + 255 domain
NAME_MAX = 200
ORGANISATION_NAME_MAX = 300
TAG_MAX = 64
KIND_MAX = 64
ATTRIBUTE_NAME_MAX = 63
ATTRIBUTE_VALUE_MAX = 500  # keeps (name, value) inside PostgreSQL's btree row limit


class Contact(Base):
    """One person we may message. ``email`` is normalised (see audiences.normalise)."""

    __tablename__ = "contacts"
    # Never reuse the id of an erased contact: old unsubscribe links must not reach a new person.
    __table_args__ = (
        Index("ix_contacts_birth_year", "birth_year"),
        Index("ix_contacts_organisation_kind", "organisation_kind"),
        Index("ix_contacts_region", "region"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(EMAIL_MAX), unique=True)
    # HMAC of the normalised address: lets SQL match the suppression list without the address.
    email_hash: Mapped[str] = mapped_column(String(64), unique=True)
    first_name: Mapped[str | None] = mapped_column(String(NAME_MAX))
    language: Mapped[str | None] = mapped_column(String(8))
    birth_year: Mapped[int | None] = mapped_column(Integer)
    region: Mapped[str | None] = mapped_column(String(KIND_MAX))
    organisation_kind: Mapped[str | None] = mapped_column(String(KIND_MAX))
    organisation_name: Mapped[str | None] = mapped_column(String(ORGANISATION_NAME_MAX))
    organisation_founded: Mapped[dt.date | None] = mapped_column(Date)
    consent_source: Mapped[str | None] = mapped_column(String(NAME_MAX))
    consent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    unsubscribed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # No mail before this date (the preference centre's pause); NULL: not paused.
    paused_until: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    tags: Mapped[list[ContactTag]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="ContactTag.tag"
    )
    attributes: Mapped[list[ContactAttribute]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="ContactAttribute.name"
    )


class ContactTag(Base):
    """A tag on a contact (stored lower-case), e.g. ``women``."""

    __tablename__ = "contact_tags"
    __table_args__ = (Index("ix_contact_tags_tag_contact", "tag", "contact_id"),)

    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(TAG_MAX), primary_key=True)


class ContactAttribute(Base):
    """A free custom attribute from an extra CSV column, usable in segment rules."""

    __tablename__ = "contact_attributes"
    __table_args__ = (Index("ix_contact_attributes_name_value", "name", "value"),)

    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(ATTRIBUTE_NAME_MAX), primary_key=True)
    value: Mapped[str] = mapped_column(String(ATTRIBUTE_VALUE_MAX))


class Suppression(Base):
    """An address that must never become a messageable contact again, kept only as a keyed hash.

    `reason`: erased, hard-bounce, soft-bounces or complaint. A bounce or complaint keeps its
    evidence: the DSN status code (or the complaint's feedback type, or the relay's reply code),
    where the report came from, and the report's own date. Erasure keeps the first reason, so
    an erased address that bounced still shows why it is never written to."""

    __tablename__ = "suppressions"

    email_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    reason: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    status_code: Mapped[str | None] = mapped_column(String(32), default=None)
    source: Mapped[str | None] = mapped_column(String(16), default=None)
    reported_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)


contacts = cast(Table, Contact.__table__)
contact_tags = cast(Table, ContactTag.__table__)
contact_attributes = cast(Table, ContactAttribute.__table__)
suppressions = cast(Table, Suppression.__table__)
