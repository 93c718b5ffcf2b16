"""WMS layers and styles in the catalog: which coverages are WMS layers (the coverage's
``wms_import`` flag) and the styles of each layer.

Validation of a style's content (WCPS fragment, colour tables) belongs to `petacube.ows.wms`;
this module stores what it is given. The ``wms_styles`` table is created on first use, so
catalogs made before it existed gain it without a migration.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, insert, select, update

from petacube.catalog import database
from petacube.catalog.schema import Base, coverages, wms_styles
from petacube.errors import InvalidParameterValue, NoSuchCoverage

_NAME_RE = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


class StyleNotFound(InvalidParameterValue):
    """A style name the layer does not have."""

    code = "StyleNotDefined"
    status = 404


@dataclass(frozen=True)
class StyleRecord:
    """One stored style."""

    layer: str
    name: str
    title: str = ""
    abstract: str = ""
    wcps_fragment: str | None = None
    color_table_type: str | None = None  # ColorMap | GDAL | SLD
    color_table: str | None = None  # the definition as given
    color_map: dict[str, Any] | None = None  # normalised to the encode colorMap option
    legend: bytes | None = field(default=None, repr=False)
    legend_type: str | None = None
    is_default: bool = False
    updated: datetime | None = None

    @property
    def stamp(self) -> str:
        """Changes whenever the style is stored again (cache keys)."""
        return f"{self.layer}/{self.name}@{self.updated.isoformat() if self.updated else ''}"


class WmsCatalog:
    """WMS layer activation and styles of one catalog."""

    def __init__(self, catalog):
        self._catalog = catalog
        self._engine = catalog._engine
        if not getattr(catalog, "_wms_tables_ready", False):
            with database.transaction(self._engine, write=True) as conn:
                Base.metadata.create_all(conn, tables=[wms_styles])
            catalog._wms_tables_ready = True

    # ---- layers ----------------------------------------------------------------------
    def layer_ids(self) -> list[str]:
        """Coverages that are WMS layers, sorted."""
        with database.transaction(self._engine, write=False) as conn:
            return list(conn.execute(
                select(coverages.c.id).where(coverages.c.wms_import.is_(True)).order_by(coverages.c.id)).scalars())

    def is_layer(self, coverage_id: str) -> bool:
        with database.transaction(self._engine, write=False) as conn:
            row = conn.execute(select(coverages.c.wms_import).where(coverages.c.id == coverage_id)).first()
        return bool(row and row[0])

    def set_layer(self, coverage_id: str, enabled: bool) -> None:
        """Make a coverage a WMS layer (or stop it being one). The coverage's version is left
        alone: this is not a data change, and importers holding the version must not conflict."""
        with database.transaction(self._engine, write=True) as conn:
            done = conn.execute(update(coverages).where(coverages.c.id == coverage_id).values(wms_import=enabled))
            if done.rowcount == 0:
                raise NoSuchCoverage(f"coverage '{coverage_id}' does not exist; `petacube list` shows the coverages",
                                     locator=coverage_id)

    # ---- styles ------------------------------------------------------------------------
    def styles(self, layer: str | None = None) -> list[StyleRecord]:
        """Styles of one layer (or of all), default style first, then by name."""
        query = select(wms_styles)
        if layer is not None:
            query = query.where(wms_styles.c.layer == layer)
        with database.transaction(self._engine, write=False) as conn:
            rows = conn.execute(query.order_by(wms_styles.c.layer, wms_styles.c.is_default.desc(),
                                               wms_styles.c.name)).mappings().all()
        return [_record(r) for r in rows]

    def style(self, layer: str, name: str) -> StyleRecord:
        with database.transaction(self._engine, write=False) as conn:
            row = conn.execute(select(wms_styles).where(wms_styles.c.layer == layer, wms_styles.c.name == name)
                               ).mappings().first()
        if row is None:
            known = ", ".join(s.name for s in self.styles(layer)) or "none"
            raise StyleNotFound(f"layer {layer} has no style '{name}' (its styles: {known})", locator=name)
        return _record(row)

    def put(self, style: StyleRecord, *, replace: bool) -> StyleRecord:
        """Add a style (``replace=False``: it must not exist) or replace one (it must exist).
        A default style makes the layer's other styles non-default."""
        if not _NAME_RE.fullmatch(style.name or ""):
            raise InvalidParameterValue(f"style name '{style.name}': use 1-64 letters, digits and _ . : -",
                                        locator="name")
        now = datetime.now(UTC)
        values = {
            "title": style.title or style.name, "abstract": style.abstract or "",
            "wcps_fragment": style.wcps_fragment, "color_table_type": style.color_table_type,
            "color_table": style.color_table, "color_map": style.color_map, "legend": style.legend,
            "legend_type": style.legend_type, "is_default": bool(style.is_default), "updated": now,
        }
        where = (wms_styles.c.layer == style.layer, wms_styles.c.name == style.name)
        with database.transaction(self._engine, write=True) as conn:
            if conn.execute(select(coverages.c.id).where(coverages.c.id == style.layer)).first() is None:
                raise NoSuchCoverage(f"layer '{style.layer}' is not a coverage of this server", locator=style.layer)
            exists = conn.execute(select(wms_styles.c.name).where(*where)).first() is not None
            if exists and not replace:
                raise InvalidParameterValue(
                    f"layer {style.layer} has a style '{style.name}' already; update it instead", locator="name")
            if not exists and replace:
                raise StyleNotFound(f"layer {style.layer} has no style '{style.name}' to update; add it first",
                                    locator=style.name)
            if style.is_default:
                conn.execute(update(wms_styles).where(wms_styles.c.layer == style.layer).values(is_default=False))
            if exists:
                conn.execute(update(wms_styles).where(*where).values(**values))
            else:
                conn.execute(insert(wms_styles).values(layer=style.layer, name=style.name, **values))
        return StyleRecord(style.layer, style.name, **{**values, "updated": now})

    def remove(self, layer: str, name: str) -> None:
        with database.transaction(self._engine, write=True) as conn:
            done = conn.execute(delete(wms_styles).where(wms_styles.c.layer == layer, wms_styles.c.name == name))
        if done.rowcount == 0:
            raise StyleNotFound(f"layer {layer} has no style '{name}' to remove", locator=name)


def _record(row) -> StyleRecord:
    return StyleRecord(
        layer=row["layer"], name=row["name"], title=row["title"], abstract=row["abstract"],
        wcps_fragment=row["wcps_fragment"], color_table_type=row["color_table_type"],
        color_table=row["color_table"], color_map=row["color_map"], legend=row["legend"],
        legend_type=row["legend_type"], is_default=bool(row["is_default"]), updated=row["updated"],
    )
