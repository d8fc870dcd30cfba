"""the basemap's own layers: roads, water, parks, railways and places, drawn as vector tiles

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05

Every map draws streets from the network the platform routes on, with the extract's water,
parks, railways and place names, as vector tiles made by PostGIS (no tile leaves the
server). Geometries are kept in Web Mercator (EPSG:3857), the tiles' own grid, so a tile is
cut without a transform. ``basemap_source`` (one row) says which network file the layers
came from; its changes are announced on the change feed so every process renews its tiles.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "basemap_source",
        sa.Column("id", sa.SmallInteger, nullable=False),
        sa.Column("network_digest", sa.String(64), nullable=False),
        sa.Column("source_file", sa.String(255), nullable=False),
        sa.Column("synthetic", sa.Boolean, nullable=False),
        sa.Column(
            "loaded_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint("id = 1", name=op.f("ck_basemap_source_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_basemap_source")),
    )
    op.create_table(
        "basemap_roads",
        sa.Column("id", sa.BigInteger, sa.Identity(), nullable=False),
        sa.Column("class", sa.String(30), nullable=False),
        sa.Column("rank", sa.SmallInteger, nullable=False),
        sa.Column("name", sa.String(200)),
        sa.Column("oneway", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("bridge", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("tunnel", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("geom", Geometry("LINESTRING", srid=3857, spatial_index=False), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_basemap_roads")),
    )
    op.create_table(
        "basemap_features",
        sa.Column("id", sa.BigInteger, sa.Identity(), nullable=False),
        sa.Column("layer", sa.String(20), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200)),
        sa.Column("name_en", sa.String(200)),
        sa.Column("geom", Geometry("GEOMETRY", srid=3857, spatial_index=False), nullable=False),
        sa.CheckConstraint(
            "layer IN ('water', 'waterway', 'park', 'rail', 'place')",
            name=op.f("ck_basemap_features_layer"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_basemap_features")),
    )
    op.create_geospatial_index(
        "idx_basemap_roads_geom", "basemap_roads", ["geom"], postgresql_using="gist"
    )
    op.create_index(op.f("ix_basemap_roads_rank"), "basemap_roads", ["rank"])
    op.create_geospatial_index(
        "idx_basemap_features_geom", "basemap_features", ["geom"], postgresql_using="gist"
    )
    op.execute(
        "CREATE TRIGGER basemap_source_table_changed "
        "AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON basemap_source "
        "FOR EACH STATEMENT EXECUTE FUNCTION yizhan_table_changed()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER basemap_source_table_changed ON basemap_source")
    op.drop_table("basemap_features")
    op.drop_table("basemap_roads")
    op.drop_table("basemap_source")
