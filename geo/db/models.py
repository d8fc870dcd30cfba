"""The spatial database: SQLAlchemy 2 / GeoAlchemy2 models of the service network.

All geometries are stored in WGS-84 (SRID 4326) with GiST indexes. The database itself
refuses invalid geometry (``CHECK ST_IsValid``) and points outside the service region (a
trigger against the one-row ``service_region`` table), so no path can store either; ``geo``
checks the same rules first to give a clear message.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from geo.region import DEFAULT_TOLERANCE_M
from geo.vocabulary import (
    PHOTO_TYPES,
    CaseStatus,
    JobStatus,
    Role,
    StationFeedbackKind,
    StationStatus,
    Vocabulary,
)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with a stable constraint naming convention."""

    metadata = MetaData(naming_convention=NAMING)


def _one_of(column: str, vocabulary: type[Vocabulary]) -> CheckConstraint:
    """A CHECK that ``column`` holds one of a vocabulary's codes."""
    codes = ", ".join(f"'{code}'" for code in vocabulary.codes())
    return CheckConstraint(f"{column} IN ({codes})", name=column)


def _valid(column: str) -> CheckConstraint:
    return CheckConstraint(
        f"ST_IsValid({column}) AND NOT ST_IsEmpty({column})", name=f"{column}_valid"
    )


class Timestamped:
    """Creation and update times, set by the database."""

    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now(), nullable=False
    )


class ServiceRegion(Base):
    """The outline of the area the platform serves (one row); points must fall inside it."""

    __tablename__ = "service_region"
    __table_args__ = (_valid("geom"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    tolerance_m: Mapped[float] = mapped_column(Float, nullable=False, default=DEFAULT_TOLERANCE_M)
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=True), nullable=False)


class Dataset(Base):
    """Provenance of each loaded layer: where it came from, its licence, whether generated."""

    __tablename__ = "datasets"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    source: Mapped[str] = mapped_column(Text, nullable=False)
    licence: Mapped[str] = mapped_column(Text, nullable=False)
    synthetic: Mapped[bool] = mapped_column(Boolean, nullable=False)
    checksum: Mapped[str] = mapped_column(String(64), nullable=False)
    rows: Mapped[int] = mapped_column(Integer, nullable=False)
    loaded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )


class District(Base):
    """A county-level unit (区 / 县级市)."""

    __tablename__ = "districts"
    __table_args__ = (_valid("geom"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    adcode: Mapped[str] = mapped_column(String(12), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(50), nullable=False)
    name_en: Mapped[str | None] = mapped_column(String(80))
    area_km2: Mapped[float | None] = mapped_column(Float)
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=True), nullable=False)

    towns: Mapped[list[Town]] = relationship(back_populates="district")


class Town(Base):
    """A township-level unit (镇 / 街道): official codes and names, generated seat and area."""

    __tablename__ = "towns"
    __table_args__ = (_valid("area"), CheckConstraint("population >= 0", name="population"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True, nullable=False)
    code9: Mapped[str] = mapped_column(String(9), nullable=False)
    name: Mapped[str] = mapped_column(String(50), nullable=False)
    short_name: Mapped[str] = mapped_column(String(50), nullable=False)
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    pinyin: Mapped[str | None] = mapped_column(String(80))
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"), nullable=False, index=True)
    population: Mapped[int] = mapped_column(Integer, nullable=False)
    population_source: Mapped[str] = mapped_column(String(40), nullable=False)
    seat_source: Mapped[str] = mapped_column(String(40), nullable=False)
    area_synthetic: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    seat = mapped_column(Geometry("POINT", srid=4326, spatial_index=True), nullable=False)
    area = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=True), nullable=False)

    district: Mapped[District] = relationship(back_populates="towns")


class Station(Timestamped, Base):
    """A rest station or service centre workers can go to."""

    __tablename__ = "stations"
    __table_args__ = (
        _valid("geom"),
        Index("ix_stations_amenities", "amenities", postgresql_using="gin"),
        _one_of("status", StationStatus),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    kind: Mapped[str] = mapped_column(String(40), nullable=False, index=True)
    address: Mapped[str | None] = mapped_column(Text)
    amenities: Mapped[list[str]] = mapped_column(ARRAY(String(40)), nullable=False, default=list)
    opening_hours: Mapped[str] = mapped_column(String(255), nullable=False, default="24/7")
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="active")
    phone: Mapped[str | None] = mapped_column(String(40))
    town_id: Mapped[int | None] = mapped_column(ForeignKey("towns.id"), index=True)
    synthetic: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    source: Mapped[str] = mapped_column(String(100), nullable=False, default="manual")
    external_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    geom = mapped_column(Geometry("POINT", srid=4326, spatial_index=True), nullable=False)


