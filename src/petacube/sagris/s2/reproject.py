"""Reprojection of L2B GeoTIFFs to the user's EPSG, with GDAL's warper, window by window."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import rasterio
import rasterio.shutil
from rasterio.crs import CRS
from rasterio.enums import Resampling
from rasterio.errors import CRSError
from rasterio.transform import from_origin
from rasterio.vrt import WarpedVRT
from rasterio.warp import transform_bounds

from petacube.errors import InvalidCrs
from petacube.sagris.s2.geotiff import profile

WARP_MEMORY_MB = 256


def target_crs(epsg: int | str) -> CRS:
    """The CRS of an EPSG code; InvalidCrs naming the code when PROJ does not know it."""
    try:
        crs = CRS.from_epsg(int(epsg))
    except (CRSError, ValueError) as exc:
        raise InvalidCrs(f"unknown EPSG code {epsg!r} for -p; give a code PROJ knows, e.g. 3035 or 32633") from exc
    return crs


@dataclass(frozen=True)
class TargetGrid:
    crs: CRS
    transform: object
    width: int
    height: int


def target_grid(src_crs, src_bounds, res: float, crs: CRS, *, align: float | None = None,
                clip_bounds: tuple[float, float, float, float] | None = None) -> TargetGrid | None:
    """The output grid: source bounds transformed (densified), snapped to ``res`` (and ``align``) multiples.

    ``clip_bounds`` (in the target CRS) limits the grid to the processing tiles; None is
    returned when the granule does not touch them.
    """
    left, bottom, right, top = transform_bounds(src_crs, crs, *src_bounds, densify_pts=101)
    if crs.is_geographic:  # keep roughly the source pixel size, in degrees
        res = res / 111_320.0
    snap = align if align else res
    left, bottom = math.floor(left / snap) * snap, math.floor(bottom / snap) * snap
    right, top = math.ceil(right / snap) * snap, math.ceil(top / snap) * snap
    if clip_bounds is not None:
        left, bottom = max(left, clip_bounds[0]), max(bottom, clip_bounds[1])
        right, top = min(right, clip_bounds[2]), min(top, clip_bounds[3])
        if right <= left or top <= bottom:
            return None
        left, bottom = math.floor(left / res) * res, math.floor(bottom / res) * res
        right, top = math.ceil(right / res) * res, math.ceil(top / res) * res
    width, height = round((right - left) / res), round((top - bottom) / res)
    return TargetGrid(crs, from_origin(left, top, res, res), width, height)


def warp_file(src: Path, dst: Path, grid: TargetGrid, resampling: Resampling) -> Path:
    """Warp ``src`` onto ``grid`` into a new tiled GeoTIFF ``dst`` (nodata kept as nodata)."""
    with rasterio.open(src) as s:
        descriptions, tags = s.descriptions, s.tags()
        band_tags = [s.tags(i) for i in range(1, s.count + 1)]
        opts = dict(crs=grid.crs, transform=grid.transform, width=grid.width, height=grid.height,
                    resampling=resampling, src_nodata=s.nodata, nodata=s.nodata,
                    warp_mem_limit=WARP_MEMORY_MB, warp_extras={"NUM_THREADS": "ALL_CPUS", "INIT_DEST": "NO_DATA"})
        with WarpedVRT(s, **opts) as vrt:
            p = profile(grid.width, grid.height, s.count, s.dtypes[0], grid.crs, grid.transform, s.nodata)
            creation = {k: v for k, v in p.items() if k not in ("driver", "width", "height", "count", "dtype", "crs",
                                                                  "transform", "nodata")}
            rasterio.shutil.copy(vrt, dst, driver="GTiff", **creation)
    with rasterio.open(dst, "r+") as d:
        d.update_tags(**tags)
        for i, desc in enumerate(descriptions, start=1):
            if desc:
                d.set_band_description(i, desc)
            d.update_tags(i, **band_tags[i - 1])
    return dst
