"""A serving platform is ready with one profile and warms the rest behind its first answers.

What a server starts with: the first profile's fields (from the kept files once written) and
one answer given, so the first rider is as quick as the next; then, while it answers, the
other profiles' fields and the isochrone roads.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from sqlalchemy import Engine

from geo.platform import start_platform
from geo.settings import Settings


def test_a_serving_platform_warms_every_profile_and_maps_its_fields(
    settings: Settings, engine: Engine
) -> None:
    platform = start_platform(settings)  # as the API does: loading on a thread of its own
    try:
        deadline = time.monotonic() + 120
        while platform.roads.status == "loading" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert platform.roads.status == "ok", platform.roads.error
        platform.roads.wait(120)  # the warming after ready
        routing = platform.require_routing()
        assert routing.fields.pending() == []
        assert not routing._road_points  # isochrones are drawn on the analysis workers
        for profile in routing.profiles:
            field = routing.fields[profile]
            assert isinstance(field.dist, np.memmap)
            assert Path(field.dist.filename).parent == settings.cache_dir / "fields"
    finally:
        platform.close()


def test_a_platform_with_fields_off_keeps_them_in_memory(
    settings: Settings, engine: Engine
) -> None:
    platform = start_platform(settings.model_copy(update={"keep_fields": False}), background=False)
    try:
        routing = platform.require_routing()
        field = routing.fields[next(iter(routing.profiles))]
        assert not isinstance(field.dist, np.memmap)
        assert routing.fields.pending() == []  # a script builds everything it is given
    finally:
        platform.close()
