"""IR evaluation against a real cube; expected values from numpy on the source arrays."""

from __future__ import annotations

import numpy as np
import pytest

from petacube.engine import ir
from petacube.engine.evaluate import Evaluator
from petacube.engine.run import run_query
from petacube.errors import InvalidAxisLabel, InvalidSubsetting, NoSuchField, WcpsError

B = {name: i for i, name in enumerate(["B02", "B03", "B04", "B05", "B06", "B08"])}
S2 = ir.CoverageRef("S2")


def band(name, src=S2):
    return ir.Field(src, name)


def at(date):
    return ir.AxisSubset("ansi", at=ir.Scalar(date))


def trim(axis, lo, hi):
    return ir.AxisSubset(axis, lo=ir.Scalar(lo), hi=ir.Scalar(hi))


def value(cube, expr):
    [res] = run_query(ir.Query((expr,)), cube)
    return res.value


def compute(cube, expr):
    v = Evaluator(cube).eval(expr)
    return v.data.compute()


def masked(src_band):
    return np.ma.masked_equal(src_band.astype("float64"), 0)


def test_avg_of_a_band_skips_nulls(s2):
    cube, src = s2
    got = value(cube, ir.Aggregate("avg", band("B08")))
    assert got == pytest.approx(masked(src[:, B["B08"]]).mean())


def test_subset_pushdown_and_slice(s2):
    cube, src = s2
    # E 500105..500305 -> cols floor(105/10)=10 .. 10+20-1=29; N 4999600..4999800 -> rows 20..39
    expr = ir.Subset(band("B04"), (trim("E", 500105, 500305), trim("N", 4999600, 4999800), at("2021-05-01")))
    ds = compute(cube, expr)
    assert ds["B04"].dims == ("N", "E")
    assert np.array_equal(ds["B04"].values, src[1, B["B04"], 20:40, 10:30])
    pushed = ir.Subset(S2, (trim("E", 500105, 500305), trim("N", 4999600, 4999800), at("2021-05-01")))
    assert np.array_equal(compute(cube, ir.Field(pushed, "B04"))["B04"].values, src[1, B["B04"], 20:40, 10:30])


def test_grid_subset_with_crs1(s2):
    cube, src = s2
    sub = ir.Subset(S2, (ir.AxisSubset("E", lo=ir.Scalar(3), hi=ir.Scalar(7), crs="CRS:1"),
                         ir.AxisSubset("N", at=ir.Scalar(5), crs="CRS:1"), at("2021-04-15")))
    assert np.array_equal(compute(cube, band("B02", sub))["B02"].values, src[0, B["B02"], 5, 3:8])


def test_ndvi_nulls_propagate(s2):
    cube, src = s2
    s = ir.Subset(S2, (at("2021-05-20"),))
    nir, red = band("B08", s), band("B04", s)
    ndvi = ir.Binary("/", ir.Binary("-", nir, red), ir.Binary("+", nir, red))
    got = compute(cube, ndvi)["B08"].values
    n, r = src[2, B["B08"]].astype("float64"), src[2, B["B04"]].astype("float64")
    want = (n - r) / (n + r)
    valid = (src[2, B["B08"]] != 0) & (src[2, B["B04"]] != 0)
    assert np.allclose(got[valid], want[valid], rtol=1e-6)
    assert np.all(got[~valid] == 0)  # null value of the bands (0) where either is null
    mean = value(cube, ir.Aggregate("avg", ndvi))
    assert mean == pytest.approx(want[valid].mean(), abs=1e-5)  # float32 cells, as rasdaman computes them


def test_mtci_count_and_cast(s2):
    cube, src = s2
    s = ir.Subset(S2, (at("2021-04-15"),))
    b4, b5, b6 = (src[0, B[k]].astype("float64") for k in ("B04", "B05", "B06"))
    mtci = ir.Binary("/", ir.Binary("-", band("B06", s), band("B05", s)), ir.Binary("-", band("B05", s), band("B04", s)))
    got = compute(cube, mtci)
    assert got["B06"].dtype == np.float64  # differences are widened to long, long / long is double
    valid = (src[0, B["B04"]] != 0) & (b5 != b4)
    assert np.allclose(got["B06"].values[valid], ((b6 - b5) / (b5 - b4))[valid], rtol=1e-5)
    # count of cells where NIR > red (nulls skipped)
    cnt = value(cube, ir.Aggregate("count", ir.Binary(">", band("B08", s), band("B04", s))))
    assert cnt == int(((src[0, B["B08"]] > src[0, B["B04"]]) & (src[0, B["B08"]] != 0)).sum())
    assert compute(cube, ir.Cast("unsigned char", ir.Binary("/", band("B02", s), ir.Scalar(20))))["B02"].dtype == np.uint8


