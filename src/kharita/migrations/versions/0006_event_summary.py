"""Event summaries: `events.summary` holds each event's record without its evidence spans
(`kharita.store.event_summary`), what event lists return unless asked for the evidence.
Events stored before get theirs from their records here.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from kharita.models import Event
from kharita.store import event_summary

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_BACKFILL_BATCH = 1000


def upgrade() -> None:
    op.add_column("events", sa.Column("summary", sa.Text()))
    _backfill(op.get_bind())
    op.execute(sa.text("UPDATE kharita_meta SET value = '6' WHERE key = 'schema_version'"))


def _backfill(conn) -> None:
    """Every stored event's summary, from its record, a batch of events at a time."""
    events = sa.table("events", sa.column("event_id"), sa.column("record"), sa.column("summary"))
    update = events.update().where(events.c.event_id == sa.bindparam("key")).values(summary=sa.bindparam("value"))
    last = ""
    while True:
        rows = conn.execute(sa.select(events.c.event_id, events.c.record).where(events.c.event_id > last)
                            .order_by(events.c.event_id).limit(_BACKFILL_BATCH)).all()
        if not rows:
            return
        conn.execute(update, [{"key": event_id, "value": event_summary(Event.model_validate_json(record))}
                              for event_id, record in rows])
        last = rows[-1].event_id


def downgrade() -> None:
    # In place (SQLite 3.35+ drops columns itself): a batch copy of the table would lose the
    # expression indexes (lower(country), ...) that SQLite's reflection cannot see.
    op.drop_column("events", "summary")
    op.execute(sa.text("UPDATE kharita_meta SET value = '5' WHERE key = 'schema_version'"))
