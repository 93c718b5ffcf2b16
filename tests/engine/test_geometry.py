"""Geometric operations (flip, sort, extend, scale, crsTransform, clip) against a real cube.

Expected values come from numpy / rasterio / shapely applied to the source arrays with the
known grid (origin 500000, 5000000; 10 m cells; EPSG:32633), never from the engine."""

from __future__ import annotations

import json

import numpy as np
import pytest
import rasterio.warp
import shapely
from datagen import write_geotiff
from rasterio.enums import Resampling
from rasterio.features import geometry_mask
from rasterio.transform import from_origin

import petacube
from petacube.engine import ir
from petacube.engine.evaluate import Evaluator
from petacube.engine.run import run_query
from petacube.errors import (
    InvalidAxisLabel,
    InvalidCrs,
    InvalidParameterValue,
    PetacubeError,
    ResultTooLarge,
    WcpsError,
)
from petacube.ingest.importer import run_import

B = {name: i for i, name in enumerate(["B02", "B03", "B04", "B05", "B06", "B08"])}
S2 = ir.CoverageRef("S2")
X0, Y0, RES = 500000.0, 5000000.0, 10.0
SRC_T = from_origin(X0, Y0, RES, RES)


def band(name, src=S2):
    return ir.Field(src, name)


def num(v):
    return ir.Scalar(v)


def trim(axis, lo, hi, crs=None):
    return ir.AxisSubset(axis, lo=num(lo), hi=num(hi), crs=crs)


def at(date):
    return ir.AxisSubset("ansi", at=num(date))


def evaluate(cube, expr):
    return Evaluator(cube).eval(expr)


def compute(cube, expr):
    return evaluate(cube, expr).data.compute()


# ---- flip ---------------------------------------------------------------------------------
@pytest.mark.parametrize("axis,np_axis", [("E", 2), ("N", 1), ("ansi", 0)])
def test_flip_mirrors_values_and_keeps_the_domain(s2, axis, np_axis):
    cube, src = s2
    v = evaluate(cube, ir.Flip(band("B04"), axis))
    assert v.coverage == cube.describe("S2")
    ds = v.data.compute()
    assert np.array_equal(ds["B04"].values, np.flip(src[:, B["B04"]], axis=np_axis))
    assert np.array_equal(ds[axis].values, evaluate(cube, band("B04")).data[axis].values)


# ---- sort ---------------------------------------------------------------------------------
def _date_means(src, b):
    return np.ma.masked_equal(src[:, B[b]].astype("float64"), 0).mean(axis=(1, 2)).filled(np.nan)


@pytest.mark.parametrize("descending", [False, True])
def test_sort_dates_by_a_key_coverage(s2, descending):
    cube, src = s2
    keys = _date_means(src, "B08")
    order = np.argsort(-keys if descending else keys, kind="stable")
    v = evaluate(cube, ir.Sort(band("B04"), "ansi", band("B08"), descending))
    assert v.coverage == cube.describe("S2")
    assert np.array_equal(v.data["B04"].values, src[order, B["B04"]])


def test_sort_with_an_iterator_evaluates_the_key_per_slice(s2):
    cube, src = s2
    # sort $c along ansi as $t by avg($c.B02[ansi($t)]) desc: $t is the slice's grid coordinate
    key = ir.Aggregate("avg", ir.Subset(band("B02"), (ir.AxisSubset("ansi", at=ir.IteratorVar("t")),)))
    v = evaluate(cube, ir.Sort(band("B03"), "ansi", key, descending=True))
    order = np.argsort(-_date_means(src, "B02"), kind="stable")
    assert np.array_equal(v.data["B03"].values, src[order, B["B03"]])


def test_sort_rows_by_their_mean(s2):
    cube, src = s2
    s = ir.Subset(band("B05"), (at("2021-05-01"),))
    v = evaluate(cube, ir.Sort(s, "N", s))
    rows = np.ma.masked_equal(src[1, B["B05"]].astype("float64"), 0).mean(axis=1).filled(np.nan)
    assert np.array_equal(v.data["B05"].values, src[1, B["B05"]][np.argsort(rows, kind="stable")])


def test_sort_key_must_vary_along_the_axis(s2):
    cube, _ = s2
    with pytest.raises(WcpsError, match="key"):
        evaluate(cube, ir.Sort(band("B04"), "ansi", num(3)))
    with pytest.raises(InvalidAxisLabel):
        evaluate(cube, ir.Sort(band("B04"), "X", band("B04")))


