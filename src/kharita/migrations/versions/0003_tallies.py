"""Tallies: the running counts a report makes over a period ("more than a dozen medical
facilities attacked since February 1"), kept as claims of their report, not events.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tallies",
        sa.Column("report_id", sa.String(32), sa.ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),  # its order in the report
        sa.Column("since", sa.Date),
        sa.Column("record", sa.Text, nullable=False),
    )
    op.create_index("ix_tallies_since", "tallies", ["since"])
    op.execute(sa.text("UPDATE kharita_meta SET value = '3' WHERE key = 'schema_version'"))


def downgrade() -> None:
    op.drop_index("ix_tallies_since", table_name="tallies")
    op.drop_table("tallies")
    op.execute(sa.text("UPDATE kharita_meta SET value = '2' WHERE key = 'schema_version'"))
