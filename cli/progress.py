"""Progress on a terminal for the command line's long steps.

A step that reports counts (rows checked of all rows) draws a bar; one that cannot (building a
road graph) shows a spinner with the seconds it has taken. Off a terminal (logs, CI) it writes
one line when the step starts and one when it ends.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

Report = Callable[[int, int], None]
WIDTH = 28


@contextmanager
def progress(label: str, *, stream: TextIO | None = None) -> Iterator[Report]:
    """Show progress of a step; the step may call the yielded function with ``(done, total)``.

    Parameters
    ----------
    label
        What the step does, e.g. ``"building the road graph"``.
    stream
        Where to draw (default: standard error).
    """
    out = stream or sys.stderr
    live = out.isatty()
    start = time.monotonic()
    state = {"done": 0, "total": 0}
    stop = threading.Event()
    lock = threading.Lock()

    def draw() -> None:
        elapsed = time.monotonic() - start
        done, total = state["done"], state["total"]
        if total:
            filled = int(WIDTH * done / total)
            bar = "#" * filled + "." * (WIDTH - filled)
            line = f"\r{label} [{bar}] {done}/{total} {elapsed:5.1f} s"
        else:
            spin = "|/-\\"[int(elapsed * 4) % 4]
            line = f"\r{label} {spin} {elapsed:5.1f} s"
        with lock:
            out.write(line)
            out.flush()

    def tick() -> None:
        while not stop.wait(0.25):
            draw()

    def report(done: int, total: int) -> None:
        state["done"], state["total"] = done, total

    ticker = threading.Thread(target=tick, daemon=True) if live else None
    if ticker is not None:
        ticker.start()
    else:
        out.write(f"{label} …\n")
    try:
        yield report
    finally:
        stop.set()
        if ticker is not None:
            ticker.join()
            draw()
            out.write("\n")
        out.write(f"{label}: done in {time.monotonic() - start:.1f} s\n")
        out.flush()
