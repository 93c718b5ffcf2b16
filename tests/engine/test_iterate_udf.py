"""Condensers, coverage constructors and user-defined functions; numpy expectations."""

from __future__ import annotations

import numpy as np
import pytest

from petacube.engine import ir
from petacube.engine.evaluate import Evaluator
from petacube.engine.run import run_query
from petacube.engine.udf import register
from petacube.errors import WcpsError

S2 = ir.CoverageRef("S2")
B02, B08 = 0, 5


def ev(cube, e):
    return Evaluator(cube).eval(e)


def test_condense_sum_over_time_is_a_coverage(s2):
    cube, src = s2
    t = ir.AxisIterator("t", "ansi", ir.Scalar(0), ir.Scalar(2))
    at_t = ir.Subset(ir.Field(S2, "B02"), (ir.AxisSubset("ansi", at=ir.IteratorVar("t")),))
    got = ev(cube, ir.Condense("+", (t,), at_t)).data["B02"].values
    stack = src[:, B02].astype("int64")
    valid = (stack != 0).all(axis=0)
    assert np.array_equal(got[valid], stack.sum(axis=0)[valid])
    assert np.all(got[~valid] == 0)


def test_condense_scalar_with_where(s2):
    cube, src = s2
    t = ir.AxisIterator("t", "ansi", ir.Scalar(0), ir.Scalar(2))
    avg_t = ir.Aggregate("avg", ir.Subset(ir.Field(S2, "B08"), (ir.AxisSubset("ansi", at=ir.IteratorVar("t")),)))
    e = ir.Condense("max", (t,), avg_t, where=ir.Binary("!=", ir.IteratorVar("t"), ir.Scalar(1)))
    [res] = run_query(ir.Query((e,)), cube)
    means = [np.ma.masked_equal(src[k, B08].astype(float), 0).mean() for k in (0, 2)]
    assert res.value == pytest.approx(max(means))


def test_constructor_vectorised_and_value_list(s2):
    cube, _ = s2
    it = (ir.AxisIterator("x", "x", ir.Scalar(0), ir.Scalar(3)), ir.AxisIterator("y", "y", ir.Scalar(0), ir.Scalar(2)))
    v = ev(cube, ir.CoverageConstructor("grid", it, values=ir.Binary("+", ir.Binary("*", ir.IteratorVar("x"), ir.Scalar(10)), ir.IteratorVar("y"))))
    want = np.arange(4)[:, None] * 10 + np.arange(3)[None, :]
    assert np.array_equal(v.data["grid"].values, want)
    assert v.coverage.crs.labels == ("x", "y")
    lst = ev(cube, ir.CoverageConstructor("l", (ir.AxisIterator("i", "i", ir.Scalar(0), ir.Scalar(2)),),
                                          value_list=(ir.Scalar(5), ir.Scalar(7), ir.Scalar(9))))
    assert lst.data["l"].values.tolist() == [5, 7, 9]


def test_histogram_constructor_evaluates_per_bucket(s2):
    cube, src = s2
    band = ir.Subset(ir.Field(S2, "B02"), (ir.AxisSubset("ansi", at=ir.Scalar("2021-04-15")),))
    b = ir.IteratorVar("b")
    lower = ir.Binary("*", b, ir.Scalar(1000))
    upper = ir.Binary("*", ir.Binary("+", b, ir.Scalar(1)), ir.Scalar(1000))
    cond = ir.Binary("and", ir.Binary(">=", band, lower), ir.Binary("<", band, upper))
    h = ev(cube, ir.CoverageConstructor("h", (ir.AxisIterator("b", "bucket", ir.Scalar(0), ir.Scalar(3)),), values=ir.Aggregate("count", cond)))
    data = src[0, B02]
    want = [int(((data >= k * 1000) & (data < (k + 1) * 1000)).sum()) for k in range(4)]
    assert h.data["h"].values.tolist() == want


def test_user_defined_function(s2):
    cube, src = s2

    @register("test")
    def scaled(x, factor):
        return x.astype("float64") * factor

    band = ir.Subset(ir.Field(S2, "B08"), (ir.AxisSubset("ansi", at=ir.Scalar("2021-05-01")),))
    got = ev(cube, ir.FunctionCall("test", "scaled", (band, ir.Scalar(0.5))))
    assert np.allclose(got.data["B08"].values, src[1, B08] * 0.5)
    with pytest.raises(WcpsError, match="test.scaled"):
        ev(cube, ir.FunctionCall("test", "scalde", (band,)))
