"""The ``yizhan`` command: database, sample, road network and server.

``yizhan serve`` is the main job: it starts the embedded database (unless
``YIZHAN_DATABASE_URL`` is set), migrates it, loads the sample, makes sure a road network is
there, and serves the API.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from cli.progress import progress
from geo.settings import Settings, get_settings
from geo.vocabulary import IMPORT_KINDS


def _say(msg: str) -> None:
    print(f"[yizhan {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def cmd_db(args: argparse.Namespace, settings: Settings) -> int:
    """``yizhan db up|down|status|migrate|downgrade``."""
    from geo.db.connection import (
        database_url,
        downgrade,
        embedded_cluster,
        masked,
        prepare_database,
    )

    if args.action in ("up", "down", "status") and not settings.embedded:
        _say(f"using the external database YIZHAN_DATABASE_URL; nothing to {args.action}")
        if args.action != "status":
            return 0
    cluster = embedded_cluster(settings)
    if args.action == "up":
        _say(str(cluster.up()))
        prepare_database(settings)
        _say(f"database ready: {masked(database_url(settings))}")
    elif args.action == "down":
        _say(str(cluster.down()))
    elif args.action == "status":
        from geo.db.connection import make_engine
        from geo.db.health import database_health

        health = database_health(make_engine(database_url(settings)))
        if args.json:
            import dataclasses
            import json

            state = dataclasses.asdict(cluster.status()) if settings.embedded else None
            print(json.dumps({"cluster": state, "database": health}, default=str, indent=2))
            return 0
        if settings.embedded:
            print(cluster.status())
        print(health)
    elif args.action == "check":
        return _db_check(database_url(settings), settings)
    elif args.action in ("backup", "restore"):
        return _backup_or_restore(args, settings)
    elif args.action == "migrate" and args.check:
        return _migrate_check(database_url(settings))
    elif args.action == "migrate":
        _say(f"migrated: {masked(prepare_database(settings))}")
    elif args.action == "downgrade":
        downgrade(database_url(settings), args.revision)
        _say(f"downgraded to {args.revision}")
    return 0


def _db_check(url: str, settings: Settings) -> int:
    """Say what the database lacks (one sentence each, with the SQL); 1 when it blocks."""
    from geo.db.check import check_database

    if settings.embedded:
        from geo.db.connection import embedded_cluster

        embedded_cluster(settings).up()
    found = check_database(url)
    for finding in found:
        print(("problem: " if finding.blocking else "note: ") + finding.text)
    if not any(f.blocking for f in found):
        print("the database is ready for yizhan (yizhan db migrate, then yizhan serve)")
        return 0
    return 1


def _backup_or_restore(args: argparse.Namespace, settings: Settings) -> int:
    """``yizhan db backup FILE`` / ``yizhan db restore FILE [--replace]``."""
    from geo.db.backup import backup, restore
    from geo.db.connection import database_url, embedded_cluster

    if not args.file:
        _say(f"'yizhan db {args.action}' needs a FILE")
        return 2
    if settings.embedded:
        embedded_cluster(settings).up()
    url, path = database_url(settings), Path(args.file)
    if args.action == "backup":
        done = backup(url, settings.state_dir, path, bin_dir=settings.pg_bin_dir, say=_say)
        _say(f"backed up to {done} ({done.stat().st_size / 2**20:.1f} MB)")
        return 0
    restore(
        path, url, settings.state_dir, replace=args.replace, bin_dir=settings.pg_bin_dir, say=_say
    )
    _say(f"restored {path.name}; check it with: yizhan db migrate --check, then start the service")
    return 0


def _migrate_check(url: str) -> int:
    """Exit 0 when the schema is at the code's revision, 1 when an upgrade is pending."""
    from geo.db.check import pending_upgrade

    pending = pending_upgrade(url)
    if pending is None:
        print("the schema is up to date")
        return 0
    current, head = pending
    print(f"the schema is at {current or 'nothing yet'}, the code at {head}: yizhan db migrate")
    return 1


