"""The database refuses invalid geometry and points outside the service region."""

import pytest
from shapely import wkt
from sqlalchemy import Connection, func, insert, select

from geo.db import models as m
from geo.errors import InvalidGeometryError, OutsideRegionError
from geo.validation import translate_db_error

BOWTIE = "SRID=4326;MULTIPOLYGON(((112.5 22.3, 112.6 22.4, 112.6 22.3, 112.5 22.4, 112.5 22.3)))"


def _station(geom: str) -> dict[str, object]:
    return {
        "name": "test station",
        "kind": "outdoor_worker_station",
        "amenities": ["water"],
        "opening_hours": "24/7",
        "status": "active",
        "source": "test",
        "geom": geom,
    }


def test_point_in_the_city_is_stored(conn: Connection) -> None:
    with translate_db_error():
        conn.execute(insert(m.Station).values(_station("SRID=4326;POINT(113.08 22.58)")))
    assert conn.scalar(select(func.count()).where(m.Station.source == "test")) == 1


def test_point_outside_the_region_is_refused_with_a_clear_error(conn: Connection) -> None:
    with (
        pytest.raises(OutsideRegionError, match="outside the service region"),
        conn.begin_nested(),
        translate_db_error(),
    ):
        conn.execute(insert(m.Station).values(_station("SRID=4326;POINT(116.4 39.9)")))
    assert conn.scalar(select(func.count()).where(m.Station.source == "test")) == 0


def test_member_base_outside_the_region_is_refused(conn: Connection) -> None:
    town_id = conn.scalar(select(m.Town.id).limit(1))
    row = {
        "code": "TEST1",
        "name": "x",
        "town_id": town_id,
        "skills": [],
        "capacity": 5,
        "base": "SRID=4326;POINT(110.0 20.0)",
    }
    with pytest.raises(OutsideRegionError), conn.begin_nested(), translate_db_error():
        conn.execute(insert(m.GridMember).values(row))


def test_self_intersecting_grid_is_refused(conn: Connection) -> None:
    assert not wkt.loads(BOWTIE.split(";")[1]).is_valid
    town_id = conn.scalar(select(m.Town.id).limit(1))
    with (
        pytest.raises(InvalidGeometryError, match="invalid geometry"),
        conn.begin_nested(),
        translate_db_error(),
    ):
        conn.execute(insert(m.Grid).values(code="BAD", town_id=town_id, geom=BOWTIE))
    assert conn.scalar(select(func.count()).where(m.Grid.code == "BAD")) == 0


def test_wrong_geometry_type_is_refused(conn: Connection) -> None:
    town_id = conn.scalar(select(m.Town.id).limit(1))
    with pytest.raises(Exception, match="Geometry type"), conn.begin_nested():
        conn.execute(
            insert(m.Grid).values(code="PT", town_id=town_id, geom="SRID=4326;POINT(113.08 22.58)")
        )
