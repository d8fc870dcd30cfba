"""Listening to the database's change feed (``LISTEN``): what changed, from anywhere.

Migration 0006 makes every change of a station send its id on :data:`STATIONS_CHANNEL`, and
migration 0008 every statement changing a table map pages show send the table's name on
:data:`TABLES_CHANNEL`, when its transaction commits. :func:`follow` keeps one connection
listening to both (reconnecting after a lost connection, with a full refresh then, so nothing
missed counts): station ids are gathered and handed over in batches, table names go at once
to :class:`TableVersions`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence

import psycopg
from psycopg import sql
from sqlalchemy import Engine

STATIONS_CHANNEL = "yizhan_stations"
TABLES_CHANNEL = "yizhan_tables"
#: the tables whose changes are announced on :data:`TABLES_CHANNEL` (migrations 0008, 0011)
FOLLOWED_TABLES = frozenset(
    {
        "service_region",
        "districts",
        "towns",
        "stations",
        "grids",
        "grid_members",
        "workplaces",
        "cases",
        "basemap_source",
    }
)
logger = logging.getLogger("yizhan.feed")


class TableVersions:
    """How many changes of each followed table this process has heard of, while listening.

    A map page is kept under :meth:`of` its tables: a change of one of them (announced by any
    writer, on any host) gives a new key. While the feed is not listening :meth:`of` is None:
    ask the database (:func:`geo.db.versions.data_version`) instead.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._changes: dict[str, int] = {}
        self._epoch = 0  # a new one each time listening (re)starts: anything may have changed
        self._listening = False

    def listening(self, on: bool) -> None:
        """The feed started listening (everything may have changed meanwhile) or lost it."""
        with self._lock:
            self._listening = on
            self._epoch += 1

    @property
    def is_listening(self) -> bool:
        """Whether the feed listens now (changes by other writers reach this process)."""
        return self._listening

    def changed(self, tables: Iterable[str]) -> None:
        """These tables changed."""
        with self._lock:
            for name in tables:
                self._changes[name] = self._changes.get(name, 0) + 1

    def of(self, tables: Sequence[str]) -> tuple[int, ...] | None:
        """The version of ``tables``; None while not listening, or for a table not followed."""
        with self._lock:
            if not self._listening or not FOLLOWED_TABLES.issuperset(tables):
                return None
            return (self._epoch, *(self._changes.get(name, 0) for name in tables))


def follow(
    engine: Engine,
    on_change: Callable[[set[int] | None], None],
    stop: threading.Event,
    *,
    tables: TableVersions | None = None,
    gather_s: float = 0.1,
) -> None:
    """Call ``on_change(ids)`` for stations changed (``None``: anything may have; refresh all).

    Runs until ``stop`` is set (a thread's target). Station changes arriving within
    ``gather_s`` of each other come as one batch; table changes go to ``tables`` as they come.
    """
    conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    backoff = 0.5
    while not stop.is_set():
        try:
            with psycopg.connect(conninfo, autocommit=True) as pg:
                for channel in (STATIONS_CHANNEL, TABLES_CHANNEL):
                    pg.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
                if tables is not None:
                    tables.listening(True)
                on_change(None)  # whatever happened while nobody listened
                backoff = 0.5
                while not stop.is_set():
                    ids = _heard(pg.notifies(timeout=1.0, stop_after=1), tables)
                    if not ids:
                        continue
                    ids |= _heard(pg.notifies(timeout=gather_s), tables)
                    on_change(ids)
        except psycopg.OperationalError:
            logger.warning("the change feed lost its connection; listening again shortly")
        except Exception:  # a bad batch must not end the feed: refresh everything next time
            logger.exception("applying changes failed")
        if tables is not None:
            tables.listening(False)
        stop.wait(backoff)
        backoff = min(backoff * 2, 30.0)


def _heard(notices: Iterable[psycopg.Notify], tables: TableVersions | None) -> set[int]:
    """Station ids among ``notices``; table names go to ``tables`` as each notice arrives."""
    ids = set()
    for n in notices:
        if n.channel == STATIONS_CHANNEL:
            ids.add(int(n.payload))
        elif tables is not None:
            tables.changed([n.payload])
    return ids
