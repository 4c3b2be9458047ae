"""Alembic environment: runs revisions on the connection `Store` hands over, or on
an engine made from the configured URL (the `alembic` command line)."""
from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

config = context.config


def run_migrations(connection) -> None:
    context.configure(
        connection=connection,
        # SQLite cannot alter most of a table in place: batch operations copy it.
        render_as_batch=connection.dialect.name == "sqlite",
        transaction_per_migration=False,
        # PostgreSQL: the version table of this schema, not one further down the search path.
        version_table_schema=(connection.exec_driver_sql("SELECT current_schema()").scalar()
                              if connection.dialect.name == "postgresql" else None),
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run_migrations(connection)
else:
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.begin() as own:
        run_migrations(own)
    engine.dispose()
