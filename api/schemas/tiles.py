"""OGC API – Tiles documents: tile matrix sets, tilesets and a tileset's metadata."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from api.schemas.common import Answer


class TileLink(Answer):
    """A link; ``templated`` when ``href`` holds ``{tileMatrix}``-style variables."""

    href: str
    rel: str
    type: str | None = None
    title: str | None = None
    templated: bool | None = None


class TileMatrixSetRef(Answer):
    """A tiling scheme offered."""

    id: str
    title: str
    uri: str
    links: list[TileLink]


class TileMatrixSets(Answer):
    """The tiling schemes offered."""

    tileMatrixSets: list[TileMatrixSetRef]  # noqa: N815 (OGC's name)


class TilesetRef(Answer):
    """A tileset in the list."""

    title: str
    description: str
    dataType: str  # noqa: N815
    crs: str
    tileMatrixSetURI: str  # noqa: N815
    links: list[TileLink]


class Tilesets(Answer):
    """The dataset's tilesets."""

    tilesets: list[TilesetRef]
    links: list[TileLink]


class TilesetLayer(Answer):
    """A layer of a vector tileset."""

    id: str
    title: str
    dataType: str  # noqa: N815


class Tileset(TilesetRef):
    """A tileset's metadata."""

    boundingBox: dict[str, Any]  # noqa: N815
    centerPoint: dict[str, Any]  # noqa: N815
    tileMatrixSetLimits: list[dict[str, Any]] = Field(  # noqa: N815
        description="rows and columns of each tile matrix"
    )
    layers: list[TilesetLayer]
