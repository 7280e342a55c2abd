"""A run that is under way is `running`; `sending` is left to ledger rows.

Until now a wave run's state and a ledger row's status both said `sending`, one word with two
meanings. Existing runs are renamed in place; nothing else changes.

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE wave_runs SET state = 'running' WHERE state = 'sending'")


def downgrade() -> None:
    op.execute("UPDATE wave_runs SET state = 'sending' WHERE state = 'running'")
