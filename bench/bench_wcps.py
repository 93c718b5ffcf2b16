"""WCPS engine benchmark, ratios against baselines measured in the same run.

1. Mean NDVI over 24 dates of a 2048×2048 window of a 24×4096×4096 two-band uint16 cube:
   petacube (the engine: pushed-down lazy reads + fused dask graph) vs xarray+dask opening
   the same Zarr arrays (target ≥ 2× faster) and vs a numpy loop reading the same tiles
   with zarr-python (target ≥ 1×). Peak resident memory is sampled during each.
2. count() over a small trim on a 1 GB and on a 50 GB (logical) coverage: the latency must
   not depend on the coverage size (target: within 20 %).
3. Memory: avg over a ~100 GB (logical) coverage whose tiles are mostly unwritten (a
   2048² window of data per date): peak resident memory (target < 2 GB), and the peak of
   the dense NDVI query of section 1 for comparison.
4. Pyramids: a 256×256 bilinear scale of the whole extent of a 100 000² coverage (pyramid
   levels 2..256) vs of a 2560² window: time ratio (target ≤ 2×).

Run: ``.venv/bin/python bench/bench_wcps.py``.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import xarray as xr
import zarr

sys.path.insert(0, str(Path(__file__).parent))

import petacube  # noqa: E402
from petacube.engine import ir  # noqa: E402
from petacube.engine.run import run_query  # noqa: E402
from petacube.model import Band, Coverage, Crs, IrregularAxis, NilValue, RegularAxis  # noqa: E402

SIZE, DATES, WINDOW, TILE = 4096, 24, 2048, 1024
ROUNDS = 3


class PeakRss:
    """Samples this process's resident memory every few milliseconds."""

    def __enter__(self):
        self.peak, self._stop = 0, False
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()
        return self

    def _run(self):
        page = os.sysconf("SC_PAGE_SIZE")
        while not self._stop:
            with open("/proc/self/statm") as f:
                self.peak = max(self.peak, int(f.read().split()[1]) * page)
            time.sleep(0.005)

    def __exit__(self, *exc):
        self._stop = True
        self._t.join()


def cube_coverage(cov_id: str, size: int, dates: int) -> Coverage:
    crs = Crs.parse("OGC/0/AnsiDate@EPSG/0/32633")
    ax = {a.label: a for a in crs.axes}
    axes = (
        IrregularAxis("ansi", ax["ansi"], tuple(153000.0 + 5 * i for i in range(dates))),
        RegularAxis("N", ax["N"], 5000000.0 - 10 * size, -10.0, size),
        RegularAxis("E", ax["E"], 500000.0, 10.0, size),
    )
    bands = tuple(Band(b, "uint16", (NilValue(0),)) for b in ("B04", "B08"))
    return Coverage(cov_id, crs, axes, bands, tile_shape=(1, TILE, TILE))


def fill(cube, cov: Coverage, window: int) -> None:
    """Write realistic data into the first ``window``² cells of every date (the rest stays unwritten)."""
    rng = np.random.default_rng(1)
    y, x = np.ogrid[0:window, 0:window]
    with cube.store.transaction(f"bench {cov.id}") as tx:
        tx.ensure_coverage(cov)
        for t in range(cov.axes[0].size):
            red = (1500 + 600 * np.sin(x / 300 + t) * np.cos(y / 200) + rng.normal(0, 30, (window, window))).astype("uint16")
            nir = (3000 + 1500 * np.cos(x / 250 - t) * np.sin(y / 350) + rng.normal(0, 30, (window, window))).astype("uint16")
            region = (slice(t, t + 1), slice(0, window), slice(0, window))
            tx.write_bands(cov, region, {"B04": red[None], "B08": nir[None]})
    cube.catalog.commit(cov)


