"""The gdal slicer: any raster GDAL reads (through rasterio); one unit per file.

Keys (``${gdal:...}``), with wcst_import's meaning: ``minX maxX minY maxY`` (outer
edges), ``resolutionX resolutionY`` (the geotransform's pixel size: resolutionY is
negative for north-up rasters), ``originX originY`` (centre of the first pixel, as
wcst_import computes it), ``metadata:<TAG>`` (a dataset tag, e.g. TIFFTAG_DATETIME),
``metadata`` or ``metadata:*`` (all tags), ``bands`` (a list of band descriptions), and
``sizeX sizeY bandCount crs``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from rasterio.errors import RasterioError

from petacube.errors import IngredientsError, SourceFileError
from petacube.ingest.slicers.base import (
    SourceFile,
    SourceUnit,
    check_readable,
    unknown_key,
)

_GEOMETRY_KEYS = ("minX", "maxX", "minY", "maxY", "resolutionX", "resolutionY", "originX", "originY")
_KEYS = (*_GEOMETRY_KEYS, "sizeX", "sizeY", "bandCount", "crs", "bands", "metadata", "metadata:<TAG>")


def _gdal_message(exc: Exception) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


class GdalUnit(SourceUnit):
    slicer_type = "gdal"

    def __init__(self, file: "GdalFile"):
        super().__init__(file.path, file.original_path, 0, file.default_crs)
        self._file = file

    @property
    def _ds(self):
        return self._file.dataset

    # --- keys ---

    def _resolve(self, key: str) -> Any:
        ds = self._ds
        if key == "metadata" or key == "metadata:*":
            return dict(ds.tags())
        if key.startswith("metadata:"):
            tag = key[len("metadata:") :]
            tags = ds.tags()
            if tag not in tags:
                raise IngredientsError(
                    f"{self.path} has no metadata tag '{tag}' (${{gdal:{key}}}); its tags: "
                    f"{', '.join(sorted(tags)) or 'none'}"
                )
            return tags[tag]
        if key in _GEOMETRY_KEYS:
            return self._geometry()[key]
        if key == "sizeX":
            return ds.width
        if key == "sizeY":
            return ds.height
        if key == "bandCount":
            return ds.count
        if key == "crs":
            return self.crs
        if key == "bands":
            return [dict(self.band_meta(i), index=i) for i in range(1, ds.count + 1)]
        raise unknown_key(f"gdal:{key}", self.path, [f"gdal:{k}" for k in _KEYS])

    def _geometry(self) -> dict[str, float]:
        t = self._ds.transform
        if t.b != 0 or t.d != 0:
            raise SourceFileError(
                f"{self.path}: its geotransform is rotated or sheared ({tuple(t)[:6]}); warp it north-up first"
            )
        w, h = self._ds.width, self._ds.height
        x0, x1 = t.c, t.c + t.a * w
        y0, y1 = t.f, t.f + t.e * h
        return {
            "minX": min(x0, x1),
            "maxX": max(x0, x1),
            "minY": min(y0, y1),
            "maxY": max(y0, y1),
            "resolutionX": t.a,
            "resolutionY": t.e,
            "originX": t.c + t.a / 2,
            "originY": t.f + t.e / 2,
        }

    # --- bands ---

    def band_index(self, identifier: str | int | None) -> int:
        """1-based band index: an int is the index, a text the band's description (or digits)."""
        ds = self._ds
        if identifier is None:
            if ds.count != 1:
                raise SourceFileError(f"{self.path} has {ds.count} bands; say which one (1..{ds.count} or a description)")
            return 1
        if isinstance(identifier, (int, np.integer)) and not isinstance(identifier, bool):
            i = int(identifier)
        else:
            text = str(identifier)
            descriptions = list(ds.descriptions)
            if text in descriptions:
                return descriptions.index(text) + 1
            if not text.strip().isdigit():
                raise SourceFileError(
                    f"{self.path} has no band '{text}'; its bands are 1..{ds.count}"
                    + (f" described as {', '.join(repr(d) for d in descriptions if d)}" if any(descriptions) else "")
                )
            i = int(text)
        if not 1 <= i <= ds.count:
            raise SourceFileError(f"{self.path} has no band {i}; its bands are 1..{ds.count}")
        return i

    def read(self, identifier: str | int | None = None) -> np.ndarray:
        i = self.band_index(identifier)
        try:
            return self._ds.read(i)
        except RasterioError as exc:
            raise SourceFileError(f"{self.path}: band {i} cannot be read (damaged or truncated file?): {_gdal_message(exc)}") from None

    def band_meta(self, identifier: str | int | None = None) -> dict[str, Any]:
        i = self.band_index(identifier)
        ds = self._ds
        return {
            "index": i,
            "dtype": np.dtype(ds.dtypes[i - 1]).name,
            "nodata": ds.nodatavals[i - 1],
            "description": ds.descriptions[i - 1] or "",
            "unit": ds.units[i - 1] or "",
            "color_interp": ds.colorinterp[i - 1].name,
        }

    def dims_of(self, identifier: str | int | None = None) -> tuple[str, ...]:
        return ("y", "x")

    def shape_of(self, identifier: str | int | None = None) -> tuple[int, ...]:
        return (self._ds.height, self._ds.width)

    @property
    def band_count(self) -> int:
        return self._ds.count

    @property
    def crs(self) -> str | None:
        crs = self._ds.crs
        if crs is None:
            return self.default_crs
        epsg = crs.to_epsg()
        if epsg is not None:
            return f"EPSG:{epsg}"
        auth = crs.to_authority()
        if auth is not None and auth[0].upper() == "EPSG":
            return f"EPSG:{auth[1]}"
        return self.default_crs

    @property
    def crs_wkt(self) -> str | None:
        """The file's own CRS as WKT (None when it has none)."""
        return self._ds.crs.to_wkt() if self._ds.crs is not None else None

    @property
    def transform(self):
        return self._ds.transform

    def color_table(self, identifier: str | int = 1) -> dict[int, tuple[int, ...]] | None:
        """The band's palette (index -> RGBA), if it has one."""
        try:
            return self._ds.colormap(self.band_index(identifier))
        except ValueError:
            return None


class GdalFile(SourceFile):
    slicer_type = "gdal"

    def __init__(self, path: Path, original_path: Path | None = None, default_crs: str | None = None):
        super().__init__(path, original_path, default_crs)
        check_readable(path)
        try:
            self.dataset = rasterio.open(str(path))
        except RasterioError as exc:
            self.closed = True
            raise SourceFileError(f"{path}: not a raster GDAL can read: {_gdal_message(exc)}") from None
        self._unit = GdalUnit(self)

    def units(self) -> list[SourceUnit]:
        if self.closed:
            raise SourceFileError(f"{self.path}: the file was closed")
        return [self._unit]

    def close(self) -> None:
        if not self.closed:
            self.dataset.close()
        super().close()
