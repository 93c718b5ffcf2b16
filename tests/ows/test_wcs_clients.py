"""Real clients against the real server: OWSLib's WCS 2.0.1 client and GDAL's WCS driver
(through rasterio's GDAL) talk to `petacube serve` on a loopback port. Expected pixels
come from the source GeoTIFFs."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
import rasterio
from datagen import ingredients, write_geotiff
from rasterio.transform import from_origin

import petacube
from petacube.ingest.importer import run_import

DATES = ["20210415", "20210501"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("wcs_clients")
    rng = np.random.default_rng(5)
    src = {}
    for date in DATES:
        data = rng.integers(1, 5000, size=(2, 60, 70)).astype("uint16")
        src[date] = data
        write_geotiff(root / "in" / f"S2_{date}.tif", data, crs="EPSG:32633", transform=from_origin(500000, 5000000, 10, 10),
                      nodata=0, band_descriptions=["B04", "B08"])
    dem = rng.normal(500, 50, size=(40, 50)).astype("float32")
    write_geotiff(root / "dem" / "dem.tif", dem, crs="EPSG:32633", transform=from_origin(500000, 5000000, 10, 10), nodata=-9999)
    opts = {"time_parameter": {"filename": {"regex": "S2_(\\d{8})", "group": "1"}, "datetime_format": "YYYYMMDD"},
            "time_crs": "OGC/0/AnsiDate"}
    (root / "ts.json").write_text(json.dumps(ingredients("S2", ["in/*.tif"], "time_series_irregular", opts)))
    (root / "dem.json").write_text(json.dumps(ingredients("DEM", ["dem/*.tif"], "map_mosaic", {})))
    home = root / "home"
    cube = petacube.open(home)
    run_import(root / "ts.json", cube, show_progress=False)
    run_import(root / "dem.json", cube, show_progress=False)
    cube.close()
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "petacube.cli", "--home", str(home), "serve", "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=dict(os.environ, PYTHONUNBUFFERED="1"))
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    else:
        proc.kill()
        raise RuntimeError("server did not start: " + proc.stderr.read().decode()[-2000:])
    yield base, src, dem
    proc.terminate()
    proc.wait(10)


def test_owslib_capabilities_describe_getcoverage(served, tmp_path):
    from owslib.wcs import WebCoverageService

    base, src, _ = served
    wcs = WebCoverageService(f"{base}/rasdaman/ows", version="2.0.1")
    assert {"S2", "DEM"} <= set(wcs.contents)
    # a trim in E/N and a time slice, as OWSLib sends them
    resp = wcs.getCoverage(identifier="S2", format="image/tiff",
                           subsets=[("E", 500100, 500300), ("N", 4999600, 4999900), ("ansi", '"2021-05-01"')])
    out = tmp_path / "s2.tif"
    out.write_bytes(resp.read())
    with rasterio.open(out) as f:
        assert f.crs.to_epsg() == 32633
        assert (f.transform.c, f.transform.f, f.transform.a) == (500100.0, 4999900.0, 10.0)
        # rows floor((5000000-4999900)/10)=10 .. +30, cols 10 .. +20
        assert np.array_equal(f.read(1), src["20210501"][0][10:40, 10:30])
        assert np.array_equal(f.read(2), src["20210501"][1][10:40, 10:30])


def test_owslib_rangesubset_and_scaling(served, tmp_path):
    from owslib.wcs import WebCoverageService

    base, src, _ = served
    wcs = WebCoverageService(f"{base}/rasdaman/ows", version="2.0.1")
    resp = wcs.getCoverage(identifier="S2", format="image/tiff", subsets=[("ansi", '"2021-04-15"')], rangesubset="B08")
    with rasterio.MemoryFile(resp.read()) as mem, mem.open() as f:
        assert f.count == 1 and np.array_equal(f.read(1), src["20210415"][1])
    # scalesize through plain KVP (OWSLib has no scaling arguments)
    r = httpx.get(f"{base}/rasdaman/ows", params={"service": "WCS", "version": "2.0.1", "request": "GetCoverage", "coverageId": "DEM",
                                                 "format": "image/tiff", "scalesize": "E(25),N(20)"})
    assert r.status_code == 200, r.text
    with rasterio.MemoryFile(r.content) as mem, mem.open() as f:
        assert (f.height, f.width) == (20, 25)


def test_gdal_wcs_driver(served):
    base, _, dem = served
    url = f"WCS:{base}/rasdaman/ows?version=2.0.1&coverage=DEM"
    with rasterio.Env(GDAL_HTTP_TIMEOUT="30"), rasterio.open(url) as f:
        assert (f.height, f.width) == (40, 50)
        assert f.crs.to_epsg() == 32633
        assert f.transform.c == pytest.approx(500000) and f.transform.f == pytest.approx(5000000)
        assert np.allclose(f.read(1), dem)


def test_output_crs_with_owslib(served, tmp_path):
    from owslib.wcs import WebCoverageService

    base, _, dem = served
    wcs = WebCoverageService(f"{base}/rasdaman/ows", version="2.0.1")
    resp = wcs.getCoverage(identifier="DEM", format="image/tiff", crs="http://www.opengis.net/def/crs/EPSG/0/4326")
    path = Path(tmp_path / "dem4326.tif")
    path.write_bytes(resp.read())
    with rasterio.open(path) as f:
        assert f.crs.to_epsg() == 4326
        assert 14.9 < f.bounds.left < 15.1 and 45.0 < f.bounds.top < 45.2
