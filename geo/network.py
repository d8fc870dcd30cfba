"""Road graphs through osmnx: from an OSM file (offline), a download (online), with a cache.

Every network, the generated sample included, goes the same way: an OSM XML file read by
``osmnx.graph_from_xml``. Ways without a ``highway`` tag are dropped (osmnx turns every way,
buildings too, into edges). A graph remembers whether its file says it is synthetic, so that
generated roads are never presented as OpenStreetMap.
"""

from __future__ import annotations

import bz2
import functools
import glob
import hashlib
import json
import logging
import pickle
import resource
import shutil
import subprocess
import tempfile
import zlib
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree

from geo.errors import SetupError, ValidationError
from geo.profiles import DRIVE_SPEEDS_KPH
from geo.routing.access import WAY_TAGS
from geo.routing.compiled import CompiledGraph
from geo.routing.restrictions import read_restrictions

if TYPE_CHECKING:
    from types import ModuleType

    import networkx as nx

logger = logging.getLogger("yizhan.network")


@functools.cache
def osmnx() -> ModuleType:
    """osmnx, set for offline work: imported when a file is first read (a second saved at start).

    Failing at once rather than sleeping on the Overpass API, quiet, and keeping the tags that
    say who may use a way (see :mod:`geo.routing.access`).
    """
    import osmnx as ox  # a heavy import (scikit-learn, matplotlib): only where graphs are built

    ox.settings.overpass_rate_limit = False
    ox.settings.log_console = False
    ox.settings.useful_tags_way = list(dict.fromkeys([*ox.settings.useful_tags_way, *WAY_TAGS]))
    return ox


SYNTHETIC_MARKERS = ("yizhan synthetic", "NOT OpenStreetMap")

#: Speeds (km/h) by road class where a way has no ``maxspeed``: the car's, plus paths.
DEFAULT_SPEEDS_KPH: dict[str, float] = {
    **DRIVE_SPEEDS_KPH,
    "cycleway": 20,
    "path": 10,
    "footway": 5,
    "pedestrian": 5,
    "steps": 3,
}
_CACHE_VERSION = "6"
_COMPILED_VERSION = "7"  # 7: a folder of .npy files, mapped


#: the most an extract given by a user may expand to, and how many times its packed size
MAX_EXTRACT_BYTES = 8 * 2**30
MAX_EXPANSION = 60


def check_expansion(path: Path, *, max_bytes: int = MAX_EXTRACT_BYTES) -> None:
    """Refuse a compressed extract that would expand beyond reason (a decompression bomb).

    OSM XML packs about 10-20 times with bzip2; a file expanding more than
    :data:`MAX_EXPANSION` times, or beyond ``max_bytes``, is refused after reading only as
    much as it takes to tell.

    Raises
    ------
    ValidationError
        Naming the file and the limit.
    """
    path = Path(path)
    limit = min(max_bytes, max(path.stat().st_size, 2**20) * MAX_EXPANSION)
    if path.suffix == ".pbf":
        _check_pbf_expansion(path, limit)
        return
    if path.suffix != ".bz2":
        return
    seen = 0
    try:
        with bz2.open(path, "rb") as fh:
            while chunk := fh.read(2**20):
                seen += len(chunk)
                if seen > limit:
                    msg = (
                        f"{path.name} expands to more than {limit // 2**20} MB "
                        f"({MAX_EXPANSION} times its size at most): not an OSM extract"
                    )
                    raise ValidationError(msg)
    except (OSError, EOFError, ValueError) as exc:
        msg = f"{path.name} is not a readable .bz2 file: {type(exc).__name__}"
        raise ValidationError(msg) from exc


#: the largest blob the OSM PBF format allows once unpacked (its specification's limit)
PBF_MAX_BLOB_BYTES = 32 * 2**20