def ndvi_query(cov_id: str):
    s = ir.Subset(ir.CoverageRef(cov_id), (
        ir.AxisSubset("E", lo=ir.Scalar(500000), hi=ir.Scalar(500000 + 10 * WINDOW)),
        ir.AxisSubset("N", lo=ir.Scalar(5000000 - 10 * WINDOW), hi=ir.Scalar(5000000)),
    ))
    nir, red = ir.Field(s, "B08"), ir.Field(s, "B04")
    nir_f, red_f = ir.Cast("float", nir), ir.Cast("float", red)
    return ir.Query((ir.Aggregate("avg", ir.Binary("/", ir.Binary("-", nir_f, red_f), ir.Binary("+", nir_f, red_f))),))


def timed(fn):
    best, out, peak = float("inf"), None, 0
    for _ in range(ROUNDS):
        with PeakRss() as rss:
            t0 = time.perf_counter()
            out = fn()
            best = min(best, time.perf_counter() - t0)
        peak = max(peak, rss.peak)
    return best, out, peak


def memory_section(cube) -> None:
    """avg over ~100 GB of logical cells, most of them in unwritten tiles."""
    huge = cube_coverage("HUGE", 46341, DATES)  # 24 × 46341² × 2 bands × 2 B ≈ 206 GB; B08 alone ≈ 103 GB
    fill(cube, huge, WINDOW)
    query = ir.Query((ir.Aggregate("avg", ir.Field(ir.CoverageRef("HUGE"), "B08")),))
    with PeakRss() as rss:
        t0 = time.perf_counter()
        got = run_query(query, cube)[0].value
        took = time.perf_counter() - t0
    logical = int(np.prod(huge.shape)) * 2
    stored = DATES * WINDOW * WINDOW * 2
    print(f"avg over {logical / 1e9:.0f} GB logical ({stored / 1e9:.2f} GB in written tiles): {took:.1f} s, "
          f"peak RSS {rss.peak / 2**20:.0f} MiB (target < 2048 MiB); value {got:.2f}")


