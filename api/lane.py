"""The analysis lane: heavy public work on threads of its own, with a bounded queue.

Riders' requests (nearest station, routes, station reads) run on the event loop's default
thread pool. Requests that compute — coverage, gaps, custom demand, isochrones, small site
selections and what-ifs, map pages that draw them — run here instead: a few threads of
their own (``analysis_threads``) and at most ``analysis_waiting`` more requests waiting.
Beyond that the answer is at once a 503 with ``Retry-After``, never a pile-up that starves
riders. Larger analyses are jobs on Dask (:mod:`geo.analyses`), outside this process.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from geo.errors import NotReadyError

T = TypeVar("T")


class AnalysisLane:
    """A small thread pool for analyses, refusing work beyond its queue."""

    def __init__(self, threads: int, waiting: int) -> None:
        self.threads, self.capacity = threads, threads + waiting
        self._slots = threading.BoundedSemaphore(self.capacity)
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:  # made on first use, and again after close (a new lifespan)
                self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="analysis")
            return self._pool

    async def run(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on the lane's threads; 503 at once when the lane is full.

        A slot is held until the work has really ended (a request that timed out does not
        free its slot while its thread still computes).
        """
        if not self._slots.acquire(blocking=False):
            msg = "the service is busy with other analyses; try again in a few seconds"
            raise NotReadyError(msg)

        def work() -> T:
            try:
                return fn()
            finally:
                self._slots.release()

        future = self._executor().submit(work)
        try:
            return await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            if future.cancel():  # never started: its slot is free again
                self._slots.release()
            raise

    def close(self) -> None:
        """Let the threads go; running work ends on its own."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
