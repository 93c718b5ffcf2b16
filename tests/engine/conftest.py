"""A small Sentinel-2-like cube imported from GeoTIFFs, and the source arrays for expectations."""

from __future__ import annotations

import json

import numpy as np
import pytest
from datagen import write_geotiff
from rasterio.transform import from_origin

import petacube
from petacube.ingest.importer import run_import

DATES = ["20210415", "20210501", "20210520"]
BANDS = ["B02", "B03", "B04", "B05", "B06", "B08"]


@pytest.fixture(scope="session")
def s2(tmp_path_factory):
    root = tmp_path_factory.mktemp("s2")
    rng = np.random.default_rng(11)
    arrays = {}
    for date in DATES:
        data = rng.integers(1, 4000, size=(len(BANDS), 64, 80)).astype("uint16")
        data[:, :3, :5] = 0  # nodata corner
        arrays[date] = data
        write_geotiff(root / "in" / f"S2_{date}.tif", data, crs="EPSG:32633",
                      transform=from_origin(500000, 5000000, 10, 10), nodata=0, band_descriptions=BANDS)
    ing = {
        "config": {"service_url": "http://localhost:8080/rasdaman/ows", "automated": True},
        "input": {"coverage_id": "S2", "paths": ["in/*.tif"]},
        "recipe": {"name": "time_series_irregular", "options": {
            "time_parameter": {"filename": {"regex": "S2_(\\d{8})", "group": "1"}, "datetime_format": "YYYYMMDD"},
            "time_crs": "OGC/0/AnsiDate", "tiling": "ALIGNED [0:0, 0:31, 0:31]"}},
    }
    (root / "ing.json").write_text(json.dumps(ing))
    cube = petacube.open(root / "home")
    run_import(root / "ing.json", cube, show_progress=False)
    # source arrays stacked as (date, band, y, x)
    src = np.stack([arrays[d] for d in DATES])
    return cube, src