def test_range_constructor_switch_and_overlay(s2):
    cube, src = s2
    s = ir.Subset(S2, (at("2021-05-01"),))
    rgb = compute(cube, ir.RangeConstructor((("red", band("B04", s)), ("green", band("B03", s)), ("blue", band("B02", s)))))
    assert list(rgb.data_vars) == ["red", "green", "blue"]
    assert np.array_equal(rgb["green"].values, src[1, B["B03"]])
    water = ir.Switch(((ir.Binary("<", band("B08", s), ir.Scalar(1000)), ir.Scalar(1)),), ir.Scalar(0))
    got = compute(cube, water)
    assert np.array_equal(got["B08"].values, (src[1, B["B08"]] < 1000).astype(int))


def test_min_max_sum_some_all(s2):
    cube, src = s2
    b = masked(src[:, B["B03"]])
    assert value(cube, ir.Aggregate("max", band("B03"))) == int(b.max())
    assert value(cube, ir.Aggregate("min", band("B03"))) == int(b.min())
    assert value(cube, ir.Aggregate("sum", band("B03"))) == int(b.sum())
    assert value(cube, ir.Aggregate("some", ir.Binary(">", band("B03"), ir.Scalar(3990)))) is bool((src[:, B["B03"]] > 3990).any())
    # comparisons give plain booleans (rasql): the null cells (0) compare as 0 > 0
    assert value(cube, ir.Aggregate("all", ir.Binary(">", band("B03"), ir.Scalar(0)))) is False
    assert value(cube, ir.Aggregate("all", ir.Binary(">=", band("B03"), ir.Scalar(0)))) is True


def test_metadata_functions(s2):
    cube, _ = s2
    assert value(cube, ir.Metadata("identifier", S2)) == "S2"
    assert value(cube, ir.Metadata("imageCrsDomain", S2, axis="E", part="hi")) == 79
    assert value(cube, ir.Metadata("domain", S2, axis="N", part="lo")) == 4999360.0
    assert value(cube, ir.Metadata("cellCount", ir.Subset(S2, (at("2021-05-01"),)))) == 64 * 80


def test_semantic_errors(s2):
    cube, _ = s2
    with pytest.raises(InvalidAxisLabel, match="Lat"):
        value(cube, ir.Aggregate("avg", ir.Subset(band("B02"), (trim("Lat", 1, 2),))))
    with pytest.raises(NoSuchField, match="B99"):
        value(cube, ir.Aggregate("avg", band("B99")))
    with pytest.raises(InvalidSubsetting, match="outside"):
        value(cube, ir.Aggregate("avg", ir.Subset(band("B02"), (trim("E", 0, 10),))))
    with pytest.raises(WcpsError, match="must be encoded"):
        value(cube, band("B02"))
    with pytest.raises(WcpsError, match="decode"):
        value(cube, ir.Decoded(1))


def test_time_limit_and_cancel_stop_a_query(s2):
    import threading

    from petacube.errors import QueryCancelled

    cube, _ = s2
    q = ir.Query((ir.Aggregate("avg", band("B08")),))
    with pytest.raises(QueryCancelled, match="time limit"):
        run_query(q, cube, timeout=0.0)
    stop = threading.Event()
    stop.set()
    with pytest.raises(QueryCancelled, match="cancelled"):
        run_query(q, cube, cancel=stop)
    assert run_query(q, cube, timeout=60)[0].value > 0


def test_too_large_result_is_refused_before_reading(s2):
    from petacube.errors import ResultTooLarge

    cube, _ = s2
    q = ir.Query((ir.Encode(band("B08"), "netcdf"),))
    with pytest.raises(ResultTooLarge, match="MiB"):
        run_query(q, cube, max_result_bytes=1000)
