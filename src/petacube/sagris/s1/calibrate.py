"""Calibrated, noise-removed backscatter in radar geometry, written strip by strip (bounded memory)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio
from rasterio.control import GroundControlPoint
from rasterio.crs import CRS
from rasterio.errors import RasterioIOError
from rasterio.windows import Window

from petacube.sagris.batch.errors import BadProduct
from petacube.sagris.s1.annotation import Annotation
from petacube.sagris.s1.radiometry import calibrate_block

STRIP_ROWS = 512


def gcps_of(ann: Annotation) -> list[GroundControlPoint]:
    """The geolocation grid as GDAL GCPs; annotation line/pixel index pixel centres, GDAL counts corners (+0.5)."""
    return [GroundControlPoint(row=r + 0.5, col=c + 0.5, x=lon, y=lat, z=h, id=str(i))
            for i, (r, c, lat, lon, h) in enumerate(ann.gcps)]


def write_radar_backscatter(product, pols: dict[str, tuple[Annotation, str]], dst: Path, quantity: str) -> Path:
    """One float32 band per polarisation (noise removed, calibrated to ``quantity``) in radar geometry, with GCPs.

    ``pols`` maps polarisation → (annotation, measurement path inside the SAFE). NaN is nodata.
    """
    first = next(iter(pols.values()))[0]
    width, height = first.samples, first.lines
    sources = {}
    try:
        for pol, (ann, rel) in pols.items():
            src = rasterio.open(product.gdal_path(rel))
            sources[pol] = src
            if (src.width, src.height) != (ann.samples, ann.lines):
                raise BadProduct(f"{product.path.name}: {rel} is {src.width}×{src.height} pixels but its annotation "
                                 f"says {ann.samples}×{ann.lines}; the product is inconsistent")
        profile = dict(driver="GTiff", width=width, height=height, count=len(pols), dtype="float32", nodata=np.nan,
                       tiled=True, blockxsize=512, blockysize=512, compress="zstd", zstd_level=1, predictor=3,
                       bigtiff="IF_SAFER", gcps=gcps_of(first), crs=CRS.from_epsg(4326))
        with rasterio.open(dst, "w", **profile) as out:
            for i, (pol, (ann, _)) in enumerate(pols.items(), start=1):
                out.set_band_description(i, pol)
                for row in range(0, height, STRIP_ROWS):
                    w = Window(0, row, width, min(STRIP_ROWS, height - row))
                    dn = sources[pol].read(1, window=w)
                    out.write(calibrate_block(dn, ann, row, 0, quantity), i, window=w)
    except RasterioIOError as exc:
        raise BadProduct(f"{product.path.name}: cannot read a measurement file ({exc}); re-download the product") from exc
    finally:
        for s in sources.values():
            s.close()
    return dst
