"""security: per-user session stamp, district date horizon and ratings cap, demo seed marker

Revision ID: 5e1f0c2a9b7d
Revises: c4e1d2a7b903
Create Date: 2026-11-27 17:00:00

"""

from alembic import op
import sqlalchemy as sa


revision = "5e1f0c2a9b7d"
down_revision = "c4e1d2a7b903"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        # Existing rows get "0": every session and token issued before this migration ends (they
        # carried the password hash's tail, not a stamp), and the next password change rotates it.
        batch_op.add_column(sa.Column("session_stamp", sa.String(length=32), server_default="0", nullable=False))
    with op.batch_alter_table("district", schema=None) as batch_op:
        batch_op.add_column(sa.Column("date_horizon_days", sa.Integer(), server_default="400", nullable=False))
        batch_op.add_column(sa.Column("ratings_per_code", sa.Integer(), server_default="60", nullable=False))
    op.create_table(
        "seed_marker",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(), server_default=sa.text("(CURRENT_TIMESTAMP)"), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_seed_marker")),
    )


def downgrade():
    op.drop_table("seed_marker")
    with op.batch_alter_table("district", schema=None) as batch_op:
        batch_op.drop_column("ratings_per_code")
        batch_op.drop_column("date_horizon_days")
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.drop_column("session_stamp")