# ---- extend --------------------------------------------------------------------------------
def test_extend_pads_with_nulls_and_describes_the_larger_domain(s2):
    cube, src = s2
    # E 499950:500850 -> grid -5 .. -5+90-1 = 84 (5 cells west, 5 east); N 4999300:5000020 ->
    # first cell from the top: floor((5000000-5000020)/10) = -2, count 72 -> -2 .. 69
    expr = ir.Extend(band("B06"), (trim("E", 499950, 500850), trim("N", 4999300, 5000020)))
    v = evaluate(cube, expr)
    e, n = v.coverage.axis("E"), v.coverage.axis("N")
    assert (e.lower, e.resolution, e.size) == (499950.0, 10.0, 90)
    assert (n.lower, n.upper, n.resolution, n.size) == (4999300.0, 5000020.0, -10.0, 72)
    want = np.pad(src[:, B["B06"]], ((0, 0), (2, 6), (5, 5)))
    ds = v.data.compute()
    assert ds["B06"].dtype == np.uint16
    assert np.array_equal(ds["B06"].values, want)
    assert np.allclose(ds["E"].values, 499955 + 10 * np.arange(90))
    # a later geo subset uses the new domain: E 499950:500000 is the 5 padded columns
    sub = compute(cube, ir.Subset(expr, (trim("E", 499950, 500000),)))
    assert np.array_equal(sub["B06"].values, want[:, :, :5])


def test_extend_with_grid_bounds_and_trim_inside(s2):
    cube, src = s2
    expr = ir.Extend(ir.Subset(band("B02"), (at("2021-04-15"),)), (trim("E", -3, 77, "CRS:1"), trim("N", 2, 70, "CRS:1")))
    v = evaluate(cube, expr)
    want = np.pad(src[0, B["B02"], 2:, :78], ((0, 7), (3, 0)))
    assert np.array_equal(v.data["B02"].values, want)
    assert v.coverage.axis("E").lower == X0 - 30
    assert v.coverage.axis("N").upper == Y0 - 20


def test_extend_refuses_irregular_axes_and_disjoint_intervals(s2):
    cube, _ = s2
    with pytest.raises(WcpsError, match="irregular"):
        evaluate(cube, ir.Extend(S2, (ir.AxisSubset("ansi", lo=num("2021-01-01"), hi=num("2021-12-31")),)))
    with pytest.raises(WcpsError, match="overlap"):
        evaluate(cube, ir.Extend(S2, (trim("E", 100, 120, "CRS:1"),)))
    with pytest.raises(InvalidAxisLabel):
        evaluate(cube, ir.Extend(S2, (trim("Lat", 1, 2),)))


# ---- scale ---------------------------------------------------------------------------------
def _nearest(n_src, n_dst):
    return np.array([int(np.floor((i + 0.5) * n_src / n_dst)) for i in range(n_dst)])


def test_scale_by_a_factor_halves_every_spatial_axis(s2):
    cube, src = s2
    v = evaluate(cube, ir.Scale(band("B04"), factor=num(0.5)))
    e, n, t = (v.coverage.axis(a) for a in ("E", "N", "ansi"))
    assert (e.size, e.resolution, e.lower, e.upper) == (40, 20.0, X0, X0 + 800)
    assert (n.size, n.resolution, n.upper) == (32, -20.0, Y0)
    assert t.size == 3  # the irregular time axis is kept
    assert v.data["B04"].chunks is not None  # lazy
    ds = v.data.compute()
    want = src[:, B["B04"]][:, 1::2, 1::2]  # floor((i + 0.5) * 2) = 2i + 1
    assert np.array_equal(ds["B04"].values, want)
    assert np.allclose(ds["E"].values, X0 + 10 + 20 * np.arange(40))


def test_scale_up_repeats_cells(s2):
    cube, src = s2
    s = ir.Subset(band("B02"), (at("2021-05-20"),))
    ds = compute(cube, ir.Scale(s, factor=num(2)))
    assert np.array_equal(ds["B02"].values, np.repeat(np.repeat(src[2, B["B02"]], 2, axis=0), 2, axis=1))


