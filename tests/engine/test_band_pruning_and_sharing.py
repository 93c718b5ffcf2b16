"""Only the bands a query uses are planned, and common sub-expressions are evaluated once.

Reads are counted by the server's real read guard (`GuardedCube`, what rules and quotas
see); expected cell counts and values come from numpy on the source arrays.
"""

from __future__ import annotations

import numpy as np
import pytest

from petacube.engine import geometry, ir
from petacube.engine.evaluate import Evaluator
from petacube.engine.run import run_query
from petacube.errors import NoSuchField
from petacube.server.read_guard import GuardedCube, ReadGuard
from petacube.wcps import parse_wcps

B = {name: i for i, name in enumerate(["B02", "B03", "B04", "B05", "B06", "B08"])}
S2 = ir.CoverageRef("S2")
DATES = ["2021-04-15", "2021-05-01", "2021-05-20"]


def guarded(cube):
    return GuardedCube(cube, ReadGuard(lambda coverage_id: []))


def run(cube, text):
    return run_query(parse_wcps(text), cube)


def masked(a):
    return np.ma.masked_equal(a.astype("float64"), 0)


def test_avg_of_one_band_plans_only_that_band(s2):
    cube, src = s2
    g = guarded(cube)
    [res] = run(g, "for $c in (S2) return avg($c.B02)")
    assert res.value == pytest.approx(masked(src[:, B["B02"]]).mean())
    assert g.guard.cells == src[:, 0].size
    assert g.guard.bytes == src[:, 0].size * 2  # uint16


def test_band_of_a_subset_and_band_by_index(s2):
    cube, src = s2
    g = guarded(cube)
    [res] = run(g, 'for $c in (S2) return encode($c[ansi("2021-05-01"), E(500105:500305), N(4999600:4999800)].B04, "json")')
    # E 500105..500305 -> columns 10..29, N 4999600..4999800 -> rows 20..39
    window = src[1, B["B04"], 20:40, 10:30]
    assert np.array_equal(np.array(eval(res.data)), window)  # noqa: S307 - JSON of plain numbers
    assert g.guard.cells == window.size
    g = guarded(cube)
    [res] = run(g, 'for $c in (S2) return max($c[ansi("2021-04-15")].1)')  # band 1 is B03
    assert res.value == src[0, B["B03"]].max()
    assert g.guard.cells == src[0, 0].size


def test_band_access_moves_below_scale_cast_and_unary_operations(s2):
    cube, src = s2
    g = guarded(cube)
    e = ir.Field(ir.Unary("abs", ir.Cast("float", ir.Scale(ir.Subset(S2, (ir.AxisSubset("ansi", at=ir.Scalar(DATES[1])),)),
                                                          sizes=(("E", ir.Scalar(40)), ("N", ir.Scalar(32)))))), "B08")
    got = Evaluator(g).eval(e).data["B08"].values
    # nearest neighbour halving: target cell i takes source cell floor((i + 0.5) * 2) = 2i + 1
    assert np.array_equal(got, src[1, B["B08"], 1::2, 1::2].astype("float32"))
    assert g.guard.cells == src[1, 0].size


def test_the_whole_coverage_reads_every_band(s2):
    cube, src = s2
    g = guarded(cube)
    [res] = run(g, 'for $c in (S2) return encode($c[ansi("2021-05-20")], "csv")')
    assert res.data
    assert g.guard.cells == src[2].size


def test_a_band_used_twice_is_read_once(s2):
    cube, src = s2
    g = guarded(cube)
    [res] = run(g, "for $c in (S2) return avg(($c.B08 - $c.B04) / ($c.B08 + $c.B04))")
    nir, red = (src[:, B[n]].astype("float64") for n in ("B08", "B04"))
    valid = (nir != 0) & (red != 0)
    # uint16 / uint16 is float32 (rasql): compare at float32 precision
    assert res.value == pytest.approx(((nir - red) / (nir + red))[valid].mean(), abs=1e-6)
    assert g.guard.cells == 2 * src[:, 0].size  # B08 and B04 once each


def test_a_reprojection_used_twice_runs_once(s2, monkeypatch):
    cube, src = s2
    calls = []
    real = geometry.crs_transform
    monkeypatch.setattr(geometry, "crs_transform", lambda ev, e: calls.append(e) or real(ev, e))
    one_date = ir.Subset(S2, (ir.AxisSubset("ansi", at=ir.Scalar(DATES[0])),))
    c = ir.CrsTransform(ir.Field(one_date, "B02"), "EPSG:4326")
    twice = ir.Aggregate("max", ir.Binary("+", c, c))
    res, again = run_query(ir.Query((twice, ir.Aggregate("max", c))), cube)
    assert len(calls) == 1
    assert res.value == 2 * src[0, B["B02"]].max() and again.value == src[0, B["B02"]].max()  # values kept (nearest)


def test_iterator_dependent_values_are_shared_per_point_only(s2):
    cube, src = s2
    g = guarded(cube)
    [res] = run(g, 'for $c in (S2) return condense + over $t t(0:2) '
                   'using avg($c[ansi($t)].B02) + avg($c[ansi($t)].B02)')
    expected = sum(2 * masked(src[k, B["B02"]]).mean() for k in range(3))
    assert res.value == pytest.approx(expected)
    assert g.guard.cells == src[:, 0].size  # each date's B02 read once


def test_equal_literals_of_different_types_are_not_shared(s2):
    cube, src = s2
    b02 = ir.Field(ir.Subset(S2, (ir.AxisSubset("ansi", at=ir.Scalar(DATES[0])),)), "B02")
    # 1 == 1.0 in Python, but uint16 + 1 is an integer and uint16 + 1.0 a float (rasql)
    e = ir.RangeConstructor((("i", ir.Binary("+", b02, ir.Scalar(1))), ("f", ir.Binary("+", b02, ir.Scalar(1.0)))))
    ds = Evaluator(cube).eval(e).data.compute()
    valid = src[0, B["B02"]] != 0
    assert ds["i"].dtype.kind == "i" and ds["f"].dtype.kind == "f"
    for name in ("i", "f"):
        assert np.array_equal(ds[name].values[valid], src[0, B["B02"]][valid].astype("int64") + 1)


def test_metadata_of_a_stored_coverage_plans_no_read(s2):
    cube, src = s2
    g = guarded(cube)
    [hi] = run(g, 'for $c in (S2) return imageCrsDomain($c[ansi("2021-05-01")], E).hi')
    [cells] = run(g, "for $c in (S2) return cellCount($c.B02)")
    assert hi.value == src.shape[3] - 1 and cells.value == src[:, 0].size
    assert g.guard.cells == 0
    with pytest.raises(NoSuchField, match="B99"):
        run(g, "for $c in (S2) return identifier($c.B99)")
