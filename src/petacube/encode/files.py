"""GeoTIFF and NetCDF files from a coverage region read as an xarray Dataset."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio
import xarray as xr
from rasterio.transform import from_origin

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
    spatial = _spatial(cov)
    extra = [d for d in ds.dims if d not in spatial and ds.sizes[d] > 1]
    if extra or len(spatial) != 2:
        raise InvalidParameterValue(
            f"a GeoTIFF holds 2-D data but this region also spans {', '.join(extra) or 'no x/y axes'}; "
            "slice those axes (e.g. -s ansi(\"2021-05-01\")) or write .nc"
        )
    ylab, xlab = spatial
    names = list(ds.data_vars)
    dtype = np.result_type(*[ds[n].dtype for n in names])
    planes = [ds[n].transpose(..., ylab, xlab).values.reshape(ds.sizes[ylab], ds.sizes[xlab]) for n in names]
    stack = np.stack(planes).astype(dtype)
    ya, xa = cov.axis(ylab), cov.axis(xlab)
    xs, ys = ds[xlab].values, ds[ylab].values
    dx, dy = abs(xa.resolution), abs(ya.resolution)
    if ya.resolution > 0:  # stored south-up: GeoTIFF wants north-up rows
        stack = stack[:, ::-1, :]
        ys = ys[::-1]
    transform = from_origin(xs[0] - dx / 2, ys[0] + dy / 2, dx, dy)
    nodata = ds[names[0]].attrs.get("_FillValue")
    profile = dict(
        driver="GTiff", width=len(xs), height=len(ys), count=len(names), dtype=dtype.name,
        crs=cov.crs.horizontal, transform=transform, nodata=nodata, compress="deflate",
        tiled=len(xs) >= 256 and len(ys) >= 256, **({"blockxsize": 256, "blockysize": 256} if len(xs) >= 256 and len(ys) >= 256 else {}),
    )
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(stack)
        for i, n in enumerate(names, 1):
            dst.set_band_description(i, n)
        dst.update_tags(coverage_id=cov.id)


def write_netcdf(ds: xr.Dataset, path: Path) -> None:
    """NetCDF-4 with CF coordinate variables (times as CF time)."""
    out = ds.copy()
    for name in out.data_vars:
        fill = out[name].attrs.pop("_FillValue", None)
        out[name].attrs.pop("nodata", None)
        if fill is not None:
            out[name].encoding["_FillValue"] = fill
    out.attrs = {k: (v if isinstance(v, (str, int, float)) else str(v)) for k, v in out.attrs.items()}
    out.to_netcdf(path, engine="netcdf4")


def _spatial(cov: Coverage) -> list[str]:
    y = [a.label for a in cov.axes if a.crs_axis.kind == "y"]
    x = [a.label for a in cov.axes if a.crs_axis.kind == "x"]
    return y + x if y and x else []
