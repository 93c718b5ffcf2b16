"""Slicers: open input files (gdal, netcdf, grib) and answer ``${...}`` keys about them.

``open_source(path, "gdal")`` gives a `SourceFile` (a context manager) whose ``units()``
are the importable pieces: the file itself for gdal and netcdf, each message for grib.
A `SourceUnit` resolves sentence keys (``resolve("gdal:minX")``, ``resolve("file:name")``)
and reads band arrays (``read(identifier)``).
"""

from __future__ import annotations

from pathlib import Path

from petacube.errors import IngredientsError
from petacube.ingest.slicers.base import SLICER_TYPES, SourceFile, SourceUnit


def open_source(
    path: Path | str,
    slicer_type: str,
    *,
    default_crs: str | None = None,
    original_path: Path | str | None = None,
) -> SourceFile:
    """Open ``path`` with the ``gdal``, ``netcdf`` or ``grib`` slicer.

    ``original_path``: the file's path before a hook's ``replace_path`` (for
    ``${file:original_path}``). Unreadable files raise SourceFileError naming the file."""
    path = Path(path).expanduser()
    original = Path(original_path).expanduser() if original_path is not None else None
    if slicer_type == "gdal":
        from petacube.ingest.slicers.gdal import GdalFile

        return GdalFile(path, original, default_crs)
    if slicer_type == "netcdf":
        from petacube.ingest.slicers.netcdf import NetcdfFile

        return NetcdfFile(path, original, default_crs)
    if slicer_type == "grib":
        from petacube.ingest.slicers.grib import GribFile

        return GribFile(path, original, default_crs)
    raise IngredientsError(f"slicer type '{slicer_type}' is not supported; use one of {', '.join(SLICER_TYPES)}")


__all__ = ["open_source", "SourceFile", "SourceUnit", "SLICER_TYPES"]
