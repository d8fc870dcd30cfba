"""What the web side keeps besides the platform: assets, page cache, login throttle, lane."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from api.lane import AnalysisLane
from api.page_cache import Kept, PageCache
from api.throttle import AccountQuota, LoginThrottle
from pages.assets import AssetRegistry

#: analyses kept for pages (a site selection's answer is small: sites and two summaries)
ANALYSES_KEPT = 32


@dataclass(eq=False)
class WebState:
    """The web layer's own state, made with the app (routers get it through a dependency)."""

    page_assets: AssetRegistry
    page_cache: PageCache
    login_throttle: LoginThrottle
    #: where requests that compute run (not the riders' thread pool)
    lane: AnalysisLane
    #: analyses pages draw, by their inputs and data version (shared by a page's variants)
    analyses: Kept[Any] = field(default_factory=lambda: Kept(ANALYSES_KEPT))
    #: basemap tiles, by address and the version of their tables (64 MB at most)
    tiles: Kept[Any] = field(
        default_factory=lambda: Kept(64 * 1024 * 1024, lambda tile: int(tile.size))
    )
    #: calls registered by each staff account this hour (受理登记)
    staff_intake: AccountQuota = field(default_factory=lambda: AccountQuota(600))
    #: the riders' map outline, compressed, by the map's coordinate system
    rider_boundaries: dict[str, bytes] = field(default_factory=dict)
