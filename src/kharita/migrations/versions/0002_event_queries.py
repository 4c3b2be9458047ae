"""Richer event queries: side2, admin2 and notes as columns, seek indexes for
keyset pagination, case-insensitive look-up indexes, free-length text on
PostgreSQL, and the PostGIS point where the extension is available.

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-02
"""
from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

from kharita.migrations.postgis import drop_point_column, ensure_point_column

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_BACKFILL_BATCH = 1000
# Bounded VARCHARs that hold text from reports (places, a page's language tag):
# SQLite never enforced their lengths, PostgreSQL would reject a long name.
_FREE_TEXT = {"reports": ["language"], "events": ["country", "admin1", "location"],
              "control_claims": ["place_key", "place"]}
_LOOKUP_INDEXES = {  # name -> expression: the filters compare lower(column) with the lowered value
    "ix_events_country": "lower(country)",
    "ix_events_admin1": "lower(admin1)",
    "ix_events_side1": "lower(side1)",
    "ix_events_side2": "lower(side2)",
}


def upgrade() -> None:
    conn = op.get_bind()
    op.add_column("events", sa.Column("side2", sa.String(32)))
    op.add_column("events", sa.Column("admin2", sa.Text()))
    op.add_column("events", sa.Column("notes", sa.Text()))
    _backfill(conn)

    # Keyset pagination seeks on (sort key, event_id): the old date index only had the date.
    op.drop_index("ix_events_date", table_name="events")
    op.create_index("ix_events_date", "events", ["event_date", "event_id"])
    op.create_index("ix_events_fatalities", "events", ["fatalities", "event_id"])
    for name, expression in _LOOKUP_INDEXES.items():
        op.create_index(name, "events", [sa.text(expression)])

    if conn.dialect.name == "postgresql":
        for table, columns in _FREE_TEXT.items():
            for column in columns:
                op.alter_column(table, column, type_=sa.Text())
        ensure_point_column(conn)
    op.execute(sa.text("UPDATE kharita_meta SET value = '2' WHERE key = 'schema_version'"))


def _backfill(conn) -> None:
    """The new columns of events stored before, from their JSON records."""
    events = sa.table("events", sa.column("event_id"), sa.column("record"), sa.column("side2"),
                      sa.column("admin2"), sa.column("notes"))
    update = events.update().where(events.c.event_id == sa.bindparam("key")).values(
        side2=sa.bindparam("side2"), admin2=sa.bindparam("admin2"), notes=sa.bindparam("notes"))
    last = ""
    while True:
        rows = conn.execute(sa.select(events.c.event_id, events.c.record).where(events.c.event_id > last)
                            .order_by(events.c.event_id).limit(_BACKFILL_BATCH)).all()
        if not rows:
            return
        values = []
        for event_id, record in rows:
            data = json.loads(record)
            values.append({"key": event_id, "side2": data.get("side2", ""), "admin2": data.get("admin2", ""),
                           "notes": data.get("notes", "")})
        conn.execute(update, values)
        last = rows[-1].event_id


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "postgresql":
        drop_point_column(conn)
        for table, columns in _FREE_TEXT.items():
            for column in columns:
                length = {"language": 8, "country": 64, "admin1": 128, "place_key": 200}.get(column, 256)
                op.alter_column(table, column, type_=sa.String(length))
    for name in (*_LOOKUP_INDEXES, "ix_events_fatalities", "ix_events_date"):
        op.drop_index(name, table_name="events")
    op.create_index("ix_events_date", "events", ["event_date"])
    with op.batch_alter_table("events") as batch:
        for column in ("notes", "admin2", "side2"):
            batch.drop_column(column)
    op.execute(sa.text("UPDATE kharita_meta SET value = '1' WHERE key = 'schema_version'"))
