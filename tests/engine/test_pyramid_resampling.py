"""scale (every method) and crsTransform read the coarsest pyramid level that has enough cells.

Expected values: rasterio resampling the full-resolution source array onto the same
target grid (independent of the engine); the level actually read is observed by spying
on the tile store's reads."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio.warp
from affine import Affine
from rasterio.enums import Resampling

import petacube
from petacube.engine import ir
from petacube.engine.evaluate import Evaluator
from petacube.model import Band, Coverage, Crs, NilValue, RegularAxis

NY, NX, X0, Y0, RES = 256, 320, 500000.0, 5000000.0, 10.0
LEVELS = ((2, 2), (4, 4), (8, 8))


@pytest.fixture(scope="module")
def pcube(tmp_path_factory):
    crs = Crs.parse("EPSG/0/32633")
    ax = {a.label: a for a in crs.axes}
    axes = (RegularAxis("N", ax["N"], Y0 - RES * NY, -RES, NY), RegularAxis("E", ax["E"], X0, RES, NX))
    cov = Coverage("PYR", crs, axes, (Band("B", "float32", (NilValue(-1),)),), tile_shape=(64, 64), pyramid=LEVELS)
    y, x = np.mgrid[0:NY, 0:NX]
    data = (1000 + 400 * np.sin(x / 45.0) * np.cos(y / 35.0) + 0.5 * x).astype("float32")
    cube = petacube.open(tmp_path_factory.mktemp("pyr") / "home")
    with cube.store.transaction("pyramid test") as tx:
        tx.ensure_coverage(cov)
        tx.write_bands(cov, (slice(0, NY), slice(0, NX)), {"B": data})
        tx.update_pyramid(cov, (slice(0, NY), slice(0, NX)))
    cube.catalog.commit(cov)
    return cube, data


def levels_read(cube, monkeypatch) -> list[int]:
    levels: list[int] = []
    real = cube.store.read

    def spy(cov, band, region, level=0):
        out = real(cov, band, region, level=level)
        if out.size:  # dask probes with empty selections
            levels.append(level)
        return out

    monkeypatch.setattr(cube.store, "read", spy)
    return levels


def num(v):
    return ir.Scalar(v)


def compute(cube, expr):
    return Evaluator(cube).eval(expr).data["B"].values


def reference(data, src_t, dst_t, shape, method, dst_crs="EPSG:32633"):
    out = np.full(shape, -1, dtype="float32")
    rasterio.warp.reproject(data, out, src_transform=src_t, src_crs="EPSG:32633", src_nodata=-1,
                            dst_transform=dst_t, dst_crs=dst_crs, dst_nodata=-1, resampling=Resampling[method])
    return out


SRC_T = Affine(RES, 0, X0, 0, -RES, Y0)


@pytest.mark.parametrize("method,size,level", [
    ("bilinear", (32, 40), 3), ("average", (32, 40), 3), ("cubic", (50, 60), 2), ("mode", (128, 160), 1),
    ("bilinear", (200, 250), 0),
])
def test_scale_any_method_reads_the_coarsest_sufficient_level(pcube, monkeypatch, method, size, level):
    cube, data = pcube
    levels = levels_read(cube, monkeypatch)
    expr = ir.Scale(ir.CoverageRef("PYR"), sizes=(("N", num(size[0])), ("E", num(size[1]))), method=method)
    got = compute(cube, expr)
    assert set(levels) == {level}
    dst_t = Affine(RES * NX / size[1], 0, X0, 0, -RES * NY / size[0], Y0)
    want = reference(data, SRC_T, dst_t, size, method)
    assert got.shape == size
    assert np.max(np.abs(got - want)) < 10  # values span ~1400: within 0.7 %


def test_scale_of_a_window_reads_the_level_cells_of_the_window(pcube, monkeypatch):
    cube, data = pcube
    levels = levels_read(cube, monkeypatch)
    # E 500640:501920 -> cols 64..191, N 4998080:4999360 -> rows 64..191 (128 x 128 cells)
    window = ir.Subset(ir.CoverageRef("PYR"), (
        ir.AxisSubset("E", lo=num(500640), hi=num(501920)), ir.AxisSubset("N", lo=num(4998080), hi=num(4999360))))
    got = compute(cube, ir.Scale(window, sizes=(("N", num(32)), ("E", num(32))), method="average"))
    assert set(levels) == {2}  # 128 / 4 = 32 cells: level 2
    want = data[64:192, 64:192].astype("float64").reshape(32, 4, 32, 4).mean(axis=(1, 3))
    assert np.allclose(got, want, rtol=1e-5)


def test_crs_transform_to_a_coarse_grid_reads_a_level(pcube, monkeypatch):
    cube, data = pcube
    levels = levels_read(cube, monkeypatch)
    src = ir.CoverageRef("PYR")
    lo, la = 15.005, 45.150  # a box inside the coverage, in EPSG:4326
    box = (ir.AxisSubset("Long", lo=num(lo), hi=num(lo + 0.03)), ir.AxisSubset("Lat", lo=num(la - 0.018), hi=num(la)))
    res = (("Long", num(0.0006)), ("Lat", num(0.0004)))  # ~47 m x ~44 m cells: level 2 (40 m)
    l0, b0, r0, t0 = rasterio.warp.transform_bounds("EPSG:32633", "EPSG:4326", X0, Y0 - RES * NY, X0 + RES * NX, Y0)
    assert l0 < lo and lo + 0.03 < r0 and b0 < la - 0.018 and la < t0
    got = compute(cube, ir.CrsTransform(src, "EPSG:4326", method="bilinear", resolutions=res, bbox=box))
    assert set(levels) == {2}
    dst_t = Affine(0.0006, 0, lo, 0, -0.0004, la)
    want = reference(data, SRC_T, dst_t, got.shape, "bilinear", "EPSG:4326")
    inside = (want != -1) & (got != -1)
    assert inside.mean() > 0.9
    assert np.max(np.abs(got - want)[inside]) < 10

    levels.clear()
    compute(cube, ir.CrsTransform(src, "EPSG:4326", method="bilinear"))  # GDAL's default grid: full resolution
    assert set(levels) == {0}


@pytest.mark.parametrize("method", ["near", "bilinear"])
def test_a_pyramid_read_plans_no_full_resolution_read(pcube, method):
    """The server's read guard sees (and counts, and checks resolution rules on) only the level
    read: scale and crsTransform of a band of a stored subset never plan level 0 as well."""
    from petacube.server.read_guard import GuardedCube, ReadGuard

    cube, data = pcube
    guard = ReadGuard(lambda cov_id: [])
    window = ir.Subset(ir.CoverageRef("PYR"), (ir.AxisSubset("E", lo=num(X0), hi=num(X0 + RES * NX)),))
    scaled = ir.Field(ir.Scale(window, sizes=(("N", num(32)), ("E", num(40))), method=method), "B")
    got = Evaluator(GuardedCube(cube, guard)).eval(scaled).data["B"].values
    assert got.shape == (32, 40)
    assert guard.cells == 32 * 40  # level 3 (8×8 blocks): 256/8 × 320/8 cells, one band
    guard = ReadGuard(lambda cov_id: [])
    to_ll = ir.CrsTransform(ir.Field(window, "B"), "EPSG:4326", method=method,
                            resolutions=(("Lat", num(0.005)), ("Long", num(0.005))))
    Evaluator(GuardedCube(cube, guard)).eval(to_ll).data["B"].values
    assert 0 < guard.cells < data.size / 4  # a coarse level, not the 256 × 320 cells
