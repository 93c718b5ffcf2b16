"""GCP geocoding accuracy, the whole chain on a decimated real geometry, reuse, water mask, CLI."""

from __future__ import annotations

import json
import shutil
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import rasterio
from click.testing import CliRunner
from scipy.ndimage import map_coordinates
from shapely.geometry import Polygon, shape

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parents[2])]
from s1_gen import PYROSAR_ZIPS, ROME, make_grd, ramp_dn
from shared_data import SHARED_DATA

from petacube.sagris.s1.annotation import read_annotation
from petacube.sagris.s1.calibrate import gcps_of
from petacube.sagris.s1.geocode_gcp import geocode_gcp, lonlat_grid
from petacube.sagris.s1.pipeline import S1Options, process_product
from petacube.sagris.s1.product import S1Safe
from petacube.sagris.s1.scaling import U16_NODATA, decode_u16, encode_u16
from petacube.sagris.s1.water import otsu_threshold, water_mask

FACTOR = 40


@pytest.fixture(scope="module")
def grd(tmp_path_factory):
    return make_grd(tmp_path_factory.mktemp("s1in"), ramp_dn(300), factor=FACTOR)


def test_gcp_geocoding_puts_gcps_within_half_a_pixel(tmp_path):
    p = S1Safe(ROME)
    ann = read_annotation(p, "VV", {k: v for k, v in p.files_for("VV").items()})
    step = 40  # a coarse radar grid keeps the test fast; GCP line/pixel scaled with it
    h, w = ann.lines // step + 1, ann.samples // step + 1
    rows, cols = np.mgrid[0:h, 0:w].astype(np.float32)
    gcps = [g.__class__(row=(g.row - 0.5) / step + 0.5, col=(g.col - 0.5) / step + 0.5, x=g.x, y=g.y, z=g.z)
            for g in gcps_of(ann)]
    radar = tmp_path / "ramp.tif"
    with rasterio.open(radar, "w", driver="GTiff", width=w, height=h, count=2, dtype="float32", gcps=gcps,
                       crs="EPSG:4326", nodata=np.nan) as ds:
        ds.write(np.stack([rows, cols]))
    grid = lonlat_grid(gcps, ann.range_spacing * step)
    out = np.full((2, grid.height, grid.width), np.nan, np.float32)
    geocode_gcp(radar, grid, lambda b, win, a: out.__setitem__((b - 1, slice(win.row_off, win.row_off + win.height)), a))
    inv = ~grid.transform
    errs = []
    for g in gcps:
        c, r = inv * (g.x, g.y)
        if 1 <= r < grid.height - 2 and 1 <= c < grid.width - 2:  # bilinear sampling at the GCP's ground position
            row_at, col_at = (map_coordinates(out[i], [[r - 0.5], [c - 0.5]], order=1)[0] for i in (0, 1))
            errs.append(max(abs(row_at - (g.row - 0.5)), abs(col_at - (g.col - 0.5))))
    errs = np.array(errs)
    errs = errs[np.isfinite(errs)]  # GCPs on the image edge sample beside the swath (NaN)
    assert len(errs) > 100
    # GDAL's thin-plate spline in degrees is not exact at every GCP: a few land within one pixel, not half
    assert (errs < 0.5).mean() >= 0.97 and errs.max() < 1.0


def test_u16_round_trip():
    lin = np.array([0.0, 0.0004, 0.0236149, 1.2345, 65.5339, 80.0, np.nan])
    enc = encode_u16(lin)
    assert enc.tolist() == [0, 0, 24, 1234, 65534, 65534, U16_NODATA]
    dec = decode_u16(enc)
    assert np.all(np.abs(dec[:5] - lin[:5]) <= 0.0005 + 1e-7) and np.isnan(dec[-1])


