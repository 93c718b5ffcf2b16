"""The catalog's tables (SQLAlchemy declarative; queries use the Core tables).

Bump ``SCHEMA_VERSION`` whenever a table changes, and teach ``database.prepare`` to
migrate older catalogs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

SCHEMA_VERSION = 1

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
_BigId = BigInteger().with_variant(Integer, "sqlite")


class Base(DeclarativeBase):
    pass


class SchemaVersion(Base):
    """One row: the schema version the catalog was created or last migrated with."""

    __tablename__ = "petacube_schema"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)


class CoverageRow(Base):
    __tablename__ = "coverages"

    id: Mapped[str] = mapped_column(String, primary_key=True)
    crs: Mapped[str] = mapped_column(String)  # Crs.identifier, e.g. EPSG/0/32633@OGC/0/AnsiDate
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSON)
    tile_shape: Mapped[list[int] | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    insitu: Mapped[bool] = mapped_column(Boolean, default=False)
    wms_import: Mapped[bool] = mapped_column(Boolean, default=False)
    pyramid: Mapped[list[list[int]]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer)  # optimistic lock, bumped by every commit
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AxisRow(Base):
    __tablename__ = "axes"
    __table_args__ = (UniqueConstraint("coverage_id", "label"),)

    coverage_id: Mapped[str] = mapped_column(
        ForeignKey("coverages.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)  # grid order
    label: Mapped[str] = mapped_column(String)
    kind: Mapped[str] = mapped_column(String(16))  # "regular" | "irregular"
    lower: Mapped[float | None] = mapped_column(Double, nullable=True)  # irregular: first coefficient
    resolution: Mapped[float] = mapped_column(Double)
    size: Mapped[int] = mapped_column(BigInteger)
    points: Mapped[bool] = mapped_column(Boolean)
    # storage index of grid index 0 (regular axes; see model.axis.RegularAxis)
    storage_offset: Mapped[int] = mapped_column(BigInteger, default=0)


class CoefficientRow(Base):
    """One coordinate of an irregular axis and the storage slot its slice lives in.

    Sorted order is ``ORDER BY coefficient``: no position column, so inserting a date
    between two others writes exactly one row."""

    __tablename__ = "axis_coefficients"
    __table_args__ = (UniqueConstraint("coverage_id", "axis_label", "coefficient"),)

    # No foreign key to axes: axes rows are replaced on every commit, coefficients are not.
    coverage_id: Mapped[str] = mapped_column(
        ForeignKey("coverages.id", ondelete="CASCADE"), primary_key=True
    )
    axis_label: Mapped[str] = mapped_column(String, primary_key=True)
    slot: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    coefficient: Mapped[float] = mapped_column(Double)


class BandRow(Base):
    __tablename__ = "bands"
    __table_args__ = (UniqueConstraint("coverage_id", "name"),)

    coverage_id: Mapped[str] = mapped_column(
        ForeignKey("coverages.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String)
    dtype: Mapped[str] = mapped_column(String(16))
    # [[low, high | null, reason], ...]; non-finite numbers as "nan" / "inf" / "-inf"
    nil_values: Mapped[list[list[Any]]] = mapped_column(JSON)
    uom: Mapped[str] = mapped_column(String)
    description: Mapped[str] = mapped_column(String)
    definition: Mapped[str] = mapped_column(String)


class SliceRow(Base):
    """One imported or registered source contribution; its grid region is in slice_extents."""

    __tablename__ = "slices"
    __table_args__ = (Index("ix_slices_coverage", "coverage_id", "id"),)

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    coverage_id: Mapped[str] = mapped_column(ForeignKey("coverages.id", ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(String)
    registered: Mapped[bool] = mapped_column(Boolean)
    band_indices: Mapped[list[int]] = mapped_column(JSON)  # GDAL 1-based, aligned with the bands
    subdataset: Mapped[str | None] = mapped_column(String, nullable=True)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSON)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SliceExtentRow(Base):
    """A slice's half-open storage-index range ``[lo, hi)`` on one axis (grid position).

    Rows rather than a JSON region so that intersection is a SQL query and shifting a
    mosaic's slices is one UPDATE."""

    __tablename__ = "slice_extents"
    __table_args__ = (Index("ix_slice_extents_axis", "coverage_id", "axis", "lo", "hi"),)

    slice_id: Mapped[int] = mapped_column(
        ForeignKey("slices.id", ondelete="CASCADE"), primary_key=True
    )
    axis: Mapped[int] = mapped_column(Integer, primary_key=True)
    coverage_id: Mapped[str] = mapped_column(String)  # denormalised: shift and delete by coverage
    lo: Mapped[int] = mapped_column(BigInteger)
    hi: Mapped[int] = mapped_column(BigInteger)