class UnplacedStation(Base):
    """A station imported with an address but no coordinates: staff place it on the map."""

    __tablename__ = "unplaced_stations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    address: Mapped[str] = mapped_column(Text, nullable=False)
    amenities: Mapped[list[str]] = mapped_column(
        ARRAY(String(40)), nullable=False, server_default="{}"
    )
    opening_hours: Mapped[str] = mapped_column(String(255), nullable=False, server_default="24/7")
    status: Mapped[str] = mapped_column(String(10), nullable=False, server_default="active")
    phone: Mapped[str | None] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(100), nullable=False, server_default="import")
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )


class StationPhoto(Base):
    """A station's photo (one per station), shown to riders."""

    __tablename__ = "station_photos"
    __table_args__ = (
        CheckConstraint(
            "content_type IN (" + ", ".join(f"'{t}'" for t in PHOTO_TYPES) + ")",
            name="content_type",
        ),
    )

    station_id: Mapped[int] = mapped_column(
        ForeignKey("stations.id", ondelete="CASCADE", name="fk_station_photos_station"),
        primary_key=True,
    )
    content_type: Mapped[str] = mapped_column(String(20), nullable=False)
    data: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    width: Mapped[int] = mapped_column(Integer, nullable=False)
    height: Mapped[int] = mapped_column(Integer, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )


class Grid(Base):
    """A grid area (网格) of a town, the unit a grid member is responsible for."""

    __tablename__ = "grids"
    __table_args__ = (_valid("geom"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True, nullable=False)
    town_id: Mapped[int] = mapped_column(ForeignKey("towns.id"), nullable=False, index=True)
    synthetic: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=True), nullable=False)


class GridMember(Timestamped, Base):
    """A member of the grid team (网格员) of a town."""

    __tablename__ = "grid_members"
    __table_args__ = (_valid("base"), CheckConstraint("capacity >= 0", name="capacity"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(50), nullable=False)
    town_id: Mapped[int] = mapped_column(ForeignKey("towns.id"), nullable=False, index=True)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    skills: Mapped[list[str]] = mapped_column(ARRAY(String(40)), nullable=False, default=list)
    capacity: Mapped[int] = mapped_column(Integer, nullable=False, default=10)
    on_leave: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    phone: Mapped[str | None] = mapped_column(String(40))
    synthetic: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    base = mapped_column(Geometry("POINT", srid=4326, spatial_index=True), nullable=False)


class Workplace(Base):
    """A workplace with a grassroots union: where union members work (a demand layer)."""

    __tablename__ = "workplaces"
    __table_args__ = (_valid("geom"), CheckConstraint("members >= 0", name="members"))

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    sector: Mapped[str | None] = mapped_column(String(60))
    members: Mapped[int] = mapped_column(Integer, nullable=False)
    town_id: Mapped[int | None] = mapped_column(ForeignKey("towns.id"), index=True)
    synthetic: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    geom = mapped_column(Geometry("POINT", srid=4326, spatial_index=True), nullable=False)


class Meta(Base):
    """Free-form key/value facts about the loaded database (sample version, seed...)."""

    __tablename__ = "meta"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value = mapped_column(JSONB, nullable=False)


class BasemapSource(Base):
    """Which road network file the basemap's layers were drawn from (one row)."""

    __tablename__ = "basemap_source"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    network_digest: Mapped[str] = mapped_column(String(64), nullable=False)
    source_file: Mapped[str] = mapped_column(String(255), nullable=False)
    synthetic: Mapped[bool] = mapped_column(Boolean, nullable=False)
    loaded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )


class BasemapRoad(Base):
    """A road of the served network as the basemap draws it (Web Mercator, one per way piece)."""

    __tablename__ = "basemap_roads"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    road_class: Mapped[str] = mapped_column("class", String(30), nullable=False)
    rank: Mapped[int] = mapped_column(SmallInteger, nullable=False, index=True)
    name: Mapped[str | None] = mapped_column(String(200))
    oneway: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    bridge: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    tunnel: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    geom = mapped_column(Geometry("LINESTRING", srid=3857, spatial_index=True), nullable=False)