def cmd_data(args: argparse.Namespace, settings: Settings) -> int:
    """``yizhan data status|load-areas|clear-sample``.

    What the database holds; the region's outline, districts and towns alone (a production
    service then imports its own stations, grids, members, workplaces); remove generated rows.
    """
    from geo.db.connection import database_url, make_engine
    from geo.db.holdings import clear_sample, holdings
    from geo.db.load import load_areas

    engine = make_engine(database_url(settings))
    try:
        if args.action == "status":
            with engine.connect() as conn:
                layers = holdings(conn)
            print(f"{'layer':<20}{'rows':>10}{'generated':>12}")
            for layer in layers:
                print(f"{layer.name:<20}{layer.rows:>10}{layer.synthetic:>12}")
            generated = sum(layer.synthetic for layer in layers)
            if generated:
                print(f"{generated} rows are generated (the sample): yizhan data clear-sample")
            return 0
        if args.action == "load-areas":
            if settings.custom_region:
                _say(f"the region {settings.region}'s areas came with 'yizhan region create'")
                return 0
            report = load_areas(engine, settings.region_dir, progress=_say)
            _say(f"rows written: {report.counts or 'none (unchanged)'}")
            return 0
        with engine.begin() as conn:
            removed = clear_sample(conn)
        _say(f"removed the generated rows: {removed or 'none'}; real rows are untouched")
        return 0
    finally:
        engine.dispose()


def cmd_load_sample(_: argparse.Namespace, settings: Settings) -> int:
    """``yizhan load-sample``: migrate, load the sample, generate and build its road graph."""
    from geo.db.connection import make_engine, prepare_database
    from geo.network import compiled_summary, load_compiled
    from geo.workspace import active_network_path, load_region_data

    _say(f"preparing the database {settings.database_name}")
    engine = make_engine(prepare_database(settings))
    _say(f"loading the region {settings.region} from {settings.region_dir}")
    try:
        report = load_region_data(engine, settings, progress=_say)
    finally:
        engine.dispose()
    _say(f"rows written: {report.counts or 'none (unchanged)'}")
    active = active_network_path(settings)
    _say(f"road network file: {active}")
    summary = compiled_summary(active, cache_dir=settings.cache_dir, crs=settings.metric_crs)
    if summary is None:  # built once, then read by every process from its arrays
        with progress(f"road graph from {active.name} (built once, then kept as arrays)"):
            _compiled, summary = load_compiled(
                active, cache_dir=settings.cache_dir, crs=settings.metric_crs
            )
    _say(f"road graph: {summary}")
    return 0


def cmd_sample(args: argparse.Namespace, settings: Settings) -> int:
    """``yizhan sample generate [--check]``."""
    from geo.sample.build import generate_sample, write_sample

    with progress(f"generating the {settings.region} sample (seed {settings.sample_seed})"):
        layers = generate_sample(settings.region_dir / "real", seed=settings.sample_seed)
    out = settings.region_dir / "synthetic"
    if args.check:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            written = write_sample(layers, Path(tmp))
            differ = [p.name for p in written if p.read_bytes() != (out / p.name).read_bytes()]
        if differ:
            _say(f"differ from the generator: {', '.join(differ)}")
            return 1
        _say("the committed sample files are exactly what the generator makes")
        return 0
    for path in write_sample(layers, out):
        _say(f"wrote {path}")
    return 0