def test_scale_to_sizes_extents_axis_factors_and_like(s2):
    cube, src = s2
    s = ir.Subset(band("B03"), (at("2021-05-01"),))
    a = src[1, B["B03"]]
    ds = compute(cube, ir.Scale(s, sizes=(("E", num(100)), ("N", num(50)))))
    assert np.array_equal(ds["B03"].values, a[np.ix_(_nearest(64, 50), _nearest(80, 100))])
    # extents: E 500000:500300 covers 30 source cells -> 30 cells over the same 800 m
    v = evaluate(cube, ir.Scale(s, extents=(("E", num(500000), num(500300)),)))
    assert v.coverage.axis("E").size == 30 and v.coverage.axis("E").upper == X0 + 800
    assert np.array_equal(v.data["B03"].values, a[:, _nearest(80, 30)])
    ds = compute(cube, ir.Scale(s, axis_factors=(("E", num(0.3)),)))  # 80 * 0.3 = 24
    assert np.array_equal(ds["B03"].values, a[:, _nearest(80, 24)])
    like = ir.Subset(S2, (trim("E", 0, 9, "CRS:1"), trim("N", 0, 6, "CRS:1")))
    ds = compute(cube, ir.Scale(s, like=like))
    assert np.array_equal(ds["B03"].values, a[np.ix_(_nearest(64, 7), _nearest(80, 10))])


def test_subset_after_scale_uses_the_new_resolution(s2):
    cube, src = s2
    scaled = ir.Scale(ir.Subset(band("B08"), (at("2021-04-15"),)), factor=num(0.5))
    ds = compute(cube, ir.Subset(scaled, (trim("E", 500000, 500100), trim("N", 4999900, 5000000))))
    assert ds["B08"].shape == (5, 5)
    assert np.array_equal(ds["B08"].values, src[0, B["B08"]][1:10:2, 1:10:2])


def test_scale_with_bilinear_matches_rasterio(s2):
    cube, src = s2
    s = ir.Subset(band("B05"), (at("2021-05-01"),))
    ds = compute(cube, ir.Scale(s, sizes=(("E", num(40)), ("N", num(32))), method="bilinear"))
    want = np.zeros((32, 40), dtype="uint16")
    rasterio.warp.reproject(src[1, B["B05"]], want, src_transform=SRC_T, src_crs="EPSG:32633", src_nodata=0,
                            dst_transform=from_origin(X0, Y0, 20, 20), dst_crs="EPSG:32633", dst_nodata=0,
                            resampling=Resampling.bilinear)
    assert np.array_equal(ds["B05"].values, want)


def test_scale_bad_inputs(s2):
    cube, _ = s2
    for expr, err in [
        (ir.Scale(S2, factor=num(0)), InvalidParameterValue),
        (ir.Scale(S2, factor=num(-2)), InvalidParameterValue),
        (ir.Scale(S2, axis_factors=(("X", num(2)),)), InvalidAxisLabel),
        (ir.Scale(S2, sizes=(("ansi", num(5)),)), WcpsError),
        (ir.Scale(S2, sizes=(("E", num(0)),)), InvalidParameterValue),
        (ir.Scale(S2, factor=num(0.5), method="fancy"), InvalidParameterValue),
        (ir.Scale(S2), WcpsError),
    ]:
        with pytest.raises(err):
            evaluate(cube, expr)


def test_scale_result_size_is_refused_before_reading(s2):
    cube, _ = s2
    q = ir.Query((ir.Encode(ir.Scale(S2, factor=num(20)), "tiff"),))
    with pytest.raises(ResultTooLarge):
        run_query(q, cube, max_result_bytes=10_000_000)


# ---- scale from pyramid levels ------------------------------------------------------------------
@pytest.fixture(scope="module")
def pyramid_cube(tmp_path_factory):
    root = tmp_path_factory.mktemp("pyr")
    rng = np.random.default_rng(5)
    arrays = []
    for date in ("20210415", "20210501"):
        data = rng.integers(1, 4000, size=(1, 64, 80)).astype("uint16")
        data[:, :5, :7] = 0
        arrays.append(data[0])
        write_geotiff(root / "in" / f"P_{date}.tif", data, crs="EPSG:32633", transform=SRC_T, nodata=0, band_descriptions=["B"])
    ing = {
        "config": {"service_url": "http://localhost:8080/rasdaman/ows", "automated": True},
        "input": {"coverage_id": "P", "paths": ["in/*.tif"]},
        "recipe": {"name": "time_series_irregular", "options": {
            "time_parameter": {"filename": {"regex": "P_(\\d{8})", "group": "1"}, "datetime_format": "YYYYMMDD"},
            "time_crs": "OGC/0/AnsiDate", "tiling": "ALIGNED [0:0, 0:31, 0:31]", "scale_levels": [2, 4]}},
    }
    (root / "ing.json").write_text(json.dumps(ing))
    cube = petacube.open(root / "home")
    run_import(root / "ing.json", cube, show_progress=False)
    return cube, np.stack(arrays)


