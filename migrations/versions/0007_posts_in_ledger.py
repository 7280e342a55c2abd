"""Social posts are ledger rows: claimed, leased, swept and journaled like e-mails.

A post row has no contact and names its platform account; `uq_deliveries_post` keeps one row
per run x platform x audience x language x account (person rows, whose account is NULL, are
never equal to each other under it). The posts of `social_posts` move into the ledger with
the same idempotency key and their state (published -> sent), then the table goes.

Revision ID: 0007
Revises: 0006
"""

import hashlib

import sqlalchemy as sa
from alembic import op

from campaign.db import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

STATUS = {"published": "sent", "pending": "pending", "failed": "failed"}


def _key(run_id: int, audience_id: str, language: str, platform: str, content_hash: str) -> str:
    # The same key waves/post_rows.post_key makes (frozen here: a migration never changes).
    raw = f"{run_id}:{audience_id}:{language}:{platform}:{content_hash}"
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("account", sa.String(64), nullable=True))
    op.create_index(
        "uq_deliveries_post", "deliveries", ["run_id", "channel", "audience_id", "language", "account"], unique=True
    )
    conn = op.get_bind()
    posts = conn.execute(
        sa.text(
            "SELECT run_id, audience_id, language, platform, content_hash, scheduled_at, status, attempts,"
            " published_at, last_error FROM social_posts ORDER BY id"
        )
    ).all()
    insert = sa.text(
        "INSERT INTO deliveries (run_id, contact_id, channel, account, message_id, audience_id, language, status,"
        " attempts, not_before, sent_at, last_error)"
        " VALUES (:run_id, NULL, :channel, 'default', :message_id, :audience_id, :language, :status, :attempts,"
        " :not_before, :sent_at, :last_error)"
    )
    for post in posts:
        conn.execute(
            insert,
            {
                "run_id": post.run_id,
                "channel": post.platform,
                "message_id": _key(post.run_id, post.audience_id, post.language, post.platform, post.content_hash),
                "audience_id": post.audience_id,
                "language": post.language,
                "status": STATUS.get(post.status, "pending"),
                "attempts": post.attempts,
                "not_before": post.scheduled_at,
                "sent_at": post.published_at,
                "last_error": post.last_error,
            },
        )
    op.drop_table("social_posts")


def downgrade() -> None:
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
    # The ledger keeps no post texts (they are rendered from the campaign files when sent), so
    # social_posts cannot be refilled: a downgrade drops the post rows and leaves it empty.
    op.execute("DELETE FROM deliveries WHERE account IS NOT NULL")
    op.drop_index("uq_deliveries_post", table_name="deliveries")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("account")