def cmd_network(args: argparse.Namespace, settings: Settings) -> int:
    """``yizhan network info|build-sample|prepare|download|import FILE``."""
    from geo import workspace
    from geo.network import cached_summary, download_osm, graph_summary, load_graph

    if args.action == "prepare":
        return _prepare_network(settings)
    if args.action == "build-sample":
        path = workspace.sample_network_path(settings)
        path.unlink(missing_ok=True)
        _say(f"generated {workspace.ensure_sample_network(settings)}")
        workspace.set_active_network(settings, None)
    elif args.action == "download":
        outline = workspace.city_outline(settings).geometry.union_all()
        target = workspace.networks_dir(settings) / f"{settings.region}-osm.osm"
        _say("downloading OpenStreetMap roads with osmnx (needs internet; may take minutes)")
        download_osm(outline, target)
        workspace.set_active_network(settings, target)
        _say(f"saved and activated {target}")
    elif args.action == "import":
        target = workspace.import_network(settings, Path(args.file))
        _say(f"imported and activated {target}")
    path = workspace.active_network_path(settings)
    if not path.exists():
        _say(
            f"no network file at {path}: run 'yizhan load-sample' or 'yizhan network build-sample'"
        )
        return 1
    if args.action == "info":
        known = cached_summary(path, cache_dir=settings.cache_dir)
        if known is not None:
            print(known)
            return 0
    with progress(f"road graph from {path.name} (built once, then cached)"):
        graph = load_graph(path, cache_dir=settings.cache_dir)
    print(graph_summary(graph))
    return 0


def _prepare_network(settings: Settings) -> int:
    """Build the active network's cached files now: the road graph, its arrays, the basemap.

    A server builds them at its first start (a minute for the sample's 65,000 nodes); an
    upgrade or an image build runs this first so the first start is as quick as the next.
    No database is needed.
    """
    from geo import workspace
    from geo.basemap import build_layers
    from geo.network import load_compiled
    from geo.profiles import build_profiles
    from geo.routing.views import keep_views

    path = workspace.active_network_path(settings)
    if path == workspace.sample_network_path(settings):
        if settings.production:
            _say(
                "the sample's generated network is never served in production: "
                "yizhan network import FILE"
            )
            return 1
        with progress("generating the sample's road network"):
            workspace.ensure_sample_network(settings)
    if not path.exists():
        _say(f"no network file at {path}: run 'yizhan network import FILE'")
        return 1
    with progress(f"road graph and its arrays from {path.name} (kept in the cache)"):
        compiled, _ = load_compiled(path, cache_dir=settings.cache_dir, crs=settings.metric_crs)
    with progress("each profile's travel times, roads grid and drawings (kept in the cache)"):
        profiles = build_profiles(settings.profile_speeds)
        keep_views(compiled, [p for p in profiles.values() if not p.on_demand])
    if settings.basemap:
        with progress("basemap layers (kept in the cache)"):
            build_layers(path, settings.cache_dir)
    _say(f"prepared {path.name}: {compiled.n_nodes:,} road nodes")
    return 0


def _serve_processes(settings: Settings, host: str, port: int, processes: int) -> None:
    """Several API processes sharing one Dask cluster (started here unless one is set).

    Each process keeps its routing engine in step through the database's change feed; the
    jobs and quick analyses of all of them go to the one cluster, so any process can follow
    or dismiss any job.
    """
    import os
    import shutil

    from cli.server import run_workers, server_options
    from geo.analyses.cluster import connect, ensure_platform

    workers = settings.job_workers + settings.analysis_workers
    client, cluster = connect(settings, workers=workers)
    try:
        _say(f"analysis cluster: {len(client.scheduler_info()['workers'])} Dask workers")
        ensure_platform(client, settings)
        os.environ["YIZHAN_DASK_SCHEDULER"] = str(client.scheduler_info()["address"])
        os.environ["YIZHAN_API_PROCESSES"] = str(processes)  # each takes its share of the pool
        metrics = settings.state_dir / "metrics"  # the processes' shared metrics, fresh
        shutil.rmtree(metrics, ignore_errors=True)
        metrics.mkdir(parents=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics)
        run_workers("api.app:create_app", host, port, processes, server_options(settings))
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    """``yizhan serve``: everything ``load-sample`` does, then the API."""
    import uvicorn

    from geo.db.connection import embedded_cluster

    cluster = embedded_cluster(settings) if settings.embedded else None
    started_here = cluster is not None and not cluster.status().running
    _stop_on_signals()  # SIGTERM (systemd, docker, kill) ends like Ctrl-C: what started, stops
    try:
        if settings.production and not args.no_load:
            from geo.db.connection import prepare_database

            _say("production: the database is migrated; nothing is loaded (no sample data)")
            prepare_database(settings)
            _say("what it holds: yizhan data status; your own data: see the README")
        elif not args.no_load:
            cmd_load_sample(args, settings)
        host, port = args.host or settings.host, args.port or settings.port
        if args.workers > 1:
            _say(f"serving on http://{host}:{port}/ (docs at /docs)")
            _serve_processes(settings, host, port, args.workers)
        else:
            from geo.platform import start_platform

            settings = settings.model_copy(update={"jobs_at_start": True})  # workers ready now
            platform = start_platform(settings)  # the graph loads while the API is imported
            from api.app import serving_app
            from cli.server import server_config

            _say(f"serving on http://{host}:{port}/ (docs at /docs)")
            app = serving_app(settings, platform=platform)
            uvicorn.Server(server_config(app, settings, host=host, port=port)).run()
    finally:
        if cluster is not None and started_here and not args.keep_db:
            _say(f"stopping the embedded database this command started: {cluster.down()}")
    return 0


