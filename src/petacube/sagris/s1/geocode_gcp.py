"""Ellipsoid geocoding without a DEM: warp radar geometry to EPSG:4326 through the geolocation-grid GCPs.

GDAL's warper with a thin-plate-spline GCP transformer (exact at every GCP) is run on
strips of output rows, so memory stays bounded for a full scene. Terrain is ignored
(the GCP heights are the ellipsoid-model heights of the annotation): the outputs say so
in their metadata and in their names (``_EC`` instead of ``_TC``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from rasterio.crs import CRS
from rasterio.enums import Resampling
from rasterio.transform import from_origin
from rasterio.warp import reproject
from rasterio.windows import Window

METRES_PER_DEGREE = 111_320.0
STRIP_ROWS = 1024


@dataclass(frozen=True)
class Grid:
    """A north-up output grid."""

    crs: CRS
    transform: object
    width: int
    height: int


def lonlat_grid(gcps, spacing_m: float) -> Grid:
    """The EPSG:4326 grid covering the GCPs, at ``spacing_m`` (as degrees of latitude) snapped to its multiples."""
    res = spacing_m / METRES_PER_DEGREE
    lons = [g.x for g in gcps]
    lats = [g.y for g in gcps]
    left, right = math.floor(min(lons) / res) * res, math.ceil(max(lons) / res) * res
    bottom, top = math.floor(min(lats) / res) * res, math.ceil(max(lats) / res) * res
    return Grid(CRS.from_epsg(4326), from_origin(left, top, res, res), round((right - left) / res),
                round((top - bottom) / res))


def geocode_gcp(radar_tif: Path, grid: Grid, write_band, *, resampling=Resampling.bilinear) -> None:
    """Warp every band of ``radar_tif`` (GCP-referenced) onto ``grid`` strip by strip.

    ``write_band(band_index, window, array)`` receives each finished strip (float32, NaN nodata).
    """
    with rasterio.open(radar_tif) as src:
        gcps, gcp_crs = src.gcps
        for b in range(1, src.count + 1):
            for row in range(0, grid.height, STRIP_ROWS):
                rows = min(STRIP_ROWS, grid.height - row)
                out = np.full((rows, grid.width), np.nan, np.float32)
                t = grid.transform * rasterio.Affine.translation(0, row)
                reproject(rasterio.band(src, b), out, gcps=gcps, src_crs=gcp_crs, src_nodata=np.nan,
                          dst_transform=t, dst_crs=grid.crs, dst_nodata=np.nan, resampling=resampling,
                          SRC_METHOD="GCP_TPS", num_threads=2, warp_mem_limit=256)
                write_band(b, Window(0, row, grid.width, rows), out)
