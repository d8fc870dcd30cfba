"""The basemap's tables: loading a network's layers, and cutting Mapbox Vector Tiles from them.

A tile is one statement: each layer's rows inside the tile (with a margin, so lines and
labels continue across the edge) are generalised for the zoom — fewer road classes and
simplified lines the further out, small water and parks dropped — and encoded by PostGIS's
``ST_AsMVT``. Roads, water, parks, railways and OSM place names come from the basemap tables
(EPSG:3857); district and town outlines and names from the region's own tables, so the map
always shows the areas the analyses use.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import shapely
from sqlalchemy import Connection, delete, insert, select, text

from geo.db import models as m

#: a tile's coordinate units per side (the MVT default)
EXTENT = 4096
#: units of margin around a tile, so lines and labels continue across its edges
BUFFER = 64
#: the full width of the Web Mercator square, in metres
WORLD_M = 40075016.685578488


@dataclass(frozen=True)
class ZoomRules:
    """What a tile at one zoom holds: road ranks, simplification and the smallest area."""

    max_rank: int
    tolerance_m: float
    min_area_m2: float
    road_names: bool
    parks: bool
    rails: bool
    small_waterways: bool
    town_outlines: bool
    place_names: bool


def zoom_rules(z: int) -> ZoomRules:
    """The generalisation of zoom ``z``: a z10 tile of the whole city stays small."""
    ranks = {8: 1, 9: 2, 10: 3, 11: 3, 12: 4, 13: 5, 14: 6}
    unit = WORLD_M / (2**z) / EXTENT  # metres per tile unit
    return ZoomRules(
        max_rank=ranks.get(z, 1 if z < 8 else 7),
        tolerance_m=unit * 2 if z < 15 else 0.0,
        min_area_m2=(unit * 16) ** 2,
        road_names=z >= 13,
        parks=z >= 10,
        rails=z >= 9,
        small_waterways=z >= 13,
        town_outlines=z >= 9,
        place_names=z >= 11,
    )


def loaded_digest(conn: Connection) -> str | None:
    """The digest of the network file the basemap was drawn from (None: never loaded)."""
    return conn.execute(select(m.BasemapSource.network_digest)).scalar_one_or_none()


def loaded_source(conn: Connection) -> tuple[str, bool] | None:
    """The network file the basemap was drawn from and whether it is generated (None: none)."""
    row = conn.execute(select(m.BasemapSource.source_file, m.BasemapSource.synthetic)).one_or_none()
    return None if row is None else (row[0], row[1])


def _ewkb(frame: gpd.GeoDataFrame) -> list[str]:
    geoms = shapely.set_srid(frame.to_crs(3857).geometry.to_numpy(), 3857)
    return list(shapely.to_wkb(geoms, hex=True, include_srid=True))


def replace_basemap(
    conn: Connection,
    *,
    digest: str,
    source_file: str,
    synthetic: bool,
    roads: gpd.GeoDataFrame,
    features: gpd.GeoDataFrame,
) -> None:
    """Put a network's layers in place of the previous ones, in the caller's transaction.

    Rows are streamed with ``COPY`` (a city's roads are hundreds of thousands); the change of
    ``basemap_source`` is announced to every process on commit (the change feed).
    """
    conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('yizhan basemap'))"))
    if loaded_digest(conn) == digest:  # another process loaded the same while this one waited
        return
    conn.execute(delete(m.BasemapRoad))
    conn.execute(delete(m.BasemapFeature))
    conn.execute(delete(m.BasemapSource))
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(
        "COPY basemap_roads (class, rank, name, oneway, bridge, tunnel, geom) FROM STDIN"
    ) as copy:
        columns = zip(
            roads["class"], roads["rank"], roads["name"], roads["oneway"], roads["bridge"],
            roads["tunnel"], _ewkb(roads), strict=True,
        )  # fmt: skip
        for road_class, rank, name, oneway, bridge, tunnel, geom in columns:
            copy.write_row(
                (
                    road_class,
                    int(rank),
                    _text(name),
                    bool(oneway),
                    bool(bridge),
                    bool(tunnel),
                    geom,
                )
            )
    if not features.empty:
        with cursor.copy(
            "COPY basemap_features (layer, kind, name, name_en, geom) FROM STDIN"
        ) as copy:
            columns = zip(
                features["layer"], features["kind"], features["name"], features["name_en"],
                _ewkb(features), strict=True,
            )  # fmt: skip
            for layer, kind, name, name_en, geom in columns:
                copy.write_row((layer, kind, _text(name), _text(name_en), geom))
    conn.execute(
        insert(m.BasemapSource).values(
            id=1, network_digest=digest, source_file=source_file[:255], synthetic=synthetic
        )
    )


def _text(value: object) -> str | None:
    return value[:200] if isinstance(value, str) and value else None


_TILE_SQL = """
    WITH env AS (
        SELECT ST_TileEnvelope(:z, :x, :y) AS tile,
               ST_TileEnvelope(:z, :x, :y, margin => :margin) AS wide
    ),
    env4326 AS (SELECT ST_Transform(wide, 4326) AS wide FROM env),
    water AS (
        SELECT f.kind,
               ST_AsMVTGeom(ST_SimplifyPreserveTopology(f.geom, :tol), env.tile,
                            :extent, :buffer, true) AS geom
        FROM basemap_features f, env
        WHERE f.layer = 'water' AND f.geom && env.wide AND ST_Area(f.geom) >= :min_area
    ),
    parks AS (
        SELECT f.kind,
               ST_AsMVTGeom(ST_SimplifyPreserveTopology(f.geom, :tol), env.tile,
                            :extent, :buffer, true) AS geom
        FROM basemap_features f, env
        WHERE :parks AND f.layer = 'park' AND f.geom && env.wide AND ST_Area(f.geom) >= :min_area
    ),
    waterways AS (
        SELECT f.kind, f.name,
               ST_AsMVTGeom(ST_Simplify(f.geom, :tol), env.tile, :extent, :buffer, true) AS geom
        FROM basemap_features f, env
        WHERE f.layer = 'waterway' AND f.geom && env.wide
          AND (:small_waterways OR f.kind IN ('river', 'canal'))
    ),
    rails AS (
        SELECT f.kind,
               ST_AsMVTGeom(ST_Simplify(f.geom, :tol), env.tile, :extent, :buffer, true) AS geom
        FROM basemap_features f, env
        WHERE :rails AND f.layer = 'rail' AND f.geom && env.wide
    ),
    roads AS (
        SELECT r.class, r.rank, CASE WHEN :road_names OR r.rank <= 2 THEN r.name END AS name,
               r.oneway, r.bridge, r.tunnel,
               ST_AsMVTGeom(ST_Simplify(r.geom, :tol), env.tile, :extent, :buffer, true) AS geom
        FROM basemap_roads r, env
        WHERE r.rank <= :max_rank AND r.geom && env.wide
        ORDER BY r.rank DESC
    ),
    boundaries AS (
        SELECT 'district' AS kind, d.name, d.name_en,
               ST_AsMVTGeom(ST_Simplify(ST_Boundary(ST_Transform(d.geom, 3857)), :tol),
                            env.tile, :extent, :buffer, true) AS geom
        FROM districts d, env, env4326
        WHERE d.geom && env4326.wide
        UNION ALL
        SELECT 'town', t.name, NULL,
               ST_AsMVTGeom(ST_Simplify(ST_Boundary(ST_Transform(t.area, 3857)), :tol),
                            env.tile, :extent, :buffer, true)
        FROM towns t, env, env4326
        WHERE :town_outlines AND t.area && env4326.wide
    ),
    places AS (
        SELECT 'district' AS kind, d.name, d.name_en,
               ST_AsMVTGeom(ST_Transform(ST_PointOnSurface(d.geom), 3857), env.tile,
                            :extent, 0, true) AS geom
        FROM districts d, env, env4326
        WHERE NOT :town_outlines AND d.geom && env4326.wide
        UNION ALL
        SELECT 'town', t.short_name, t.pinyin,
               ST_AsMVTGeom(ST_Transform(t.seat, 3857), env.tile, :extent, 0, true)
        FROM towns t, env, env4326
        WHERE :town_outlines AND t.seat && env4326.wide
        UNION ALL
        SELECT f.kind, f.name, f.name_en,
               ST_AsMVTGeom(f.geom, env.tile, :extent, 0, true)
        FROM basemap_features f, env
        WHERE :place_names AND f.layer = 'place' AND f.geom && env.tile
    )
    SELECT {layers}
"""
#: the tile's layers, in the order they are drawn (each a query of the statement above)
TILE_LAYERS = ("water", "parks", "waterways", "rails", "roads", "boundaries", "places")
#: one MVT layer per query, concatenated (an empty layer adds nothing; a label needs its name)
_TILE = text(
    _TILE_SQL.format(
        layers="\n     || ".join(
            f"COALESCE((SELECT ST_AsMVT(q, '{name}', :extent, 'geom') FROM {name} q"
            f" WHERE geom IS NOT NULL{' AND name IS NOT NULL' if name == 'places' else ''}),"
            " ''::bytea)"
            for name in TILE_LAYERS
        )
    )
)


def basemap_tile(conn: Connection, z: int, x: int, y: int) -> bytes:
    """The Mapbox Vector Tile ``z/x/y`` (XYZ order, Web Mercator); empty bytes when blank."""
    rules = zoom_rules(z)
    tile = conn.execute(
        _TILE,
        {
            "z": z,
            "x": x,
            "y": y,
            "margin": BUFFER / EXTENT,
            "extent": EXTENT,
            "buffer": BUFFER,
            "tol": rules.tolerance_m,
            "min_area": rules.min_area_m2,
            "max_rank": rules.max_rank,
            "road_names": rules.road_names,
            "parks": rules.parks,
            "rails": rules.rails,
            "small_waterways": rules.small_waterways,
            "town_outlines": rules.town_outlines,
            "place_names": rules.place_names,
        },
    ).scalar_one()
    return bytes(tile)


def basemap_bounds(conn: Connection) -> tuple[float, float, float, float] | None:
    """The served region's extent (WGS-84 west, south, east, north), None when not loaded."""
    row = conn.execute(
        text(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)"
            " FROM (SELECT ST_Extent(geom) AS e FROM service_region) s WHERE e IS NOT NULL"
        )
    ).one_or_none()
    return None if row is None else (row[0], row[1], row[2], row[3])
