"""The platform: settings, database, road network, routing engine and the caches built on them.

One :class:`Platform` serves the API (built in its lifespan, the road network loading in the
background while the API answers) and notebooks and scripts (:func:`open_platform`, which
waits for the network). It owns what is built once and shared: the routing engine, the
demand layers snapped to the roads (coverage models) and the grid members' travel-time field.
Station changes go through :meth:`Platform.station_changed`, so the engine and every cache
agree with the database.

By default :func:`open_platform` works in a scratch database of its own (the service's name
with ``_notebook`` added), loaded with the same sample: what a notebook writes — test cases,
what-if stations — never reaches the database the service answers riders from.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import logging
import threading
import time
from collections.abc import Hashable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Engine, make_url
from sqlalchemy.exc import OperationalError

from geo.basemap import ensure_basemap
from geo.cases.batch import MemberTimes, member_times
from geo.coverage.analysis import CoverageModel
from geo.coverage.layers import DEMAND_LAYERS, read_demand
from geo.custom_region import RegionSpec, region_frame, region_notice
from geo.db.connection import database_url, make_engine, prepare_database
from geo.db.feed import TableVersions, follow
from geo.db.region import service_region
from geo.db.stations import station_row
from geo.db.versions import data_version
from geo.errors import NotReadyError, ValidationError
from geo.hours import use_timezone
from geo.network import is_synthetic_file, load_compiled
from geo.profiles import build_profiles
from geo.routing.compiled import CompiledGraph
from geo.routing.engine import RoutingEngine
from geo.sample import SAMPLE_NOTICE
from geo.settings import Settings, get_settings
from geo.stations import station_records, to_record
from geo.workspace import active_network_path, load_region_data

NetworkStatus = Literal["absent", "loading", "ok", "error"]
#: more stations changed at once than this: reload them all (cheaper than one by one)
MANY_CHANGES = 20

logger = logging.getLogger("yizhan.platform")


def build_routing(
    compiled: CompiledGraph, db: Engine, settings: Settings, *, lazy_profiles: bool = False
) -> RoutingEngine:
    """The engine on ``compiled``, with the stations and the service region from the database.

    Dense station fields are kept under the cache folder and mapped (``YIZHAN_KEEP_FIELDS``);
    with ``lazy_profiles`` only the first profile's are built now.
    """
    with db.connect() as conn:
        stations = station_records(conn)
        region = service_region(conn, settings.metric_crs)
    profiles = build_profiles(settings.profile_speeds)
    if not compiled.says_of_trucks:  # trucks would only be cars: the drivers' mode drives
        profiles.pop("truck")
    return RoutingEngine(
        compiled,
        profiles,
        stations,
        max_snap_m=settings.max_snap_m,
        region=region,
        field_dir=settings.cache_dir / "fields" if settings.keep_fields else None,
        lazy_profiles=lazy_profiles,
    )


@dataclass
class RoadNetwork:
    """The road graph and its routing engine, loaded once (in the background for the API)."""

    path: Path
    status: NetworkStatus = "absent"
    #: counts and provenance of the loaded graph (``/health``)
    summary: dict[str, Any] | None = None
    routing: RoutingEngine | None = None
    error: str | None = None
    #: the stations' data version the engine was built from (see :meth:`Platform.refresh_stations`)
    stations_version: str | None = None
    _thread: threading.Thread | None = field(default=None, repr=False)

    def start(self, db: Engine, settings: Settings, *, background: bool = True) -> None:
        """Begin loading (status ``absent`` when the file is missing)."""
        if not self.path.exists():
            self.status, self.error = "absent", "no road network yet: yizhan network import FILE"
            return
        if settings.production and is_synthetic_file(self.path):  # never made-up roads
            self.status = "absent"
            self.error = "the network is the sample's generated one: yizhan network import FILE"
            return
        self.status = "loading"
        if not background:
            self._load(db, settings)
            return
        self._thread = threading.Thread(
            target=self._load, args=(db, settings, True), name="graph-loader", daemon=True
        )
        self._thread.start()

    def wait(self, timeout: float | None = None) -> None:
        """Block until loading has finished (for the CLI and tests)."""
        if self._thread is not None:
            self._thread.join(timeout)

    def _load(self, db: Engine, settings: Settings, serving: bool = False) -> None:
        """Load the graph and build the engine; a server's engine is warmed (see below).

        A server (``serving``) builds the first profile's fields and answers one question with
        it before it says ready (the first rider's answer is as quick as the next); the other
        profiles' fields follow on this thread while it answers. A worker or a script builds
        what it asks for, when it asks.
        """
        try:
            compiled, summary = load_compiled(
                self.path, cache_dir=settings.cache_dir, crs=settings.metric_crs
            )
            wait_s = 0.5
            while True:  # the database may be down at start: the graph waits for it, never fails
                try:
                    with db.connect() as conn:  # the version first: no change is missed
                        version = data_version(conn, ["stations"])
                    routing = build_routing(compiled, db, settings, lazy_profiles=serving)
                    break
                except OperationalError:
                    self.error = "waiting for the database to answer"
                    time.sleep(wait_s)
                    wait_s = min(wait_s * 2, 5.0)
            if serving:
                routing.warm(routing.everyday_profiles[:1], isochrones=False)
            self.routing = routing
            self.summary = summary
            self.stations_version = version
            self.error = None
            settle_memory()
            self.status = "ok"
        except Exception as exc:  # reported by /health, never raised into a request
            self.status, self.error = "error", f"{type(exc).__name__}: {exc}"
            return
        if serving:
            try:
                # the other profiles (isochrones are drawn on the analysis workers)
                routing.warm(routing.everyday_profiles[1:], isochrones=False)
                settle_memory()
            except Exception:  # the engine answers all the same, each first answer slower
                logger.exception("warming the routing engine failed")


def settle_memory() -> None:
    """Keep the graph's millions of long-lived objects out of the collector's full passes.

    (Those passes otherwise stall every request for hundreds of milliseconds now and then.)
    The memory that building freed goes back to the system (glibc keeps it otherwise: some
    200 MB after the isochrone roads are made). Only the young generations are collected
    first: a full pass over the half-million objects of a loaded sample takes 160–380 ms
    before the server may say it is ready and found nothing to free (what building threw
    away has not lived long enough to reach the old generation).
    """
    gc.collect(1)
    gc.freeze()
    with contextlib.suppress(OSError, AttributeError):  # glibc only (not musl, not macOS)
        ctypes.CDLL("libc.so.6").malloc_trim(0)


@dataclass(eq=False)
class Platform:
    """A running platform: settings, database engine, road network and shared caches."""

    settings: Settings
    db: Engine
    roads: RoadNetwork
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _coverage: dict[str, CoverageModel] = field(default_factory=dict, repr=False)
    _members: tuple[RoutingEngine, MemberTimes] | None = field(default=None, repr=False)
    _feed: threading.Event | None = field(default=None, repr=False)
    #: which changes of map tables this process has heard of (the change feed)
    tables: TableVersions = field(default_factory=TableVersions, repr=False)
    #: the basemap's layers: absent, loading, ok or error (see :meth:`draw_basemap`)
    basemap_status: str = "absent"

    @cached_property
    def region_spec(self) -> RegionSpec | None:
        """The served region's spec when it is one of the user's own (None: the sample)."""
        return region_frame(self.settings.region_dir)[0] if self.settings.custom_region else None

    @cached_property
    def data_notice(self) -> str:
        """What answers say of the data: the sample's generated records, or the region's."""
        return SAMPLE_NOTICE if self.region_spec is None else region_notice(self.region_spec)

    def tables_version(self, tables: tuple[str, ...]) -> Hashable:
        """The version of ``tables``: heard from the change feed, else asked of the database."""
        heard = self.tables.of(tables)
        if heard is not None:
            return heard
        with self.db.connect() as conn:
            return data_version(conn, tables)

    @property
    def routing(self) -> RoutingEngine | None:
        """The routing engine, or None while the road network loads (or failed)."""
        return self.roads.routing

    def require_routing(self) -> RoutingEngine:
        """The routing engine, or :class:`NotReadyError` while the network is not ready."""
        if self.roads.routing is None:
            msg = f"the road graph is not ready ({self.roads.status}); try again shortly"
            raise NotReadyError(msg)
        return self.roads.routing

    def coverage_model(self, kind: str) -> CoverageModel:
        """The ``kind`` demand layer snapped to the roads, built on first use and kept.

        Only the layers there are (:data:`DEMAND_LAYERS`): one model each, nothing else kept.
        """
        if kind not in DEMAND_LAYERS:
            msg = f"demand must be one of {', '.join(DEMAND_LAYERS)}, not {kind[:40]!r}"
            raise ValidationError(msg)
        engine = self.require_routing()
        with self._lock:
            model = self._coverage.get(kind)
            if model is None or model.engine is not engine:
                with self.db.connect() as conn:
                    model = CoverageModel(engine, read_demand(conn, kind))
                self._coverage[kind] = model
        return model

    def member_times(self) -> MemberTimes:
        """Travel times from every grid member's base, searched once and kept."""
        engine = self.require_routing()
        with self._lock:
            if self._members is None or self._members[0] is not engine:
                with self.db.connect() as conn:
                    self._members = (engine, member_times(conn, engine))
            return self._members[1]

    def station_changed(self, row: dict[str, Any]) -> None:
        """Tell the routing engine a station was created or changed (its stored row)."""
        if self.roads.routing is not None:
            self.roads.routing.fields.upsert(to_record(row))

    def follow_stations(self) -> None:
        """Keep the engine and :attr:`tables` in step with every writer (imports, SQL…)."""
        if self._feed is not None:
            return
        self._feed = threading.Event()
        thread = threading.Thread(
            target=follow,
            args=(self.db, self._stations_changed, self._feed),
            kwargs={"tables": self.tables},
            name="change-feed",
            daemon=True,
        )
        thread.start()

    def _stations_changed(self, ids: set[int] | None) -> None:
        """Apply stations changed elsewhere: one by one, or all when many (or unknown)."""
        engine = self.roads.routing
        if engine is None:  # still loading: the engine will read the stations as they are
            return
        if ids is None or len(ids) > MANY_CHANGES:
            self.refresh_stations()
            return
        with self.db.connect() as conn:
            rows = {i: station_row(conn, i) for i in sorted(ids)}
            version = data_version(conn, ["stations"])
        for station_id, row in rows.items():
            if row is None:
                engine.fields.remove(station_id)
            else:
                engine.fields.upsert(to_record(row))
        self.roads.stations_version = version

    def refresh_stations(self) -> bool:
        """Reload the stations if any writer changed them since the engine last read them.

        The API tells its engine of each change (:meth:`station_changed`); a Dask worker's
        platform learns of them here, before each job. Whether stations were reloaded.
        """
        engine = self.require_routing()
        with self.db.connect() as conn:
            version = data_version(conn, ["stations"])
            if version == self.roads.stations_version:
                return False
            records = station_records(conn)
        engine.fields.replace(records)
        self.roads.stations_version = version
        return True

    def draw_basemap(self) -> None:
        """Once the road network has loaded, load its basemap layers unless already there.

        Run by the API on a thread of its own: the layers are drawn in a child process the
        first time a network is served (seconds), and the tiles are empty until then.
        """
        self.roads.wait()
        if self.roads.status != "ok" or not self.settings.basemap:
            self.basemap_status = "absent"
            return
        self.basemap_status = "loading"
        try:
            ensure_basemap(self.db, self.roads.path, self.settings.cache_dir)
            self.basemap_status = "ok"
        except Exception as exc:  # reported by /health, never raised into a request
            logger.warning("the basemap could not be drawn: %s", exc)
            self.basemap_status = "error"

    def close(self) -> None:
        """Stop the feed; release the connections and the graph's views (see below).

        The analysis clusters are not its own. The engine still answers after it (its views
        are mapped again when asked); a platform dropped after it frees its graph at once.
        """
        if self._feed is not None:
            self._feed.set()
        self.db.dispose()
        if self.roads.routing is not None:
            self.roads.routing.graph.release()


def start_platform(
    settings: Settings, *, background: bool = True, db: Engine | None = None
) -> Platform:
    """A platform over an existing, migrated database; the road network starts loading."""
    use_timezone(settings.timezone)
    db = db or make_engine(
        database_url(settings), pool_size=settings.pool_size, wait_s=settings.db_wait_s
    )
    platform = Platform(settings, db, RoadNetwork(active_network_path(settings)))
    platform.roads.start(db, settings, background=background)
    return platform


SCRATCH_SUFFIX = "_notebook"


def scratch_settings(settings: Settings) -> Settings:
    """The same settings, pointed at the notebooks' own database (embedded or external)."""
    if settings.database_url:
        current = make_url(settings.database_url).database or "yizhan"
        if current.endswith(SCRATCH_SUFFIX):
            return settings
        url = database_url(settings, current + SCRATCH_SUFFIX)
        return settings.model_copy(update={"database_url": url})
    if settings.database_name.endswith(SCRATCH_SUFFIX):
        return settings
    return settings.model_copy(update={"database_name": settings.database_name + SCRATCH_SUFFIX})


def open_platform(
    settings: Settings | None = None, *, load: bool = True, scratch: bool = True
) -> Platform:
    """Prepare the database (and the sample when ``load``), then load the road network.

    Parameters
    ----------
    settings
        The platform's settings (default: from the environment).
    load
        Load the sample (idempotent) and make sure the sample road network exists.
    scratch
        Work in a database of the notebook's own (default), never the service's.
    """
    settings = settings or get_settings()
    if scratch:
        settings = scratch_settings(settings)
    db = make_engine(prepare_database(settings))
    if load:
        load_region_data(db, settings)
    platform = start_platform(settings, background=False, db=db)
    if platform.roads.error:
        raise NotReadyError(platform.roads.error)
    return platform