def _stop_on_signals() -> None:
    """SIGTERM and SIGHUP raise ``SystemExit``, so ``finally`` blocks run and say so.

    (uvicorn hands the signal it caught back when it has stopped; it then lands here too,
    and the embedded database this command started is stopped rather than left running.)
    """
    import signal

    def stop(signum: int, _frame: object) -> None:
        _say(f"stopping on {signal.Signals(signum).name}")
        raise SystemExit(0)

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, stop)


def cmd_region(args: argparse.Namespace, settings: Settings) -> int:
    """``yizhan region create NAME --network FILE [...] | list | remove NAME``."""
    from geo.custom_region import RegionFiles, create_region, regions_of, remove_region

    if args.action == "list":
        for spec in regions_of(settings.regions_root):
            print(
                f"{spec.name}\t{spec.title}\tEPSG:{spec.metric_srid}\t{spec.timezone}\t"
                f"{spec.network}\ttowns: {spec.towns_source}"
            )
        return 0
    if not args.name:
        _say(f"'yizhan region {args.action}' needs a NAME")
        return 2
    if args.action == "remove":
        remove_region(settings.regions_root, args.name)
        _say(f"removed region {args.name} (its database yizhan_{args.name} is kept)")
        return 0
    if not args.network:
        _say("'yizhan region create' needs --network (an .osm, .osm.bz2 or .pbf extract)")
        return 2
    files = RegionFiles(
        network=Path(args.network),
        boundary=Path(args.boundary) if args.boundary else None,
        towns=Path(args.towns) if args.towns else None,
        stations=Path(args.stations) if args.stations else None,
    )
    with progress(f"building region {args.name} from {files.network.name}"):
        spec = create_region(
            settings.regions_root,
            args.name,
            files,
            cache_dir=settings.cache_dir,
            title=args.title,
            timezone=args.timezone,
            language=args.language,
            navigation=args.navigation.split(",") if args.navigation else None,
            people_per_km2=args.people_per_km2,
            cell_km=args.cell_km,
        )
    region_settings = type(settings).model_validate(
        settings.model_dump(exclude_unset=True) | {"region": spec.name}
    )
    from geo.db.connection import database_exists, database_url, drop_database, embedded_cluster

    if region_settings.embedded:
        embedded_cluster(region_settings).up()
    url = database_url(region_settings)
    existed = database_exists(url)
    try:
        cmd_load_sample(args, region_settings)
    except Exception:
        remove_region(settings.regions_root, spec.name)
        if not existed:  # as it was: no database of the region's either
            drop_database(url)
        _say(f"region {spec.name} not created: its data could not be loaded")
        raise
    _say(
        f"region {spec.name}: EPSG:{spec.metric_srid}, {spec.timezone}, towns: "
        f"{spec.towns_source}; people: {spec.population_source}"
    )
    _say(f"serve it with:  YIZHAN_REGION={spec.name} yizhan serve")
    return 0


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    """``yizhan import stations|members|grids|workplaces FILE [--coord gcj02]``."""
    from geo.db.connection import make_engine, prepare_database
    from geo.io import import_file

    engine = make_engine(prepare_database(settings))
    with progress(f"checking {args.file}") as report_progress, engine.begin() as conn:
        report = import_file(
            conn,
            args.kind,
            Path(args.file),
            coord=args.coord,
            station_kinds=settings.station_kinds,
            amenities=settings.amenities,
            categories=settings.case_categories,
            metric_crs=settings.metric_crs,
            progress=report_progress,
        )
    engine.dispose()
    if not report.ok:
        for err in report.errors[:50]:
            _say(f"row {err.row}: {err.message}")
        _say(f"nothing imported: {len(report.errors)} of {report.rows} rows have errors")
        return 1
    _say(f"{args.kind}: {report.inserted} added, {report.updated} updated from {args.file}")
    if report.unplaced:
        _say(
            f"{report.unplaced} stations have an address but no coordinates: they wait for a "
            "position (GET /v1/stations/unplaced; place each with POST "
            "/v1/stations/unplaced/{id}/place)"
        )
    _say("restart 'yizhan serve' (or change stations through the API) for routing to use them")
    return 0


