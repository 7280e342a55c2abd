"""Bounces and complaints: the events that come back, the evidence a suppression keeps, and
the moment from which the bounce breaker judges a run, and an approval's reason for going
past a failing preflight (`doctor`).

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

from campaign.db import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("approvals") as batch:
        batch.add_column(sa.Column("doctor_override", sa.Text(), nullable=True))
    with op.batch_alter_table("wave_runs") as batch:
        batch.add_column(sa.Column("breaker_from", UTCDateTime(), nullable=True))
    with op.batch_alter_table("suppressions") as batch:
        batch.add_column(sa.Column("status_code", sa.String(32), nullable=True))
        batch.add_column(sa.Column("source", sa.String(16), nullable=True))
        batch.add_column(sa.Column("reported_at", UTCDateTime(), nullable=True))
    op.create_table(
        "bounce_events",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("email_hash", sa.String(64), nullable=False),
        sa.Column("delivery_id", BigId, sa.ForeignKey("deliveries.id", ondelete="SET NULL"), nullable=True),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("wave_runs.id", ondelete="SET NULL"), nullable=True),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("status_code", sa.String(32), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("reported_at", UTCDateTime(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("evidence", sa.String(64), nullable=False, unique=True),
    )
    op.create_index("ix_bounce_events_hash_kind", "bounce_events", ["email_hash", "kind", "reported_at"])
    op.create_index("ix_bounce_events_run_kind", "bounce_events", ["run_id", "kind"])
    op.create_index("ix_bounce_events_delivery_id", "bounce_events", ["delivery_id"])


def downgrade() -> None:
    with op.batch_alter_table("approvals") as batch:
        batch.drop_column("doctor_override")
    with op.batch_alter_table("wave_runs") as batch:
        batch.drop_column("breaker_from")
    op.drop_table("bounce_events")
    with op.batch_alter_table("suppressions") as batch:
        batch.drop_column("reported_at")
        batch.drop_column("source")
        batch.drop_column("status_code")
