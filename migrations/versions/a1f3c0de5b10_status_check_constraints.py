"""status CHECK constraints: orders, sessions and offers only ever hold a status of their life cycle

Revision ID: a1f3c0de5b10
Revises: ec79c52ae676
Create Date: 2026-11-27 17:30:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "a1f3c0de5b10"
down_revision = "ec79c52ae676"
branch_labels = None
depends_on = None

# Spelled out rather than imported: a migration keeps meaning what it meant when it was written.
STATUSES = {
    "teaching_order": ("open", "partly_booked", "booked", "completed", "cancelled", "expired"),
    "lesson_session": ("open", "offered", "booked", "held", "no_show", "cancelled", "expired"),
    "offer": ("open", "accepted", "declined", "expired", "taken", "cancelled"),
}


def upgrade():
    for table, statuses in STATUSES.items():
        with op.batch_alter_table(table) as batch:
            batch.create_check_constraint("status", "status IN (" + ", ".join(f"'{s}'" for s in statuses) + ")")


def downgrade():
    for table in STATUSES:
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint("status", type_="check")  # the naming convention makes it ck_<table>_status
