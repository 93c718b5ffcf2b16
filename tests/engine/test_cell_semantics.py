"""overlay keeps nulls, casts and switch over iterator coordinates, encode() of one cell;
expected values from numpy on the source arrays."""

from __future__ import annotations

import json

import numpy as np
import pytest
from datagen import ingredients, write_geotiff
from rasterio.transform import from_origin

import petacube
from petacube.engine import ir
from petacube.engine.evaluate import Evaluator
from petacube.engine.nulls import NIL_ATTR
from petacube.engine.run import run_query
from petacube.errors import WcpsError
from petacube.ingest.importer import run_import
from petacube.wcps import parse_wcps

B = {name: i for i, name in enumerate(["B02", "B03", "B04", "B05", "B06", "B08"])}


@pytest.fixture(scope="module")
def gappy(tmp_path_factory):
    """Two dates of one uint16 band (nodata 0) whose gaps differ and partly overlap."""
    root = tmp_path_factory.mktemp("gappy")
    rng = np.random.default_rng(5)
    days = {"20210601": rng.integers(1, 500, size=(12, 10)), "20210602": rng.integers(1, 500, size=(12, 10))}
    days["20210601"][rng.random((12, 10)) < 0.4] = 0
    days["20210602"][rng.random((12, 10)) < 0.4] = 0
    for day, data in days.items():
        write_geotiff(root / "in" / f"G_{day}.tif", data[None].astype("uint16"), crs="EPSG:32633",
                      transform=from_origin(600000, 5100000, 20, 20), nodata=0, band_descriptions=["v"])
    ing = ingredients("GAPPY", ["in/*.tif"], "time_series_irregular", {
        "time_parameter": {"filename": {"regex": "G_(\\d{8})", "group": "1"}, "datetime_format": "YYYYMMDD"},
        "time_crs": "OGC/0/AnsiDate", "tiling": "ALIGNED [0:0, 0:5, 0:5]"})
    (root / "ing.json").write_text(json.dumps(ing))
    cube = petacube.open(root / "home")
    run_import(root / "ing.json", cube, show_progress=False)
    return cube, days["20210602"].astype("uint16"), days["20210601"].astype("uint16")


@pytest.mark.parametrize("fuse", [True, False])
def test_overlay_is_null_only_where_both_are(gappy, fuse):
    cube, top, bottom = gappy
    g = ir.Field(ir.CoverageRef("GAPPY"), "v")
    newer = ir.Subset(g, (ir.AxisSubset("ansi", at=ir.Scalar("2021-06-02")),))
    older = ir.Subset(g, (ir.AxisSubset("ansi", at=ir.Scalar("2021-06-01")),))
    got = Evaluator(cube, fuse=fuse).eval(ir.Binary("overlay", newer, older)).data["v"]
    assert got.attrs[NIL_ATTR] == [(0.0, None)]
    both_null = (top == 0) & (bottom == 0)
    assert both_null.any() and ((top == 0) & (bottom != 0)).any()
    expected = np.where(top != 0, top, bottom)
    assert np.array_equal(got.values, expected)
    # through encode: the JSON marks exactly the cells null in both slices
    [res] = run_query(parse_wcps('for $c in (GAPPY) return encode($c[ansi("2021-06-02")] overlay '
                                 '$c[ansi("2021-06-01")], "json")'), cube)
    cells = np.array(json.loads(res.data), dtype=object)
    assert np.array_equal(cells == None, both_null)  # noqa: E711 - elementwise on an object array
    assert np.array_equal(cells[~both_null].astype("int64"), expected[~both_null])


def test_overlay_takes_the_lower_value_where_the_upper_is_zero_or_null(s2):
    cube, src = s2
    s2 = ir.CoverageRef("S2")
    upper = ir.Binary("-", ir.Field(ir.Subset(s2, (ir.AxisSubset("ansi", at=ir.Scalar("2021-04-15")),)), "B02"),
                      ir.Scalar(2000))  # negative and zero values, null in the corner
    lower = ir.Field(ir.Subset(s2, (ir.AxisSubset("ansi", at=ir.Scalar("2021-05-01")),)), "B03")
    got = Evaluator(cube).eval(ir.Binary("overlay", upper, lower)).data
    a = src[0, B["B02"]].astype("int64") - 2000
    a_null = src[0, B["B02"]] == 0
    b = src[1, B["B03"]]
    take_a = (a != 0) & ~a_null
    name = list(got.data_vars)[0]
    assert np.array_equal(got[name].values, np.where(take_a, a, b))


def test_wcps_cast_of_an_iterator_in_a_constructor(s2):
    cube, _ = s2
    [res] = run_query(parse_wcps('for $c in (S2) return encode(coverage cc over $x x(0:9) values (char)($x * 30), "json")'), cube)
    # (char) is int8: 30*x wraps around as numpy's astype does
    assert json.loads(res.data) == (np.arange(10) * 30).astype("int8").tolist()


def test_wcps_switch_over_an_iterator(s2):
    cube, _ = s2
    q = ('for $c in (S2) return encode(coverage sw over $x x(0:9) values '
         'switch case $x < 3 return 10 case $x > 7 return 30 default return 20, "json")')
    [res] = run_query(parse_wcps(q), cube)
    x = np.arange(10)
    assert json.loads(res.data) == np.select([x < 3, x > 7], [10, 30], 20).tolist()


def test_switch_on_plain_truth_values_picks_a_branch(s2):
    cube, src = s2
    q = "for $c in (S2) return switch case max($c.B02) > 5000 return 1 case max($c.B02) > 100 return 2 default return 3"
    [res] = run_query(parse_wcps(q), cube)
    m = src[:, B["B02"]].max()
    assert res.value == (1 if m > 5000 else 2 if m > 100 else 3) == 2


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_encode_of_one_cell(s2, fmt):
    cube, src = s2
    # E 500105 -> column 10, N 4999605 -> row 39 (north edge 5000000, 10 m cells)
    q = f'for $c in (S2) return encode($c[E(500105), N(4999605), ansi("2021-05-01")].B02, "{fmt}")'
    [res] = run_query(parse_wcps(q), cube)
    assert res.data.decode() == str(src[1, B["B02"], 39, 10])
    q = f'for $c in (S2) return encode($c[E(500001), N(4999999), ansi("2021-05-01")].B02, "{fmt}")'  # nodata corner
    [res] = run_query(parse_wcps(q), cube)
    assert res.data.decode() == ("null" if fmt == "json" else "0")


def test_encode_of_one_cell_as_an_image_is_a_clear_error(s2):
    cube, _ = s2
    with pytest.raises(WcpsError, match="single cell.*json or csv"):
        run_query(parse_wcps('for $c in (S2) return encode($c[E(500105), N(4999605), ansi("2021-05-01")], "png")'), cube)
