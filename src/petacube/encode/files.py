"""GeoTIFF and NetCDF files from a coverage region read as an xarray Dataset."""

from __future__ import annotations

from pathlib import Path

import xarray as xr

from petacube.errors import InvalidParameterValue
from petacube.model import Coverage


def write_dataset(ds: xr.Dataset, cov: Coverage, path: Path) -> None:
    """Pick the format from the file suffix: .tif/.tiff → GeoTIFF, .nc → NetCDF."""
    suffix = Path(path).suffix.lower()
    if suffix in (".tif", ".tiff"):
        write_geotiff(ds, cov, path)
    elif suffix in (".nc", ".nc4", ".netcdf"):
        write_netcdf(ds, path)
    else:
        raise InvalidParameterValue(f"output '{path}': use a .tif or .nc file name")


def write_geotiff(ds: xr.Dataset, cov: Coverage, path: Path) -> None:
    """A tiled, deflate-compressed GeoTIFF: one band per variable, the 2 spatial axes."""
    from petacube.encode import encode

    out = ds.copy()
    out.attrs.setdefault("crs", cov.crs.identifier)
    out.attrs.setdefault("coverage_id", cov.id)
    for axis in cov.axes:
        # a sliced or single-cell axis has no spacing in its coordinates: take the coverage's
        if not axis.irregular:
            out.attrs.setdefault(f"resolution_{axis.label}", axis.resolution)
    try:
        data, _ = encode(out, "image/tiff")
    except InvalidParameterValue as exc:
        if "2-D" in exc.message:
            raise InvalidParameterValue(exc.message + " (e.g. -s ansi(\"2021-05-01\")) or write .nc") from exc
        raise
    Path(path).write_bytes(data)


def write_netcdf(ds: xr.Dataset, path: Path) -> None:
    """NetCDF-4 with CF coordinate variables (times as CF time)."""
    from petacube.encode import encode

    data, _ = encode(ds, "netcdf")
    Path(path).write_bytes(data)
