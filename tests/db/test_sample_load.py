"""The Jiangmen sample loads with the expected counts, marked synthetic, and only once."""

from pathlib import Path

from sqlalchemy import Engine, func, select, text

from geo.db import models as m
from geo.db.load import load_sample, table_counts
from geo.sample.real import CITY_POPULATION_CENSUS_2020


def test_counts(engine: Engine) -> None:
    assert table_counts(engine) == {
        "districts": 7,
        "towns": 73,
        "stations": 63,
        "grids": 605,
        "grid_members": 605,
        "workplaces": 5474,
    }


def test_station_kinds_27_outdoor_and_36_service_centres(engine: Engine) -> None:
    with engine.connect() as c:
        kinds = dict(c.execute(select(m.Station.kind, func.count()).group_by(m.Station.kind)).all())
    assert kinds.pop("service_centre") == 36
    assert sum(kinds.values()) == 27
    assert set(kinds) <= {"outdoor_worker_station", "rider_home", "driver_home"}


def test_populations_sum_to_the_census_with_heshan_exact(engine: Engine) -> None:
    with engine.connect() as c:
        assert c.scalar(select(func.sum(m.Town.population))) == CITY_POPULATION_CENSUS_2020
        heshan = c.execute(
            select(m.Town.name, m.Town.population, m.Town.population_source)
            .join(m.District)
            .where(m.District.adcode == "440784")
        ).all()
    assert len(heshan) == 10
    assert sum(p for _, p, _ in heshan) == 530_684
    assert {s for *_, s in heshan} == {"census2020"}
    assert {n: p for n, p, _ in heshan}["沙坪街道"] == 240_614


def test_workplace_members_sum_to_630000(engine: Engine) -> None:
    with engine.connect() as c:
        assert c.scalar(select(func.sum(m.Workplace.members))) == 630_000


def test_generated_layers_say_they_are_synthetic(engine: Engine) -> None:
    with engine.connect() as c:
        for model in (m.Station, m.Grid, m.GridMember, m.Workplace):
            assert c.scalar(select(func.bool_and(model.synthetic))) is True
        flags = dict(c.execute(select(m.Dataset.name, m.Dataset.synthetic)).all())
    assert flags["districts"] is False
    assert flags["stations"] is True
    assert flags["grids"] is True


def test_every_town_is_covered_by_its_grids(engine: Engine) -> None:
    sql = text("""
        SELECT t.name,
               ST_Area(ST_Difference(t.area, ST_Union(g.geom))::geography)
                 / ST_Area(t.area::geography) AS left_share
        FROM towns t JOIN grids g ON g.town_id = t.id GROUP BY t.id
    """)
    with engine.connect() as c:
        rows = c.execute(sql).all()
    assert len(rows) == 73
    assert max(r.left_share for r in rows) < 1e-4  # coordinate-rounding slivers only


def test_stations_and_members_lie_in_their_towns(engine: Engine) -> None:
    with engine.connect() as c:
        stray_st = c.scalar(
            text(
                "SELECT count(*) FROM stations s JOIN towns t ON t.id = s.town_id "
                "WHERE NOT ST_DWithin(t.area::geography, s.geom::geography, 10)"
            )
        )
        stray_m = c.scalar(
            text(
                "SELECT count(*) FROM grid_members m JOIN grids g ON g.id = m.grid_id "
                "WHERE NOT ST_DWithin(g.geom::geography, m.base::geography, 10)"
            )
        )
    assert stray_st == 0
    assert stray_m == 0


def test_loading_twice_does_not_duplicate(engine: Engine, settings) -> None:
    before = table_counts(engine)
    report = load_sample(engine, settings.region_dir)
    assert report.unchanged == ["sample"]
    assert table_counts(engine) == before


def test_changed_files_update_rows_in_place(engine: Engine, settings, tmp_path: Path) -> None:
    import shutil

    region = tmp_path / settings.region
    shutil.copytree(settings.region_dir, region)
    stations = region / "synthetic" / "stations.geojson"
    stations.write_text(stations.read_text().replace("（1号）", "（一号）"))
    before = table_counts(engine)
    try:
        report = load_sample(engine, region)
        assert report.counts["stations"] == 63
        assert table_counts(engine) == before
        with engine.connect() as c:
            assert c.scalar(select(func.count()).where(m.Station.name.like("%（一号）"))) > 0
    finally:
        load_sample(engine, settings.region_dir)  # restore the session's sample
    with engine.connect() as c:
        assert c.scalar(select(func.count()).where(m.Station.name.like("%（一号）"))) == 0
