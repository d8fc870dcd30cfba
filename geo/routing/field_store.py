"""Station fields kept on disk once and memory-mapped by every process that serves them.

A profile's dense field (:mod:`geo.routing.station_fields`) depends only on the road graph,
the profile and where each station sits on the roads. Computing it is most of a start
(seconds of Dijkstra per profile) and holding it is most of a process's memory (hundreds of
megabytes per turn-aware profile). So it is written once per (graph, profile, station places)
as two ``.npy`` files, and every later start — the API, each analysis worker, a restart —
maps the same files read-only (``numpy.load(mmap_mode="r")``): no search, and the operating
system keeps one copy in its page cache for all of them.

Files are named by a digest of what the field depends on, written to a temporary name and
renamed (readers never see half a file), and only the newest few sets per graph and profile
are kept. A process that changes one station copies the arrays it changes (copy on write in
:class:`~geo.routing.station_fields.StationFields`), never the file.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from geo.profiles import TravelProfile
from geo.routing.compiled import Snap
from geo.routing.kept import beyond_newest

logger = logging.getLogger("yizhan.fields")

#: bump when the arrays' meaning changes: older files are then never read
FIELD_FORMAT = "2"  # 2: times nodes x stations (hops stations x nodes, as before)
#: station sets kept per graph and profile (the current one and the one before)
KEEP_SETS = 2


class FieldStore:
    """Dense station fields on disk under ``folder``, for one road graph (``graph_key``)."""

    def __init__(self, folder: Path, graph_key: str) -> None:
        self.folder, self.graph_key = Path(folder), graph_key

    def _stem(self, profile: TravelProfile, snaps: Sequence[Snap]) -> str:
        digest = hashlib.sha256(f"{FIELD_FORMAT}|{self.graph_key}|{profile!r}".encode())
        digest.update(np.asarray([s.edge for s in snaps], dtype=np.int64).tobytes())
        digest.update(np.asarray([s.fraction for s in snaps], dtype=np.float64).tobytes())
        return f"{self._prefix(profile)}{digest.hexdigest()[:24]}"

    def _prefix(self, profile: TravelProfile) -> str:
        graph = hashlib.sha256(self.graph_key.encode()).hexdigest()[:12]
        return f"field-{graph}-{profile.name}-"

    def load(
        self, profile: TravelProfile, snaps: Sequence[Snap]
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """The kept field for these station places, mapped read-only (None: not kept yet)."""
        stem = self._stem(profile, snaps)
        dist_path, hop_path = self.folder / f"{stem}.dist.npy", self.folder / f"{stem}.hop.npy"
        if not (dist_path.exists() and hop_path.exists()):
            return None
        try:
            dist = np.load(dist_path, mmap_mode="r", allow_pickle=False)
            hop = np.load(hop_path, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError) as exc:  # a damaged file: computed and written anew
            logger.warning("a kept station field could not be read (%s); computing it", exc)
            return None
        if dist.shape != hop.shape[::-1] or dist.shape[1] != len(snaps):
            return None
        with contextlib.suppress(OSError):  # pruned meanwhile: the mapping still reads
            os.utime(dist_path)  # the newest sets are the ones kept
        return dist, hop

    def save(
        self, profile: TravelProfile, snaps: Sequence[Snap], dist: np.ndarray, hop: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Write a field once and return it mapped from disk (the arrays passed when unwritable)."""
        stem = self._stem(profile, snaps)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            for suffix, array in (("hop", hop), ("dist", dist)):  # dist last: it marks a set
                tmp = self.folder / f"{stem}.{suffix}.{os.getpid()}.tmp"
                with tmp.open("wb") as fh:
                    np.save(fh, np.ascontiguousarray(array), allow_pickle=False)
                tmp.replace(self.folder / f"{stem}.{suffix}.npy")
        except OSError as exc:  # a full or read-only disk: served from memory as before
            logger.warning("station fields are not kept on disk (%s)", exc)
            return dist, hop
        self._prune(profile)
        return self.load(profile, snaps) or (dist, hop)

    def _prune(self, profile: TravelProfile) -> None:
        """Remove all but the newest :data:`KEEP_SETS` sets of this graph and profile.

        A process still mapping a removed file keeps reading it (the file lives on until
        unmapped); it maps the new set at its next start or station reload.
        """
        sets = self.folder.glob(f"{self._prefix(profile)}*.dist.npy")
        for old in beyond_newest(sets, KEEP_SETS):
            stem = old.name.removesuffix(".dist.npy")
            for suffix in ("dist", "hop"):
                (self.folder / f"{stem}.{suffix}.npy").unlink(missing_ok=True)
