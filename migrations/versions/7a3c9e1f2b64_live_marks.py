"""live marks: a numbered change per phone room, so a reconnect that missed nothing fetches nothing

Revision ID: 7a3c9e1f2b64
Revises: 5e1f0c2a9b7d
Create Date: 2026-11-28 11:00:00

"""

import secrets

from alembic import op
import sqlalchemy as sa


revision = "7a3c9e1f2b64"
down_revision = "5e1f0c2a9b7d"
branch_labels = None
depends_on = None


def upgrade():
    table = op.create_table(
        "live_mark",
        sa.Column("room", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("room", name=op.f("pk_live_mark")),
    )
    # This database's name for its numbers: a phone's mark from another database (a restore, a new
    # demo district) never matches, even where the numbers happen to.
    op.bulk_insert(table, [{"room": "~epoch", "seq": secrets.randbelow(2**53)}])


def downgrade():
    op.drop_table("live_mark")