class BasemapFeature(Base):
    """Water, a waterway, a park, a railway or a place name from the network's OSM extract."""

    __tablename__ = "basemap_features"
    __table_args__ = (
        CheckConstraint("layer IN ('water', 'waterway', 'park', 'rail', 'place')", name="layer"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    layer: Mapped[str] = mapped_column(String(20), nullable=False)
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    name: Mapped[str | None] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    geom = mapped_column(Geometry("GEOMETRY", srid=3857, spatial_index=True), nullable=False)


#: Tables whose point column must lie in the service region: table -> column.
REGION_CHECKED_POINTS = {
    "towns": "seat",
    "stations": "geom",
    "grid_members": "base",
    "workplaces": "geom",
}
CASE_POINT = ("cases", "geom")


class User(Base):
    """A person who logs in: admin, manager (scoped to a district or town), member, planner."""

    __tablename__ = "users"
    __table_args__ = (_one_of("role", Role),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True, nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    role: Mapped[str] = mapped_column(String(20), nullable=False)
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id"))
    town_id: Mapped[int | None] = mapped_column(ForeignKey("towns.id"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("grid_members.id"))
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    token_version: Mapped[int] = mapped_column(
        Integer, nullable=False, default=1, server_default=text("1")
    )
    default_password: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=text("false")
    )
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )


class UserSession(Base):
    """A signed-in session: a token names it (``sid``); logging out deletes it."""

    __tablename__ = "user_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class Case(Timestamped, Base):
    """A workers' rights case reported at a location, routed to a grid member."""

    __tablename__ = "cases"
    __table_args__ = (
        _valid("geom"),
        _one_of("status", CaseStatus),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    reference: Mapped[str] = mapped_column(String(30), unique=True, nullable=False)
    category: Mapped[str] = mapped_column(String(40), nullable=False, index=True)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="submitted", index=True)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    channel: Mapped[str] = mapped_column(String(20), nullable=False, default="web")
    reporter_name: Mapped[str | None] = mapped_column(String(100))
    reporter_contact: Mapped[str | None] = mapped_column(String(200))
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    town_id: Mapped[int | None] = mapped_column(ForeignKey("towns.id"), index=True)
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id"), index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("grid_members.id"), index=True)
    queue: Mapped[str] = mapped_column(String(20), nullable=False, default="grid")
    nearby_grid_ids: Mapped[list[int]] = mapped_column(ARRAY(Integer), nullable=False, default=list)
    assignment: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    first_contact_due: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    resolution_due: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    first_contact_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    escalated: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    request_hash: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    geom = mapped_column(Geometry("POINT", srid=4326, spatial_index=True), nullable=False)


class StationFeedback(Base):
    """A rider's word on a station from its card: a problem report, or "open and fine".

    A report is also a ``station_problem`` case (``case_id``; reports of the same problem at
    the same station within a day share one case). ``client`` is a keyed hash of the sender's
    address, kept only to throttle and to count one sender once.
    """

    __tablename__ = "station_feedback"
    __table_args__ = (
        _one_of("kind", StationFeedbackKind),
        Index("ix_station_feedback_station_at", "station_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    station_id: Mapped[int] = mapped_column(
        ForeignKey("stations.id", ondelete="CASCADE"), nullable=False
    )
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    problem: Mapped[str | None] = mapped_column(String(40))
    amenity: Mapped[str | None] = mapped_column(String(40))
    text: Mapped[str | None] = mapped_column(Text)
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="SET NULL"), index=True
    )
    client: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    #: SHA-256 of the one-time key with which the reporter adds a photo (spent: NULL)
    photo_key: Mapped[str | None] = mapped_column(String(64))


class CaseIntake(Base):
    """What staff wrote down when registering a call (受理登记) beyond the case itself."""

    __tablename__ = "case_intake"

    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    employer: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(Text)
    taken_by: Mapped[str] = mapped_column(String(80), nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )


class CaseEvent(Base):
    """One entry of a case's append-only history (who, when, what, why)."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), nullable=False, index=True)
    at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    actor: Mapped[str] = mapped_column(String(80), nullable=False)
    action: Mapped[str] = mapped_column(String(40), nullable=False)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSONB)


class CaseAttachment(Base):
    """A photo or PDF added to a case by staff (kept in the database, never public)."""

    __tablename__ = "case_attachments"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    media_type: Mapped[str] = mapped_column(String(60), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    content: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    actor: Mapped[str] = mapped_column(String(80), nullable=False)
    at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )


class Notification(Base):
    """One message of the outbox: for a member, or for the managers of an area.

    Read in the workbench (``read_at``) and delivered to the union's webhooks with retries
    (``delivered_at``, ``attempts``, ``next_attempt_at``, ``last_error``).
    """

    __tablename__ = "notifications"
    __table_args__ = (
        CheckConstraint("audience IN ('member', 'managers', 'reporter')", name="audience"),
        Index(
            "ix_notifications_undelivered",
            "next_attempt_at",
            postgresql_where=text("delivered_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    kind: Mapped[str] = mapped_column(String(30), nullable=False)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    audience: Mapped[str] = mapped_column(String(10), nullable=False)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("grid_members.id"), index=True)
    town_id: Mapped[int | None] = mapped_column(ForeignKey("towns.id"))
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id"))
    message: Mapped[str] = mapped_column(Text, nullable=False)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    next_attempt_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    last_error: Mapped[str | None] = mapped_column(Text)


class Job(Base):
    """An analysis run as a job on the Dask cluster: who asked what, and how it went."""

    __tablename__ = "jobs"
    __table_args__ = (_one_of("status", JobStatus),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    process: Mapped[str] = mapped_column(String(60), nullable=False)
    owner: Mapped[str] = mapped_column(String(80), nullable=False, index=True)
    inputs: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    message: Mapped[str | None] = mapped_column(Text)
    progress: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
