"""The PostGIS point of each event, on PostgreSQL databases where the extension is
(or can be) created: a generated `geom` column, so writers never fill it, with GiST
indexes for bounding boxes (geometry) and radii (geography).

Shared by revision 0002 and by `Store`, which adds the column when PostGIS was
installed after the database was upgraded.
"""
from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

_HAS_POINT_COLUMN = text(
    "SELECT 1 FROM information_schema.columns "
    "WHERE table_schema = current_schema() AND table_name = 'events' AND column_name = 'geom'")
_INSTALLED = text("SELECT 1 FROM pg_extension WHERE extname = 'postgis'")
_AVAILABLE = text("SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'")
_POINT_DDL = (
    ("ALTER TABLE events ADD COLUMN geom geometry(Point, 4326) GENERATED ALWAYS AS ("
     "CASE WHEN longitude IS NOT NULL AND latitude IS NOT NULL "
     "THEN ST_SetSRID(ST_MakePoint(longitude, latitude), 4326) END) STORED"),
    "CREATE INDEX ix_events_geom ON events USING gist (geom)",
    # ST_DWithin on geography (metres on the sphere) uses this one.
    "CREATE INDEX ix_events_geog ON events USING gist ((geom::geography))",
)


def has_point_column(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql" and conn.execute(_HAS_POINT_COLUMN).first() is not None


def ensure_point_column(conn: Connection, create_extension: bool = True) -> bool:
    """Add the point column when PostGIS is there (creating the extension, when asked
    to, if this role may); True when the events table has it afterwards. Never fails
    for want of PostGIS."""
    if conn.dialect.name != "postgresql":
        return False
    if has_point_column(conn):
        return True
    if conn.execute(_INSTALLED).first() is None:
        if not create_extension or conn.execute(_AVAILABLE).first() is None:
            return False
        try:
            with conn.begin_nested():  # a role that may not create it leaves the transaction usable
                conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
        except DBAPIError:
            return False
    for statement in _POINT_DDL:
        conn.execute(text(statement))
    return True


def drop_point_column(conn: Connection) -> None:
    if has_point_column(conn):
        conn.execute(text("ALTER TABLE events DROP COLUMN geom"))  # drops its indexes too
