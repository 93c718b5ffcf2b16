"""The WMS test cube and server: S2 (3 dates × 3 uint16 bands × 64×64, EPSG:32633, nodata 0
in a corner; imported with wms_import true), DEM (2-D float32 without null values, a WMS
layer), HIDDEN (not a layer), users as in tests/server, and ``petacube serve`` on a free
loopback port."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
from datagen import ingredients, write_geotiff
from rasterio.transform import from_origin
from server_process import launch_server

DATES = ["2021-04-15", "2021-05-01", "2021-05-20"]
BANDS = ["B02", "B03", "B04"]
ORIGIN = (500000.0, 5000000.0)  # west, north
RES = 10.0
SIZE = 64
DEM_RES = 20.0
DEM_SHAPE = (24, 40)  # rows, cols: 480 m × 800 m
# B03 below 2000 blue, from 2000 red (opaque); nulls transparent
CLASSES = {"type": "intervals", "colorTable": {"0": [0, 0, 255, 255], "2000": [255, 0, 0, 255]}}
USERS = {"reader1": ("readpw", "reader"), "writer1": ("writepw", "writer"), "admin1": ("adminpw", "admin")}


@dataclass
class WmsServer:
    url: str
    home: Path
    s2: np.ndarray  # (date, band, y, x)
    dem: np.ndarray  # (y, x)
    process: subprocess.Popen = field(repr=False)

    def ows(self) -> str:
        return f"{self.url}/rasdaman/ows"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def build_home(root: Path) -> tuple[Path, np.ndarray, np.ndarray]:
    import petacube
    from petacube.catalog.users import Users
    from petacube.ingest.importer import run_import

    rng = np.random.default_rng(11)
    arrays = []
    for date in DATES:
        data = rng.integers(1, 4000, size=(len(BANDS), SIZE, SIZE)).astype("uint16")
        data[:, :8, :8] = 0  # nodata in the north-west corner
        arrays.append(data)
        write_geotiff(root / "s2" / f"S2_{date.replace('-', '')}.tif", data, crs="EPSG:32633",
                      transform=from_origin(*ORIGIN, RES, RES), nodata=0, band_descriptions=BANDS)
    s2 = np.stack(arrays)
    # the middle date has no data in the south-east corner: a range shows the older date there
    s2[1, :, -8:, -8:] = 0
    write_geotiff(root / "s2" / "S2_20210501.tif", s2[1], crs="EPSG:32633",
                  transform=from_origin(*ORIGIN, RES, RES), nodata=0, band_descriptions=BANDS)
    (root / "s2.json").write_text(json.dumps(ingredients("S2", ["s2/*.tif"], "time_series_irregular", {
        "time_parameter": {"filename": {"regex": "S2_(\\d{8})", "group": "1"}, "datetime_format": "YYYYMMDD"},
        "time_crs": "OGC/0/AnsiDate", "tiling": "ALIGNED [0:0, 0:31, 0:31]", "wms_import": True})))
    dem = rng.uniform(0, 250, size=DEM_SHAPE).astype("float32")
    write_geotiff(root / "dem" / "dem.tif", dem, crs="EPSG:32633", transform=from_origin(*ORIGIN, DEM_RES, DEM_RES))
    (root / "dem.json").write_text(json.dumps(ingredients("DEM", ["dem/dem.tif"], "map_mosaic", {
        "tiling": "ALIGNED [0:15, 0:15]", "wms_import": True})))
    (root / "hidden.json").write_text(json.dumps(ingredients("HIDDEN", ["dem/dem.tif"], "map_mosaic", {
        "tiling": "ALIGNED [0:15, 0:15]"})))
    home = root / "home"
    with petacube.open(home) as cube:
        for name in ("s2", "dem", "hidden"):
            run_import(root / f"{name}.json", cube, show_progress=False)
        from petacube.ows.wms.styles import save_style

        save_style(cube, "S2", "lin", title="B02 / 16", fragment="$c.B02 / 16")
        save_style(cube, "S2", "classes", fragment="$c.B03", color_table_type="ColorMap",
                   color_table=json.dumps(CLASSES))
        save_style(cube, "DEM", "grey", fragment="$c", default=True)
        users = Users(cube.catalog)
        for name, (password, role) in USERS.items():
            users.add(name, password, [role])
    return home, s2, dem



def start_wms_server(root: Path, timeout: float = 60.0) -> WmsServer:
    home, s2, dem = build_home(root)
    proc, url = launch_server(home, root, timeout=timeout)
    return WmsServer(url, home, s2, dem, proc)


# ---- requests and independent expectations --------------------------------------------------
FULL_BBOX = f"{ORIGIN[0]},{ORIGIN[1] - SIZE * RES},{ORIGIN[0] + SIZE * RES},{ORIGIN[1]}"  # EPSG:32633, x/y


def get(server: WmsServer, auth=None, **params) -> httpx.Response:
    query = {"service": "WMS", "version": "1.3.0", **{k: str(v) for k, v in params.items()}}
    return httpx.get(server.ows(), params=query, auth=auth, timeout=60)


def get_map(server: WmsServer, **params) -> np.ndarray:
    """GetMap as an (rows, cols, channels) array; fails on anything but an image."""
    import io

    from PIL import Image

    base = {"request": "GetMap", "layers": "S2", "styles": "", "crs": "EPSG:32633", "bbox": FULL_BBOX,
            "width": SIZE, "height": SIZE, "format": "image/png", "transparent": "TRUE"}
    r = get(server, **{**base, **params})
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/"), r.text[:500]
    a = np.asarray(Image.open(io.BytesIO(r.content)))
    return a[..., None] if a.ndim == 2 else a


def grey(values: np.ndarray) -> np.ndarray:
    """The encoder's rule for a grey picture, computed here: round half up, clamp to 0..255."""
    return np.clip(np.floor(values.astype(np.float64) + 0.5), 0, 255).astype(np.uint8)


def sample_utm(source: np.ndarray, xs: np.ndarray, ys: np.ndarray, origin=ORIGIN, res=RES):
    """Nearest source cell of EPSG:32633 points; (values, inside mask)."""
    col = np.floor((xs - origin[0]) / res).astype(int)
    row = np.floor((origin[1] - ys) / res).astype(int)
    inside = (col >= 0) & (col < source.shape[1]) & (row >= 0) & (row < source.shape[0])
    values = source[np.clip(row, 0, source.shape[0] - 1), np.clip(col, 0, source.shape[1] - 1)]
    return values, inside


def pixel_centres(bbox, width: int, height: int):
    """Map pixel centres (x, y) of a bbox in x/y order: rows from the top."""
    minx, miny, maxx, maxy = bbox
    xs = minx + (np.arange(width) + 0.5) * (maxx - minx) / width
    ys = maxy - (np.arange(height) + 0.5) * (maxy - miny) / height
    return np.meshgrid(xs, ys)
