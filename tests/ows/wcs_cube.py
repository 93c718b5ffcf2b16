"""A small imported cube for the WCS tests: S2 (irregular AnsiDate axis, 3 bands, EPSG:32633,
nodata 0) and DEM (a 2-D float32 grid), plus the source arrays for expectations."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
from datagen import ingredients, write_geotiff
from rasterio.transform import from_origin

import petacube
from petacube.ingest.importer import run_import
from petacube.ows.protocol import OwsRequest

DATES = ["20210415", "20210501", "20210520"]
BANDS = ["B02", "B03", "B04"]
BASE_URL = "http://test.local/rasdaman/ows"
ORIGIN = (500000.0, 5000000.0)  # west, north
RES = 10.0
HEIGHT, WIDTH = 40, 50


@dataclass
class WcsCube:
    cube: object
    s2: np.ndarray  # (date, band, y, x)
    dem: np.ndarray  # (y, x)


def request(**params) -> OwsRequest:
    """A KVP request; values may be strings or lists (repeated parameters)."""
    kvp = {k.lower(): (v if isinstance(v, list) else [v]) for k, v in params.items()}
    kvp.setdefault("service", ["WCS"])
    kvp.setdefault("version", ["2.0.1"])
    return OwsRequest("GET", kvp, BASE_URL)


def xml_request(body: str) -> OwsRequest:
    return OwsRequest("POST", {}, BASE_URL, body=body.encode(), content_type="application/xml")


_BUILT: list[WcsCube] = []


def build_cube(tmp_path_factory) -> WcsCube:
    """The cube, built once per test session; test modules expose it as a fixture with
    ``wcs = pytest.fixture(scope="session", name="wcs")(build_cube)``."""
    if _BUILT:
        return _BUILT[0]
    root = tmp_path_factory.mktemp("wcs")
    rng = np.random.default_rng(7)
    arrays = []
    for date in DATES:
        data = rng.integers(1, 4000, size=(len(BANDS), HEIGHT, WIDTH)).astype("uint16")
        data[:, :2, :3] = 0  # nodata corner
        arrays.append(data)
        write_geotiff(root / "s2" / f"S2_{date}.tif", data, crs="EPSG:32633",
                      transform=from_origin(*ORIGIN, RES, RES), nodata=0, band_descriptions=BANDS)
    ing = ingredients("S2", ["s2/*.tif"], "time_series_irregular", {
        "time_parameter": {"filename": {"regex": "S2_(\\d{8})", "group": "1"}, "datetime_format": "YYYYMMDD"},
        "time_crs": "OGC/0/AnsiDate", "tiling": "ALIGNED [0:0, 0:31, 0:31]"})
    (root / "s2.json").write_text(json.dumps(ing))
    dem = rng.uniform(0, 500, size=(30, 20)).astype("float32")
    write_geotiff(root / "dem" / "dem.tif", dem, crs="EPSG:32633", transform=from_origin(500000, 5000000, 20, 20),
                  nodata=-9999)
    (root / "dem.json").write_text(json.dumps(ingredients("DEM", ["dem/dem.tif"], "map_mosaic", {
        "tiling": "ALIGNED [0:15, 0:15]"})))
    cube = petacube.open(root / "home")
    run_import(root / "s2.json", cube, show_progress=False)
    run_import(root / "dem.json", cube, show_progress=False)
    _BUILT.append(WcsCube(cube, np.stack(arrays), dem))
    return _BUILT[0]