def test_chain_outputs_and_reuse(grd, tmp_path):
    out = tmp_path / "out"
    opts = S1Options(out_dir=out, epsg=32633, check=True, resolution=20.0 * FACTOR, water_threshold=-18.0)
    files = process_product(grd, tmp_path / "w1", opts)
    stem = grd.stem
    assert [f.name for f in files] == [f"{stem}_EC4326.zip", f"{stem}_EC32633.zip", f"{stem}_EC32633_pct.tif",
                                       f"{stem}_EC32633_preview.png", f"{stem}_EC32633_WATER.tif"]
    with zipfile.ZipFile(files[0]) as zf:
        assert {f"{stem}_EC4326.dim", f"{stem}_EC4326.data/VV.img", f"{stem}_EC4326.data/VH.hdr"} <= set(zf.namelist())
        dim = zf.read(f"{stem}_EC4326.dim").decode("latin-1")
        assert "ellipsoid" in dim and "range×azimuth" not in dim or "noise_annotation" in dim
    # the UInt16 values decode to the sigma0 of DN 300 / 100 computed from the LUT nodes by numpy
    p = S1Safe(grd)
    ann = read_annotation(p, "VV", p.files_for("VV"))
    lo = min((300.0 ** 2 - 2 * v.max()) / (a.max() ** 2)
             for v, a in zip(ann.noise_range.values, ann.calibration["sigmaNought"].values))
    hi = max(300.0 ** 2 / a.min() ** 2 for a in ann.calibration["sigmaNought"].values)
    with zipfile.ZipFile(files[1]) as zf:
        zf.extractall(tmp_path / "d")
    with rasterio.open(tmp_path / "d" / f"{stem}_EC32633_VV.tif") as ds:
        assert ds.crs.to_epsg() == 32633 and ds.nodata == U16_NODATA and ds.res == (800.0, 800.0)
        v = ds.read(1)
    valid = v != U16_NODATA
    assert valid.mean() > 0.4
    dec = decode_u16(v[valid])
    assert lo - 0.001 <= dec.min() and dec.max() <= hi + 0.001
    # footprint traced from the data vs manifest.safe's footprint (the decimation keeps the real geometry)
    gj = json.loads((tmp_path / "d" / f"{stem}_EC32633_boundary.geojson").read_text())
    traced = shape(gj["features"][0]["geometry"])
    manifest = Polygon(S1Safe(ROME).check_manifest_type()["footprint_lonlat"])
    assert traced.intersection(manifest).area / traced.union(manifest).area > 0.9
    assert (tmp_path / "d" / f"{stem}_EC32633_boundary.shp").exists()
    with rasterio.open(files[2]) as ds:
        rgb = ds.read()
    assert rgb.shape[0] == 3 and (rgb[:, valid] > 0).all() and (rgb[:, ~valid] == 0).all()
    # reuse: with the master in the output folder only the derived products are made
    out.mkdir()
    shutil.copy(files[0], out / files[0].name)
    again = process_product(grd, tmp_path / "w2", opts)
    assert [f.name for f in again] == [f.name for f in files[1:]]


def test_water_mask_on_real_camargue():
    tif = SHARED_DATA / "s1_geocoded_sigma0_db_camargue_pyrosar" / "S1A__IW___A_20150309T173017_VV_grd_mli_geo_norm_db.tif"
    with rasterio.open(tif) as ds:
        db = ds.read(1).astype(np.float64)
        db[db == ds.nodata] = np.nan
    n = np.isfinite(db).sum()
    assert (water_mask(db, -18.0) == 1).sum() / n == pytest.approx(0.162, abs=0.001)
    assert (water_mask(db, -15.0) == 1).sum() / n == pytest.approx(0.252, abs=0.001)
    t = otsu_threshold(db)
    assert -20.0 < t < -12.0  # between the water and land modes of the histogram


def test_cli_batch_goes_on_after_a_bad_product(grd, tmp_path):
    from petacube.sagris.cli import sagris

    inp = tmp_path / "in"
    inp.mkdir()
    shutil.copy(grd, inp / grd.name)
    shutil.copy(PYROSAR_ZIPS[2], inp / PYROSAR_ZIPS[2].name)
    res = CliRunner().invoke(sagris, ["s1", "-i", str(inp), "-o", str(tmp_path / "o"), "-p", "3035", "-z",
                                      "--resolution", "1000", "--no-progress"])
    assert res.exit_code == 1, res.output
    assert "listed in manifest.safe but missing" in res.output
    assert (tmp_path / "o" / f"{grd.stem}_EC3035.zip").exists()
    assert (inp / "_broken" / PYROSAR_ZIPS[2].name).exists()
    res = CliRunner().invoke(sagris, ["s1", "-i", str(inp), "-o", str(tmp_path / "o"), "-p", "3035", "--no-progress"])
    assert res.exit_code == 0 and "skipped" in res.output
