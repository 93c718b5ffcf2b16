"""The shipped ingredients templates import L2C scenes and masks into a datacube unchanged."""

from __future__ import annotations

import json
import shutil
import sys
from importlib.resources import files
from pathlib import Path

import numpy as np
import pytest
import rasterio

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from l2b_gen import write_l2b

import petacube
from petacube.ingest.importer import run_import
from petacube.sagris.aggregate import AggregateOptions, run_aggregate
from petacube.sagris.masks import run_masks

TEMPLATES = files("petacube.sagris") / "templates"


@pytest.fixture
def cube(tmp_path):
    c = petacube.open(tmp_path / "home")
    yield c
    c.close()


def paste(paths, band):
    """Mosaic of ``band`` of the given GeoTIFFs on their common 20 m grid (north-up), by numpy."""
    metas = []
    for p in paths:
        with rasterio.open(p) as ds:
            metas.append((ds.transform, ds.read(list(ds.descriptions).index(band) + 1)))
    left = min(t.c for t, _ in metas)
    top = max(t.f for t, _ in metas)
    right = max(t.c + a.shape[1] * t.a for t, a in metas)
    bottom = min(t.f + a.shape[0] * t.e for t, a in metas)
    out = np.zeros((round((top - bottom) / 20), round((right - left) / 20)), metas[0][1].dtype)
    for t, a in metas:
        r, c = round((top - t.f) / 20), round((t.c - left) / 20)
        out[r:r + a.shape[0], c:c + a.shape[1]] = a
    return out, left, top


def cube_window(da, left, top, shape):
    """The cells of a (Y, X) cube slice over a grid of ``shape`` whose upper-left corner is (left, top)."""
    assert da.dims == ("Y", "X")
    r0 = int(np.argmin(np.abs(da["Y"].values - (top - 10))))  # cell centres
    c0 = int(np.argmin(np.abs(da["X"].values - (left + 10))))
    return da.values[r0:r0 + shape[0], c0:c0 + shape[1]]


def test_templates_import_l2c_and_masks(tmp_path, cube):
    src = tmp_path / "l2b"
    for sensing, seed in (("20210415T101021", 1), ("20210425T101021", 2)):
        write_l2b(src, sensing=sensing, res=20, left=4_000_000, top=3_000_000, shape=(30, 20), seed=seed,
                  cloud=(np.random.default_rng(seed).random((30, 20)) < 0.2).astype("uint8"))
    l2c, masks = tmp_path / "L2C", tmp_path / "MASKS"
    # 400 m processing tiles: each pass becomes two tiles that must land on one time slice
    assert run_aggregate(src, l2c, AggregateOptions(tile_size=400)).count("done") == 4
    assert run_masks(l2c, masks).count("done") == 4
    for name in ("s2_l2c_ingredients.json", "s2_masks_ingredients.json"):
        shutil.copy(TEMPLATES / name, tmp_path / name)
        report = run_import(tmp_path / name, cube, show_progress=False)
        assert len(report.imported) == 4 and not report.skipped, report
    ds = cube.read("S2_L2C_20m")
    mk = cube.read("S2_MASKS_20m")
    assert [str(t)[:19] for t in ds["ansi"].values] == ["2021-04-15T10:10:21", "2021-04-25T10:10:21"]
    assert list(mk["ansi"].values) == list(ds["ansi"].values)  # masks and reflectances share their times
    assert list(ds.data_vars) == ["B02", "B03", "B04", "B05", "B06", "B07", "B8A", "B11", "B12"]
    # 20 m scenes lack B08 (NDWI) and B01/B09 (tasselled cap): those masks are left out
    assert list(mk.data_vars) == ["WATER_MNDWI", "WET_NDMI"]
    for k, date in enumerate(("20210415", "20210425")):
        tifs = sorted(l2c.glob(f"S2A_MSIL2C_{date}T101021_R022_x*_20m_3035.tif"))
        mtifs = sorted(masks.glob(f"S2A_MSIL2C_{date}T101021_R022_x*_20m_3035_MASKS.tif"))
        assert len(tifs) == 2 and len(mtifs) == 2
        for band in ("B03", "B11"):
            want, left, top = paste(tifs, band)
            assert np.array_equal(cube_window(ds[band].isel(ansi=k), left, top, want.shape), want), (date, band)
        for band in mk.data_vars:
            want, left, top = paste(mtifs, band)
            assert np.array_equal(cube_window(mk[band].isel(ansi=k), left, top, want.shape), want), (date, band)
            assert {0, 1, 255} <= set(np.unique(want))  # clouds are nodata, both classes present
    doc = json.loads((TEMPLATES / "s2_l2c_ingredients.json").read_text())
    assert doc["recipe"]["options"]["time_parameter"]["metadata_tag"]["tag_name"] == "TIFFTAG_DATETIME"
