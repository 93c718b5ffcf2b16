"""Foundation benchmark: ingest, registration and region reads, as ratios against
baselines measured in the same run (the machines are shared and noisy).

* ingest: seconds per 4096×4096×4-band uint16 scene for `petacube import`
  (time_series_irregular) vs reading the same GeoTIFF with rasterio and writing it with
  plain zarr-python (same 1×512×512 chunks, same zstd level). Target ≤ 1.2×.
* register: seconds per scene for the same import with ``insitu: true``. Target ≤ 0.05 s.
* region read: see bench_storage_read.py (2048×2048×24 dates vs raw zstd decode of the
  same tiles). Target ≥ 0.6.

Run: ``make bench`` (or ``.venv/bin/python bench/bench_foundation.py [--scenes N]``).
"""

from __future__ import annotations

import argparse
import os
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import rasterio
import zarr
from rasterio.transform import from_origin
from zarr.codecs import ZstdCodec

sys.path.insert(0, str(Path(__file__).parent))

SIZE = 4096
BANDS = ["B02", "B03", "B04", "B08"]


def make_scene(path: Path, seed: int) -> None:
    """Noisy smooth fields, compressed like a typical delivered GeoTIFF."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype("float32") / SIZE
    base = 2000 + 1500 * np.sin(7 * xx + seed) * np.cos(5 * yy)
    profile = dict(driver="GTiff", width=SIZE, height=SIZE, count=4, dtype="uint16", crs="EPSG:32633",
                   transform=from_origin(500000, 5000000, 10, 10), nodata=0, tiled=True, blockxsize=512,
                   blockysize=512, compress="deflate", predictor=2, zlevel=1)
    with rasterio.open(path, "w", **profile) as dst:
        for i in range(4):
            band = base * (0.6 + 0.2 * i) + rng.normal(0, 60, (SIZE, SIZE)).astype("float32")
            dst.write(np.clip(band, 1, 10000).astype("uint16"), i + 1)


def baseline_scene(path: Path, root: Path, t: int, n: int) -> float:
    """rasterio read + plain zarr-python write of one scene (the reference)."""
    start = time.perf_counter()
    with rasterio.open(path) as src:
        data = src.read()
    group = zarr.open_group(str(root), mode="a")
    for i, name in enumerate(BANDS):
        if name in group:
            arr = group[name]
        else:
            arr = group.create_array(name, shape=(n, SIZE, SIZE), chunks=(1, 512, 512), dtype="uint16",
                                     compressors=ZstdCodec(level=1), fill_value=0)
        arr[t] = data[i]
    return time.perf_counter() - start


def ingredients(folder: Path, cov_id: str, insitu: bool) -> Path:
    ing = {
        "config": {"service_url": "http://localhost:8080/rasdaman/ows", "automated": True, "insitu": insitu},
        "input": {"coverage_id": cov_id, "paths": [str(folder / "scene_*.tif")]},
        "recipe": {"name": "time_series_irregular", "options": {
            "time_parameter": {"filename": {"regex": "scene_(\\d{8})", "group": "1"}, "datetime_format": "YYYYMMDD"},
            "time_crs": "OGC/0/AnsiDate", "tiling": "ALIGNED [0:0, 0:511, 0:511]"}},
    }
    path = folder / f"{cov_id}.json"
    path.write_text(json.dumps(ing))
    return path


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenes", type=int, default=4)
    ap.add_argument("--skip-read", action="store_true", help="do not run the region-read benchmark")
    args = ap.parse_args()
    print(f"{os.cpu_count()} cores")
    import petacube
    from petacube.ingest.importer import run_import

    work = Path(tempfile.mkdtemp(prefix="petacube-bench-"))
    try:
        scenes = work / "scenes"
        scenes.mkdir()
        print(f"generating {args.scenes} scenes of {SIZE}×{SIZE}×4 uint16 ...", flush=True)
        paths = []
        for k in range(args.scenes):
            p = scenes / f"scene_202101{k + 1:02d}.tif"
            make_scene(p, k)
            paths.append(p)

        # interleave baseline and petacube per scene so load changes hit both alike
        cube = petacube.open(work / "home")
        base_times, ingest_times = [], []
        for k, p in enumerate(paths):
            base_times.append(baseline_scene(p, work / "plain.zarr", k, len(paths)))
            single = work / f"one_{k}"
            single.mkdir()
            shutil.copy(p, single / p.name)
            t0 = time.perf_counter()
            run_import(ingredients(single, "BENCH", insitu=False), cube, show_progress=False)
            ingest_times.append(time.perf_counter() - t0)
        base = float(np.median(base_times))
        ing = float(np.median(ingest_times))
        print(f"ingest   petacube {ing:6.2f} s/scene   baseline rasterio+zarr {base:6.2f} s/scene   ratio {ing / base:5.2f}  (target ≤ 1.2)")

        t0 = time.perf_counter()
        run_import(ingredients(scenes, "BENCH_INSITU", insitu=True), cube, show_progress=False)
        reg = (time.perf_counter() - t0) / len(paths)
        print(f"register petacube {reg:6.3f} s/scene   (target ≤ 0.05; includes planning: opening each file's header)")
        # registration must read what ingestion stored
        a = cube.read("BENCH", {"ansi": "2021-01-02", "E": (510000, 515000), "N": (4990000, 4995000)})
        b = cube.read("BENCH_INSITU", {"ansi": "2021-01-02", "E": (510000, 515000), "N": (4990000, 4995000)})
        assert all(np.array_equal(a[n].values, b[n].values) for n in a.data_vars)
        cube.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    if not args.skip_read:
        import bench_storage_read

        for tile in ("1024", "512"):  # the default, then the former default for comparison
            bench_storage_read.main(["--tile", tile])
    return 0


if __name__ == "__main__":
    sys.exit(main())