class ImportRow(Base):
    """A source file already imported into a coverage, for resuming an interrupted import."""

    __tablename__ = "imports"

    coverage_id: Mapped[str] = mapped_column(
        ForeignKey("coverages.id", ondelete="CASCADE"), primary_key=True
    )
    path: Mapped[str] = mapped_column(String, primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String)  # "<size>:<mtime>"
    status: Mapped[str] = mapped_column(String(32))
    finished: Mapped[datetime] = mapped_column(DateTime(timezone=True))


schema_versions = SchemaVersion.__table__
coverages = CoverageRow.__table__
axes = AxisRow.__table__
coefficients = CoefficientRow.__table__
bands = BandRow.__table__
slices = SliceRow.__table__
slice_extents = SliceExtentRow.__table__
imports = ImportRow.__table__


# ---- users and rights (tables created on first use by catalog.users, so catalogs made
# before they existed gain them without a migration) ----------------------------------------

class UserRow(Base):
    """A server user: name, salted password hash, roles (reader, writer, admin)."""

    __tablename__ = "users"

    name: Mapped[str] = mapped_column(String, primary_key=True)
    password_hash: Mapped[str] = mapped_column(String)  # "scrypt$n$r$p$salt$hash" (hex)
    roles: Mapped[list[str]] = mapped_column(JSON)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CoverageAccessRow(Base):
    """Per-coverage access overrides; a coverage without a row follows the server settings."""

    __tablename__ = "coverage_access"

    coverage_id: Mapped[str] = mapped_column(
        ForeignKey("coverages.id", ondelete="CASCADE"), primary_key=True
    )
    anonymous_read: Mapped[bool] = mapped_column(Boolean, default=True)


users = UserRow.__table__
coverage_access = CoverageAccessRow.__table__


# ---- WMS styles (created on first use by catalog.styles, like the users tables) ----------------

class WmsStyleRow(Base):
    """A WMS style of a layer (coverage): a WCPS fragment over ``$c`` and/or a colour table."""

    __tablename__ = "wms_styles"

    layer: Mapped[str] = mapped_column(ForeignKey("coverages.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String, primary_key=True)
    title: Mapped[str] = mapped_column(String)
    abstract: Mapped[str] = mapped_column(String)
    wcps_fragment: Mapped[str | None] = mapped_column(String, nullable=True)
    color_table_type: Mapped[str | None] = mapped_column(String(16), nullable=True)  # ColorMap | GDAL | SLD
    color_table: Mapped[str | None] = mapped_column(String, nullable=True)  # the definition as given
    color_map: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True), nullable=True)  # normalised
    legend: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # an uploaded legend image
    legend_type: Mapped[str | None] = mapped_column(String(64), nullable=True)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    updated: Mapped[datetime] = mapped_column(DateTime(timezone=True))


wms_styles = WmsStyleRow.__table__


# ---- fine-grained read rules and daily usage (created on first use by catalog.rules) -----------

class AccessRuleRow(Base):
    """A restriction on reads by a role or a user, for one coverage or all ('*'): every rule
    matching a request must hold (the admin role is exempt)."""

    __tablename__ = "access_rules"

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    subject: Mapped[str] = mapped_column(String)  # a role name, "user:<name>" or "anonymous"
    coverage: Mapped[str] = mapped_column(String)  # a coverage id or "*"
    area_wkt: Mapped[str | None] = mapped_column(String, nullable=True)
    area_crs: Mapped[str | None] = mapped_column(String, nullable=True)
    time_min: Mapped[str | None] = mapped_column(String, nullable=True)  # ISO 8601
    time_max: Mapped[str | None] = mapped_column(String, nullable=True)
    finest_resolution: Mapped[float | None] = mapped_column(Double, nullable=True)  # horizontal CRS units per cell
    coarsest_resolution: Mapped[float | None] = mapped_column(Double, nullable=True)
    daily_bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # bytes read per UTC day
    max_cells: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # cells read per request
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DailyUsageRow(Base):
    """Bytes read per subject (user, or anonymous client address) and UTC day, for the quotas."""

    __tablename__ = "daily_usage"

    subject: Mapped[str] = mapped_column(String, primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)  # YYYY-MM-DD
    bytes_read: Mapped[int] = mapped_column(BigInteger, default=0)


access_rules = AccessRuleRow.__table__
daily_usage = DailyUsageRow.__table__


# ---- rasql types and collections (created on first use by catalog.rasql_types) -------------------

class RasqlTypeRow(Base):
    """A user-defined rasql type (cell struct, marray or set type) or a rasql collection
    (its set type); the predefined types live in code, not here."""

    __tablename__ = "rasql_types"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # struct | marray | set | collection
    name: Mapped[str] = mapped_column(String, primary_key=True)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))


rasql_types = RasqlTypeRow.__table__
