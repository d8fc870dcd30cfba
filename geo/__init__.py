"""yizhan domain and analysis: database, sample, road networks, routing, coverage (no web).

Importing it points numba's cache of compiled functions at a folder named by a digest of
every module that compiles functions (:func:`numba_cache_dir`), before numba is imported: numba
tells a changed function from its cached one by its own file only, so after an upgrade (or
an edit) a cached function could still call an older version of one in another module.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def numba_cache_dir(root: Path) -> Path:
    """Where the compiled functions of the package at ``root`` are cached: ``__pycache__/numba-…``.

    Named by a digest of every module under ``root`` that compiles functions (and only those).
    """
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        source = path.read_bytes()
        if b"njit" in source:
            digest.update(path.relative_to(root).as_posix().encode() + b"\0" + source)
    return root / "__pycache__" / f"numba-{digest.hexdigest()[:16]}"


if "NUMBA_CACHE_DIR" not in os.environ:  # an operator's own choice stands
    os.environ["NUMBA_CACHE_DIR"] = str(numba_cache_dir(Path(__file__).parent))
