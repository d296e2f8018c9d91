"""Warnings graded by the gap and its trend (decision 0018): each warning keeps its trend since
last year and its gap relative to the threshold.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("warnings") as batch:
        batch.add_column(sa.Column("trend", sa.String(16), nullable=False, server_default=""))
        batch.add_column(sa.Column("gap", sa.Float, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("warnings") as batch:
        batch.drop_column("gap")
        batch.drop_column("trend")
