"""A run may send while its launch still writes its ledger: `ledger_growing` says so, and a run is
never finished while it is set.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Every run launched before wrote its whole ledger before it left `launching`: false.
    with op.batch_alter_table("wave_runs") as batch:
        batch.add_column(sa.Column("ledger_growing", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("wave_runs") as batch:
        batch.drop_column("ledger_growing")
