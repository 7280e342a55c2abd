"""Initiative publication requests with their audit trail, and click counts.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

from campaign.db import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "initiative_requests",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("campaign_id", sa.String(64), nullable=False),
        sa.Column("initiative_id", sa.String(64), nullable=False),
        sa.Column("organisation", sa.String(300), nullable=False),
        sa.Column("contact_email", sa.String(320)),
        sa.Column("title", sa.JSON, nullable=False),
        sa.Column("description", sa.JSON, nullable=False),
        sa.Column("ambition", sa.String(64), nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("submitted_at", UTCDateTime, nullable=False),
        sa.Column("decided_at", UTCDateTime),
        sa.Column("decided_by", sa.String(200)),
        sa.Column("reason", sa.Text),
        sa.UniqueConstraint("campaign_id", "initiative_id", name="uq_initiative_requests_campaign_id"),
    )
    op.create_index("ix_initiative_requests_status", "initiative_requests", ["campaign_id", "status"])
    op.create_table(
        "initiative_reviews",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "request_id",
            sa.Integer,
            sa.ForeignKey("initiative_requests.id", ondelete="CASCADE",
                          name="fk_initiative_reviews_request_id_initiative_requests"),
            nullable=False,
        ),
        sa.Column("event", sa.String(10), nullable=False),
        sa.Column("by", sa.String(300), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("reason", sa.Text),
    )
    op.create_index("ix_initiative_reviews_request_id", "initiative_reviews", ["request_id"])
    op.create_table(
        "click_counts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("campaign_id", sa.String(64), nullable=False),
        sa.Column("wave_id", sa.String(64), nullable=False),
        sa.Column("audience_id", sa.String(64), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("link_hash", sa.String(64), nullable=False),
        sa.Column("link", sa.Text, nullable=False),
        sa.Column("clicks", sa.Integer, nullable=False),
        sa.UniqueConstraint(
            "campaign_id", "wave_id", "audience_id", "language", "link_hash", name="uq_click_counts_campaign_id"
        ),
    )


def downgrade() -> None:
    for table in ("click_counts", "initiative_reviews", "initiative_requests"):
        op.drop_table(table)
