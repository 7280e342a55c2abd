"""Subscriptions and preferences: consent records, unsubscribe scope (per campaign; global stays
contacts.unsubscribed_at), interests, pending double opt-in requests, preference history, a
pause-until date, and aggregate subscription events for the report.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

from campaign.db import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _contact(table: str) -> sa.Column:
    return sa.Column(
        "contact_id",
        sa.Integer(),
        sa.ForeignKey("contacts.id", ondelete="CASCADE", name=f"fk_{table}_contact_id_contacts"),
        nullable=False,
    )


def upgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(sa.Column("paused_until", sa.Date(), nullable=True))
    op.create_table(
        "consent_records",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        _contact("consent_records"),
        sa.Column("campaign_id", sa.String(64), nullable=False),
        sa.Column("text_hash", sa.String(64), nullable=False),
        sa.Column("text_version", sa.String(32), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("requested_at", UTCDateTime(), nullable=False),
        sa.Column("confirmed_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_consent_records_contact_id", "consent_records", ["contact_id"])
    op.create_table(
        "campaign_unsubscribes",
        _contact("campaign_unsubscribes"),
        sa.Column("campaign_id", sa.String(64), nullable=False),
        sa.Column("unsubscribed_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("contact_id", "campaign_id", name="pk_campaign_unsubscribes"),
    )
    op.create_table(
        "contact_interests",
        _contact("contact_interests"),
        sa.Column("campaign_id", sa.String(64), nullable=False),
        sa.Column("interest_id", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("contact_id", "campaign_id", "interest_id", name="pk_contact_interests"),
    )
    op.create_table(
        "subscription_requests",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("nonce", sa.String(64), nullable=False),
        sa.Column("campaign_id", sa.String(64), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("email_hash", sa.String(64), nullable=False),
        sa.Column("first_name", sa.String(200), nullable=True),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("interests", sa.Text(), nullable=False),
        sa.Column("text_hash", sa.String(64), nullable=False),
        sa.Column("text_version", sa.String(32), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("nonce", name="uq_subscription_requests_nonce"),
    )
    op.create_index("ix_subscription_requests_expires_at", "subscription_requests", ["expires_at"])
    op.create_index("ix_subscription_requests_email_hash", "subscription_requests", ["email_hash"])
    op.create_table(
        "preference_changes",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        _contact("preference_changes"),
        sa.Column("campaign_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("value", sa.String(500), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("changed_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_preference_changes_contact_id", "preference_changes", ["contact_id"])
    op.create_table(
        "subscription_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("campaign_id", sa.String(64), nullable=False),
        sa.Column("event", sa.String(16), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("interest", sa.String(64), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_subscription_events_campaign_event", "subscription_events", ["campaign_id", "event"])


def downgrade() -> None:
    op.drop_table("subscription_events")
    op.drop_table("preference_changes")
    op.drop_table("subscription_requests")
    op.drop_table("contact_interests")
    op.drop_table("campaign_unsubscribes")
    op.drop_table("consent_records")
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("paused_until")
