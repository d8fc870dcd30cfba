"""An analysis cluster that starts in the background reports what happened in words.

A service stopped while its cluster is still starting cuts the cluster's connections on
purpose: that is one calm line, never an ERROR with a traceback in the operator's log. A real
failure to start stays an error with its traceback (the first request also reports it).
"""

from __future__ import annotations

import logging
import time

import pytest

from geo.analyses.cluster import start_in_background


def _cut() -> None:
    msg = "Stream is closed"  # what distributed raises when the client is closed under it
    raise OSError(msg)


def _started(caplog: pytest.LogCaptureFixture, name: str) -> list[logging.LogRecord]:
    deadline = time.monotonic() + 5
    while not [r for r in caplog.records if name in r.getMessage()]:
        assert time.monotonic() < deadline, "the starting thread said nothing"
        time.sleep(0.01)
    return [r for r in caplog.records if name in r.getMessage()]


def test_a_cluster_stopped_while_it_starts_is_one_calm_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="yizhan")
    start_in_background(_cut, "quiet-test", stopped=lambda: True)  # type: ignore[arg-type]
    (record,) = _started(caplog, "quiet-test")
    assert record.levelno == logging.INFO
    assert record.exc_info is None
    assert "was stopped while it started" in record.getMessage()


def test_a_cluster_that_fails_to_start_is_an_error_with_its_cause(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="yizhan")
    start_in_background(_cut, "failing-test", stopped=lambda: False)  # type: ignore[arg-type]
    (record,) = _started(caplog, "failing-test")
    assert record.levelno == logging.ERROR
    assert record.exc_info is not None
