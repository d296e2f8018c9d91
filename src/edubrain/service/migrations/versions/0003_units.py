"""Every operational row carries the unit it belongs to (decision 0012): audit records,
export requests and steward decisions get `unit_school` and `unit_region`.

Export requests made for a region scope take that region; other rows written before this
revision keep no unit, and only a scope over the whole workspace sees them (the audit table
refuses UPDATE, so its old records cannot be given one).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_TABLES = ("audit_log", "export_requests", "steward_decisions")


def upgrade() -> None:
    for table in _TABLES:
        op.add_column(table, sa.Column("unit_school", sa.String(10), nullable=True))
        op.add_column(table, sa.Column("unit_region", sa.String(6), nullable=True))
    exports = sa.table(
        "export_requests",
        sa.column("scope_level", sa.String),
        sa.column("scope_key", sa.String),
        sa.column("unit_region", sa.String),
    )
    op.execute(
        exports.update()
        .where(exports.c.scope_level.in_(("province", "city", "county")))
        .values(unit_region=exports.c.scope_key)
    )


def downgrade() -> None:
    for table in reversed(_TABLES):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("unit_region")
            batch.drop_column("unit_school")
