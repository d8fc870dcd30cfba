"""``yizhan serve`` (what ``scripts/run.sh`` runs) stopped by SIGTERM stops what it started.

A supervisor, ``docker stop`` or ``kill`` sends SIGTERM; the embedded PostgreSQL the command
started must not be left running after it, and the command says what it stopped.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from geo.db.connection import embedded_cluster
from geo.settings import PROJECT_ROOT, Settings

pytestmark = pytest.mark.server
YIZHAN = Path(sys.executable).parent / "yizhan"


def _postmaster_running(pgdata: Path) -> bool:
    pid_file = pgdata / "postmaster.pid"
    if not pid_file.exists():
        return False
    pid = int(pid_file.read_text().split()[0])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_sigterm_stops_the_server_and_the_database_it_started(
    tmp_path: Path, settings: Settings
) -> None:
    state = tmp_path / "state"
    state.mkdir()
    for shared in ("cache", "networks", "assets"):  # the built graph: no minute-long rebuild
        (state / shared).symlink_to(settings.state_dir / shared)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cluster = embedded_cluster(Settings(state_dir=state))
    pgdata = cluster.pgdata  # (as root under /var/tmp when postgres cannot reach tmp_path)
    env = {**os.environ, "YIZHAN_STATE_DIR": str(state), "YIZHAN_JOBS_AT_START": "false"}
    server = subprocess.Popen(
        [str(YIZHAN), "serve", "--port", str(port)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 240
        while True:
            assert server.poll() is None, server.stdout.read() if server.stdout else ""
            assert time.monotonic() < deadline, "the server did not start"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health/live", timeout=2).is_success:
                    break
            except httpx.TransportError:
                time.sleep(0.5)
        assert _postmaster_running(pgdata)
        server.send_signal(signal.SIGTERM)
        out, _ = server.communicate(timeout=90)
    finally:
        if server.poll() is None:
            server.kill()
            server.communicate()
        if _postmaster_running(pgdata):  # the failure this test is about: do not leave it
            cluster.down()
        shutil.rmtree(cluster.root, ignore_errors=True)
    assert "stopping the embedded database this command started" in out, out[-2000:]
    assert not _postmaster_running(pgdata), out[-2000:]
    # an ordinary stop is no failure: no traceback for the operator (Dask's workers included)
    assert "Traceback" not in out, out[-4000:]
    assert "distributed.scheduler - INFO" not in out, out[-4000:]  # Dask's routine, not ours
