"""Arrays derived from the road graph, written once as ``.npy`` files and mapped by every process.

The compiled graph, each profile's travel-time view, the segment grid, the drawing
coordinates and the isochrones' road points depend only on the road network and the code
that derives them. Building them took seconds at every start, and each process (the API,
every analysis worker) held its own copy: some 200 MB apiece on the sample. So each set is
written once, as a folder of ``.npy`` files under the compiled graph's cache, and every
later start maps the files (:func:`numpy.load` with ``mmap_mode="c"``): the operating system
keeps one copy in its page cache for all processes, and a process holds only the pages it
reads. Copy-on-write mapping keeps the arrays writable (compiled functions take them as
they took the built ones); a write stays in the writing process, never reaches the file.

A folder is written under a temporary name and renamed: a reader never sees half a set. One
process builds a set while the others wait for it (a lock file beside it), so the API and
its workers starting together build it once. Its name carries a digest of the code that
builds the arrays (:data:`BUILD_DIGEST`), so a changed builder never reads what an older one
wrote.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import shutil
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import numpy as np

logger = logging.getLogger("yizhan.routing")

Arrays = dict[str, np.ndarray]

#: the modules whose code decides what the kept arrays hold
_BUILDERS = (
    *("compiled.py", "profile_graph.py", "turns.py", "snapping.py", "access.py", "reach.py"),
    "kept.py",
)


def _build_digest() -> str:
    here = Path(__file__).parent
    digest = hashlib.sha256()
    for name in _BUILDERS:
        digest.update((here / name).read_bytes())
    return digest.hexdigest()[:12]


#: names the version of the code that built a set (part of every folder's name)
BUILD_DIGEST = _build_digest()
#: sets kept per kind (the newest; older ones are from earlier code or other profiles' speeds)
KEEP_SETS = 2


def map_arrays(folder: Path) -> Arrays | None:
    """The arrays of a complete set, mapped copy-on-write (None: no such set, or unreadable)."""
    if not folder.is_dir():
        return None
    arrays: Arrays = {}
    try:
        for path in folder.glob("*.npy"):
            mapped = np.load(path, mmap_mode="c", allow_pickle=False)
            arrays[path.stem] = np.asarray(mapped)  # a plain array over the mapping
    except (OSError, ValueError) as exc:  # a damaged file: built and written anew
        logger.warning("kept arrays in %s could not be read (%s); building them", folder, exc)
        shutil.rmtree(folder, ignore_errors=True)
        return None
    with contextlib.suppress(OSError):  # the sets in use are the newest (see _prune)
        os.utime(folder)
    return arrays


def write_arrays(folder: Path, arrays: Mapping[str, np.ndarray]) -> None:
    """Write a set under a temporary name, then rename it (a set that exists is left as is)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.with_name(f".{folder.name}.{os.getpid()}-{threading.get_ident()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        for name, array in arrays.items():
            with (tmp / f"{name}.npy").open("wb") as fh:
                np.save(fh, np.ascontiguousarray(array), allow_pickle=False)
        tmp.rename(folder)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        if not folder.is_dir():  # another process may have written the same set first
            raise


def kept_arrays(folder: Path | None, make: Callable[[], Arrays]) -> Arrays:
    """The set in ``folder``, mapped; built by ``make`` and written there the first time.

    Parameters
    ----------
    folder
        Where the set lives (None: nothing is kept; ``make``'s arrays are returned as built).
    make
        Builds the arrays, by name.

    Returns
    -------
    dict
        The arrays by name: mapped from the files, or as built when the disk refuses them.
    """
    if folder is None:
        return make()
    found = map_arrays(folder)
    if found is not None:
        return found
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        lock = open(folder.with_name(f".{folder.name}.lock"), "a")  # noqa: SIM115
    except OSError as exc:  # a read-only disk: served from memory as before
        logger.warning("derived road arrays are not kept on disk (%s)", exc)
        return make()
    with lock:
        # one process builds a set, the others (the API, its workers, starting together)
        # wait for it and map it: no set is built twice at once
        fcntl.flock(lock, fcntl.LOCK_EX)
        found = map_arrays(folder)
        if found is not None:
            return found
        arrays = make()
        try:
            write_arrays(folder, arrays)
        except OSError as exc:  # a full disk: served from memory as before
            logger.warning("derived road arrays are not kept on disk (%s)", exc)
            return arrays
    _prune(folder)
    return map_arrays(folder) or arrays


def set_name(kind: str, *parts: object) -> str:
    """A folder name for a set of ``kind``, built by this code from ``parts``."""
    digest = hashlib.sha256(repr((BUILD_DIGEST, parts)).encode()).hexdigest()[:16]
    return f"{kind}-{digest}"


def beyond_newest(paths: Iterable[Path], keep: int) -> list[Path]:
    """``paths`` but the ``keep`` newest (by modification time): the sets to remove.

    A process still mapping a removed file keeps reading it (the file lives on until unmapped).
    """

    def mtime(path: Path) -> float:
        try:
            return path.stat().st_mtime
        except OSError:  # removed by another process meanwhile
            return 0.0

    return sorted(paths, key=mtime, reverse=True)[keep:]


def _prune(folder: Path) -> None:
    """Remove all but the newest :data:`KEEP_SETS` sets of the same kind beside ``folder``."""
    kind = folder.name.rsplit("-", 1)[0]
    sets = [p for p in folder.parent.glob(f"{kind}-*") if p.name.rsplit("-", 1)[0] == kind]
    for old in beyond_newest(sets, KEEP_SETS):
        shutil.rmtree(old, ignore_errors=True)
        old.with_name(f".{old.name}.lock").unlink(missing_ok=True)
