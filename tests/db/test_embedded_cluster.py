"""The embedded cluster started by two processes at once (two commands, parallel test workers)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest

from geo.db.cluster import EmbeddedCluster, reachable_root
from geo.settings import Settings

pytestmark = pytest.mark.slow


def test_two_starts_at_once_take_turns_and_both_can_connect(settings: Settings) -> None:
    root = reachable_root(Path(settings.state_dir) / "twice-started-pg")
    EmbeddedCluster(root, port=5434, bin_dir=settings.pg_bin_dir).destroy()

    def start(second: bool) -> int:
        # each start has its own cluster object, as two processes would (nothing shared but
        # files); the second asks as soon as the first server has written its pid file
        cluster = EmbeddedCluster(root, port=5434, bin_dir=settings.pg_bin_dir)
        if second:
            deadline = time.monotonic() + 60
            while not (cluster.pgdata / "postmaster.pid").exists():
                assert time.monotonic() < deadline
                time.sleep(0)  # no pause: ask the moment it appears
        assert cluster.up().running
        # at once, no retry: up() returns a server that listens
        with psycopg.connect(host=str(cluster.socket_dir), port=5434, user="postgres") as conn:
            found = conn.execute("SELECT 1").fetchone()
        return found[0] if found else 0

    try:
        for _ in range(3):  # a new cluster, then twice more an existing one (the window is short)
            with ThreadPoolExecutor(2) as pool:
                answers = list(pool.map(start, (False, True)))
            assert answers == [1, 1]
            EmbeddedCluster(root, port=5434, bin_dir=settings.pg_bin_dir).down()
    finally:
        EmbeddedCluster(root, port=5434, bin_dir=settings.pg_bin_dir).destroy()
