"""Run-time state of the app: the database engine and the road graph (loaded in background)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import networkx as nx
from sqlalchemy import Engine

from geo.network import load_graph
from geo.routing.engine import RoutingEngine
from geo.routing.service import build_engine
from geo.settings import Settings


@dataclass
class GraphHolder:
    """Road graph and routing engine, built in a background thread while the API answers."""

    path: Path
    cache_dir: Path | None
    db: Engine | None = None
    settings: Settings | None = None
    status: Literal["absent", "loading", "ok", "error"] = "absent"
    graph: nx.MultiDiGraph | None = None
    routing: RoutingEngine | None = None
    error: str | None = None
    _thread: threading.Thread | None = field(default=None, repr=False)

    def start(self) -> None:
        """Begin loading (no-op when the file is missing: status ``absent``)."""
        if not self.path.exists():
            self.status, self.error = "absent", f"network file not found: {self.path}"
            return
        self.status = "loading"
        self._thread = threading.Thread(target=self._load, name="graph-loader", daemon=True)
        self._thread.start()

    def wait(self, timeout: float | None = None) -> None:
        """Block until loading has finished (for the CLI and tests)."""
        if self._thread is not None:
            self._thread.join(timeout)

    def _load(self) -> None:
        try:
            graph = load_graph(self.path, cache_dir=self.cache_dir)
            if self.db is not None and self.settings is not None:
                self.routing = build_engine(graph, self.db, self.settings)
            self.graph = graph
            self.status = "ok"
        except Exception as exc:  # reported by /health, never raised into a request
            self.status, self.error = "error", f"{type(exc).__name__}: {exc}"


@dataclass
class AppState:
    """What the lifespan opens and the routes use."""

    engine: Engine
    graph: GraphHolder
