"""A post's uploaded media id on its ledger row.

A platform that takes the banner as a separate upload (Mastodon) hands back a media id before
the post itself is published. Kept on the row right after the upload, it survives a worker that
dies between the two: the retry attaches the same upload instead of uploading the banner again.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("media_id", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("media_id")
