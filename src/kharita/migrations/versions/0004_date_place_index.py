"""Event pages filtered by a box and a date range (the map's query) checked in the date
index: `ix_events_date` holds latitude and longitude after (event_date, event_id), so a
page scan tests each event's place in the index and reads only the rows it returns,
instead of every row of the date range. It still orders and seeks date-sorted pages.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_events_date", table_name="events")
    op.create_index("ix_events_date", "events", ["event_date", "event_id", "latitude", "longitude"])
    op.execute(sa.text("UPDATE kharita_meta SET value = '4' WHERE key = 'schema_version'"))


def downgrade() -> None:
    op.drop_index("ix_events_date", table_name="events")
    op.create_index("ix_events_date", "events", ["event_date", "event_id"])
    op.execute(sa.text("UPDATE kharita_meta SET value = '3' WHERE key = 'schema_version'"))
