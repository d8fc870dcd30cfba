"""Listening to the database's change feed (``LISTEN``): which stations changed, from anywhere.

Migration 0006 makes every change of a station send its id on :data:`STATIONS_CHANNEL` when
its transaction commits. :func:`follow` keeps one connection listening (reconnecting after a
lost connection, with a full refresh then, so nothing missed counts), gathers what arrives
together and hands it over in batches.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import psycopg
from psycopg import sql
from sqlalchemy import Engine

STATIONS_CHANNEL = "yizhan_stations"
logger = logging.getLogger("yizhan.feed")


def follow(
    engine: Engine,
    on_change: Callable[[set[int] | None], None],
    stop: threading.Event,
    *,
    gather_s: float = 0.1,
) -> None:
    """Call ``on_change(ids)`` for stations changed (``None``: anything may have; refresh all).

    Runs until ``stop`` is set (a thread's target). Changes arriving within ``gather_s`` of
    each other come as one batch.
    """
    conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    backoff = 0.5
    while not stop.is_set():
        try:
            with psycopg.connect(conninfo, autocommit=True) as pg:
                pg.execute(sql.SQL("LISTEN {}").format(sql.Identifier(STATIONS_CHANNEL)))
                on_change(None)  # whatever happened while nobody listened
                backoff = 0.5
                while not stop.is_set():
                    ids = {int(n.payload) for n in pg.notifies(timeout=1.0, stop_after=1)}
                    if not ids:
                        continue
                    ids |= {int(n.payload) for n in pg.notifies(timeout=gather_s)}
                    on_change(ids)
        except psycopg.OperationalError:
            logger.warning("the station feed lost its connection; listening again shortly")
        except Exception:  # a bad batch must not end the feed: refresh everything next time
            logger.exception("applying station changes failed")
        stop.wait(backoff)
        backoff = min(backoff * 2, 30.0)
