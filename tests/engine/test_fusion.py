"""Fused cell-wise kernels and fused condensers.

Cell values must be bit-identical to the plain xarray evaluation (``Evaluator(fuse=False)``,
the semantics every other engine test checks against numpy); condensers are checked
against numpy on the source arrays. The cube has several tiles per plane, a missing tile
(read as fill), a float band with NaN nulls, an int16 band with an interval null."""

from __future__ import annotations

import numpy as np
import pytest

import petacube
from petacube.engine.evaluate import Evaluator
from petacube.engine.run import run_query
from petacube.model import Band, Coverage, Crs, IrregularAxis, NilValue, RegularAxis
from petacube.wcps import parse_wcps

T, NY, NX, TILE = 3, 40, 48, 16


@pytest.fixture(scope="module")
def fcube(tmp_path_factory):
    crs = Crs.parse("OGC/0/AnsiDate@EPSG/0/32633")
    ax = {a.label: a for a in crs.axes}
    axes = (
        IrregularAxis("ansi", ax["ansi"], tuple(153000.0 + 5 * i for i in range(T))),
        RegularAxis("N", ax["N"], 5000000.0 - 10 * NY, -10.0, NY),
        RegularAxis("E", ax["E"], 500000.0, 10.0, NX),
    )
    bands = (
        Band("R", "uint16", (NilValue(0),)),
        Band("I", "uint16", (NilValue(0),)),
        Band("F", "float32", (NilValue(float("nan")),)),
        Band("S", "int16", (NilValue(-9999, -9000),)),
    )
    cov = Coverage("FUSE", crs, axes, bands, tile_shape=(1, TILE, TILE))
    rng = np.random.default_rng(3)
    src = {
        "R": rng.integers(0, 50, size=(T, NY, NX)).astype("uint16"),
        "I": rng.integers(0, 60, size=(T, NY, NX)).astype("uint16"),
        "F": rng.normal(0, 10, size=(T, NY, NX)).astype("float32"),
        "S": rng.integers(-9999, 300, size=(T, NY, NX)).astype("int16"),
    }
    src["F"][rng.random((T, NY, NX)) < 0.1] = np.nan
    src["R"][src["I"] == src["R"]] = 0  # equal values also make NDVI's numerator 0 (null downstream)
    cube = petacube.open(tmp_path_factory.mktemp("fuse") / "home")
    with cube.store.transaction("fusion test") as tx:
        tx.ensure_coverage(cov)
        # leave the tile rows 32..39 x cols 32..47 of date 2 unwritten: read as fill (null)
        tx.write_bands(cov, (slice(0, T - 1), slice(0, NY), slice(0, NX)), {k: v[:T - 1] for k, v in src.items()})
        tx.write_bands(cov, (slice(T - 1, T), slice(0, 32), slice(0, NX)), {k: v[T - 1:, :32] for k, v in src.items()})
        tx.write_bands(cov, (slice(T - 1, T), slice(32, NY), slice(0, 32)), {k: v[T - 1:, 32:, :32] for k, v in src.items()})
    cube.catalog.commit(cov)
    for name, b in zip(src, bands):  # what the cube holds where the tile is missing: the fill value
        src[name][T - 1, 32:, 32:] = b.fill_value
    return cube, src


CELLWISE = [
    "(float)$c.I - (float)$c.R",
    "((float)$c.I - $c.R) / ((float)$c.I + $c.R)",
    "$c.I - $c.R",
    "$c.I * 2 + 1",
    "3 - $c.I",
    "$c.I / $c.R",
    "sqrt($c.F) + abs($c.S)",
    "(unsigned char)$c.I",
    "(short)$c.F",
    "$c.S + $c.I",
    "$c.F * $c.I - 2.5",
    "$c.I > $c.R and not ($c.R = 5)",
    "$c.F is null",
    "$c.S is not null",
    "max($c.I, $c.R) - min($c.I, $c.R)",
    "pow($c.F, 2) + exp($c.F / 100)",
    "switch case $c.I > 30 return $c.R case $c.I > 10 return 7 default return $c.I * 3",
    "switch case $c.F > 0 return {red: 255; green: 0; blue: 0} default return {red: 0; green: 0; blue: 255}",
    "$c.R overlay $c.I",
    "bit($c.I, 2)",
    "(-$c.S) mod 7",
    "round($c.F) + ceil($c.F * 0.1)",
]


def _cells(cube, expr: str, fuse: bool):
    query = parse_wcps(f"for $c in (FUSE) return encode({expr}, \"nc\")")
    value = Evaluator(cube, fuse=fuse).eval(query.results[0].source)
    return value


@pytest.mark.parametrize("expr", CELLWISE)
def test_fused_cells_are_bit_identical_to_xarray(fcube, expr):
    cube, _ = fcube
    fused, plain = _cells(cube, expr, True), _cells(cube, expr, False)
    assert fused.band_names == plain.band_names
    for name in plain.band_names:
        a, b = fused.data[name], plain.data[name]
        assert a.dims == b.dims and a.dtype == b.dtype and repr(a.attrs) == repr(b.attrs)
        assert str(a.data.name).startswith("petacube-fused-"), "the chain was not fused"
        np.testing.assert_array_equal(a.values, b.values, strict=True)
        # the fused graph holds only the tile reads and one kernel task per block
        layers = list(a.data.dask.layers)
        assert sum("FUSE-" not in n for n in layers) == 1, layers


def _valid(src, name):
    a = src[name]
    if name == "F":
        return ~np.isnan(a)
    if name == "S":
        return ~((a >= -9999) & (a <= -9000))
    return a != 0


def _value(cube, text):
    return run_query(parse_wcps(f"for $c in (FUSE) return {text}"), cube)[0].value


