"""station changes announced to every process

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26

Every insert, update or delete of a station — through any API process, ``yizhan import`` or
plain SQL — sends the station's id on the ``yizhan_stations`` channel (``pg_notify``, sent
when the transaction commits). Each API process listens and brings its routing engine in step
within a second, without a restart.
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION yizhan_station_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('yizhan_stations', COALESCE(NEW.id, OLD.id)::text);
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER stations_changed AFTER INSERT OR UPDATE OR DELETE ON stations "
        "FOR EACH ROW EXECUTE FUNCTION yizhan_station_changed()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER stations_changed ON stations")
    op.execute("DROP FUNCTION yizhan_station_changed()")
