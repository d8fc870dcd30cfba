"""The embedded PostGIS cluster: a private PostgreSQL server in the project's state folder.

With no ``YIZHAN_DATABASE_URL`` the platform runs its own cluster with the installed
PostgreSQL binaries (``initdb`` / ``pg_ctl``), listening on a Unix socket only, so that a user
never administers a server and two checkouts never collide on a TCP port. PostgreSQL refuses
to run as root: when we are root, the server runs as the unprivileged ``postgres`` user that
Debian's packages create.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import pwd
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from geo.errors import SetupError

INSTALL_HINT = (
    "apt-get update && apt-get install -y --no-install-recommends "
    "postgresql postgresql-15-postgis-3 postgresql-15-pgrouting"
)


def find_pg_bin(explicit: Path | None = None) -> Path:
    """Return the folder of the PostgreSQL server binaries (``initdb``, ``pg_ctl``).

    Parameters
    ----------
    explicit
        A folder given in the settings; used as is when it holds ``initdb``.

    Raises
    ------
    SetupError
        When no server installation is found; the message gives the command to install one.
    """
    candidates: list[Path] = []
    if explicit is not None:
        candidates.append(Path(explicit))
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(re.sub(r"\D", "", p.parent.name) or 0),
        reverse=True,
    )
    candidates.extend(versions)
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).parent)
    for folder in candidates:
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    msg = f"PostgreSQL server binaries not found. Install them with: {INSTALL_HINT}"
    raise SetupError(msg)


@dataclass(frozen=True)
class ClusterStatus:
    """What ``yizhan db status`` reports."""

    initialised: bool
    running: bool
    pgdata: Path
    socket_dir: Path
    port: int

    def __str__(self) -> str:
        state = "running" if self.running else ("stopped" if self.initialised else "absent")
        return (
            f"embedded cluster {state} (data {self.pgdata}, socket {self.socket_dir}:{self.port})"
        )


class EmbeddedCluster:
    """A throwaway-able PostgreSQL cluster living under ``root``.

    Parameters
    ----------
    root
        Folder for the cluster: ``root/data`` (PGDATA), ``root/run`` (socket), ``root/pg.log``.
    port
        The socket's port number (part of the socket file name; no TCP listener is opened).
    bin_dir
        PostgreSQL binaries; found with :func:`find_pg_bin` when omitted.
    """

    def __init__(self, root: Path, *, port: int = 5432, bin_dir: Path | None = None) -> None:
        self.root = Path(root).resolve()
        self.pgdata = self.root / "data"
        self.socket_dir = self.root / "run"
        self.log_file = self.root / "pg.log"
        self.port = port
        self._bin_dir = bin_dir

    @property
    def bin_dir(self) -> Path:
        """Folder of the server binaries."""
        if self._bin_dir is None:
            self._bin_dir = find_pg_bin()
        return self._bin_dir

    def url(self, database: str) -> str:
        """SQLAlchemy URL of ``database`` on this cluster (psycopg 3, Unix socket)."""
        return f"postgresql+psycopg://postgres@/{database}?host={self.socket_dir}&port={self.port}"

    def status(self) -> ClusterStatus:
        """Report whether the cluster exists and its server is running."""
        initialised = (self.pgdata / "PG_VERSION").exists()
        running = False
        if initialised:
            proc = self._run(["pg_ctl", "status", "-D", str(self.pgdata)], check=False)
            running = proc.returncode == 0
        return ClusterStatus(initialised, running, self.pgdata, self.socket_dir, self.port)

    def up(self) -> ClusterStatus:
        """Initialise the cluster if needed and start its server; idempotent.

        Two processes starting it at once (``yizhan`` commands, parallel test workers) take
        turns: the second finds it running once it accepts connections (a server that has
        written its pid file may not yet listen).
        """
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / ".up.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
            return self._start()

    def _start(self) -> ClusterStatus:
        state = self.status()
        if state.running:
            return state
        self._prepare_dirs()
        if not state.initialised:
            self._run(
                [
                    "initdb",
                    "-D",
                    str(self.pgdata),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                ]
            )
        options = f"-p {self.port} -k {self.socket_dir} -c listen_addresses=''"
        self._run(
            [
                "pg_ctl",
                "start",
                "-w",
                "-t",
                "60",
                "-D",
                str(self.pgdata),
                "-l",
                str(self.log_file),
                "-o",
                options,
            ]
        )
        return self.status()

    def down(self) -> ClusterStatus:
        """Stop the server (fast shutdown) if it runs; idempotent."""
        if self.status().running:
            self._run(["pg_ctl", "stop", "-w", "-m", "fast", "-D", str(self.pgdata)])
        return self.status()

    def destroy(self) -> None:
        """Stop the server and delete the cluster's files."""
        self.down()
        shutil.rmtree(self.root, ignore_errors=True)

    # -- helpers ----------------------------------------------------------------------------

    def _server_user(self) -> str | None:
        """The unprivileged account to run the server as, or None to run as ourselves."""
        if os.geteuid() != 0:
            return None
        for name in ("postgres",):
            try:
                pwd.getpwnam(name)
            except KeyError:
                continue
            return name
        msg = "running as root but no 'postgres' account exists; install Debian's postgresql"
        raise SetupError(msg)

    def _prepare_dirs(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o755)
        for folder in (self.pgdata, self.socket_dir):
            folder.mkdir(parents=True, exist_ok=True)
        os.chmod(self.pgdata, 0o700)
        self.log_file.touch(exist_ok=True)
        user = self._server_user()
        if user is not None:
            entry = pwd.getpwnam(user)
            for path in (self.pgdata, self.socket_dir, self.log_file):
                os.chown(path, entry.pw_uid, entry.pw_gid)
            _check_traversable(self.root, user)

    def _run(self, argv: list[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bin_dir / argv[0]), *argv[1:]]
        user = self._server_user()
        if user is not None:
            cmd = ["runuser", "-u", user, "--", *cmd]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd="/")
        if check and proc.returncode != 0:
            log_tail = ""
            if self.log_file.exists():
                log_tail = "\n".join(self.log_file.read_text(errors="replace").splitlines()[-15:])
            msg = (
                f"{argv[0]} failed ({proc.returncode}): "
                f"{proc.stderr.strip() or proc.stdout.strip()}"
                f"\n{log_tail}"
            )
            raise SetupError(msg)
        return proc


def reachable_root(preferred: Path) -> Path:
    """``preferred``, or a folder under /var/tmp when the server account could not reach it.

    As root the server runs as ``postgres``, which must be able to enter every parent folder;
    a checkout under a private home folder (mode 700) would make it fail, so the cluster then
    lives in ``/var/tmp/yizhan-pg/<hash of the preferred path>`` instead.
    """
    preferred = Path(preferred).resolve()
    if os.geteuid() != 0:
        return preferred
    existing = next((p for p in [preferred, *preferred.parents] if p.exists()), Path("/"))
    if all(p.stat().st_mode & 0o001 for p in [existing, *existing.parents]):
        return preferred
    digest = hashlib.sha256(str(preferred).encode()).hexdigest()[:16]
    fallback = Path("/var/tmp/yizhan-pg") / digest
    fallback.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(fallback.parent, 0o755)
    return fallback


def _check_traversable(path: Path, user: str) -> None:
    """Fail clearly when ``user`` cannot reach ``path`` (a parent folder not world-executable)."""
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            msg = (
                f"the server account {user!r} cannot enter {parent}; "
                "set YIZHAN_STATE_DIR to a folder it can reach"
            )
            raise SetupError(msg)