def _varint(buf: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if at >= len(buf) or shift > 63:
            msg = "a truncated number"
            raise ValueError(msg)
        byte = buf[at]
        value |= (byte & 0x7F) << shift
        at += 1
        if not byte & 0x80:
            return value, at
        shift += 7


def _protobuf_fields(buf: bytes) -> dict[int, int | bytes]:
    """The top-level fields of a protobuf message: numbers for varints, bytes otherwise."""
    fields: dict[int, int | bytes] = {}
    at = 0
    while at < len(buf):
        key, at = _varint(buf, at)
        number, wire = key >> 3, key & 7
        if wire == 0:
            fields[number], at = _varint(buf, at)
        elif wire == 2:
            size, at = _varint(buf, at)
            fields[number], at = buf[at : at + size], at + size
        elif wire in (1, 5):
            at += 8 if wire == 1 else 4
        else:
            msg = f"an unknown field kind {wire}"
            raise ValueError(msg)
    return fields


def _check_pbf_expansion(path: Path, limit: int) -> None:
    """Walk an OSM PBF file blob by blob: each unpacks to what it declares, within the limits.

    A blob declares its unpacked size (``raw_size``); each is unpacked up to one byte more
    than that (never beyond :data:`PBF_MAX_BLOB_BYTES`), so a lying blob is caught after
    reading at most its own limit, and the sum is held to ``limit``.
    """
    total = 0
    try:
        with path.open("rb") as fh:
            while head := fh.read(4):
                if len(head) < 4:
                    raise ValueError("a truncated blob header")
                header = _protobuf_fields(fh.read(int.from_bytes(head, "big")))
                size = header.get(3)
                if not isinstance(size, int) or size > PBF_MAX_BLOB_BYTES:
                    raise ValueError("a blob without a sensible size")
                blob = _protobuf_fields(fh.read(size))
                raw = blob.get(1)
                if isinstance(raw, bytes):  # stored unpacked
                    total += len(raw)
                else:
                    declared, packed = blob.get(2), blob.get(3)
                    if not isinstance(declared, int) or not isinstance(packed, bytes):
                        raise ValueError("a blob in a packing this reader does not know")
                    if declared > PBF_MAX_BLOB_BYTES:
                        raise ValueError("a blob larger than the format allows")
                    unpacked = zlib.decompressobj().decompress(packed, declared + 1)
                    if len(unpacked) != declared:
                        raise ValueError("a blob whose content does not match its size")
                    total += declared
                if total > limit:
                    msg = (
                        f"{path.name} expands to more than {limit // 2**20} MB "
                        f"({MAX_EXPANSION} times its size at most): not an OSM extract"
                    )
                    raise ValidationError(msg)
    except (OSError, ValueError, zlib.error) as exc:
        if isinstance(exc, ValidationError):
            raise
        msg = f"{path.name} is not a readable .pbf file: {exc}"
        raise ValidationError(msg) from exc


def is_synthetic_file(path: Path) -> bool:
    """Whether an OSM file declares itself generated by yizhan (read from its first bytes)."""
    opener: Any = bz2.open if Path(path).suffix == ".bz2" else open
    with opener(path, "rb") as fh:
        head = fh.read(2048).decode("utf-8", errors="replace")
    return any(marker in head for marker in SYNTHETIC_MARKERS)


def graph_from_osm_file(path: Path) -> nx.MultiDiGraph:
    """Read an OSM extract (``.osm``, ``.osm.bz2``, or ``.pbf`` via ``osmium``) into a graph.

    The graph keeps only ways tagged ``highway``, is simplified by osmnx (each edge counting
    the ``highway=traffic_signals`` nodes it passes, as ``signals``), carries
    ``speed_kph``/``travel_time`` on every edge (``maxspeed`` where tagged, else
    :data:`DEFAULT_SPEEDS_KPH`), and records ``source_file``, ``synthetic`` and the file's
    turn ``restrictions`` (:mod:`geo.routing.restrictions`) in ``G.graph``.

    Raises
    ------
    ValidationError
        When the file is missing, not OSM XML, or holds no roads.
    SetupError
        For ``.pbf`` when the ``osmium`` tool is not installed.
    """
    path = Path(path)
    if not path.exists():
        msg = f"no such OSM file: {path}"
        raise ValidationError(msg)
    if path.suffix == ".pbf":
        return _graph_from_pbf(path)
    synthetic = is_synthetic_file(path)
    repaired: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        try:
            source = path
            if clipped_ways(path):  # a clipped extract: ways cut where their nodes are missing
                source, repaired = repair_clipped(path, Path(tmp) / "repaired.osm")
            raw = osmnx().graph_from_xml(source, simplify=False, retain_all=True)
            restrictions, restriction_counts = read_restrictions(source)
        except Exception as exc:  # the XML parser and osmnx raise assorted errors
            msg = f"{path.name} is not a readable OSM XML file: {exc}"
            raise ValidationError(msg) from exc
    roads = [(u, v, k) for u, v, k, d in raw.edges(keys=True, data=True) if "highway" not in d]
    raw.remove_edges_from(roads)
    raw.remove_nodes_from([n for n in list(raw.nodes) if raw.degree(n) == 0])
    if raw.number_of_edges() == 0:
        msg = f"{path.name} holds no ways tagged highway"
        raise ValidationError(msg)
    for _, v, d in raw.edges(data=True):  # a signal where the edge arrives (kept when merged)
        d["signals"] = int(raw.nodes[v].get("highway") == "traffic_signals")
    ox = osmnx()
    G = ox.simplify_graph(raw, edge_attr_aggs={"length": sum, "signals": sum})
    G = ox.add_edge_speeds(G, hwy_speeds=DEFAULT_SPEEDS_KPH, fallback=30)
    G = ox.add_edge_travel_times(G)
    G.graph.update(source_file=path.name, synthetic=synthetic)
    missing = sum(r.via not in G.nodes for r in restrictions)  # e.g. on a footway only
    restrictions = [r for r in restrictions if r.via in G.nodes]
    restriction_counts["read"] -= missing
    if missing:
        restriction_counts["skipped_via_not_on_roads"] = missing
    G.graph.update(restrictions=restrictions, restriction_counts=dict(restriction_counts))
    if repaired:
        G.graph["repaired"] = repaired
    return G


def _open_osm(path: Path) -> Any:
    return bz2.open(path, "rb") if path.suffix == ".bz2" else path.open("rb")


def clipped_ways(path: Path) -> bool:
    """Whether any way of an OSM XML file refers to a node the file does not hold."""
    nodes: set[str] = set()
    refs: set[str] = set()
    with _open_osm(path) as fh:
        for _, el in ElementTree.iterparse(fh, events=("end",)):
            if el.tag == "node":
                nodes.add(el.get("id", ""))
            elif el.tag == "nd":
                refs.add(el.get("ref", ""))
            if el.tag in ("node", "way", "relation"):
                el.clear()  # a city's extract is large: keep only the ids
    return not refs <= nodes


def repair_clipped(path: Path, target: Path) -> tuple[Path, dict[str, int]]:
    """Cut each way at the nodes the extract lacks; keep its runs of two or more nodes.

    Returns the repaired file and how many ways were cut and dropped (kept in the graph's
    ``repaired`` and shown by ``yizhan network info`` and ``/health``).
    """
    with _open_osm(path) as fh:
        tree = ElementTree.parse(fh)
    root = tree.getroot()
    present = {n.get("id") for n in root.iter("node")}
    next_id = max((int(w.get("id", 0)) for w in root.iter("way")), default=0) + 1
    cut = dropped = 0
    for way in list(root.iter("way")):
        refs = [nd.get("ref") for nd in way.findall("nd")]
        if all(r in present for r in refs):
            continue
        runs, run = [], []
        for r in [*refs, None]:
            if r is not None and r in present:
                run.append(r)
                continue
            if len(run) >= 2:
                runs.append(run)
            run = []
        tags = way.findall("tag")
        root.remove(way)
        cut += 1
        dropped += not runs
        for piece in runs:
            new = ElementTree.SubElement(root, "way", {"id": str(next_id)})
            next_id += 1
            for r in piece:
                ElementTree.SubElement(new, "nd", {"ref": str(r)})
            new.extend(tags)
    tree.write(target, encoding="utf-8", xml_declaration=True)
    return target, {"ways_cut": cut, "ways_dropped": dropped}


def _limit_written_bytes() -> None:
    """In the child: no file it writes may grow beyond :data:`MAX_EXTRACT_BYTES`."""
    resource.setrlimit(resource.RLIMIT_FSIZE, (MAX_EXTRACT_BYTES, MAX_EXTRACT_BYTES))


def _graph_from_pbf(path: Path) -> nx.MultiDiGraph:
    osmium = shutil.which("osmium")
    if osmium is None:
        msg = "reading .pbf needs the osmium tool: apt-get install -y osmium-tool"
        raise SetupError(msg)
    with tempfile.TemporaryDirectory() as tmp:
        xml = Path(tmp) / (path.stem + ".osm")
        check_expansion(path)
        done = subprocess.run(
            [osmium, "cat", str(path), "-o", str(xml)],
            capture_output=True,
            preexec_fn=_limit_written_bytes,
            check=False,
        )
        if done.returncode != 0:
            said = done.stderr.decode("utf-8", errors="replace").strip().splitlines()
            msg = (
                f"{path.name} is not a readable .pbf file: {said[-1] if said else 'osmium failed'}"
            )
            raise ValidationError(msg)
        G = graph_from_osm_file(xml)
    G.graph["source_file"] = path.name
    return G


def load_graph(path: Path, *, cache_dir: Path | None = None) -> nx.MultiDiGraph:
    """:func:`graph_from_osm_file` with a cache keyed by the file's content.

    The cache is a pickle of the built graph in ``cache_dir`` (our own artefact, never read
    from elsewhere); it is rebuilt when the file, osmnx's version or this loader changes.
    """
    if cache_dir is None:
        return graph_from_osm_file(path)
    cached = _cache_path(path, cache_dir)
    if cached.exists():
        with cached.open("rb") as fh:
            graph: nx.MultiDiGraph = pickle.load(fh)
        return graph
    G = graph_from_osm_file(path)
    cached.parent.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(".tmp")
    with tmp.open("wb") as fh:
        pickle.dump(G, fh, protocol=pickle.HIGHEST_PROTOCOL)
    tmp.replace(cached)
    cached.with_suffix(".json").write_text(json.dumps(graph_summary(G)))
    return G


def load_compiled(
    path: Path, *, cache_dir: Path, crs: str | None = None
) -> tuple[CompiledGraph, dict[str, Any]]:
    """The routing arrays of an OSM file, and its summary, from the compiled cache.

    The first time, the file goes through osmnx (:func:`load_graph`) and is compiled; the
    arrays are kept next to the graph's cache as ``.npy`` files, so later starts map them
    (shared by every process, read in a blink) and never hold the NetworkX graph in memory.
    """
    target = _compiled_path(path, cache_dir, crs)
    summary_path = target.with_suffix(".json")
    if target.exists() and summary_path.exists():
        summary: dict[str, Any] = json.loads(summary_path.read_text())
        try:
            loaded = CompiledGraph.load(target)
        except (OSError, KeyError, ValueError) as exc:  # damaged: compiled again below
            logger.warning("the compiled road graph could not be read (%s); compiling it", exc)
            shutil.rmtree(target, ignore_errors=True)
        else:
            loaded.fingerprint = target.stem
            return loaded, summary
    G = load_graph(path, cache_dir=cache_dir)
    compiled = CompiledGraph.from_graph(G, crs=crs)
    summary = graph_summary(G)
    del G
    compiled.save(target)
    summary_path.write_text(json.dumps(summary))
    _drop_older_versions(target)
    loaded = CompiledGraph.load(target)  # mapped, as every later start has it
    loaded.fingerprint = target.stem
    return loaded, summary


def _drop_older_versions(target: Path) -> None:
    """Remove what earlier versions of this code compiled from the same file (an upgrade's).

    Their arrays (``.npz`` files, or folders with what was derived from them) are never read
    again; a process of the old version still mapping them keeps reading until it stops.
    """
    stem, _, version = target.stem.rpartition("-c")
    for old in target.parent.glob(f"{glob.escape(stem)}-c*"):
        if old.stem.rpartition("-c")[2] == version:
            continue
        if old.is_dir():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink(missing_ok=True)


def compiled_summary(
    path: Path, *, cache_dir: Path, crs: str | None = None
) -> dict[str, Any] | None:
    """The summary of a graph already compiled for ``crs`` (None: not yet), without reading it."""
    target = _compiled_path(path, cache_dir, crs)
    summary_path = target.with_suffix(".json")
    if target.exists() and summary_path.exists():
        found: dict[str, Any] = json.loads(summary_path.read_text())
        return found
    return None


def _compiled_path(path: Path, cache_dir: Path, crs: str | None) -> Path:
    digest = _cache_path(path, cache_dir).stem
    crs_name = (crs or "utm").replace(":", "")
    return Path(cache_dir) / f"{digest}-{crs_name}-c{_COMPILED_VERSION}.arrays"


def network_digest(path: Path) -> str:
    """A short fingerprint of a network file's content (names its cached artefacts)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:20]


def _cache_path(path: Path, cache_dir: Path) -> Path:
    digest = network_digest(path)
    return Path(cache_dir) / f"graph-{digest}-ox{version('osmnx')}-v{_CACHE_VERSION}.pickle"


def cached_summary(path: Path, *, cache_dir: Path) -> dict[str, Any] | None:
    """The summary of a graph already built and cached (None when it is not): no rebuild."""
    cached = _cache_path(path, cache_dir)
    summary = cached.with_suffix(".json")
    if cached.exists() and summary.exists():
        found: dict[str, Any] = json.loads(summary.read_text())
        return found
    return None


def download_osm(polygon: Any, path: Path) -> Path:
    """Download real OSM roads inside ``polygon`` (WGS-84) with osmnx and save them as OSM XML.

    Needs internet access to the Overpass API. The saved file is then loaded like any other
    extract, so the rest of the platform does not care where roads came from.
    """
    ox = osmnx()
    G = ox.graph_from_polygon(polygon, network_type="all", simplify=False, retain_all=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    ox.io.save_graph_xml(G, filepath=path)
    return path


def graph_summary(G: nx.MultiDiGraph) -> dict[str, Any]:
    """Counts and provenance of a graph, as reported by ``/health`` and the CLI."""
    return {
        "nodes": G.number_of_nodes(),
        "edges": G.number_of_edges(),
        "source_file": G.graph.get("source_file"),
        "synthetic": bool(G.graph.get("synthetic", False)),
        **({"repaired": G.graph["repaired"]} if "repaired" in G.graph else {}),
        "turn_restrictions": dict(G.graph.get("restriction_counts", {})),
        "data": "synthetic roads, not OpenStreetMap"
        if G.graph.get("synthetic")
        else "OpenStreetMap contributors (ODbL)",
    }
