"""Backups that restore: the database and the state files it does not hold, in one ``.tar``.

The database goes in as ``pg_dump``'s custom format (``database.dump``), beside ``state/``:
the imported road networks (``networks/``), the regions made with ``yizhan region create``
(``regions/``) and a generated secret key.
What does not: the embedded cluster's own files, caches and page assets (made again).

Restoring needs an empty database (one is created when missing); a database that holds a
schema is refused unless asked to replace it. Extensions already in the target (a DBA's
``CREATE EXTENSION postgis;``) are kept, so an owner without superuser restores too. Passwords
reach ``pg_dump``/``pg_restore`` in their environment, never on a command line.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from geo.db.connection import drop_database, ensure_database, extensions_of, schema_revision
from geo.errors import ConflictError, SetupError, ValidationError

#: the parts of the state folder a backup keeps (the rest is made again)
STATE_PARTS = ("networks", "regions", "secret_key")
DUMP_NAME = "database.dump"


def _tool(name: str, bin_dir: Path | None) -> str:
    """``pg_dump`` or ``pg_restore``: from ``bin_dir``, Debian's newest, or the PATH."""
    candidates = [bin_dir] if bin_dir else []
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    for folder in candidates:
        if (folder / name).exists():
            return str(folder / name)
    found = shutil.which(name)
    if found is None:
        msg = f"{name} is not installed (Debian: postgresql-client)"
        raise SetupError(msg)
    return found


def _libpq(url: str) -> tuple[list[str], dict[str, str]]:
    """Connection options for the client tools, and the environment holding the password."""
    parsed = make_url(url)
    host = parsed.host or parsed.query.get("host")
    args = ["--dbname", str(parsed.database)]
    if host:
        args += ["--host", str(host)]
    port = parsed.port or parsed.query.get("port")
    if port:
        args += ["--port", str(port)]
    if parsed.username:
        args += ["--username", parsed.username]
    env = {**os.environ}
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    return args, env


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
        msg = f"{what} failed: {lines[-1] if lines else 'exit code ' + str(done.returncode)}"
        raise SetupError(msg)


def backup(
    url: str,
    state_dir: Path,
    target: Path,
    *,
    bin_dir: Path | None = None,
    say: Callable[[str], None] = lambda _m: None,
) -> Path:
    """Write the database and the state files to ``target`` (a ``.tar``); returns it."""
    args, env = _libpq(url)
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        dump = Path(tmp) / DUMP_NAME
        say("dumping the database (pg_dump, custom format)")
        _run(
            [_tool("pg_dump", bin_dir), "--format=custom", "--file", str(dump), *args],
            env,
            "pg_dump",
        )
        partial = Path(tmp) / "backup.tar"
        with tarfile.open(partial, "w") as tar:
            tar.add(dump, arcname=DUMP_NAME)
            for part in STATE_PARTS:
                if (state_dir / part).exists():
                    say(f"adding {part}")
                    tar.add(state_dir / part, arcname=f"state/{part}")
        partial.replace(target)  # whole or not at all
    return target


def _holds_a_schema(url: str) -> bool:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return schema_revision(conn) is not None
    finally:
        engine.dispose()


def restore(
    source: Path,
    url: str,
    state_dir: Path,
    *,
    replace: bool = False,
    bin_dir: Path | None = None,
    say: Callable[[str], None] = lambda _m: None,
) -> None:
    """Restore a backup made by :func:`backup` into the database at ``url`` and ``state_dir``.

    Raises
    ------
    ConflictError
        When the database already holds a schema and ``replace`` is not given.
    ValidationError
        When ``source`` is not a yizhan backup.
    """
    source = Path(source)
    try:
        with tarfile.open(source) as tar:
            names = tar.getnames()
    except (tarfile.TarError, OSError) as exc:
        msg = f"{source.name} is not a yizhan backup"
        raise ValidationError(msg) from exc
    if DUMP_NAME not in names:
        msg = f"{source.name} is not a yizhan backup (no {DUMP_NAME})"
        raise ValidationError(msg)
    ensure_database(url, extensions=("postgis",))
    if _holds_a_schema(url):
        if not replace:
            msg = "the database is not empty: restore into an empty one (or --replace it)"
            raise ConflictError(msg)
        say("replacing the database")
        drop_database(url)
        ensure_database(url, extensions=("postgis",))
    args, env = _libpq(url)
    pg_restore = _tool("pg_restore", bin_dir)
    with tempfile.TemporaryDirectory() as tmp:
        with tarfile.open(source) as tar:
            tar.extractall(tmp, filter="data")  # no paths outside tmp, no devices or links out
        dump = Path(tmp) / DUMP_NAME
        listing = subprocess.run(
            [pg_restore, "--list", str(dump)], capture_output=True, text=True, check=True
        ).stdout
        present = _extensions(url)
        keep = [ln for ln in listing.splitlines() if not _existing_extension(ln, present)]
        (Path(tmp) / "toc").write_text("\n".join(keep) + "\n")
        say("restoring the database (pg_restore)")
        _run(
            [
                pg_restore,
                "--no-owner",
                "--exit-on-error",
                "--use-list",
                str(Path(tmp) / "toc"),
                *args,
                str(dump),
            ],
            env,
            "pg_restore",
        )
        state = Path(tmp) / "state"
        if state.exists():
            state_dir.mkdir(parents=True, exist_ok=True)
            for part in state.iterdir():
                say(f"restoring {part.name}")
                destination = state_dir / part.name
                if part.is_dir():
                    shutil.copytree(part, destination, dirs_exist_ok=True)
                else:
                    shutil.copy2(part, destination)


def _extensions(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return extensions_of(conn)[0]
    finally:
        engine.dispose()


def _existing_extension(line: str, present: set[str]) -> bool:
    """Whether a TOC line creates (or comments on) an extension the target already has."""
    if " EXTENSION " not in line:
        return False
    words = line.split()
    return any(name in words for name in present)
