"""Submissions under review (提交 → 审核 → 公示 → 确认): first, the 综合素质评价 写实记录 a pupil,
parent or teacher submits (issue 17, item 4).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "submissions",
        sa.Column("submission_id", sa.String(32), primary_key=True),
        sa.Column("topic", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("class_key", sa.String(64), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("submitted_by", sa.String(64), nullable=False),
        sa.Column("submitter_role", sa.String(32), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reviewed_by", sa.String(64), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("review_note", sa.String(500), nullable=True),
        sa.Column("public_from", sa.DateTime(timezone=True), nullable=True),
        sa.Column("public_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("objection_by", sa.String(64), nullable=True),
        sa.Column("objection_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("objection_note", sa.String(500), nullable=True),
        sa.Column("resolved_by", sa.String(64), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolve_note", sa.String(500), nullable=True),
        sa.Column("confirmed_by", sa.String(64), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("unit_school", sa.String(10), nullable=True),
        sa.Column("unit_region", sa.String(6), nullable=True),
    )
    op.create_index("ix_submissions_class_key", "submissions", ["class_key"])


def downgrade() -> None:
    op.drop_index("ix_submissions_class_key", table_name="submissions")
    op.drop_table("submissions")
