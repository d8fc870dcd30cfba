"""changes of the tables map pages show, announced to every process

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26

Every statement that inserts, updates, deletes or truncates rows of a table a map page shows
— through any API process, ``yizhan import`` or plain SQL — sends the table's name on the
``yizhan_tables`` channel when its transaction commits (one notice per table and transaction:
PostgreSQL folds repeated ones). Each API process listens and serves its cached map pages
until a notice says their data changed, without asking the database on every visit.
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

#: the tables map pages show (geo.db.feed.FOLLOWED_TABLES when this was written)
TABLES = (
    "service_region",
    "districts",
    "towns",
    "stations",
    "grids",
    "grid_members",
    "workplaces",
    "cases",
)


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION yizhan_table_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('yizhan_tables', TG_TABLE_NAME);
            RETURN NULL;
        END
        $$
        """
    )
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_table_changed "
            f"AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION yizhan_table_changed()"
        )


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TRIGGER {table}_table_changed ON {table}")
    op.execute("DROP FUNCTION yizhan_table_changed()")
