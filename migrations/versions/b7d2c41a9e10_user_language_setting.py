"""user language setting (pages: Indonesian first, English on request)

Revision ID: b7d2c41a9e10
Revises: a1f3c0de5b10
Create Date: 2026-11-27 16:45:00

"""

import sqlalchemy as sa
from alembic import op

revision = "b7d2c41a9e10"
down_revision = "a1f3c0de5b10"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=5), nullable=True))


def downgrade():
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.drop_column("language")
