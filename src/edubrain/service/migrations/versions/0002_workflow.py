"""The warning workflow and the steward's decisions move from the warehouse to this store, so
that the service can open the warehouse read-only (and serve from several processes).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "warnings",
        sa.Column("warning_id", sa.String(16), primary_key=True),
        sa.Column("condition_key", sa.String(300), nullable=False),
        sa.Column("rule", sa.String(16), nullable=False),
        sa.Column("indicator_id", sa.String(64), nullable=False),
        sa.Column("grain", sa.String(32), nullable=False),
        sa.Column("unit_code", sa.String(32), nullable=False),
        sa.Column("unit_name", sa.String(128), nullable=False),
        sa.Column("stage", sa.String(32), nullable=False),
        sa.Column("school_year", sa.String(16), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("reference", sa.Float, nullable=False),
        sa.Column("opened_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("times_opened", sa.Integer, nullable=False),
        sa.Column("acknowledged_by", sa.String(64), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime, nullable=True),
        sa.Column("acknowledge_note", sa.String(500), nullable=True),
        sa.Column("resolved_by", sa.String(64), nullable=True),
        sa.Column("resolved_at", sa.DateTime, nullable=True),
        sa.Column("resolve_note", sa.String(500), nullable=True),
    )
    op.create_table(
        "warning_events",
        sa.Column("event_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("warning_id", sa.String(16), nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("event", sa.String(16), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("who", sa.String(64), nullable=False),
        sa.Column("note", sa.String(500), nullable=False),
        sa.Column("value", sa.Float, nullable=True),
    )
    op.create_index("ix_warning_events_warning_id", "warning_events", ["warning_id"])
    op.create_table(
        "steward_decisions",
        sa.Column("decision_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("mention_key_l", sa.String(200), nullable=False),
        sa.Column("mention_key_r", sa.String(200), nullable=False),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("decided_by", sa.String(64), nullable=False),
        sa.Column("decided_at", sa.DateTime, nullable=False),
        sa.Column("note", sa.String(500), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("steward_decisions")
    op.drop_index("ix_warning_events_warning_id", "warning_events")
    op.drop_table("warning_events")
    op.drop_table("warnings")
