"""numba's cache is named by the code that compiles: a change anywhere in it is a new cache.

numba tells a changed function from its cached one by its own file only; a cached function
calling one from another module would keep the other's older version after an upgrade.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from geo import numba_cache_dir
from geo.settings import PROJECT_ROOT


def test_the_cache_changes_with_any_compiled_module_and_only_with_those(tmp_path: Path) -> None:
    (tmp_path / "routing").mkdir()
    kernel = tmp_path / "routing" / "kernel.py"
    kernel.write_text("from numba import njit\n\n@njit(cache=True)\ndef f(x):\n    return x\n")
    plain = tmp_path / "plain.py"
    plain.write_text("def g():\n    return 1\n")
    first = numba_cache_dir(tmp_path)
    assert first.parent == tmp_path / "__pycache__"
    assert first.name.startswith("numba-")
    plain.write_text("def g():\n    return 2\n")  # no compiled function: the same cache
    assert numba_cache_dir(tmp_path) == first
    kernel.write_text(kernel.read_text().replace("return x", "return x + 1"))
    assert numba_cache_dir(tmp_path) != first


def test_numba_caches_where_the_package_says() -> None:
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    code = "import geo, numba; print(numba.config.CACHE_DIR)"
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=PROJECT_ROOT, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(numba_cache_dir(PROJECT_ROOT / "geo"))
    mine = subprocess.run(
        [sys.executable, "-c", code],
        env={**env, "NUMBA_CACHE_DIR": "/tmp/an-operators-choice"},
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
    )
    assert mine.stdout.strip() == "/tmp/an-operators-choice"