def _block_mean(a, f):
    """Mean of the non-null (non-zero) cells of each f×f block, rounded; 0 when none."""
    ny, nx = -(-a.shape[0] // f), -(-a.shape[1] // f)
    out = np.zeros((ny, nx), dtype="uint16")
    for i in range(ny):
        for j in range(nx):
            block = a[i * f:(i + 1) * f, j * f:(j + 1) * f].astype("float64")
            valid = block[block != 0]
            if valid.size:
                out[i, j] = np.rint(valid.mean())
    return out


def _levels_read(cube, monkeypatch):
    levels = []
    real = cube.store.read

    def spy(cov, band_name, region, level=0):
        out = real(cov, band_name, region, level=level)
        if out.size:  # dask probes with empty slices to learn the array type
            levels.append(level)
        return out

    monkeypatch.setattr(cube.store, "read", spy)
    return levels


def test_scale_reads_the_coarsest_sufficient_pyramid_level(pyramid_cube, monkeypatch):
    cube, src = pyramid_cube
    P = ir.CoverageRef("P")
    levels = _levels_read(cube, monkeypatch)
    ds = compute(cube, ir.Scale(ir.Field(P, "B"), factor=num(0.25)))  # 16 x 20 cells: level 2 (factor 4)
    assert set(levels) == {2}
    want = np.stack([_block_mean(a, 4) for a in src])  # source cell 4i+2 lies in level cell i
    assert np.array_equal(ds["B"].values, want)

    levels.clear()
    ds = compute(cube, ir.Scale(P, factor=num(0.3)))  # 19 x 24 cells: level 1 (32 x 40) still suffices
    assert set(levels) == {1}
    want = np.stack([_block_mean(a, 2)[np.ix_(_nearest(64, 19) // 2, _nearest(80, 24) // 2)] for a in src])
    assert np.array_equal(ds["B"].values, want)

    # two dates read from the same level in one graph stay two different reads
    def date(d):
        return ir.Scale(ir.Field(ir.Subset(P, (at(d),)), "B"), factor=num(0.25))

    import dask

    a, b = dask.compute(evaluate(cube, date("2021-04-15")).data, evaluate(cube, date("2021-05-01")).data)
    assert np.array_equal(a["B"].values, _block_mean(src[0], 4))
    assert np.array_equal(b["B"].values, _block_mean(src[1], 4))


def test_scale_of_a_subset_reads_the_level_cells_of_its_region(pyramid_cube, monkeypatch):
    cube, src = pyramid_cube
    P = ir.CoverageRef("P")
    levels = _levels_read(cube, monkeypatch)
    # E 500105:500405 -> cols 10..39 (storage offset 10); slice the second date
    sub = ir.Subset(P, (trim("E", 500105, 500405), at("2021-05-01")))
    ds = compute(cube, ir.Scale(sub, sizes=(("E", num(15)), ("N", num(32)))))
    assert set(levels) == {1}
    cols = (10 + _nearest(30, 15)) // 2
    assert np.array_equal(ds["B"].values, _block_mean(src[1], 2)[:, cols])
    levels.clear()
    ds = compute(cube, ir.Scale(sub, sizes=(("E", num(20)),)))  # N unscaled: level 0
    assert set(levels) == {0}
    assert np.array_equal(ds["B"].values, src[1][:, 10 + _nearest(30, 20)])


# ---- crsTransform ------------------------------------------------------------------------------------
def test_crs_transform_to_4326_matches_rasterio(s2):
    cube, src = s2
    v = evaluate(cube, ir.CrsTransform(band("B04"), "EPSG:4326"))
    assert v.coverage.dims == ("ansi", "Lat", "Long")
    assert "EPSG/0/4326" in v.coverage.crs.identifier and "AnsiDate" in v.coverage.crs.identifier
    t, w, h = rasterio.warp.calculate_default_transform("EPSG:32633", "EPSG:4326", 80, 64, X0, Y0 - 640, X0 + 800, Y0)
    lat, lon = v.coverage.axis("Lat"), v.coverage.axis("Long")
    assert (lat.size, lon.size) == (h, w)
    assert lon.lower == pytest.approx(t.c) and lat.upper == pytest.approx(t.f) and lat.resolution == pytest.approx(t.e)
    want = np.zeros((3, h, w), dtype="uint16")
    rasterio.warp.reproject(src[:, B["B04"]], want, src_transform=SRC_T, src_crs="EPSG:32633", src_nodata=0,
                            dst_transform=t, dst_crs="EPSG:4326", dst_nodata=0, resampling=Resampling.nearest)
    ds = v.data.compute()
    assert np.array_equal(ds["B04"].values, want)
    assert np.allclose(ds["Long"].values, t.c + t.a * (np.arange(w) + 0.5))


def test_crs_transform_with_resolution_bbox_and_method(s2):
    cube, src = s2
    s = ir.Subset(band("B08"), (at("2021-05-20"),))
    bbox = (trim("Lat", 45.1000, 45.1050), trim("Long", 15.0000, 15.0080))
    expr = ir.CrsTransform(s, "EPSG:4326", "bilinear", (("Lat", num(0.0001)), ("Long", num(0.0002))), bbox)
    v = evaluate(cube, expr)
    assert v.data["B08"].dims == ("Lat", "Long")
    h, w = round(0.005 / 0.0001), round(0.008 / 0.0002)
    want = np.zeros((h, w), dtype="uint16")
    rasterio.warp.reproject(src[2, B["B08"]], want, src_transform=SRC_T, src_crs="EPSG:32633", src_nodata=0,
                            dst_transform=from_origin(15.0, 45.105, 0.0002, 0.0001), dst_crs="EPSG:4326",
                            dst_nodata=0, resampling=Resampling.bilinear)
    assert np.array_equal(v.data["B08"].values, want)
    assert v.coverage.axis("Lat").resolution == pytest.approx(-0.0001)


def test_crs_transform_bad_inputs(s2):
    cube, _ = s2
    with pytest.raises(InvalidCrs):
        evaluate(cube, ir.CrsTransform(S2, "EPSG:999999"))
    with pytest.raises(InvalidCrs):
        evaluate(cube, ir.CrsTransform(S2, "OGC/0/AnsiDate"))
    with pytest.raises(InvalidParameterValue):
        evaluate(cube, ir.CrsTransform(S2, "EPSG:4326", "sharpest"))
    with pytest.raises(InvalidAxisLabel):
        evaluate(cube, ir.CrsTransform(S2, "EPSG:4326", resolutions=(("E", num(0.001)),)))
    with pytest.raises(WcpsError, match="sliced"):
        evaluate(cube, ir.CrsTransform(ir.Subset(S2, (ir.AxisSubset("E", at=num(500005)),)), "EPSG:4326"))


# ---- clip --------------------------------------------------------------------------------------------
def _expected_clip(a, geom):
    """Trim to the cells meeting the geometry's bounding box, then null outside (centres)."""
    minx, miny, maxx, maxy = geom.bounds
    c0, c1 = int(np.floor((minx - X0) / RES)), int(np.ceil((maxx - X0) / RES)) - 1
    r0, r1 = int(np.floor((Y0 - maxy) / RES)), int(np.ceil((Y0 - miny) / RES)) - 1
    t = from_origin(X0 + c0 * RES, Y0 - r0 * RES, RES, RES)
    inside = geometry_mask([geom], out_shape=(r1 - r0 + 1, c1 - c0 + 1), transform=t, invert=True)
    part = a[..., r0:r1 + 1, c0:c1 + 1]
    return np.where(inside, part, 0), (r0, r1, c0, c1)


TRIANGLE = "POLYGON((500103 4999497, 500397 4999503, 500251 4999797, 500103 4999497))"


def test_clip_polygon_trims_to_its_box_and_nulls_outside(s2):
    cube, src = s2
    v = evaluate(cube, ir.Clip(band("B03"), TRIANGLE))
    want, (r0, r1, c0, c1) = _expected_clip(src[:, B["B03"]], shapely.from_wkt(TRIANGLE))
    e, n = v.coverage.axis("E"), v.coverage.axis("N")
    assert (e.lower, e.size) == (X0 + c0 * RES, c1 - c0 + 1)
    assert (n.upper, n.size) == (Y0 - r0 * RES, r1 - r0 + 1)
    ds = v.data.compute()
    assert ds["B03"].dims == ("ansi", "N", "E")
    assert np.array_equal(ds["B03"].values, want)
    assert 0 < (want[0] != 0).sum() < want[0].size


def test_clip_multipolygon_and_geometry_in_another_crs(s2):
    cube, src = s2
    wkt = ("MULTIPOLYGON(((500013 4999987, 500077 4999987, 500077 4999933, 500013 4999987)),"
           "((500503 4999403, 500597 4999403, 500597 4999497, 500503 4999497, 500503 4999403)))")
    s = ir.Subset(band("B02"), (at("2021-05-01"),))
    ds = compute(cube, ir.Clip(s, wkt))
    want, _ = _expected_clip(src[1, B["B02"]], shapely.from_wkt(wkt))
    assert np.array_equal(ds["B02"].values, want)
    # the triangle written in EPSG:4326 (Lat Long order), transformed back by the engine
    import pyproj

    to_ll = pyproj.Transformer.from_crs("EPSG:32633", "EPSG:4326")  # authority order: lat, lon
    tri = shapely.from_wkt(TRIANGLE)
    ll = "POLYGON((" + ", ".join("%.10f %.10f" % to_ll.transform(x, y) for x, y in tri.exterior.coords) + "))"
    ds = compute(cube, ir.Clip(s, ll, crs="EPSG:4326"))
    want, _ = _expected_clip(src[1, B["B02"]], tri)
    assert np.array_equal(ds["B02"].values, want)


def test_clip_linestring_gives_the_cells_along_the_line(s2):
    cube, src = s2
    # a diagonal from cell (row 0, col 0) to (10, 10), then east to col 15
    wkt = "LINESTRING(500005 4999995, 500105 4999895, 500155 4999895)"
    rows = np.r_[np.arange(11), np.full(5, 10)]
    cols = np.r_[np.arange(11), np.arange(11, 16)]
    v = evaluate(cube, ir.Clip(band("B04"), wkt))
    assert v.coverage.dims == ("ansi", "i")
    assert v.coverage.crs.identifier == "OGC/0/AnsiDate@OGC/0/Index1D"
    ds = v.data.compute()
    assert ds["B04"].dims == ("ansi", "i")
    assert np.array_equal(ds["B04"].values, src[:, B["B04"]][:, rows, cols])
    # a 2-D source gives a 1-D coverage; with coordinates: E and N bands (CRS order) first
    s = ir.Subset(band("B04"), (at("2021-04-15"),))
    v = evaluate(cube, ir.Clip(s, wkt, with_coordinates=True))
    ds = v.data.compute()
    assert list(ds.data_vars) == ["E", "N", "B04"]
    assert ds["B04"].dims == ("i",)
    assert np.allclose(ds["E"].values, X0 + 5 + 10 * cols)
    assert np.allclose(ds["N"].values, Y0 - 5 - 10 * rows)
    assert np.array_equal(ds["B04"].values, src[0, B["B04"]][rows, cols])


def test_clip_bad_inputs(s2):
    cube, _ = s2
    for wkt, err in [
        ("POLYGON((1 2, 3", InvalidParameterValue),
        ("not wkt at all", InvalidParameterValue),
        ("POINT(500005 4999995)", WcpsError),
        ("POLYGON((0 0, 10 0, 10 10, 0 0))", WcpsError),  # outside the coverage
        ("LINESTRING(500005 4999995, 600000 4999995)", WcpsError),
    ]:
        with pytest.raises(err):
            evaluate(cube, ir.Clip(S2, wkt))
    with pytest.raises(InvalidCrs):
        evaluate(cube, ir.Clip(S2, TRIANGLE, crs="EPSG:0"))


def test_errors_are_user_errors_through_run_query(s2):
    cube, _ = s2
    for expr in [ir.Flip(S2, "X"), ir.Clip(S2, "POLYGON(("), ir.Scale(S2, factor=num(-1)), ir.CrsTransform(S2, "foo")]:
        with pytest.raises(PetacubeError):
            run_query(ir.Query((ir.Encode(expr, "tiff"),)), cube)
