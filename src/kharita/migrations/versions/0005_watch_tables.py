"""`kharita watch`'s bookkeeping under migrations: what it has seen of each feed (validators,
entries) and each folder (files, sizes, digests). Until now `kharita watch` created these
tables itself on first use, so a database may hold them already: they are created only
where missing.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    present = set(sa.inspect(op.get_bind()).get_table_names())
    if "watch_feeds" not in present:
        op.create_table(
            "watch_feeds",
            sa.Column("url", sa.Text, primary_key=True),
            sa.Column("etag", sa.Text),
            sa.Column("last_modified", sa.Text),
            sa.Column("checked_at", sa.String(32), nullable=False),
        )
    if "watch_items" not in present:
        op.create_table(
            "watch_items",
            sa.Column("source", sa.Text, primary_key=True),
            sa.Column("item_key", sa.Text, primary_key=True),
            sa.Column("digest", sa.String(64), nullable=False),
            sa.Column("report_id", sa.String(32)),
            sa.Column("rejected", sa.Text),
            sa.Column("seen_at", sa.String(32), nullable=False),
        )
    if "watch_files" not in present:
        op.create_table(
            "watch_files",
            sa.Column("path", sa.Text, primary_key=True),
            sa.Column("folder", sa.Text, nullable=False),
            sa.Column("size", sa.BigInteger, nullable=False),
            sa.Column("mtime_ns", sa.BigInteger, nullable=False),
            sa.Column("sha256", sa.String(64)),
            sa.Column("reports", sa.Integer, nullable=False),
            sa.Column("rejected", sa.Text),
            sa.Column("seen_at", sa.String(32), nullable=False),
        )
        op.create_index("ix_watch_files_folder", "watch_files", ["folder"])
    op.execute(sa.text("UPDATE kharita_meta SET value = '5' WHERE key = 'schema_version'"))


def downgrade() -> None:
    op.drop_index("ix_watch_files_folder", table_name="watch_files")
    for table in ("watch_files", "watch_items", "watch_feeds"):
        op.drop_table(table)
    op.execute(sa.text("UPDATE kharita_meta SET value = '4' WHERE key = 'schema_version'"))
