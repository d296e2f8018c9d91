"""Referrals (转介): a staff member hands a pupil's case to the staff of one class — first, a
psychology teacher's referral of a screened pupil to the head teacher (issue 17).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "referrals",
        sa.Column("referral_id", sa.String(32), primary_key=True),
        sa.Column("topic", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("class_key", sa.String(64), nullable=False),
        sa.Column("note", sa.String(500), nullable=False),
        sa.Column("referred_by", sa.String(64), nullable=False),
        sa.Column("referred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_by", sa.String(64), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("close_note", sa.String(500), nullable=True),
        sa.Column("unit_school", sa.String(10), nullable=True),
        sa.Column("unit_region", sa.String(6), nullable=True),
    )
    op.create_index("ix_referrals_class_key", "referrals", ["class_key"])


def downgrade() -> None:
    op.drop_index("ix_referrals_class_key", table_name="referrals")
    op.drop_table("referrals")
