"""The schema of Kharita's first store (`kharita_meta.schema_version` 1).

Databases created before migrations existed hold exactly this; `Store` stamps them
with this revision and upgrades them from here.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    meta = op.create_table(
        "kharita_meta",
        sa.Column("key", sa.String(), primary_key=True),
        sa.Column("value", sa.String(), nullable=False),
    )
    op.bulk_insert(meta, [{"key": "schema_version", "value": "1"}])
    op.create_table(
        "reports",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("title", sa.Text()),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("url", sa.Text()),
        sa.Column("outlet", sa.Text()),
        sa.Column("language", sa.String(8)),
        sa.Column("published", sa.Date()),
        sa.Column("published_inferred", sa.Boolean(), nullable=False),
        sa.Column("origin", sa.Text()),
        sa.Column("ingested_at", sa.String(32), nullable=False),
    )
    op.create_table(
        "events",
        sa.Column("event_id", sa.String(40), primary_key=True),
        sa.Column("event_date", sa.Date(), nullable=False),
        sa.Column("time_precision", sa.Integer(), nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("sub_event_type", sa.String(64), nullable=False),
        sa.Column("actor1", sa.Text()),
        sa.Column("actor2", sa.Text()),
        sa.Column("assoc_actors", sa.Text()),
        sa.Column("country", sa.String(64)),
        sa.Column("admin1", sa.String(128)),
        sa.Column("location", sa.String(256)),
        sa.Column("latitude", sa.Float()),
        sa.Column("longitude", sa.Float()),
        sa.Column("geo_precision", sa.Integer()),
        sa.Column("side1", sa.String(32)),
        sa.Column("date_source", sa.String(16)),
        sa.Column("fatalities", sa.Integer(), nullable=False),
        sa.Column("health_attack", sa.Boolean(), nullable=False),
        sa.Column("record", sa.Text(), nullable=False),
    )
    op.create_index("ix_events_date", "events", ["event_date"])
    op.create_index("ix_events_block", "events", ["event_type", "event_date"])
    op.create_index("ix_events_type", "events", ["event_type", "sub_event_type"])
    op.create_index("ix_events_place", "events", ["latitude", "longitude"])
    op.create_table(
        "mentions",
        sa.Column("mention_id", sa.String(40), primary_key=True),
        sa.Column("report_id", sa.String(32), sa.ForeignKey("reports.id", ondelete="CASCADE"), nullable=False),
        sa.Column("event_id", sa.String(40), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("record", sa.Text(), nullable=False),
    )
    op.create_index("ix_mentions_event", "mentions", ["event_id"])
    op.create_index("ix_mentions_report", "mentions", ["report_id"])
    op.create_table(
        "cannot_link",
        sa.Column("mention_a", sa.String(40), primary_key=True),
        sa.Column("mention_b", sa.String(40), primary_key=True),
    )
    op.create_table(
        "control_claims",
        sa.Column("claim_id", sa.String(32), primary_key=True),
        sa.Column("report_id", sa.String(32), sa.ForeignKey("reports.id", ondelete="CASCADE"), nullable=False),
        sa.Column("place_key", sa.String(200), nullable=False),
        sa.Column("place", sa.String(256), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("record", sa.Text(), nullable=False),
    )
    op.create_index("ix_control_place", "control_claims", ["place_key"])
    op.create_index("ix_control_name", "control_claims", ["place"])
    op.create_table(
        "event_reports",
        sa.Column("event_id", sa.String(40), sa.ForeignKey("events.event_id", ondelete="CASCADE"), primary_key=True),
        sa.Column("report_id", sa.String(32), sa.ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True),
    )
    op.create_index("ix_event_reports_report", "event_reports", ["report_id"])


def downgrade() -> None:
    for table in ("event_reports", "control_claims", "cannot_link", "mentions", "events", "reports", "kharita_meta"):
        op.drop_table(table)
