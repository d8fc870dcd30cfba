"""Placement and member choice, on the sample database and on hand-made teams."""

from __future__ import annotations

import numpy as np
import shapely
from sqlalchemy import Connection, text

from geo.cases.assign import Placement, choose_member
from geo.cases.intake import place_case
from geo.sample import real
from geo.settings import Settings


def _fixed_times(values: list[float]):
    def times(lon: float, lat: float, bases: np.ndarray) -> tuple[np.ndarray, str]:
        return np.array(values[: len(bases)], dtype=float), "test"

    return times


def _member(i: int, **kw) -> dict:
    base = {
        "id": i,
        "code": f"M{i}",
        "name": f"m{i}",
        "grid_id": i,
        "capacity": 5,
        "on_leave": False,
        "skills": ["mediation", "other"],
        "open_cases": 0,
        "lon": 113.0,
        "lat": 22.5,
    }
    return base | kw


PLACE = Placement(grid_id=1, grid_code="G1", town_id=9, district_id=1, queue="grid")


def test_grid_member_first() -> None:
    choice = choose_member(
        PLACE,
        "mediation",
        [_member(1), _member(2)],
        lon=0,
        lat=0,
        travel_times=_fixed_times([900, 60]),
    )
    assert choice.member_id == 1
    assert choice.explanation["rule"] == "grid member"


def test_at_capacity_or_unskilled_gives_nearest_light_alternative() -> None:
    team = [
        _member(1, open_cases=5),
        _member(2, open_cases=3),
        _member(3),
        _member(4, skills=["other"]),
    ]
    # member 2 is nearer but has 3 open cases (3 x 600 s penalty): member 3 wins
    choice = choose_member(
        PLACE, "mediation", team, lon=0, lat=0, travel_times=_fixed_times([10, 100, 1000, 5])
    )
    assert choice.member_id == 3
    why = {c["member_id"]: c["why_not"] for c in choice.explanation["candidates"]}
    assert "at capacity" in why[1]
    assert "does not handle mediation" in why[4]
    assert "at capacity" in choice.explanation["reason"]


def test_nobody_available_goes_to_the_town_queue() -> None:
    team = [_member(1, on_leave=True), _member(2, on_leave=True)]
    choice = choose_member(
        PLACE, "mediation", team, lon=0, lat=0, travel_times=_fixed_times([1, 2])
    )
    assert choice.member_id is None
    assert choice.queue == "town"


def test_points_are_placed_in_a_grid_or_a_queue_never_dropped(
    conn: Connection, settings: Settings
) -> None:
    inside = place_case(conn, 113.0801, 22.5801)
    assert inside.queue == "grid"
    assert inside.grid_id is not None
    # a point just off the coast: outside every town and grid, still in the region's tolerance
    outline = real.read_city_boundary(settings.region_dir / "real").geometry.iloc[0]
    districts = shapely.union_all(
        real.read_districts(settings.region_dir / "real").geometry.to_numpy()
    )
    centre = outline.centroid
    for x, y in shapely.get_coordinates(
        outline.exterior
        if outline.geom_type == "Polygon"
        else max(outline.geoms, key=lambda g: g.area).exterior
    )[::50]:
        dx, dy = x - centre.x, y - centre.y
        norm = (dx * dx + dy * dy) ** 0.5
        p = shapely.Point(x + 0.001 * dx / norm, y + 0.001 * dy / norm)
        if not districts.covers(p):
            break
    placed = place_case(conn, p.x, p.y)
    assert placed.grid_id is None
    assert placed.town_id is None
    assert placed.queue == "district"
    assert placed.district_id is not None
    assert (
        conn.scalar(text("SELECT count(*) FROM districts WHERE id = :d"), {"d": placed.district_id})
        == 1
    )


def test_explanations_read_in_chinese_and_plain_english() -> None:
    from geo.cases.assign import Placement, choose_member

    def times(lon: float, lat: float, bases: np.ndarray) -> tuple[np.ndarray, str]:
        return np.array([300.0, 600.0]), "test"

    members = [
        {"id": 1, "code": "a", "name": "甲", "grid_id": 7, "capacity": 5, "open_cases": 0,
         "on_leave": True, "skills": ["mediation"], "lon": 113.0, "lat": 22.5},
        {"id": 2, "code": "b", "name": "乙", "grid_id": 8, "capacity": 5, "open_cases": 1,
         "on_leave": False, "skills": ["mediation"], "lon": 113.01, "lat": 22.5},
    ]  # fmt: skip
    placement = Placement(7, "G7", 3, 1, "grid")
    choice = choose_member(placement, "mediation", members, lon=113.0, lat=22.5, travel_times=times)
    assert choice.member_id == 2
    assert choice.explanation["reason"].startswith("the grid's member 甲 is on leave;")
    assert choice.explanation["reason_zh"].startswith(
        "本网格网格员甲正在休假；乙是本镇街最合适的替代人选"
    )
    assert "is does" not in choice.explanation["reason"]
