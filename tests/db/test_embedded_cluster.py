"""The embedded cluster started by two processes at once (two commands, parallel test workers)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from geo.db.cluster import ClusterStatus, EmbeddedCluster, reachable_root
from geo.settings import Settings

pytestmark = pytest.mark.slow


def test_two_starts_at_once_take_turns_and_both_find_it_running(settings: Settings) -> None:
    root = reachable_root(Path(settings.state_dir) / "twice-started-pg")
    first = EmbeddedCluster(root, port=5434, bin_dir=settings.pg_bin_dir)
    first.destroy()
    # each start has its own cluster object, as two processes would (no shared state but files)
    second = EmbeddedCluster(root, port=5434, bin_dir=settings.pg_bin_dir)
    try:
        with ThreadPoolExecutor(2) as pool:
            started: list[ClusterStatus] = list(pool.map(EmbeddedCluster.up, (first, second)))
        assert all(s.running for s in started)
        assert first.status().running
    finally:
        first.destroy()
