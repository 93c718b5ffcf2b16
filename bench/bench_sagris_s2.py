"""SAGRIS S2 pre-processor on one full-size granule against the GDAL command-line tools, same run.

Input: a synthetic L2A granule (10980² at 10 m, real 04.00 metadata and GeoTIFF file layout,
made by tests/sagris/safe_gen.py, unpacked .SAFE). Measured:
  petacube: `process_product` (10/20/60 m band stacks with DN→reflectance, SCL, cloud mask
            with shadow projection and buffer, reprojection to EPSG:3035 of all of them, zips,
            previews) in a child process; wall seconds and the child's peak RSS.
  baseline: the same resampling and writes with gdalbuildvrt + gdal_translate (band stacks,
            SCL at each resolution) and gdalwarp (bilinear stacks, nearest SCL twice standing
            in for SCL + mask) with the same creation options, multi-threaded; no reflectance
            scaling, no mask computation, no zips: a lower bound.
Target: petacube time ≤ 1.3 × baseline; peak memory < 4 GB.

Usage: python bench/bench_sagris_s2.py [--dir DIR] [--size 10980] [--epsg 3035]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "sagris"))

CREATE = ["-co", "TILED=YES", "-co", "BLOCKXSIZE=512", "-co", "BLOCKYSIZE=512", "-co", "COMPRESS=ZSTD",
          "-co", "ZSTD_LEVEL=1", "-co", "PREDICTOR=2", "-co", "NUM_THREADS=ALL_CPUS", "-co", "BIGTIFF=IF_SAFER"]
BANDS = {10: ["B02", "B03", "B04", "B08"], 20: ["B02", "B03", "B04", "B05", "B06", "B07", "B8A", "B11", "B12"],
         60: ["B01", "B02", "B03", "B04", "B05", "B06", "B07", "B8A", "B09", "B11", "B12"]}

CHILD = """
import sys, time, resource
from pathlib import Path
from petacube.sagris.s2.pipeline import S2Options, process_product
t0 = time.perf_counter()
outs = process_product(Path(sys.argv[1]), Path(sys.argv[2]), S2Options(epsg=int(sys.argv[3])))
print(time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, len(outs))
"""


def gdal_baseline(safe: Path, work: Path, epsg: int) -> float:
    granule = next(safe.glob("GRANULE/*"))
    t0 = time.perf_counter()
    for res, bands in BANDS.items():
        files = [str(next(granule.glob(f"IMG_DATA/R{res}m/*_{b}_{res}m.tif"))) for b in bands]
        vrt = work / f"stack{res}.vrt"
        subprocess.run(["gdalbuildvrt", "-q", "-separate", str(vrt), *files], check=True)
        stack = work / f"stack{res}.tif"
        subprocess.run(["gdal_translate", "-q", "-a_nodata", "0", *CREATE, str(vrt), str(stack)], check=True)
        scl_src = next(granule.glob("IMG_DATA/R20m/*_SCL_20m.tif"))
        scl = work / f"scl{res}.tif"
        subprocess.run(["gdalwarp", "-q", "-overwrite", "-tr", str(res), str(res), "-r", "near", "-multi",
                        "-wo", "NUM_THREADS=ALL_CPUS", *CREATE, str(scl_src), str(scl)], check=True)
        subprocess.run(["gdalwarp", "-q", "-overwrite", "-t_srs", f"EPSG:{epsg}", "-tr", str(res), str(res), "-tap",
                        "-r", "bilinear", "-srcnodata", "0", "-dstnodata", "0", "-multi", "-wo", "NUM_THREADS=ALL_CPUS",
                        "-wm", "256", *CREATE, str(stack), str(work / f"stack{res}_p.tif")], check=True)
        for k in ("scl", "mask"):
            subprocess.run(["gdalwarp", "-q", "-overwrite", "-t_srs", f"EPSG:{epsg}", "-tr", str(res), str(res), "-tap",
                            "-r", "near", "-multi", "-wo", "NUM_THREADS=ALL_CPUS", "-wm", "256", *CREATE, str(scl),
                            str(work / f"{k}{res}_p.tif")], check=True)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", type=Path)
    ap.add_argument("--size", type=int, default=10980)
    ap.add_argument("--epsg", type=int, default=3035)
    args = ap.parse_args()
    if not shutil.which("gdalwarp"):
        sys.exit("gdalwarp not found: bash scripts/ensure-debian-packages.sh gdal-bin")
    from safe_gen import L2A_0400, make_safe

    base = Path(tempfile.mkdtemp(prefix="bench-sagris-", dir=args.dir))
    try:
        t0 = time.perf_counter()
        safe = make_safe(base / "in", L2A_0400, size10=args.size, as_zip=False)
        print(f"generated {safe.name} ({args.size}² at 10 m) in {time.perf_counter() - t0:.0f} s", flush=True)
        (base / "ours").mkdir()
        out = subprocess.run([sys.executable, "-c", CHILD, str(safe), str(base / "ours"), str(args.epsg)],
                             check=True, capture_output=True, text=True).stdout.split()
        ours, peak_kb, n = float(out[0]), int(out[1]), int(out[2])
        (base / "gdal").mkdir()
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        gdal = gdal_baseline(safe, base / "gdal", args.epsg)
        gdal_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        print(f"petacube sagris s2: {ours:.1f} s, peak RSS {peak_kb / 1024:.0f} MB, {n} output files")
        print(f"GDAL CLI baseline : {gdal:.1f} s (largest child RSS so far {max(before, gdal_peak) / 1024:.0f} MB)")
        print(f"ratio petacube / GDAL = {ours / gdal:.2f} (target <= 1.3); peak < 4 GB: {peak_kb < 4 * 1024 * 1024}")
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
