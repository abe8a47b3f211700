"""matching runs in the job queue: kind, phase, error, cancel request, what-if params and result

Revision ID: 5b7e2c91d0a4
Revises: b7d2c41a9e10
Create Date: 2026-11-26 10:00:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "5b7e2c91d0a4"
down_revision = "b7d2c41a9e10"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("matching_run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=10), server_default="plan", nullable=False))
        batch_op.add_column(sa.Column("phase", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("error", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("cancel_requested", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("params", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("result", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("worker", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("started_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("finished_at", sa.DateTime(), nullable=True))
    # Runs that a web process's thread left queued or running (before the job queue) never end: end them.
    op.execute(
        "UPDATE matching_run SET status = 'failed', error = 'ended by the upgrade to the job queue' "
        "WHERE status IN ('queued', 'running')"
    )


def downgrade():
    with op.batch_alter_table("matching_run", schema=None) as batch_op:
        batch_op.drop_column("finished_at")
        batch_op.drop_column("started_at")
        batch_op.drop_column("worker")
        batch_op.drop_column("result")
        batch_op.drop_column("params")
        batch_op.drop_column("cancel_requested")
        batch_op.drop_column("error")
        batch_op.drop_column("phase")
        batch_op.drop_column("kind")
