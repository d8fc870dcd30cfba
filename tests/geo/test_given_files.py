"""Files and names a user gives: region names stay inside the regions folder, compressed
extracts that would expand beyond reason are refused before any work."""

from __future__ import annotations

import bz2
import subprocess
import zlib
from pathlib import Path

import pytest

from geo.custom_region import REGION_FILE, region_folder, remove_region
from geo.errors import ValidationError
from geo.network import check_expansion, graph_from_osm_file
from geo.settings import PROJECT_ROOT

WEST_OAKLAND = PROJECT_ROOT / "data" / "osm_fixtures" / "West-Oakland.osm.bz2"


@pytest.mark.parametrize("name", ["helsinki", "my-city", "sp_2", "a", "0" * 40])
def test_region_names_by_the_rule(tmp_path: Path, name: str) -> None:
    assert region_folder(tmp_path, name) == (tmp_path / name).resolve()


@pytest.mark.parametrize(
    "name", ["..", "../..", "a/b", "helsinki\n", "", "Big", "-lead", "x" * 41, ".hidden", "a b"]
)
def test_names_outside_the_rule_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValidationError, match="region name"):
        region_folder(tmp_path, name)


def test_removing_dot_dot_deletes_nothing_outside(tmp_path: Path) -> None:
    regions = tmp_path / "state" / "regions"
    regions.mkdir(parents=True)
    (tmp_path / "state" / REGION_FILE).write_text("{}")  # a folder that looks like a region
    (tmp_path / REGION_FILE).write_text("{}")
    for name in ("..", "../..", "../../"):
        with pytest.raises(ValidationError):
            remove_region(regions, name)
    assert (tmp_path / "state" / REGION_FILE).exists()
    assert (tmp_path / REGION_FILE).exists()


def test_a_decompression_bomb_is_refused_after_reading_its_limit(tmp_path: Path) -> None:
    bomb = tmp_path / "city.osm.bz2"
    bomb.write_bytes(bz2.compress(b"\0" * 80 * 2**20))  # 80 MB of nothing in a few hundred bytes
    assert bomb.stat().st_size < 10_000
    with pytest.raises(ValidationError, match="expands to more than"):
        check_expansion(bomb)


def test_a_real_extract_and_a_broken_file(tmp_path: Path) -> None:
    check_expansion(WEST_OAKLAND)  # a real extract packs about 10 times
    broken = tmp_path / "broken.osm.bz2"
    broken.write_bytes(b"BZh9 not really")
    with pytest.raises(ValidationError, match="not a readable"):
        check_expansion(broken)


def test_a_workbook_that_expands_beyond_reason_is_refused(tmp_path: Path) -> None:
    import zipfile

    from geo.io import read_table

    bomb = tmp_path / "stations.xlsx"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as book:
        book.writestr("xl/worksheets/sheet1.xml", b"\0" * 300 * 2**20)
    assert bomb.stat().st_size < 1_000_000
    with pytest.raises(ValidationError, match="expands to"):
        read_table(bomb)
    fake = tmp_path / "fake.xlsx"
    fake.write_bytes(b"not a zip at all")
    with pytest.raises(ValidationError, match="not an Excel workbook"):
        read_table(fake)


def _pbf_blob(kind: bytes, packed: bytes, declared: int) -> bytes:
    """One OSM PBF blob (header and body) written by hand, as a hostile file would be."""

    def varint(n: int) -> bytes:
        out = bytearray()
        while True:
            out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
            n >>= 7
            if not n:
                return bytes(out)

    def field(number: int, data: bytes) -> bytes:
        return varint(number << 3 | 2) + varint(len(data)) + data

    body = varint(2 << 3) + varint(declared) + field(3, packed)
    header = field(1, kind) + varint(3 << 3) + varint(len(body))
    return len(header).to_bytes(4, "big") + header + body


@pytest.fixture(scope="module")
def oakland_pbf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real West Oakland extract as .pbf, written by Debian's osmium."""
    target = tmp_path_factory.mktemp("pbf") / "west-oakland.osm.pbf"
    subprocess.run(["osmium", "cat", str(WEST_OAKLAND), "-o", str(target)], check=True)
    return target


def test_a_real_pbf_passes(oakland_pbf: Path) -> None:
    check_expansion(oakland_pbf)


def test_a_pbf_blob_that_lies_about_its_size_is_refused(tmp_path: Path) -> None:
    bomb = tmp_path / "city.osm.pbf"
    bomb.write_bytes(_pbf_blob(b"OSMData", zlib.compress(b"\0" * 30 * 2**20, 9), 1000))
    with pytest.raises(ValidationError, match="does not match its size"):
        check_expansion(bomb)


def test_a_pbf_whose_blobs_add_up_beyond_reason_is_refused(tmp_path: Path) -> None:
    blob = _pbf_blob(b"OSMData", zlib.compress(b"\0" * 16 * 2**20, 9), 16 * 2**20)
    bomb = tmp_path / "city.osm.pbf"
    bomb.write_bytes(blob * 8)  # 128 MB declared and true, in a few hundred kB
    assert bomb.stat().st_size < 2**20
    with pytest.raises(ValidationError, match="expands to more than"):
        check_expansion(bomb)


def test_a_broken_pbf_is_refused_in_a_sentence(tmp_path: Path) -> None:
    broken = tmp_path / "broken.osm.pbf"
    broken.write_bytes(b"\0\0\0\x05hello")
    with pytest.raises(ValidationError, match=r"not a readable \.pbf"):
        check_expansion(broken)
    with pytest.raises(ValidationError, match=r"not a readable \.pbf"):
        graph_from_osm_file(broken)
