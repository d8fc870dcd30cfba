"""OGC API - Features documents: landing page, conformance, collections, items."""

from __future__ import annotations

from typing import Any

from geojson_pydantic import Feature, FeatureCollection
from geojson_pydantic.geometries import Geometry

from api.schemas.common import Answer

#: OGC's name of WGS-84 in longitude, latitude order
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


class Link(Answer):
    """A link to a related document."""

    href: str
    rel: str
    type: str | None = None
    title: str | None = None


class Landing(Answer):
    """The landing page."""

    title: str
    description: str
    links: list[Link]


class Conformance(Answer):
    """The conformance classes implemented."""

    conformsTo: list[str]  # noqa: N815 (OGC's name)


class Spatial(Answer):
    """A spatial extent."""

    bbox: list[list[float]]
    crs: str


class Extent(Answer):
    """A collection's extent."""

    spatial: Spatial


class CollectionDoc(Answer):
    """A collection's description."""

    id: str
    title: str
    description: str
    itemType: str  # noqa: N815
    crs: list[str]
    extent: Extent
    links: list[Link]


class Collections(Answer):
    """Every collection."""

    links: list[Link]
    collections: list[CollectionDoc]


class Item(Feature[Geometry, dict[str, Any]]):
    """One feature with its links."""

    links: list[Link]


class Items(FeatureCollection[Feature[Geometry, dict[str, Any]]]):
    """A page of features with counts and paging links."""

    numberMatched: int  # noqa: N815
    numberReturned: int  # noqa: N815
    timeStamp: str  # noqa: N815
    links: list[Link]
