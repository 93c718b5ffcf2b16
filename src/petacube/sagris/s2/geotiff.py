"""L2B files: tiled compressed GeoTIFFs, their band names and tags, the zip and the JPEG preview."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import rasterio
from PIL import Image
from rasterio.enums import Resampling

BLOCK = 512
# Strips of this many output rows are processed at a time: bounded memory for a full granule.
STRIP_ROWS = 1024


def profile(width: int, height: int, count: int, dtype: str, crs, transform, nodata) -> dict:
    """The GTiff creation profile shared by every L2B raster (512 tiles, zstd, predictor 2)."""
    return dict(driver="GTiff", width=width, height=height, count=count, dtype=dtype, crs=crs,
                transform=transform, nodata=nodata, tiled=True, blockxsize=BLOCK, blockysize=BLOCK,
                compress="zstd", zstd_level=1, predictor=2, interleave="pixel", bigtiff="IF_SAFER",
                num_threads="ALL_CPUS")


def describe(ds: rasterio.io.DatasetWriter, bands: list[str], acquisition_time: str) -> None:
    """Band descriptions and tags the aggregator and GDAL users read."""
    ds.update_tags(ACQUISITION_TIME=acquisition_time, BANDS=",".join(bands))
    for i, b in enumerate(bands, start=1):
        ds.set_band_description(i, b)
        ds.update_tags(i, BAND_NAME=b)


def write_json(path: Path, meta: dict) -> Path:
    path.write_text(json.dumps(meta, indent=1, sort_keys=True))
    return path


def zip_outputs(zip_path: Path, members: list[Path]) -> Path:
    """Pack the files of one resolution into ``zip_path`` (stored: the TIFFs are compressed already)."""
    tmp = zip_path.with_name(zip_path.name + ".part")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for m in members:
            zf.write(m, arcname=m.name)
    tmp.rename(zip_path)
    return zip_path


def write_preview(tif: Path, out: Path, bands: list[str], *, max_size: int = 1024, top: float = 3000.0) -> Path:
    """True-colour JPEG (B04, B03, B02 stretched 0..``top`` reflectance × 10000) of an L2B GeoTIFF."""
    with rasterio.open(tif) as ds:
        scale = min(1.0, max_size / max(ds.width, ds.height))
        shape = (max(1, int(ds.height * scale)), max(1, int(ds.width * scale)))
        idx = [bands.index(b) + 1 for b in ("B04", "B03", "B02")]
        rgb = ds.read(idx, out_shape=(3, *shape), resampling=Resampling.average if scale < 1 else Resampling.nearest)
    img = np.clip(rgb.astype(np.float32) / top * 255.0, 0, 255).astype(np.uint8)
    img[:, (rgb == 0).all(axis=0)] = 0
    Image.fromarray(np.moveaxis(img, 0, -1), "RGB").save(out, "JPEG", quality=85)
    return out
