"""The ledger's (run, status) index also orders by id.

A chunk is a range of ledger ids; claiming and queueing read `run_id = ? AND status = ? AND id
BETWEEN ? AND ?`. With the id in the index that is one range scan. Without it, a planner that
has not yet seen a freshly built ledger (no ANALYZE) walks every pending row of the run for
each chunk, a cost that grows with the square of the wave.

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_deliveries_run_status_id", "deliveries", ["run_id", "status", "id"])
    op.drop_index("ix_deliveries_run_status", table_name="deliveries")


def downgrade() -> None:
    op.create_index("ix_deliveries_run_status", "deliveries", ["run_id", "status"])
    op.drop_index("ix_deliveries_run_status_id", table_name="deliveries")