def pyramid_section(cube) -> None:
    """256×256 overview of a 100 000² coverage vs of a small window (both from pyramid levels)."""
    crs = Crs.parse("EPSG/0/32633")
    ax = {a.label: a for a in crs.axes}
    n = 100_000
    cov = Coverage("WIDE", crs, (RegularAxis("N", ax["N"], 5000000.0 - 10 * n, -10.0, n),
                                 RegularAxis("E", ax["E"], 500000.0, 10.0, n)),
                   (Band("B", "uint16", (NilValue(0),)),), tile_shape=(512, 512),
                   pyramid=tuple((2 ** k, 2 ** k) for k in range(1, 9)))
    rng = np.random.default_rng(2)
    with cube.store.transaction("bench WIDE") as tx:
        tx.ensure_coverage(cov)
        y, x = np.ogrid[0:4096, 0:4096]
        data = (2000 + 800 * np.sin(x / 200) * np.cos(y / 150) + rng.normal(0, 20, (4096, 4096))).astype("uint16")
        tx.write_bands(cov, (slice(0, 4096), slice(0, 4096)), {"B": data})
        tx.update_pyramid(cov, (slice(0, 4096), slice(0, 4096)))
    cube.catalog.commit(cov)

    def overview(window: int | None):
        src = ir.CoverageRef("WIDE")
        if window:
            src = ir.Subset(src, (ir.AxisSubset("E", lo=ir.Scalar(500000), hi=ir.Scalar(500000 + 10 * window)),
                                  ir.AxisSubset("N", lo=ir.Scalar(5000000 - 10 * window), hi=ir.Scalar(5000000))))
        scaled = ir.Scale(src, sizes=(("N", ir.Scalar(256)), ("E", ir.Scalar(256))), method="bilinear")
        return lambda: run_query(ir.Query((ir.Encode(scaled, "image/png"),)), cube)[0].data

    tw, _, _ = timed(overview(2560))
    tf, _, mf = timed(overview(None))
    print(f"256×256 bilinear scale: 2560² window {tw * 1000:.0f} ms, whole 100000² extent {tf * 1000:.0f} ms "
          f"(peak {mf / 2**20:.0f} MiB): ratio {tf / tw:.2f} (target ≤ 2)")


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="petacube-bench-wcps-"))
    try:
        cube = petacube.open(work / "home")
        cov = cube_coverage("NDVI_BENCH", SIZE, DATES)
        print(f"{os.cpu_count()} cores; writing {DATES}×{SIZE}×{SIZE}×2 uint16 (data in a {WINDOW}² window) ...", flush=True)
        fill(cube, cov, WINDOW)
        # the window is the north-west corner: storage row 0 is the north edge (N is north-up)
        store = cube.store.repository.readonly_session("main").store
        group = zarr.open_group(store=store, path="coverages/NDVI_BENCH", mode="r")
        rows = slice(0, WINDOW)
        cols = slice(0, WINDOW)

        def engine():
            return run_query(ndvi_query("NDVI_BENCH"), cube)[0].value

        def xarray_dask():
            ds = xr.open_zarr(store, group="coverages/NDVI_BENCH", consolidated=False, chunks={})
            nir = ds["B08"][:, rows, cols].astype("float32")
            red = ds["B04"][:, rows, cols].astype("float32")
            valid = (ds["B08"][:, rows, cols] != 0) & (ds["B04"][:, rows, cols] != 0)
            return float(((nir - red) / (nir + red)).where(valid).mean().compute())

        def numpy_loop():
            total, n = 0.0, 0
            for t in range(DATES):
                nir = group["B08"][t, rows, cols].astype("float32")
                red = group["B04"][t, rows, cols].astype("float32")
                ok = (nir != 0) & (red != 0)
                v = (nir[ok] - red[ok]) / (nir[ok] + red[ok])
                total += float(v.sum(dtype="float64"))
                n += v.size
            return total / n

        te, ve, me = timed(engine)
        tx, vx, mx = timed(xarray_dask)
        tn, vn, mn = timed(numpy_loop)
        assert abs(ve - vn) < 1e-4 and abs(vx - vn) < 1e-4, (ve, vx, vn)
        print(f"mean NDVI, 24 dates × {WINDOW}²: petacube {te:.2f} s (peak RSS {me / 2**20:.0f} MiB)")
        print(f"  xarray+dask on the Zarr store {tx:.2f} s (peak {mx / 2**20:.0f} MiB): petacube is {tx / te:.2f}× faster (target ≥ 2)")
        print(f"  numpy loop over the same tiles {tn:.2f} s (peak {mn / 2**20:.0f} MiB): petacube is {tn / te:.2f}× faster (target ≥ 1)")

        # latency of a small trim on a 1 GB and a 50 GB (logical) coverage
        small = cube_coverage("SMALL", 4096, 16)   # 16 × 4096² × 2 bands × 2 B ≈ 1.07 GB
        big = cube_coverage("BIG", 28672, 16)      # ≈ 52.6 GB
        for c in (small, big):
            fill(cube, c, 1024)

        def count(cov_id, size):
            lo_n = 5000000 - 640  # a 64×64 trim in the north-west corner, where the data are
            sub = ir.Subset(ir.Field(ir.CoverageRef(cov_id), "B08"), (
                ir.AxisSubset("E", lo=ir.Scalar(500000), hi=ir.Scalar(500640)),
                ir.AxisSubset("N", lo=ir.Scalar(lo_n), hi=ir.Scalar(lo_n + 640)),
                ir.AxisSubset("ansi", at=ir.Scalar(153005.0), crs=None),
            ))
            return lambda: run_query(ir.Query((ir.Aggregate("count", ir.Binary(">", sub, ir.Scalar(2000))),)), cube)[0].value

        ts, vs, _ = timed(count("SMALL", 4096))
        tb, vb, _ = timed(count("BIG", 28672))
        gb = lambda c: int(np.prod(c.shape)) * 4 / 1e9  # noqa: E731
        print(f"count over a 64×64 trim: {gb(small):.1f} GB coverage {ts * 1000:.1f} ms, {gb(big):.1f} GB coverage "
              f"{tb * 1000:.1f} ms, ratio {tb / ts:.2f} (target within 1.2)")
        memory_section(cube)
        pyramid_section(cube)
        cube.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
