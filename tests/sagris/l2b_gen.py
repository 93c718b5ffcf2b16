"""Synthetic projected L2B zips with the pre-processor's layout, for the aggregator and masks tests.

A zip ``<stem>_<res>m_<EPSG>.zip`` holds ``<zip>.tif`` (uint16 bands, nodata 0, band
descriptions = names), ``<zip>_SCL.tif``, ``<zip>_CLOUDMASK.tif`` (0 clear, 1 cloud,
2 shadow, 3 cirrus, 255 nodata) and ``<zip>.json``. Pixel values are returned so tests
compute expectations with numpy, never with the code under test.
"""

from __future__ import annotations

import json
import re
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import from_origin
from shared_data import SHARED_DATA

BANDS = {
    10: ["B02", "B03", "B04", "B08"],
    20: ["B02", "B03", "B04", "B05", "B06", "B07", "B8A", "B11", "B12"],
    60: ["B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B11", "B12"],
}
REAL_META = SHARED_DATA / "s2_safe_metadata_stactools"


@dataclass
class L2B:
    """A written granule: its zip and the arrays inside."""

    path: Path
    data: np.ndarray  # (bands, rows, cols) uint16
    cloud: np.ndarray  # (rows, cols) uint8
    transform: object
    bands: list[str]
    epsg: int


def write_l2b(folder: Path, *, satellite: str = "S2A", sensing: str = "20210415T101021", baseline: str = "0300",
              orbit: int = 22, tile: str = "33UUP", discriminator: str = "20210415T130000", res: int = 20,
              epsg: int = 3035, left: float = 4000000.0, top: float = 3000000.0, shape: tuple[int, int] = (40, 50),
              data: np.ndarray | None = None, cloud: np.ndarray | None = None, bands: list[str] | None = None,
              seed: int = 0, acquisition_time: str | None = None, meta_overrides: dict | None = None,
              raster_epsg: int | None = None, leave_out: tuple[str, ...] = ()) -> L2B:
    """Write one projected L2B zip into ``folder``; random reflectances unless ``data`` is given.

    ``raster_epsg`` writes the rasters in another CRS than the name says (a bad input);
    ``leave_out`` names members (".json", "_CLOUDMASK.tif") to omit."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    bands = bands or BANDS[res]
    rng = np.random.default_rng(seed)
    if data is None:
        data = rng.integers(1, 10000, size=(len(bands), *shape)).astype("uint16")
    if cloud is None:
        cloud = np.zeros(shape, "uint8")
    data, cloud = np.asarray(data, "uint16"), np.asarray(cloud, "uint8")
    stem = f"{satellite}_MSIL2B_{sensing}_N{baseline}_R{orbit:03d}_T{tile}_{discriminator}"
    member = f"{stem}_{res}m_{epsg}"
    transform = from_origin(left, top, res, res)
    crs = f"EPSG:{raster_epsg or epsg}"
    when = datetime.strptime(sensing, "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
    meta = {
        "product": stem, "satellite": satellite, "datatake_sensing_time": when.isoformat().replace("+00:00", "Z"),
        "relative_orbit": orbit, "tile": tile, "processing_baseline": f"{baseline[:2]}.{baseline[2:]}",
        "acquisition_time": acquisition_time or when.isoformat().replace("+00:00", "Z"),
        "sun_azimuth": 150.0, "sun_zenith": 40.0, "epsg": epsg, "resolution": res, "bands": bands,
        "correction": "sen2cor",
    }
    meta.update(meta_overrides or {})
    scl = np.where(data[0] == 0, 0, np.where(cloud == 1, 9, np.where(cloud == 2, 3, 4))).astype("uint8")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        _tif(tmp / f"{member}.tif", data, crs, transform, 0, bands)
        _tif(tmp / f"{member}_SCL.tif", scl[None], crs, transform, 0, ["SCL"])
        _tif(tmp / f"{member}_CLOUDMASK.tif", cloud[None], crs, transform, 255, ["CLOUDMASK"])
        (tmp / f"{member}.json").write_text(json.dumps(meta))
        path = folder / f"{member}.zip"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
            for suffix in (".tif", "_SCL.tif", "_CLOUDMASK.tif", ".json"):
                if suffix not in leave_out:
                    zf.write(tmp / f"{member}{suffix}", f"{member}{suffix}")
    return L2B(path, data, cloud, transform, bands, epsg)


def _tif(path: Path, arr: np.ndarray, crs: str, transform, nodata, names: list[str]) -> None:
    prof = {"driver": "GTiff", "width": arr.shape[2], "height": arr.shape[1], "count": arr.shape[0],
            "dtype": arr.dtype.name, "crs": crs, "transform": transform, "nodata": nodata, "compress": "deflate"}
    with rasterio.open(path, "w", **prof) as dst:
        dst.write(arr)
        for i, n in enumerate(names, start=1):
            dst.set_band_description(i, n)


def real_product_fields(safe_dir: Path) -> dict:
    """Name fields, tile corner and EPSG of a real S2 SAFE's metadata (MTD_MSIL2A.xml + MTD_TL.xml)."""
    safe_dir = Path(safe_dir)
    m = re.match(r"^(S2[A-D])_MSIL2A_(\d{8}T\d{6})_N(\d{4})_R(\d{3})_T(\d{2}[A-Z]{3})_(\d{8}T\d{6})\.SAFE$", safe_dir.name)
    assert m, safe_dir.name
    tl = next(safe_dir.glob("GRANULE/*/MTD_TL.xml")).read_text()
    mtd = (safe_dir / "MTD_MSIL2A.xml").read_text()
    epsg = int(re.search(r"<HORIZONTAL_CS_CODE>EPSG:(\d+)<", tl).group(1))
    ulx = float(re.search(r"<ULX>([\d.]+)<", tl).group(1))
    uly = float(re.search(r"<ULY>([\d.]+)<", tl).group(1))
    sensing_time = re.search(r"<SENSING_TIME[^>]*>([^<]+)<", tl).group(1)
    datatake = re.search(r"<DATATAKE_SENSING_START>([^<]+)<", mtd).group(1)
    orbit = int(re.search(r"<SENSING_ORBIT_NUMBER>(\d+)<", mtd).group(1))
    return {"satellite": m.group(1), "sensing": m.group(2), "baseline": m.group(3), "orbit": int(m.group(4)),
            "tile": m.group(5), "discriminator": m.group(6), "epsg": epsg, "left": ulx, "top": uly,
            "acquisition_time": sensing_time, "datatake": datatake, "orbit_in_metadata": orbit}
