"""OSM access tags decide who may use a road, per way of travelling (a hand-made extract).

Each way stands alone, named after what it tests; the profiles' travel times on its edge(s)
say who may use it and how fast.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from geo.network import graph_from_osm_file
from geo.profiles import DEFAULT_PROFILES
from geo.routing.access import (
    ALLOWED,
    FORBIDDEN,
    UNKNOWN,
    bicycle_contraflow,
    edge_access,
    too_small_for_trucks,
)
from geo.routing.compiled import CompiledGraph
from geo.routing.profile_graph import DISMOUNT_KPH, ProfileGraph

WAYS = {
    "plain": {"highway": "residential"},
    "private": {"highway": "residential", "access": "private"},
    "private_but_bikes": {"highway": "residential", "access": "private", "bicycle": "yes"},
    "no_bikes": {"highway": "residential", "bicycle": "no"},
    "bike_footway": {"highway": "footway", "bicycle": "designated"},
    "motorway_access_yes": {"highway": "motorway", "access": "yes"},
    "dismount": {"highway": "residential", "bicycle": "dismount"},
    "one_way": {"highway": "residential", "oneway": "yes"},
    "one_way_bikes_both": {"highway": "residential", "oneway": "yes", "oneway:bicycle": "no"},
    "no_cars": {"highway": "tertiary", "motor_vehicle": "no"},
    "low_bridge": {"highway": "tertiary", "maxheight": "3.5"},
    "weak_bridge": {"highway": "tertiary", "maxweight": "20 t"},
    "no_trucks": {"highway": "tertiary", "hgv": "no"},
    "trucks_to_the_yard": {"highway": "living_street", "hgv": "destination"},
}


def _extract(path: Path) -> Path:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6">']
    for k, (name, tags) in enumerate(WAYS.items()):
        a, b, lat = 2 * k + 1, 2 * k + 2, 22.50 + 0.002 * k
        lines += [
            f'<node id="{a}" lat="{lat}" lon="113.000"/>',
            f'<node id="{b}" lat="{lat}" lon="113.003"/>',
            f'<way id="{100 + k}"><nd ref="{a}"/><nd ref="{b}"/>',
            f'<tag k="name" v="{name}"/>',
            *(f'<tag k="{t}" v="{v}"/>' for t, v in tags.items()),
            "</way>",
        ]
    path.write_text("\n".join([*lines, "</osm>"]))
    return path


@pytest.fixture(scope="module")
def graphs(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, list[int]], dict]:
    G = graph_from_osm_file(_extract(tmp_path_factory.mktemp("access") / "access.osm"))
    compiled = CompiledGraph.from_graph(G)
    edges: dict[str, list[int]] = {}
    for i, (_, _, d) in enumerate(G.edges(data=True)):
        edges.setdefault(d["name"], []).append(i)
    profiles = {name: ProfileGraph(compiled, p) for name, p in DEFAULT_PROFILES.items()}
    return edges, profiles


def _usable(graphs: tuple, way: str, profile: str) -> bool:
    edges, profiles = graphs
    return bool(np.isfinite(profiles[profile].tt[edges[way]]).any())


def _directions(graphs: tuple, way: str, profile: str) -> int:
    """How many directions of the way a profile may travel (reverse copies included)."""
    edges, profiles = graphs
    pg = profiles[profile]
    return int(np.isin(pg.base[np.isfinite(pg.tt)], edges[way]).sum())


def test_private_roads_are_for_nobody_unless_a_mode_is_let_in(graphs: tuple) -> None:
    assert all(_usable(graphs, "plain", p) for p in DEFAULT_PROFILES)
    assert not any(_usable(graphs, "private", p) for p in DEFAULT_PROFILES)
    assert _usable(graphs, "private_but_bikes", "e_bike")
    assert not _usable(graphs, "private_but_bikes", "drive")
    assert not _usable(graphs, "private_but_bikes", "walk")


def test_mode_tags_forbid_and_open_roads(graphs: tuple) -> None:
    assert not _usable(graphs, "no_bikes", "e_bike")
    assert _usable(graphs, "no_bikes", "walk")
    assert _usable(graphs, "bike_footway", "e_bike")  # a footway opened to bicycles
    assert not _usable(graphs, "bike_footway", "drive")
    assert not _usable(graphs, "no_cars", "drive")
    assert _usable(graphs, "no_cars", "e_bike")


def test_a_general_yes_does_not_put_walkers_on_a_motorway(graphs: tuple) -> None:
    assert not _usable(graphs, "motorway_access_yes", "walk")
    assert not _usable(graphs, "motorway_access_yes", "e_bike")
    assert _usable(graphs, "motorway_access_yes", "drive")


def test_dismount_means_pushing_the_bike(graphs: tuple) -> None:
    edges, profiles = graphs
    pg = profiles["e_bike"]
    i = edges["dismount"][0]
    speed_kph = pg.length[i] / pg.tt[i] * 3.6
    assert speed_kph == pytest.approx(DISMOUNT_KPH)


def test_bicycles_ride_both_ways_where_the_one_way_lets_them(graphs: tuple) -> None:
    assert _directions(graphs, "one_way", "e_bike") == 1
    assert _directions(graphs, "one_way", "drive") == 1
    assert _directions(graphs, "one_way", "walk") == 2
    assert _directions(graphs, "one_way_bikes_both", "e_bike") == 2
    assert _directions(graphs, "one_way_bikes_both", "drive") == 1


def test_trucks_keep_off_low_weak_and_closed_roads_that_cars_use(graphs: tuple) -> None:
    for way in ("low_bridge", "weak_bridge", "no_trucks"):
        assert _usable(graphs, way, "drive"), way
        assert not _usable(graphs, way, "truck"), way
    assert _usable(graphs, "plain", "truck")
    assert not _usable(graphs, "no_cars", "truck")  # motor_vehicle=no binds trucks too
    # a class trucks do not use, opened to them by its own tag
    assert _usable(graphs, "trucks_to_the_yard", "truck")


def test_truck_limits_are_read_in_their_units() -> None:
    assert too_small_for_trucks({"maxheight": "3.8 m"})
    assert too_small_for_trucks({"maxheight": "12'6\""})  # 3.81 m
    assert not too_small_for_trucks({"maxheight": "13'6\""})  # 4.11 m
    assert too_small_for_trucks({"maxlength": "12"})
    assert not too_small_for_trucks({"maxweight": "49"})
    assert not too_small_for_trucks({"maxheight": "default", "maxweight": "none"})
    assert edge_access({"hgv": "destination", "maxheight": "2.5"}, "hgv") == FORBIDDEN
    assert edge_access({"maxheight": "2.5"}, "motor") == UNKNOWN  # cars are not trucks


def test_tag_reading_rules() -> None:
    assert edge_access({"access": "no", "foot": "yes"}, "foot") == ALLOWED
    assert edge_access({"access": "yes"}, "foot") == UNKNOWN
    assert edge_access({"vehicle": "no"}, "bicycle") == FORBIDDEN
    assert edge_access({"vehicle": "no"}, "foot") == UNKNOWN
    assert edge_access({"motor_vehicle": ["yes", "no"]}, "motor") == FORBIDDEN  # merged ways
    assert bicycle_contraflow({"cycleway": "opposite_lane"})
    assert not bicycle_contraflow({"cycleway": "lane"})


def test_a_real_extract_keeps_its_private_ways_out() -> None:
    from tests.conftest import OSM_FIXTURES

    G = graph_from_osm_file(OSM_FIXTURES / "planet_10.068,48.135_10.071,48.137.osm")
    compiled = CompiledGraph.from_graph(G)
    closed = [
        i
        for i, (_, _, d) in enumerate(G.edges(data=True))
        if {"private", "no"}
        & set(d.get("access") if isinstance(d.get("access"), list) else [d.get("access")])
    ]
    assert closed  # the Bavarian extract has private ways (OpenStreetMap, ODbL)
    for name, profile in DEFAULT_PROFILES.items():
        pg = ProfileGraph(compiled, profile)
        assert np.isinf(pg.tt[closed]).all(), name
