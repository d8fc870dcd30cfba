"""Importing the union's own stations, members and grids: all or nothing, row-level errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Connection, func, select

from geo.db import models as m
from geo.errors import ValidationError
from geo.io import import_file
from geo.settings import PROJECT_ROOT, Settings

EXAMPLES = PROJECT_ROOT / "data" / "examples"


def _run(conn: Connection, settings: Settings, kind: str, path: Path, **kw):
    return import_file(
        conn,
        kind,
        path,
        station_kinds=settings.station_kinds,
        amenities=settings.amenities,
        categories=settings.case_categories,
        metric_crs=settings.metric_crs,
        **kw,
    )


@pytest.mark.parametrize(
    ("kind", "name", "model", "count"),
    [
        ("stations", "stations.csv", m.Station, 3),
        ("members", "members.xlsx", m.GridMember, 2),
        ("grids", "grids.geojson", m.Grid, 1),
        ("workplaces", "workplaces.csv", m.Workplace, 3),
    ],
)
def test_examples_import_and_reimport_changes_nothing(
    conn: Connection, settings: Settings, kind, name, model, count
) -> None:
    if kind == "members":  # the example members belong to the example grid
        assert _run(conn, settings, "grids", EXAMPLES / "grids.geojson").ok
    before = conn.scalar(select(func.count()).select_from(model))
    first = _run(conn, settings, kind, EXAMPLES / name)
    assert first.ok, first.errors
    assert first.inserted == count
    assert conn.scalar(select(func.count()).select_from(model)) == before + count
    again = _run(conn, settings, kind, EXAMPLES / name)
    assert (again.inserted, again.updated) == (0, count)
    assert conn.scalar(select(func.count()).select_from(model)) == before + count


def test_bad_rows_are_reported_and_nothing_is_written(
    conn: Connection, settings: Settings, tmp_path: Path
) -> None:
    bad = tmp_path / "stations.csv"
    bad.write_text(
        "name,kind,lon,lat,amenities,opening_hours\n"
        "ok,outdoor_worker_station,113.08,22.58,water,24/7\n"
        ",outdoor_worker_station,113.08,22.58,water,24/7\n"
        "far,outdoor_worker_station,116.40,39.90,water,24/7\n"
        "odd,spaceport,113.08,22.58,water,24/7\n"
        "hours,outdoor_worker_station,113.08,22.58,water,whenever\n"
        "amen,outdoor_worker_station,113.08,22.58,sauna,24/7\n"
        "nan,outdoor_worker_station,abc,22.58,water,24/7\n"
    )
    before = conn.scalar(select(func.count()).select_from(m.Station))
    report = _run(conn, settings, "stations", bad)
    assert not report.ok
    # rows as a spreadsheet numbers them: the header is row 1
    assert [e.row for e in report.errors] == [3, 4, 5, 6, 7, 8]
    assert "name is required" in report.errors[0].message
    assert "outside the service region" in report.errors[1].message
    assert conn.scalar(select(func.count()).select_from(m.Station)) == before


def test_gcj02_coordinates_are_converted(
    conn: Connection, settings: Settings, tmp_path: Path
) -> None:
    f = tmp_path / "s.csv"
    f.write_text("external_id,name,kind,lon,lat\nx1,gcj,outdoor_worker_station,113.0852,22.5773\n")
    assert _run(conn, settings, "stations", f, coord="gcj02").ok
    lon = conn.scalar(select(func.ST_X(m.Station.geom)).where(m.Station.external_id == "x1"))
    assert lon == pytest.approx(113.0852 - 0.0052, abs=0.0006)


def test_members_and_grids_checks(conn: Connection, settings: Settings, tmp_path: Path) -> None:
    f = tmp_path / "members.csv"
    f.write_text(
        "code,name,town_code,grid_code,skills,capacity,lon,lat\n"
        "A,a,999999999999,,mediation,5,113.08,22.58\n"
        "B,b,440703002000,NOPE,mediation,5,113.08,22.58\n"
        "C,c,440703002000,,astrology,5,113.08,22.58\n"
        "D,d,440703002000,,mediation,-1,113.08,22.58\n"
    )
    report = _run(conn, settings, "members", f)
    assert [e.message.split()[0] for e in report.errors] == [
        "unknown",
        "unknown",
        "unknown",
        "capacity",
    ]
    g = tmp_path / "grids.csv"
    bowtie = "POLYGON((113 22.5, 113.1 22.6, 113.1 22.5, 113 22.6, 113 22.5))"
    g.write_text(f'code,town_code,wkt\nG1,440703002000,"{bowtie}"\n')
    report = _run(conn, settings, "grids", g)
    assert "invalid polygon" in report.errors[0].message


def test_unreadable_file(conn: Connection, settings: Settings, tmp_path: Path) -> None:
    f = tmp_path / "x.pdf"
    f.write_text("x")
    with pytest.raises(ValidationError, match=r"use \.csv, \.xlsx or \.geojson"):
        _run(conn, settings, "stations", f)


def test_every_problem_of_a_row_is_reported(
    conn: Connection, settings: Settings, tmp_path: Path
) -> None:
    f = tmp_path / "stations.csv"
    f.write_text("name,kind,lon,lat,amenities,status\n,spaceport,113.08,22.58,sauna,shut\n")
    (error,) = _run(conn, settings, "stations", f).errors
    assert error.row == 2
    for words in ("name is required", "unknown kind", "unknown amenities", "status must be"):
        assert words in error.message


def test_repeated_keys_swapped_coordinates_and_chinese_hours(
    conn: Connection, settings: Settings, tmp_path: Path
) -> None:
    f = tmp_path / "stations.csv"
    f.write_text(
        "external_id,name,kind,lon,lat,opening_hours\n"
        "a1,甲,outdoor_worker_station,113.08,22.58,每天8:00-18:00\n"
        "a1,乙,outdoor_worker_station,113.09,22.59,24/7\n"
        "a2,丙,outdoor_worker_station,22.58,113.08,24/7\n"
    )
    report = _run(conn, settings, "stations", f)
    assert [e.row for e in report.errors] == [3, 4]
    assert "repeats row 2" in report.errors[0].message
    assert "latitude and longitude look swapped" in report.errors[1].message
    good = tmp_path / "good.csv"
    good.write_text(
        "external_id,name,kind,lon,lat,opening_hours\n"
        "zh1,甲,outdoor_worker_station,113.08,22.58,周一至周五 8:30-12:00，14:30-17:30\n"
    )
    assert _run(conn, settings, "stations", good).ok
    hours = conn.scalar(select(m.Station.opening_hours).where(m.Station.external_id == "zh1"))
    assert hours == "Mo-Fr 08:30-12:00,14:30-17:30"


def test_csv_saved_by_chinese_excel_is_read(
    conn: Connection, settings: Settings, tmp_path: Path
) -> None:
    f = tmp_path / "stations.csv"
    f.write_bytes(
        "external_id,name,kind,lon,lat\ngbk1,蓬江驿站,outdoor_worker_station,113.08,22.58\n".encode(
            "gbk"
        )
    )
    assert _run(conn, settings, "stations", f).ok
    name = conn.scalar(select(m.Station.name).where(m.Station.external_id == "gbk1"))
    assert name == "蓬江驿站"


def test_a_station_with_an_address_but_no_coordinates_waits_for_a_position(
    conn: Connection, settings: Settings, tmp_path: Path
) -> None:
    """Kept, not refused, and not a station yet; importing it later with a place moves it over."""
    sheet = tmp_path / "stations.csv"
    sheet.write_text(
        "external_id,name,kind,lon,lat,address,amenities\n"
        "JM-A,placed,outdoor_worker_station,113.08,22.58,,water\n"
        "JM-B,by address,outdoor_worker_station,,,蓬江区建设路 1 号,water;toilet\n"
        "JM-C,nothing to go by,outdoor_worker_station,,,,water\n",
        encoding="utf-8",
    )
    refused = _run(conn, settings, "stations", sheet)
    assert [e.row for e in refused.errors] == [4]  # no coordinates and no address: an error
    assert conn.scalar(select(func.count()).select_from(m.UnplacedStation)) == 0
    sheet.write_text("\n".join(sheet.read_text(encoding="utf-8").splitlines()[:3]) + "\n")
    report = _run(conn, settings, "stations", sheet)
    assert report.ok, report.errors
    assert (report.inserted, report.unplaced) == (1, 1)
    waiting = conn.execute(select(m.UnplacedStation.__table__)).mappings().one()
    assert waiting["address"] == "蓬江区建设路 1 号"
    assert sorted(waiting["amenities"]) == ["toilet", "water"]
    ids = set(conn.scalars(select(m.Station.external_id).where(m.Station.external_id.isnot(None))))
    assert "JM-B" not in ids
    again = _run(conn, settings, "stations", sheet)  # the same sheet: still one waiting
    assert again.unplaced == 1
    assert conn.scalar(select(func.count()).select_from(m.UnplacedStation)) == 1
    sheet.write_text(
        "external_id,name,kind,lon,lat,address\n"
        "JM-B,by address,outdoor_worker_station,113.09,22.59,蓬江区建设路 1 号\n",
        encoding="utf-8",
    )
    placed = _run(conn, settings, "stations", sheet)  # the union found its coordinates
    assert placed.ok, placed.errors
    assert placed.inserted == 1
    assert conn.scalar(select(func.count()).select_from(m.UnplacedStation)) == 0


def test_workplaces_are_checked_and_counted_in_their_town(
    conn: Connection, settings: Settings, tmp_path: Path
) -> None:
    bad = tmp_path / "workplaces.csv"
    bad.write_text(
        "code,name,members,lon,lat\n"
        "w1,ok,10,113.08,22.58\n"
        "w2,no members,,113.08,22.58\n"
        "w3,negative,-4,113.08,22.58\n"
        ",far,3,116.40,39.90\n",
        encoding="utf-8",
    )
    refused = _run(conn, settings, "workplaces", bad)
    assert [e.row for e in refused.errors] == [3, 4, 5]
    assert "members is required" in refused.errors[0].message
    assert "code is required" in refused.errors[2].message
    assert "outside the service region" in refused.errors[2].message
    good = _run(conn, settings, "workplaces", EXAMPLES / "workplaces.csv")
    assert good.ok, good.errors
    towns = conn.execute(
        select(m.Workplace.code, m.Town.name)
        .join(m.Town, m.Town.id == m.Workplace.town_id)
        .where(m.Workplace.code.like("wp-%"))
    ).all()
    assert len(towns) == 3  # each counted in the town its location falls in