def cmd_users(args: argparse.Namespace, settings: Settings) -> int:
    """``yizhan users list|create|deactivate|activate|set-role|reset-password|delete``."""
    import secrets

    from geo.db.connection import make_engine, prepare_database
    from geo.users import change_user, create_user, delete_user, list_users, user_dict

    engine = make_engine(prepare_database(settings))
    scope = {"district_id": args.district, "town_id": args.town, "member_id": args.member}
    try:
        with engine.begin() as conn:
            if args.action == "list":
                for user in list_users(conn):
                    print(user_dict(user))
                return 0
            if not args.name:
                _say(f"'yizhan users {args.action}' needs a NAME")
                return 2
            if args.action == "create":
                password = args.password or secrets.token_urlsafe(12)
                create_user(conn, args.name, password, args.role or "planner", **scope)
                if not args.password:
                    print(f"password for {args.name}: {password}")
            elif args.action in ("deactivate", "activate"):
                change_user(conn, args.name, active=args.action == "activate")
            elif args.action == "set-role":
                if not args.role:
                    _say("'yizhan users set-role' needs --role")
                    return 2
                change_user(conn, args.name, role=args.role, **scope)
            elif args.action == "reset-password":
                password = args.password or secrets.token_urlsafe(12)
                change_user(conn, args.name, password=password)
                if not args.password:
                    print(f"new password for {args.name}: {password}")
            elif args.action == "delete":
                delete_user(conn, args.name)
    finally:
        engine.dispose()
    _say(f"{args.action}: {args.name} (their earlier tokens no longer work)")
    return 0


