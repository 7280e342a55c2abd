"""Approvals, schedules, wave runs, the delivery ledger, the social outbox, the scheduler lease.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from campaign.db import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "approvals",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("campaign_id", sa.String(64), nullable=False),
        sa.Column("wave_id", sa.String(64), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("approved_by", sa.String(200), nullable=False),
        sa.Column("approved_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("campaign_id", "wave_id", "content_hash", "approved_by", name="uq_approvals_campaign_id"),
    )
    op.create_table(
        "wave_schedules",
        sa.Column("campaign_id", sa.String(64), primary_key=True),
        sa.Column("wave_id", sa.String(64), primary_key=True),
        sa.Column("campaign_dir", sa.Text, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("due_at", UTCDateTime, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_wave_schedules_due_at", "wave_schedules", ["due_at"])
    op.create_table(
        "wave_runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("run_key", sa.String(140), nullable=False),
        sa.Column("campaign_id", sa.String(64), nullable=False),
        sa.Column("wave_id", sa.String(64), nullable=False),
        sa.Column("campaign_dir", sa.Text, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("launched_by", sa.String(200), nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("run_key", name="uq_wave_runs_run_key"),
    )
    op.create_table(
        "deliveries",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column(
            "run_id",
            sa.Integer,
            sa.ForeignKey("wave_runs.id", ondelete="CASCADE", name="fk_deliveries_run_id_wave_runs"),
            nullable=False,
        ),
        sa.Column(
            "contact_id",
            sa.Integer,
            sa.ForeignKey("contacts.id", ondelete="SET NULL", name="fk_deliveries_contact_id_contacts"),
        ),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("message_id", sa.String(64), nullable=False),
        sa.Column("audience_id", sa.String(64), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("claimed_at", UTCDateTime),
        sa.Column("claimed_by", sa.String(120)),
        sa.Column("not_before", UTCDateTime),
        sa.Column("enqueued_at", UTCDateTime),
        sa.Column("sent_at", UTCDateTime),
        sa.Column("last_error", sa.Text),
        sa.UniqueConstraint("run_id", "contact_id", "channel", name="uq_deliveries_run_contact_channel"),
    )
    op.create_index("ix_deliveries_run_status", "deliveries", ["run_id", "status"])
    op.create_index("ix_deliveries_contact_id", "deliveries", ["contact_id"])
    op.create_table(
        "social_posts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "run_id",
            sa.Integer,
            sa.ForeignKey("wave_runs.id", ondelete="CASCADE", name="fk_social_posts_run_id_wave_runs"),
            nullable=False,
        ),
        sa.Column("audience_id", sa.String(64), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("link", sa.Text, nullable=False),
        sa.Column("alt_text", sa.Text),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("scheduled_at", UTCDateTime, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("published_at", UTCDateTime),
        sa.Column("last_error", sa.Text),
        sa.Column("file", sa.Text),
        sa.UniqueConstraint("run_id", "audience_id", "language", "platform", name="uq_social_posts_run_id"),
    )
    op.create_table(
        "scheduler_lease",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("holder", sa.String(120), nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    for table in ("scheduler_lease", "social_posts", "deliveries", "wave_runs", "wave_schedules", "approvals"):
        op.drop_table(table)
