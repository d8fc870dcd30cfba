"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25

Tables of the service network, plus a trigger that refuses points outside the service region.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

from geo.db.ddl import ddl
from geo.db.models import REGION_CHECKED_POINTS

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# A point must lie within the service region (or within its tolerance); with no region row
# yet (an empty database) every point is accepted. SQLSTATE 23514 = check_violation.
REGION_CHECK_FUNCTION = """
CREATE OR REPLACE FUNCTION yizhan_point_in_region() RETURNS trigger AS $$
DECLARE
    pt geometry;
    ok boolean;
BEGIN
    EXECUTE format('SELECT ($1).%I', TG_ARGV[0]) INTO pt USING NEW;
    IF pt IS NULL OR NOT EXISTS (SELECT 1 FROM service_region) THEN
        RETURN NEW;
    END IF;
    SELECT bool_or(ST_Covers(r.geom, pt)
                   OR ST_DWithin(r.geom::geography, pt::geography, r.tolerance_m))
      INTO ok FROM service_region r;
    IF NOT ok THEN
        RAISE EXCEPTION 'point % of % is outside the service region', ST_AsText(pt), TG_TABLE_NAME
            USING ERRCODE = 'check_violation', CONSTRAINT = 'point_in_region';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
"""


def upgrade() -> None:
    op.create_table(
        "datasets",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("licence", sa.Text(), nullable=False),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.Column("checksum", sa.String(length=64), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column(
            "loaded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_datasets")),
    )
    op.create_geospatial_table(
        "districts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("adcode", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("name_en", sa.String(length=80), nullable=True),
        sa.Column("area_km2", sa.Float(), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.CheckConstraint(
            "ST_IsValid(geom) AND NOT ST_IsEmpty(geom)", name=op.f("ck_districts_geom_valid")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_districts")),
        sa.UniqueConstraint("adcode", name=op.f("uq_districts_adcode")),
    )
    op.create_geospatial_index(
        "idx_districts_geom",
        "districts",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_table(
        "meta",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("value", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_meta")),
    )
    op.create_geospatial_table(
        "service_region",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("tolerance_m", sa.Float(), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.CheckConstraint(
            "ST_IsValid(geom) AND NOT ST_IsEmpty(geom)", name=op.f("ck_service_region_geom_valid")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_region")),
    )
    op.create_geospatial_index(
        "idx_service_region_geom",
        "service_region",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_geospatial_table(
        "towns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column("code9", sa.String(length=9), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("short_name", sa.String(length=50), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("pinyin", sa.String(length=80), nullable=True),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("population", sa.Integer(), nullable=False),
        sa.Column("population_source", sa.String(length=40), nullable=False),
        sa.Column("seat_source", sa.String(length=40), nullable=False),
        sa.Column("area_synthetic", sa.Boolean(), nullable=False),
        sa.Column(
            "seat",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column(
            "area",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.CheckConstraint(
            "ST_IsValid(area) AND NOT ST_IsEmpty(area)", name=op.f("ck_towns_area_valid")
        ),
        sa.CheckConstraint("population >= 0", name=op.f("ck_towns_population")),
        sa.ForeignKeyConstraint(
            ["district_id"], ["districts.id"], name=op.f("fk_towns_district_id_districts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_towns")),
        sa.UniqueConstraint("code", name=op.f("uq_towns_code")),
    )
    op.create_geospatial_index(
        "idx_towns_area",
        "towns",
        ["area"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_geospatial_index(
        "idx_towns_seat",
        "towns",
        ["seat"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_towns_district_id"), "towns", ["district_id"], unique=False)
    op.create_geospatial_table(
        "grids",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=30), nullable=False),
        sa.Column("town_id", sa.Integer(), nullable=False),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.CheckConstraint(
            "ST_IsValid(geom) AND NOT ST_IsEmpty(geom)", name=op.f("ck_grids_geom_valid")
        ),
        sa.ForeignKeyConstraint(["town_id"], ["towns.id"], name=op.f("fk_grids_town_id_towns")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grids")),
        sa.UniqueConstraint("code", name=op.f("uq_grids_code")),
    )
    op.create_geospatial_index(
        "idx_grids_geom",
        "grids",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_grids_town_id"), "grids", ["town_id"], unique=False)
    op.create_geospatial_table(
        "stations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("amenities", postgresql.ARRAY(sa.String(length=40)), nullable=False),
        sa.Column("opening_hours", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("town_id", sa.Integer(), nullable=True),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('active', 'closed', 'planned')", name=op.f("ck_stations_status")
        ),
        sa.CheckConstraint(
            "ST_IsValid(geom) AND NOT ST_IsEmpty(geom)", name=op.f("ck_stations_geom_valid")
        ),
        sa.ForeignKeyConstraint(["town_id"], ["towns.id"], name=op.f("fk_stations_town_id_towns")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stations")),
        sa.UniqueConstraint("external_id", name=op.f("uq_stations_external_id")),
    )
    op.create_geospatial_index(
        "idx_stations_geom",
        "stations",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_stations_kind"), "stations", ["kind"], unique=False)
    op.create_index(op.f("ix_stations_town_id"), "stations", ["town_id"], unique=False)
    op.create_geospatial_table(
        "workplaces",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("code", sa.String(length=30), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("sector", sa.String(length=60), nullable=True),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.Column("town_id", sa.Integer(), nullable=True),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.CheckConstraint(
            "ST_IsValid(geom) AND NOT ST_IsEmpty(geom)", name=op.f("ck_workplaces_geom_valid")
        ),
        sa.CheckConstraint("members >= 0", name=op.f("ck_workplaces_members")),
        sa.ForeignKeyConstraint(
            ["town_id"], ["towns.id"], name=op.f("fk_workplaces_town_id_towns")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workplaces")),
        sa.UniqueConstraint("code", name=op.f("uq_workplaces_code")),
    )
    op.create_geospatial_index(
        "idx_workplaces_geom",
        "workplaces",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_workplaces_town_id"), "workplaces", ["town_id"], unique=False)
    op.create_geospatial_table(
        "grid_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=30), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("town_id", sa.Integer(), nullable=False),
        sa.Column("grid_id", sa.Integer(), nullable=True),
        sa.Column("skills", postgresql.ARRAY(sa.String(length=40)), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("on_leave", sa.Boolean(), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.Column(
            "base",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "ST_IsValid(base) AND NOT ST_IsEmpty(base)", name=op.f("ck_grid_members_base_valid")
        ),
        sa.CheckConstraint("capacity >= 0", name=op.f("ck_grid_members_capacity")),
        sa.ForeignKeyConstraint(
            ["grid_id"], ["grids.id"], name=op.f("fk_grid_members_grid_id_grids")
        ),
        sa.ForeignKeyConstraint(
            ["town_id"], ["towns.id"], name=op.f("fk_grid_members_town_id_towns")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grid_members")),
        sa.UniqueConstraint("code", name=op.f("uq_grid_members_code")),
    )
    op.create_geospatial_index(
        "idx_grid_members_base",
        "grid_members",
        ["base"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_grid_members_grid_id"), "grid_members", ["grid_id"], unique=False)
    op.create_index(op.f("ix_grid_members_town_id"), "grid_members", ["town_id"], unique=False)

    op.create_index("ix_stations_amenities", "stations", ["amenities"], postgresql_using="gin")
    op.execute(REGION_CHECK_FUNCTION)
    for table, column in REGION_CHECKED_POINTS.items():
        op.execute(
            ddl(
                "CREATE TRIGGER {} BEFORE INSERT OR UPDATE OF {} ON {} "
                "FOR EACH ROW EXECUTE FUNCTION yizhan_point_in_region({})",
                f"{table}_{column}_in_region",
                column,
                table,
                literals=(column,),
            )
        )


def downgrade() -> None:
    for table, column in REGION_CHECKED_POINTS.items():
        op.execute(ddl("DROP TRIGGER IF EXISTS {} ON {}", f"{table}_{column}_in_region", table))
    op.execute("DROP FUNCTION IF EXISTS yizhan_point_in_region()")
    op.drop_index("ix_stations_amenities", table_name="stations")
    op.drop_index(op.f("ix_grid_members_town_id"), table_name="grid_members")
    op.drop_index(op.f("ix_grid_members_grid_id"), table_name="grid_members")
    op.drop_geospatial_index(
        "idx_grid_members_base",
        table_name="grid_members",
        postgresql_using="gist",
        column_name="base",
    )
    op.drop_geospatial_table("grid_members")
    op.drop_index(op.f("ix_workplaces_town_id"), table_name="workplaces")
    op.drop_geospatial_index(
        "idx_workplaces_geom", table_name="workplaces", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("workplaces")
    op.drop_index(op.f("ix_stations_town_id"), table_name="stations")
    op.drop_index(op.f("ix_stations_kind"), table_name="stations")
    op.drop_geospatial_index(
        "idx_stations_geom", table_name="stations", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("stations")
    op.drop_index(op.f("ix_grids_town_id"), table_name="grids")
    op.drop_geospatial_index(
        "idx_grids_geom", table_name="grids", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("grids")
    op.drop_index(op.f("ix_towns_district_id"), table_name="towns")
    op.drop_geospatial_index(
        "idx_towns_seat", table_name="towns", postgresql_using="gist", column_name="seat"
    )
    op.drop_geospatial_index(
        "idx_towns_area", table_name="towns", postgresql_using="gist", column_name="area"
    )
    op.drop_geospatial_table("towns")
    op.drop_geospatial_index(
        "idx_service_region_geom",
        table_name="service_region",
        postgresql_using="gist",
        column_name="geom",
    )
    op.drop_geospatial_table("service_region")
    op.drop_table("meta")
    op.drop_geospatial_index(
        "idx_districts_geom", table_name="districts", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("districts")
    op.drop_table("datasets")