def test_fused_condensers_match_numpy(fcube):
    cube, src = fcube
    for name in ("I", "F", "S"):
        a, ok = src[name].astype("float64"), _valid(src, name)
        assert _value(cube, f"avg($c.{name})") == pytest.approx(a[ok].mean(), rel=1e-6)
        assert _value(cube, f"max($c.{name})") == pytest.approx(a[ok].max())
        assert _value(cube, f"min($c.{name})") == pytest.approx(a[ok].min())
        assert _value(cube, f"count($c.{name} > 3)") == int(np.count_nonzero((src[name] > 3) & ok))
    assert _value(cube, "sum($c.I)") == int(src["I"][src["I"] != 0].sum(dtype="int64"))
    assert _value(cube, "add($c.S)") == int(src["S"][_valid(src, "S")].sum(dtype="int64"))
    assert _value(cube, "some($c.I > 58)") is bool(np.any((src["I"] > 58) & (src["I"] != 0)))
    assert _value(cube, "all($c.I < 59)") is bool(np.all((src["I"] < 59) | (src["I"] == 0)))
    assert _value(cube, "all($c.I < 30)") is False


def test_fused_ndvi_mean_follows_value_based_nulls(fcube):
    """rasql: a difference of 0 takes the null value 0, so it is null for the division too."""
    cube, src = fcube
    i, r = src["I"].astype("float32"), src["R"].astype("float32")
    ok = (i != 0) & (r != 0)
    d, s = np.where(ok, i - r, 0), np.where(ok, i + r, 0)
    ok2 = (d != 0) & (s != 0)
    with np.errstate(all="ignore"):
        q = np.where(ok2, d / s, 0)
    got = _value(cube, "avg(((float)$c.I - (float)$c.R) / ((float)$c.I + (float)$c.R))")
    assert got == pytest.approx(q[q != 0].astype("float64").mean(), rel=1e-6)
    plain = Evaluator(cube, fuse=False).eval(
        parse_wcps("for $c in (FUSE) return avg(((float)$c.I - (float)$c.R) / ((float)$c.I + (float)$c.R))").results[0])
    assert got == pytest.approx(float(plain.compute()), rel=1e-6)


def test_fused_condenser_graph_has_no_intermediate_arrays(fcube):
    cube, _ = fcube
    q = parse_wcps("for $c in (FUSE) return avg(((float)$c.I - $c.R) / ((float)$c.I + $c.R))")
    value = Evaluator(cube).eval(q.results[0])
    layers = [n for n in value.data.dask.layers if "FUSE-" not in n]
    assert [n.split("-")[1] for n in layers] == ["partial", "condense"] or \
        sorted(n.split("-")[1] for n in layers) == ["condense", "partial"], layers


def test_condense_of_missing_tiles_only(fcube):
    """Over the missing tile every cell is the fill value, i.e. null: count 0, avg NaN."""
    cube, src = fcube
    trim = 'ansi:"CRS:1"(2:2), N:"CRS:1"(32:39), E:"CRS:1"(32:47)'
    assert _value(cube, f"count($c[{trim}].I)") == 0
    assert np.isnan(_value(cube, f"avg($c[{trim}].F)"))
    wider = 'ansi:"CRS:1"(2:2), N:"CRS:1"(24:39), E:"CRS:1"(16:47)'
    part = src["I"][2, 24:40, 16:48]
    assert _value(cube, f"count($c[{wider}].I)") == int(np.count_nonzero(part))
    assert _value(cube, f"avg($c[{wider}].I)") == pytest.approx(part[part != 0].mean())


def test_missing_tiles_read_as_a_constant(fcube):
    """A block without any stored tile is a read-only broadcast of the fill value (unless
    asked not to be); computed results are ordinary arrays."""
    cube, _ = fcube
    cov = cube.describe("FUSE")
    region = cube.region(cov)
    from dataclasses import replace

    from petacube.datacube import GridRegion

    axes = (cov.axes[0].subset(2, 2), cov.axes[1].subset(32, 39), cov.axes[2].subset(32, 47))
    sub = GridRegion(replace(region.coverage, axes=axes), (), frozenset())

    def block_kind(arr):  # what a task consuming the read's block sees
        def kind(b):
            out = np.empty((1,) * b.ndim, dtype=object)
            out[(0,) * b.ndim] = (b.strides == (0,) * b.ndim, b.flags.writeable, int(b.max()))
            return out

        return arr.map_blocks(kind, chunks=tuple((1,) * len(c) for c in arr.chunks), dtype=object).compute().ravel().tolist()

    assert block_kind(cube.lazy(sub, ["I"])["I"].data) == [(True, False, 0)]
    assert block_kind(cube.lazy(sub, ["I"], missing_as_constant=False)["I"].data) == [(False, True, 0)]
    values = cube.lazy(sub, ["I"])["I"].values
    assert values.shape == (1, 8, 16) and values.flags.writeable
    # a region with some stored tiles is an ordinary array
    axes = (cov.axes[0].subset(2, 2), cov.axes[1].subset(24, 39), cov.axes[2].subset(16, 47))
    mixed = cube.lazy(GridRegion(replace(region.coverage, axes=axes), (), frozenset()), ["I"])
    assert {k[:2] for k in block_kind(mixed["I"].data)} == {(False, True)}


def test_encoding_a_missing_tile_works(fcube):
    cube, _ = fcube
    q = parse_wcps('for $c in (FUSE) return encode($c[ansi:"CRS:1"(2:2), N:"CRS:1"(32:39), E:"CRS:1"(32:47)].I, "image/tiff")')
    [res] = run_query(q, cube)
    assert res.data[:2] in (b"II", b"MM")
