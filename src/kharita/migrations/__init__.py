"""Alembic migrations of the store's schema, for SQLite and PostgreSQL alike.

`Store` upgrades a database to the newest revision when it opens it; `kharita db
upgrade` does the same explicitly and `kharita db current` says where a database is.
Revisions live in `versions/`; `postgis.py` holds the PostGIS point column, which
only PostgreSQL databases with the extension get.
"""