def cmd_province(args: argparse.Namespace, settings: Settings) -> int:
    """``yizhan province``: coverage of every city of the province, one Dask task a city."""
    from distributed import as_completed
    from distributed import progress as dask_progress

    from cli.failures import language
    from geo.analyses.cluster import connect
    from geo.province.run import BASIS, ProvinceQuestion, projected_wall_time, province_graph
    from geo.province.sample import province_cities
    from maps.assets import install
    from maps.province import province_page

    wanted = [c.strip() for c in (args.cities or "").split(",") if c.strip()]
    cities = province_cities(settings.region_dir, wanted)
    question = ProvinceQuestion(minutes=args.minutes, profile=args.profile)
    parts, joined = province_graph(cities, question, settings.cache_dir)
    client, cluster = connect(settings, workers=args.workers)
    _say(f"{len(cities)} cities on {len(client.scheduler_info()['workers'])} Dask workers")
    try:
        start = time.perf_counter()
        futures = client.compute([*parts, joined])
        if sys.stderr.isatty():
            dask_progress(futures)
        for done in as_completed(futures[:-1]):
            row = done.result()["row"]
            _say(f"{row['name']}: {row['share']:.1%} covered ({row['seconds']:.0f} s)")
        result = futures[-1].result()
        wall = time.perf_counter() - start
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    result.cities.to_csv(out / "cities.csv", index=False)
    result.gaps.to_file(out / "gaps.geojson", driver="GeoJSON", engine="pyogrio")
    assets = install(settings.state_dir / "assets")
    html = province_page(
        result.outlines, result.gaps.head(200), lang="zh", assets=assets, note=BASIS["zh"]
    )
    (out / "province.html").write_text(html, encoding="utf-8")
    columns = ["adcode", "name", "stations", "population", "share", "p95_time_s", "seconds"]
    print(result.cities[columns].to_string(index=False))
    overall = result.overall
    print(
        f"province: {overall['share']:.1%} of {overall['population']:,.0f} people within "
        f"{args.minutes:g} min ({args.profile}); wall {wall:.0f} s; "
        f"projected on 4/8/16 workers: "
        + " / ".join(
            f"{projected_wall_time(result.cities['seconds'].tolist(), n):.0f} s" for n in (4, 8, 16)
        )
    )
    _say(BASIS[language(args.lang)])
    _say(f"wrote {out / 'cities.csv'}, {out / 'gaps.geojson'} and {out / 'province.html'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``yizhan`` command."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        release = version("yizhan")
    except PackageNotFoundError:
        release = "unknown"
    parser = argparse.ArgumentParser(prog="yizhan", description=(__doc__ or "").replace("``", ""))
    parser.add_argument("--version", action="version", version=f"yizhan {release}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of failures")
    parser.add_argument(
        "--lang", choices=["en", "zh"], help="language of messages (default: from LANG)"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    db = sub.add_parser(
        "db",
        help="the database: up | down | status | check | migrate [--check] | downgrade | "
        "backup FILE | restore FILE",
    )
    db.add_argument(
        "action",
        choices=["up", "down", "status", "check", "migrate", "downgrade", "backup", "restore"],
    )
    db.add_argument("file", nargs="?", help="with 'backup' and 'restore': the backup file")
    db.add_argument(
        "--replace",
        action="store_true",
        help="with 'restore': replace a database that is not empty",
    )
    db.add_argument(
        "--check", action="store_true", help="with 'migrate': only say whether one is pending"
    )
    db.add_argument("--revision", default="base", help="target of 'downgrade' (default base)")
    db.add_argument("--json", action="store_true", help="with 'status': machine-readable")
    db.set_defaults(func=cmd_db)
    data = sub.add_parser(
        "data",
        help="what the database holds (status) | the region's areas only (load-areas) | "
        "remove the generated rows (clear-sample)",
    )
    data.add_argument("action", choices=["status", "load-areas", "clear-sample"])
    data.set_defaults(func=cmd_data)
    load = sub.add_parser("load-sample", help="migrate, load the sample, generate its roads")
    load.set_defaults(func=cmd_load_sample)
    sample = sub.add_parser("sample", help="regenerate the synthetic sample files")
    sample.add_argument("action", choices=["generate"])
    sample.add_argument("--check", action="store_true", help="only compare with the files")
    sample.set_defaults(func=cmd_sample)
    net = sub.add_parser(
        "network",
        help="road network: info | build-sample | prepare (build its cached files now) | "
        "download | import FILE",
    )
    net.add_argument("action", choices=["info", "build-sample", "prepare", "download", "import"])
    net.add_argument("file", nargs="?", help="with 'import': an .osm, .osm.bz2 or .pbf extract")
    net.set_defaults(func=cmd_network)
    imp = sub.add_parser(
        "import", help="import your own stations (and service centres), members, grids, workplaces"
    )
    imp.add_argument("kind", choices=list(IMPORT_KINDS))
    imp.add_argument("file", help=".csv, .xlsx or .geojson (columns: see README)")
    imp.add_argument("--coord", choices=["wgs84", "gcj02", "bd09"], default="wgs84")
    imp.set_defaults(func=cmd_import)
    region = sub.add_parser(
        "region", help="regions of your own: create NAME --network FILE | list | remove NAME"
    )
    region.add_argument("action", choices=["create", "list", "remove"])
    region.add_argument("name", nargs="?", help="lower-case letters, digits and _")
    region.add_argument("--network", help="the road network: .osm, .osm.bz2 or .pbf")
    region.add_argument("--boundary", help="the outline (GeoJSON, GeoPackage, shapefile...)")
    region.add_argument("--towns", help="town polygons with name (code, population, district)")
    region.add_argument("--stations", help="stations (.csv/.xlsx/.geojson, as 'yizhan import')")
    region.add_argument("--title", help="the name shown on pages (default NAME)")
    region.add_argument("--timezone", help="IANA zone (default: where the centroid lies)")
    region.add_argument(
        "--language", help="the pages' language, zh or en (default: zh in China, else en)"
    )
    region.add_argument(
        "--navigation",
        help="the riders' navigation apps, comma-separated: amap,baidu,tencent,google,apple,osm "
        "(default: amap,baidu,tencent in China, else google,apple,osm)",
    )
    region.add_argument(
        "--people-per-km2",
        type=float,
        default=1000.0,
        help="people assumed per km2 where towns carry no population",
    )
    region.add_argument(
        "--cell-km", type=float, help="side of the squares standing in for towns (default: ~25)"
    )
    region.set_defaults(func=cmd_region)
    users = sub.add_parser(
        "users",
        help="accounts: list | create | deactivate | activate | set-role | reset-password | delete",
    )
    users.add_argument(
        "action",
        choices=[
            "list",
            "create",
            "deactivate",
            "activate",
            "set-role",
            "reset-password",
            "delete",
        ],
    )
    users.add_argument("name", nargs="?", help="the user name")
    users.add_argument("--role", choices=["admin", "manager", "member", "planner"])
    users.add_argument("--district", type=int, help="a manager's district id")
    users.add_argument("--town", type=int, help="a manager's town id")
    users.add_argument("--member", type=int, help="a member account's grid member id")
    users.add_argument("--password", help="default: a random one, printed once")
    users.set_defaults(func=cmd_users)
    prov = sub.add_parser(
        "province", help="coverage of every city of the province (synthetic samples), on Dask"
    )
    prov.add_argument("--cities", help="adcodes or names, comma-separated (default: all 21)")
    prov.add_argument("--minutes", type=float, default=15.0)
    prov.add_argument("--profile", choices=["e_bike", "walk", "drive"], default="e_bike")
    prov.add_argument("--workers", type=int, help="local Dask workers (default job_workers)")
    prov.add_argument("--out", default="artifacts/province", help="folder for the outputs")
    prov.set_defaults(func=cmd_province)
    serve = sub.add_parser("serve", help="prepare everything and serve the API")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--no-load", action="store_true", help="skip database set-up and loading")
    serve.add_argument(
        "--workers", type=int, default=1, help="API processes (they share one Dask cluster)"
    )
    serve.add_argument(
        "--keep-db",
        action="store_true",
        help="leave the embedded database running on exit (it is stopped if serve started it)",
    )
    serve.set_defaults(func=cmd_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``yizhan`` console script.

    An expected failure is one sentence and exit code 1 (``--debug`` adds the traceback);
    anything else is a bug and shows its traceback.
    """
    from cli.failures import explain, language

    args = build_parser().parse_args(argv)
    if args.command == "network" and args.action == "import" and not args.file:
        _say("'yizhan network import' needs a FILE")
        return 2
    func: Callable[[argparse.Namespace, Settings], int] = args.func
    try:
        return func(args, get_settings())
    except (Exception, KeyboardInterrupt) as exc:
        said = explain(exc, language(args.lang))
        if said is None or args.debug:
            raise
        _say(said)
        return 130 if isinstance(exc, KeyboardInterrupt) else 1


if __name__ == "__main__":
    raise SystemExit(main())
