"""Engines, database creation and migrations, for the embedded cluster or a given server."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError, ProgrammingError

from geo.db.cluster import EmbeddedCluster, reachable_root

if TYPE_CHECKING:  # alembic is imported where migrations run (a server's workers never do)
    from alembic.config import Config
from geo.db.ddl import ddl
from geo.errors import SetupError
from geo.settings import Settings

logger = logging.getLogger("yizhan.db")
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
EXTENSIONS = ("postgis", "pgrouting")


def embedded_cluster(settings: Settings) -> EmbeddedCluster:
    """The embedded cluster for these settings (in ``state_dir / "pg"``)."""
    root = reachable_root(settings.state_dir / "pg")
    return EmbeddedCluster(root, port=settings.pg_port, bin_dir=settings.pg_bin_dir)


def database_url(settings: Settings, database: str | None = None) -> str:
    """SQLAlchemy URL of the platform database: ``YIZHAN_DATABASE_URL`` or the embedded one."""
    if settings.database_url:
        url = make_url(settings.database_url)
        if url.drivername in ("postgresql", "postgres"):
            url = url.set(drivername="postgresql+psycopg")
        if database:
            url = url.set(database=database)
        return url.render_as_string(hide_password=False)
    return embedded_cluster(settings).url(database or settings.database_name)


def masked(url: str) -> str:
    """``url`` with its password hidden, for anything printed or logged."""
    return make_url(url).render_as_string(hide_password=True)


def make_engine(url: str, *, pool_size: int = 5, wait_s: float = 30.0) -> Engine:
    """An engine that checks connections before use (so a restarted server is picked up).

    Parameters
    ----------
    url
        The database URL.
    pool_size
        Connections kept open; as many again may be opened for a moment under load.
    wait_s
        How long a checkout waits for a free connection before
        :class:`sqlalchemy.exc.TimeoutError` (the API answers 503 with ``Retry-After``).
    """
    return create_engine(
        url, pool_pre_ping=True, pool_size=pool_size, max_overflow=pool_size, pool_timeout=wait_s
    )


def ensure_database(url: str, *, extensions: tuple[str, ...] = EXTENSIONS) -> None:
    """Create the database of ``url`` if missing and the extensions in it.

    ``postgis`` is required; other extensions (``pgrouting``) are created when available and
    allowed. Extensions already there are left alone, so an owner who is not a superuser runs
    this (and every migration) once a DBA has run ``CREATE EXTENSION postgis;``.

    Raises
    ------
    SetupError
        When PostGIS is missing and cannot be created here, naming the SQL a DBA must run.
    """
    target = make_url(url)
    if not _database_exists(target):
        admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(text(ddl("CREATE DATABASE {}", str(target.database))))
        finally:
            admin.dispose()
    engine = create_engine(target, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            installed, available = extensions_of(conn)
            for ext in extensions:
                if ext in installed:
                    continue
                if ext not in available:
                    if ext == "postgis":
                        msg = "PostGIS is not installed on the database server"
                        raise SetupError(msg)
                    continue
                try:
                    conn.execute(text(ddl("CREATE EXTENSION IF NOT EXISTS {}", ext)))
                except ProgrammingError as exc:  # not allowed: a superuser's step
                    if ext == "postgis":
                        msg = (
                            f"PostGIS is not enabled in {target.database!r} and this user may "
                            f"not enable it: a DBA must run  CREATE EXTENSION postgis;  in it"
                        )
                        raise SetupError(msg) from exc
                    logger.info("%s not enabled (optional): %s", ext, type(exc.orig).__name__)
    finally:
        engine.dispose()


def extensions_of(conn: Connection) -> tuple[set[str], set[str]]:
    """The extensions enabled in ``conn``'s database, and those its server could enable."""
    installed = set(conn.scalars(text("SELECT extname FROM pg_extension")))
    available = set(conn.scalars(text("SELECT name FROM pg_available_extensions")))
    return installed, available


def schema_revision(conn: Connection) -> str | None:
    """The Alembic revision ``conn``'s database is at (None: no schema yet)."""
    if not conn.scalar(text("SELECT to_regclass('public.alembic_version') IS NOT NULL")):
        return None
    return conn.scalar(text("SELECT version_num FROM alembic_version"))


def head_revision(url: str) -> str:
    """The revision the code's migrations end at."""
    from alembic.script import ScriptDirectory

    return str(ScriptDirectory.from_config(alembic_config(url)).get_current_head())


def database_exists(url: str) -> bool:
    """Whether the database of ``url`` exists (its server must answer)."""
    return _database_exists(make_url(url))


def _database_exists(target: URL) -> bool:
    """Whether ``target``'s database exists (asked of itself first: 'postgres' may be closed)."""
    engine = create_engine(target, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect():
            return True
    except OperationalError as exc:
        if "does not exist" not in str(exc):
            raise
    finally:
        engine.dispose()
    return False


def clone_database(template_url: str, url: str) -> None:
    """Create the database of ``url`` as a copy of ``template_url``'s (which must be idle)."""
    target, template = make_url(url), make_url(template_url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            names = (str(target.database), str(template.database))
            conn.execute(text(ddl("DROP DATABASE IF EXISTS {} WITH (FORCE)", names[0])))
            conn.execute(text(ddl("CREATE DATABASE {} TEMPLATE {}", *names)))
    finally:
        admin.dispose()


def drop_database(url: str) -> None:
    """Drop the database of ``url`` (used by tests for throwaway databases)."""
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(ddl("DROP DATABASE IF EXISTS {} WITH (FORCE)", str(target.database))))
    finally:
        admin.dispose()


def alembic_config(url: str) -> Config:
    """Alembic configuration pointing at our migrations and ``url``."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Apply migrations up to ``revision``."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    """Revert migrations down to ``revision``."""
    from alembic import command

    command.downgrade(alembic_config(url), revision)


def prepare_database(settings: Settings) -> str:
    """Make the platform database ready: start the embedded cluster if used, create, migrate.

    Returns
    -------
    str
        The database URL.
    """
    if settings.embedded:
        embedded_cluster(settings).up()
    url = database_url(settings)
    ensure_database(url)
    upgrade(url)
    return url
