"""End-to-end imports of GeoTIFFs: mosaic, time series, registration, pyramids.

Expected pixels come from rasterio reads of the source files, pasted with numpy."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from datagen import ingredients, write_geotiff
from rasterio.transform import from_origin

from petacube.ingest.importer import run_import

RNG = np.random.default_rng(42)


def tile(path, x0, y0, shape=(100, 120), bands=2, dtype="uint16", res=10.0, crs="EPSG:32633", nodata=0, **kw):
    data = RNG.integers(1, 5000, size=(bands, *shape)).astype(dtype)
    write_geotiff(path, data, crs=crs, transform=from_origin(x0, y0, res, res), nodata=nodata, **kw)
    return path


def read_tif(path):
    with rasterio.open(path) as src:
        return src.read()


@pytest.fixture
def mosaic_tiles(tmp_path):
    d = tmp_path / "tiles"
    d.mkdir()
    # 2 × 2 tiles of 100 rows × 120 cols at 10 m: x 500000..502400, y 4998000..5000000
    paths = {}
    for r in range(2):
        for c in range(2):
            paths[(r, c)] = tile(d / f"tile_{r}{c}.tif", 500000 + c * 1200, 5000000 - r * 1000)
    return paths


def expected_mosaic(paths):
    out = np.zeros((2, 200, 240), "uint16")
    for (r, c), p in paths.items():
        out[:, r * 100:(r + 1) * 100, c * 120:(c + 1) * 120] = read_tif(p)
    return out


def test_map_mosaic_of_four_tiles(cube, write_ingredients, mosaic_tiles):
    ing = write_ingredients(ingredients("MOSAIC", ["tiles/*.tif"], "map_mosaic", {"tiling": "ALIGNED [0:63, 0:63]"}))
    report = run_import(ing, cube, show_progress=False)
    assert len(report.imported) == 4
    cov = cube.describe("MOSAIC")
    assert cov.dims == ("N", "E")
    assert cov.shape == (200, 240)
    assert cov.axis("E").lower == 500000 and cov.axis("E").upper == 502400
    assert cov.axis("N").lower == 4998000 and cov.axis("N").upper == 5000000
    assert cov.tile_shape == (64, 64)
    want = expected_mosaic(mosaic_tiles)
    ds = cube.read("MOSAIC")
    assert np.array_equal(ds["field_1"].values, want[0])
    assert np.array_equal(ds["field_2"].values, want[1])
    # a region straddling all four tiles, in geo coordinates: E 501000..501400 -> cols 100..139,
    # N 4998900..4999100 -> rows floor((5000000-4999100)/10)=90 .. 90+20-1=109
    part = cube.read("MOSAIC", {"E": (501000, 501400), "N": (4998900, 4999100)})
    assert np.array_equal(part["field_1"].values, want[0, 90:110, 100:140])
    assert np.allclose(part["E"].values[:2], [501005.0, 501015.0])


def test_mosaic_grows_in_every_direction_across_imports(cube, write_ingredients, mosaic_tiles):
    # import the south-east tile first, then the others: the coverage grows west and north
    first = write_ingredients(ingredients("GROW", ["tiles/tile_11.tif"], "map_mosaic", {}), "a.json")
    run_import(first, cube, show_progress=False)
    assert cube.describe("GROW").shape == (100, 120)
    rest = write_ingredients(ingredients("GROW", ["tiles/tile_0*.tif", "tiles/tile_10.tif"], "map_mosaic", {}), "b.json")
    run_import(rest, cube, show_progress=False)
    cov = cube.describe("GROW")
    assert cov.shape == (200, 240)
    assert np.array_equal(cube.read("GROW")["field_2"].values, expected_mosaic(mosaic_tiles)[1])


def scene_series(tmp_path, dates, shape=(64, 80), name="S2_T33_{}_L2A.tif"):
    d = tmp_path / "scenes"
    d.mkdir(exist_ok=True)
    return {date: tile(d / name.format(date), 600000, 5100000, shape=shape, bands=3) for date in dates}


TS_OPTIONS = {
    "time_parameter": {"filename": {"regex": "S2_T33_(\\d{8})_L2A", "group": "1"}, "datetime_format": "YYYYMMDD"},
    "time_crs": "http://localhost:8080/def/crs/OGC/0/AnsiDate",
    "tiling": "ALIGNED [0:0, 0:31, 0:31]",
}


def test_irregular_time_series_out_of_order(cube, write_ingredients, tmp_path):
    files = scene_series(tmp_path, ["20210601", "20210415", "20210520"])
    run_import(write_ingredients(ingredients("TS", ["scenes/*.tif"], "time_series_irregular", TS_OPTIONS)), cube, show_progress=False)
    # a later import adds a date between two existing ones and one before all
    more = scene_series(tmp_path, ["20210501", "20210101"])
    run_import(write_ingredients(ingredients("TS", ["scenes/*.tif"], "time_series_irregular", TS_OPTIONS)), cube, show_progress=False)
    files.update(more)
    cov = cube.describe("TS")
    assert cov.dims == ("ansi", "N", "E")
    assert cov.shape == (5, 64, 80)
    ds = cube.read("TS")
    want_dates = sorted(files)
    got_dates = [str(t)[:10].replace("-", "") for t in ds["ansi"].values]
    assert got_dates == want_dates
    for k, date in enumerate(want_dates):
        assert np.array_equal(ds["field_3"].values[k], read_tif(files[date])[2]), date
    one = cube.read("TS", {"ansi": "2021-05-01"})
    assert one["field_1"].dims == ("N", "E")
    assert np.array_equal(one["field_1"].values, read_tif(files["20210501"])[0])
    span = cube.read("TS", {"ansi": ("2021-04-01", "2021-05-25")})
    assert [str(t)[:10] for t in span["ansi"].values] == ["2021-04-15", "2021-05-01", "2021-05-20"]


def test_time_from_metadata_tag(cube, write_ingredients, tmp_path):
    d = tmp_path / "tagged"
    d.mkdir()
    a = tile(d / "a.tif", 0, 100, shape=(10, 10), bands=1, crs="EPSG:4326", res=1.0, tags={"TIFFTAG_DATETIME": "2020:03:04 10:00:00"})
    b = tile(d / "b.tif", 0, 100, shape=(10, 10), bands=1, crs="EPSG:4326", res=1.0, tags={"TIFFTAG_DATETIME": "2020:01:02 00:00:00"})
    opts = {"time_parameter": {"metadata_tag": {"tag_name": "TIFFTAG_DATETIME"}, "datetime_format": "YYYY:MM:DD HH:mm:ss"}, "time_crs": "OGC/0/AnsiDate"}
    run_import(write_ingredients(ingredients("TAGGED", ["tagged/*.tif"], "time_series_irregular", opts)), cube, show_progress=False)
    cov = cube.describe("TAGGED")
    assert cov.dims == ("ansi", "Lat", "Long")
    ds = cube.read("TAGGED")
    assert [str(t)[:19] for t in ds["ansi"].values] == ["2020-01-02T00:00:00", "2020-03-04T10:00:00"]
    assert np.array_equal(ds["field_1"].values[0], read_tif(b)[0])
    assert np.array_equal(ds["field_1"].values[1], read_tif(a)[0])


def test_regular_time_series(cube, write_ingredients, tmp_path):
    files = scene_series(tmp_path, ["a", "b", "c"], name="reg_{}.tif")
    opts = {"time_start": "2020-01-01T00:00:00", "time_format": "auto", "time_crs": "OGC/0/AnsiDate", "time_step": "2 days 12 hours"}
    run_import(write_ingredients(ingredients("REG", ["scenes/reg_*.tif"], "time_series_regular", opts)), cube, show_progress=False)
    cov = cube.describe("REG")
    t = cov.axis("ansi")
    assert not t.irregular and t.resolution == 2.5 and t.size == 3
    ds = cube.read("REG")
    assert [str(x)[:16] for x in ds["ansi"].values] == ["2020-01-01T00:00", "2020-01-03T12:00", "2020-01-06T00:00"]
    for k, key in enumerate(["a", "b", "c"]):
        assert np.array_equal(ds["field_2"].values[k], read_tif(files[key])[1])


def test_registration_reads_like_ingestion(cube, write_ingredients, tmp_path, mosaic_tiles):
    files = scene_series(tmp_path, ["20210601", "20210415"])
    run_import(write_ingredients(ingredients("COPY", ["scenes/*.tif"], "time_series_irregular", TS_OPTIONS), "c.json"), cube, show_progress=False)
    run_import(write_ingredients(ingredients("INSITU", ["scenes/*.tif"], "time_series_irregular", TS_OPTIONS, insitu=True), "i.json"), cube, show_progress=False)
    assert cube.describe("INSITU").insitu
    assert not cube.store.has_coverage("INSITU")  # no pixels copied
    june = cube.read("INSITU", {"ansi": "2021-06-01"})
    assert np.array_equal(june["field_2"].values, read_tif(files["20210601"])[1])
    for sub in [{}, {"ansi": "2021-06-01"}, {"E": (600100, 600300), "N": (5099500, 5099800), "ansi": ("2021-01-01", "2021-12-31")}]:
        a, b = cube.read("COPY", sub), cube.read("INSITU", sub)
        for band in ("field_1", "field_2", "field_3"):
            assert np.array_equal(a[band].values, b[band].values), (sub, band)
    run_import(write_ingredients(ingredients("MOS_INSITU", ["tiles/*.tif"], "map_mosaic", {}, insitu=True), "m.json"), cube, show_progress=False)
    assert np.array_equal(cube.read("MOS_INSITU")["field_1"].values, expected_mosaic(mosaic_tiles)[0])


def test_pyramid_levels_built_at_import(cube, write_ingredients, mosaic_tiles):
    run_import(write_ingredients(ingredients("PYR", ["tiles/*.tif"], "map_mosaic", {"scale_levels": [2, 4]})), cube, show_progress=False)
    cov = cube.describe("PYR")
    assert cov.pyramid == ((2, 2), (4, 4))
    full = expected_mosaic(mosaic_tiles)[0].astype("float64")
    want = full.reshape(100, 2, 120, 2).mean(axis=(1, 3))  # no nulls: all values ≥ 1
    got = cube.store.read(cov, "field_1", (slice(0, 100), slice(0, 120)), level=1)
    assert np.abs(got.astype("float64") - want).max() <= 0.5  # integer bands hold the rounded mean


def test_mock_prints_plan_and_changes_nothing(cube, write_ingredients, mosaic_tiles):
    lines = []
    ing = write_ingredients(ingredients("MOCK", ["tiles/*.tif"], "map_mosaic", {}, mock=True))
    report = run_import(ing, cube, show_progress=False, echo=lines.append)
    assert "create coverage MOCK" in report.mock_plan
    assert "tile_00.tif" in report.mock_plan
    assert "MOCK" not in cube.coverage_ids()


def test_slice_restriction_leaves_out_slices(cube, write_ingredients, tmp_path):
    scene_series(tmp_path, ["20210101", "20210301", "20210601"])
    # one interval per axis in CRS order: ansi, E, N
    restriction = [{"low": "2021-02-01", "high": "2021-12-31", "type": "date"},
                   {"low": 500000, "high": 700000}, {"low": 5000000, "high": 5200000}]
    data = ingredients("RESTRICT", ["scenes/*.tif"], "time_series_irregular", TS_OPTIONS, slice_restriction=restriction)
    report = run_import(write_ingredients(data), cube, show_progress=False)
    assert len(report.imported) == 2
    assert [p.split("/")[-1] for p, _ in report.skipped] == ["S2_T33_20210101_L2A.tif"]
    assert [str(t)[:10] for t in cube.read("RESTRICT")["ansi"].values] == ["2021-03-01", "2021-06-01"]
