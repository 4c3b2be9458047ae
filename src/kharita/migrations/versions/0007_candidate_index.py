"""Merge candidates found in one index: `ix_events_candidates` replaces `ix_events_block`
(event type, date). It leads with the event type, the time precision and the date, so
the candidate query's branch for each time precision is one short range, and it holds
every other column the query tests (place, geo precision, sub-event type, date source,
toll), so only the rows it returns are read from the table. `ix_events_type` (event
type, sub-event type) goes too: no query used it (filters compare lower-cased types),
and every write paid for it.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_COLUMNS = ["event_type", "time_precision", "event_date", "latitude", "longitude", "geo_precision",
            "sub_event_type", "date_source", "fatalities"]


def upgrade() -> None:
    op.drop_index("ix_events_block", table_name="events")
    op.drop_index("ix_events_type", table_name="events")
    op.create_index("ix_events_candidates", "events", _COLUMNS)
    op.execute(sa.text("UPDATE kharita_meta SET value = '7' WHERE key = 'schema_version'"))


def downgrade() -> None:
    op.drop_index("ix_events_candidates", table_name="events")
    op.create_index("ix_events_type", "events", ["event_type", "sub_event_type"])
    op.create_index("ix_events_block", "events", ["event_type", "event_date"])
    op.execute(sa.text("UPDATE kharita_meta SET value = '6' WHERE key = 'schema_version'"))
