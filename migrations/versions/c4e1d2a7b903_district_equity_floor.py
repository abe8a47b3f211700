"""district equity floor: how far behind the district any kecamatan may fall in the weekly plan

Revision ID: c4e1d2a7b903
Revises: 5b7e2c91d0a4
Create Date: 2026-11-28 09:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "c4e1d2a7b903"
down_revision = "5b7e2c91d0a4"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("district") as batch:
        batch.add_column(sa.Column("equity_floor", sa.Float(), nullable=True, server_default="0.8"))


def downgrade():
    with op.batch_alter_table("district") as batch:
        batch.drop_column("equity_floor")
