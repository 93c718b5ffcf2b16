"""WMS server benchmark: petacube against MapServer 8 on the same data, in one run.

Data: ``--dates`` (24) dates of ``--size``² (4096²) 4-band uint16 GeoTIFFs (B02, B03, B04,
B08; EPSG:32633, 10 m pixels), made by bench_wcs_server's generator.

- petacube: the files are imported (``time_series_irregular``, 1×512×512 chunks, pyramid
  levels 2, 4, … down to about 256 pixels, ``wms_import``) and get a true-colour style
  (B04/B03/B02 clamped to 0..``--scale-max`` (6000) and scaled to 0..255 as unsigned char); served by
  ``petacube serve --workers 2`` with the GetMap response cache off (MapServer has none).
- MapServer 8 (Debian ``cgi-mapserver``): the same GeoTIFFs converted to COGs (deflate,
  512² blocks, AVERAGE overviews like petacube's block-mean pyramids) behind a shapefile
  tile index with a ``date`` attribute; one WMS layer with ``wms_timeitem`` and
  ``PROCESSING "BANDS=3,2,1"`` + ``"SCALE=0,<scale-max>"`` for the same true colour; under
  lighttpd as plain CGI and as FastCGI (``--fcgi-procs`` persistent processes).

Load: ``wrk`` in a second process cycles through a list of random 256×256 PNG GetMaps
(EPSG:32633; random dates; random places at 4 zoom levels: the whole 40 960 m extent of
the full cube, then 1/4, 1/16, 1/64 of its width); the same list for every server; 2 and
8 connections, ``--duration`` seconds each. Errors: non-2xx, Content-Type not image/png,
socket failures and time-outs. Before the load one GetMap per zoom level is fetched from
every server and checked (PNG, 256×256, not blank) and the servers' images compared.
Then sequential requests measure the median latency per zoom level (whole extent vs
zoomed in).

Targets (petacube): throughput ≥ 1.5× MapServer's (best mode), p99 ≤ 2× p50, zero
errors; whole-extent median latency ≤ 2× the most zoomed-in one's.

Data, COGs and the petacube import are kept in ``--work`` and reused by a re-run.
Set-up: ``bench/setup_wcs_bench.sh`` (root) installs wrk, cgi-mapserver and lighttpd.
Run: ``.venv/bin/python bench/bench_wms_server.py --work /tmp/wms-bench`` (smoke test:
``--size 1024 --dates 4 --duration 5``); not part of ``make test``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_wcs_server as wcs  # noqa: E402  (data generator, servers, wrk runner)

# The WMS cube has a fourth band; the generator reads the module's band list.
wcs.BANDS = ["B02", "B03", "B04", "B08"]
# wrk counts a 2xx answer that is not a PNG as an error.
wcs.WRK_LUA = wcs.WRK_LUA.replace('string.find(ct, "tiff", 1, true)', 'string.find(ct, "image/png", 1, true)')
assert "image/png" in wcs.WRK_LUA

ORIGIN_E, ORIGIN_N, RES = wcs.ORIGIN_E, wcs.ORIGIN_N, wcs.RES
PX = 256
ZOOMS = [1, 4, 16, 64]  # the bbox is the full cube's width divided by this
FULL_WIDTH = 4096 * RES  # 40 960 m: zoom levels are fixed in metres, whatever --size
STYLE = "truecolor"
# The generator's bands reach about 3800 (B02), 4800 (B03) and 5800 (B04): a 0..6000 range
# keeps the images unsaturated (0..3000 would paint most pixels 255 and make PNGs trivial).
SCALE_MAX = 6000


def style_wcps(scale_max: int) -> str:
    """True colour: clamp to 0..scale_max as MapServer's SCALE does, then map onto 0..255."""
    f = 255 / scale_max
    return "{" + "; ".join(f"{c}: (unsigned char) (($c.{b} min {scale_max}) * {f:.6g})"
                           for c, b in (("red", "B04"), ("green", "B03"), ("blue", "B02"))) + "}"


def bench_dates(n: int) -> list[str]:
    """``n`` dates (YYYYMMDD) 15 days apart from 2021-01-05."""
    start = dt.date(2021, 1, 5)
    return [(start + dt.timedelta(days=15 * k)).strftime("%Y%m%d") for k in range(n)]


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def cached(marker: Path, key: dict) -> bool:
    """True when ``marker`` records a finished step made with the same ``key``."""
    try:
        return json.loads(marker.read_text()) == key
    except (OSError, ValueError):
        return False


# --------------------------------------------------------------------------- data


def make_sources(work: Path, size: int, dates: list[str]) -> list[Path]:
    src = work / "src"
    marker = src / ".done.json"
    key = {"size": size, "dates": dates, "bands": wcs.BANDS}
    if cached(marker, key):
        return [src / f"S2_{d}_bench.tif" for d in dates]
    if src.exists():
        shutil.rmtree(src)
    t = time.monotonic()
    files = wcs.generate(src, size, dates)
    marker.write_text(json.dumps(key))
    print(f"data: {len(dates)} × {size}² × {len(wcs.BANDS)} uint16 GeoTIFFs, "
          f"{sum(f.stat().st_size for f in files) / 2**20:.0f} MiB, {time.monotonic() - t:.1f} s", flush=True)
    return files


def pyramid_levels(size: int) -> list[int]:
    """Factors 2, 4, … while the level is still at least one 256-pixel map wide."""
    levels, f = [], 2
    while size // f >= PX:
        levels.append(f)
        f *= 2
    return levels


def setup_petacube(work: Path, files: list[Path], size: int, scale_max: int) -> Path:
    """Import the GeoTIFFs with pyramids as a WMS layer and add (or update) the true-colour style."""
    import petacube
    from petacube.ingest.importer import run_import

    home = work / "home"
    marker = work / "petacube.done.json"
    key = {"files": [str(f) for f in files], "levels": pyramid_levels(size)}
    if not cached(marker, key):
        if home.exists():
            shutil.rmtree(home)
        (work / "style.done.json").unlink(missing_ok=True)
        ing = {
            "config": {"service_url": "http://localhost:8080/rasdaman/ows", "automated": True},
            "input": {"coverage_id": "S2", "paths": [str(f) for f in files]},
            "recipe": {"name": "time_series_irregular", "options": {
                "time_parameter": {"filename": {"regex": "S2_(\\d{8})_", "group": "1"}, "datetime_format": "YYYYMMDD"},
                "time_crs": "OGC/0/AnsiDate",
                "tiling": "ALIGNED [0:0, 0:511, 0:511]",
                "scale_levels": pyramid_levels(size),
                "wms_import": True}},
        }
        (work / "s2.json").write_text(json.dumps(ing))
        t = time.monotonic()
        with petacube.open(home) as cube:
            run_import(work / "s2.json", cube, show_progress=False)
        marker.write_text(json.dumps(key))
        print(f"petacube import (pyramid levels {pyramid_levels(size)}): {time.monotonic() - t:.1f} s", flush=True)
    style_marker = work / "style.done.json"
    fragment = style_wcps(scale_max)
    if not cached(style_marker, {"wcps": fragment}):
        env = {**os.environ, "PETACUBE_HOME": str(home)}
        env.pop("PETACUBE_CONFIG", None)
        exe = Path(sys.executable).with_name("petacube")
        cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "petacube.cli"]
        verb = "update" if style_marker.exists() else "add"
        subprocess.run(cmd + ["style", verb, "S2", STYLE, "--title", "True colour (B04, B03, B02)",
                              "--wcps", fragment, "--default"], env=env, check=True)
        style_marker.write_text(json.dumps({"wcps": fragment}))
    return home


def make_cogs(work: Path, files: list[Path]) -> list[Path]:
    """The same GeoTIFFs as COGs: deflate, 512² blocks, AVERAGE overviews."""
    cog = work / "cog"
    cog.mkdir(exist_ok=True)
    marker = cog / ".done.json"
    key = {"files": [str(f) for f in files]}
    out = [cog / f.name for f in files]
    if cached(marker, key):
        return out
    t = time.monotonic()
    for f, o in zip(files, out):
        subprocess.run(["gdal_translate", "-q", "-of", "COG", "-co", "COMPRESS=DEFLATE", "-co", "BLOCKSIZE=512",
                        "-co", "RESAMPLING=AVERAGE", "-co", "NUM_THREADS=2", str(f), str(o)], check=True)
    marker.write_text(json.dumps(key))
    print(f"COGs: {sum(o.stat().st_size for o in out) / 2**20:.0f} MiB, {time.monotonic() - t:.1f} s", flush=True)
    return out


def make_tile_index(work: Path, cogs: list[Path], dates: list[str], size: int) -> Path:
    """A shapefile tile index (location, date) built from a WKT CSV by ogr2ogr."""
    e0, n1 = ORIGIN_E, ORIGIN_N
    e1, n0 = ORIGIN_E + RES * size, ORIGIN_N - RES * size
    poly = f"POLYGON (({e0} {n1},{e1} {n1},{e1} {n0},{e0} {n0},{e0} {n1}))"
    csv = work / "tindex.csv"
    csv.write_text("WKT,location,date\n" + "".join(f'"{poly}",{c},{wcs.iso(d)}\n' for c, d in zip(cogs, dates)))
    shp = work / "tindex.shp"
    for old in work.glob("tindex.*"):
        if old.suffix != ".csv":
            old.unlink()
    subprocess.run(["ogr2ogr", "-q", "-f", "ESRI Shapefile", "-a_srs", "EPSG:32633", "-nlt", "POLYGON",
                    str(shp), str(csv)], check=True)
    return shp


def write_mapfile(work: Path, tindex: Path, dates: list[str], size: int, scale_max: int) -> Path:
    ext = " ".join(f"{v:.1f}" for v in (ORIGIN_E, ORIGIN_N - RES * size, ORIGIN_E + RES * size, ORIGIN_N))
    isos = [wcs.iso(d) for d in dates]
    mapfile = work / "wms.map"
    # PNG at zlib level 2 like petacube's default, 24-bit RGB (no palette quantisation).
    mapfile.write_text(f"""MAP
  NAME "wmsbench"
  EXTENT {ext}
  SIZE {PX} {PX}
  MAXSIZE 4096
  PROJECTION "init=epsg:32633" END
  OUTPUTFORMAT
    NAME "png"
    DRIVER "AGG/PNG"
    MIMETYPE "image/png"
    IMAGEMODE RGB
    EXTENSION "png"
    FORMATOPTION "COMPRESSION=2"
  END
  WEB
    METADATA
      "wms_title" "bench"
      "wms_onlineresource" "http://127.0.0.1/cgi-bin/mapserv?"
      "wms_srs" "EPSG:32633"
      "wms_enable_request" "*"
    END
  END
  LAYER
    NAME "S2"
    TYPE RASTER
    STATUS ON
    TILEINDEX "{tindex}"
    TILEITEM "location"
    PROJECTION "init=epsg:32633" END
    PROCESSING "BANDS=3,2,1"
    PROCESSING "SCALE=0,{scale_max}"
    METADATA
      "wms_title" "S2 true colour"
      "wms_srs" "EPSG:32633"
      "wms_extent" "{ext}"
      "wms_timeextent" "{','.join(isos)}"
      "wms_timeitem" "date"
      "wms_timedefault" "{isos[-1]}"
    END
  END
END
""")
    conf = work / "mapserver.conf"
    conf.write_text(f'CONFIG\n  ENV\n    MS_MAPFILE "{mapfile}"\n  END\nEND\n')
    return conf


# --------------------------------------------------------------------------- requests


def map_requests(n: int, size: int, dates: list[str], seed: int = 11) -> list[tuple[str, int, tuple[float, ...]]]:
    """``n`` random (date, zoom, bbox) inside the cube; zoom levels in turn, places and dates random."""
    rng = np.random.default_rng(seed)
    extent = RES * size
    out = []
    for k in range(n):
        zoom = ZOOMS[k % len(ZOOMS)]
        width = min(FULL_WIDTH / zoom, extent)
        slack = int((extent - width) // RES)
        e0 = ORIGIN_E + RES * int(rng.integers(0, slack + 1))
        n1 = ORIGIN_N - RES * int(rng.integers(0, slack + 1))
        out.append((dates[int(rng.integers(len(dates)))], zoom, (e0, n1 - width, e0 + width, n1)))
    return out


def _getmap(date: str, bbox: tuple[float, ...], styles: str) -> str:
    return ("SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=S2&STYLES=" + styles +
            "&CRS=EPSG:32633&BBOX=" + ",".join(f"{v:.1f}" for v in bbox) +
            f"&WIDTH={PX}&HEIGHT={PX}&FORMAT=image/png&TIME={wcs.iso(date)}")


def petacube_path(date: str, zoom: int, bbox) -> str:
    return "/ows?" + _getmap(date, bbox, STYLE)


def mapserver_path(date: str, zoom: int, bbox) -> str:
    return "/cgi-bin/mapserv?" + _getmap(date, bbox, "")


def decode_png(data: bytes) -> np.ndarray:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB"))


def sanity(work: Path, servers: dict[str, str], reqs, path_fn: dict) -> list[str]:
    """One GetMap per zoom level from every server: a PNG, PX×PX, not blank; compare servers."""
    problems = []
    for date, zoom, bbox in reqs:
        images = {}
        for name, base in servers.items():
            r = httpx.get(base + path_fn[name](date, zoom, bbox), timeout=120)
            ctype = r.headers.get("content-type", "")
            if r.status_code != 200 or not ctype.startswith("image/png"):
                problems.append(f"{name} zoom 1/{zoom} {date}: HTTP {r.status_code} {ctype}: {r.text[:300]!r}")
                continue
            (work / f"sanity-{name}-z{zoom}.png").write_bytes(r.content)
            img = decode_png(r.content)
            if img.shape != (PX, PX, 3):
                problems.append(f"{name} zoom 1/{zoom}: image shape {img.shape}, expected {(PX, PX, 3)}")
            elif img.std() == 0 or img.max() == 0:
                problems.append(f"{name} zoom 1/{zoom}: blank image (all pixels {img.reshape(-1, 3)[0].tolist()})")
            images[name] = img.astype("int16")
        ref = images.get("petacube")
        for name, img in images.items():
            if name != "petacube" and ref is not None and img.shape == ref.shape:
                diff = np.abs(img - ref)
                print(f"  zoom 1/{zoom:<2d} {date}: {name} vs petacube: mean |diff| {diff.mean():.2f}, "
                      f"99th pct {np.percentile(diff, 99):.0f} (0..255); means RGB petacube "
                      f"{ref.reshape(-1, 3).mean(0).round(1).tolist()} {name} {img.reshape(-1, 3).mean(0).round(1).tolist()}")
    return problems


def zoom_latency(base: str, path_fn, reqs, per_zoom: int) -> dict[int, float]:
    """Median latency (s) per zoom level of sequential requests on one keep-alive connection."""
    out = {}
    with httpx.Client(timeout=120) as client:
        for zoom in ZOOMS:
            mine = [r for r in reqs if r[1] == zoom][:per_zoom]
            client.get(base + path_fn(*mine[0]))  # warm the connection and the worker
            times = []
            for req in mine:
                t = time.perf_counter()
                r = client.get(base + path_fn(*req))
                times.append(time.perf_counter() - t)
                if r.status_code != 200:
                    raise RuntimeError(f"{base}: HTTP {r.status_code} for zoom 1/{zoom}: {r.text[:300]}")
            out[zoom] = statistics.median(times)
    return out


# --------------------------------------------------------------------------- main


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", type=int, default=4096, help="GeoTIFF width = height (default 4096)")
    ap.add_argument("--dates", type=int, default=24, help="number of dates (default 24)")
    ap.add_argument("--duration", type=int, default=15, help="seconds per wrk run (default 15)")
    ap.add_argument("--connections", default="2,8", help="comma-separated connection counts (default 2,8)")
    ap.add_argument("--workers", type=int, default=2, help="petacube serve --workers (default 2)")
    ap.add_argument("--fcgi-procs", type=int, default=4, help="MapServer FastCGI processes (default 4)")
    ap.add_argument("--mapserver", default="cgi,fastcgi", help="MapServer modes to run: cgi, fastcgi (default both)")
    ap.add_argument("--requests", type=int, default=4000, help="distinct random GetMaps in the request list")
    ap.add_argument("--latency-samples", type=int, default=25, help="sequential requests per zoom level (default 25)")
    ap.add_argument("--scale-max", type=int, default=SCALE_MAX,
                    help=f"true colour maps 0..this onto 0..255 (default {SCALE_MAX}, unsaturated for the generated data)")
    ap.add_argument("--petacube-cache", action="store_true",
                    help="keep petacube's GetMap response cache on (off by default: MapServer has none)")
    ap.add_argument("--work", help="work directory, kept and reused (default: a temporary one, removed)")
    args = ap.parse_args()

    missing = [t for t in ("wrk", "lighttpd", "gdal_translate", "ogr2ogr") if shutil.which(t) is None]
    missing += [wcs.MAPSERV] if not Path(wcs.MAPSERV).exists() else []
    if missing:
        print(f"missing: {', '.join(missing)}; run bench/setup_wcs_bench.sh (as root) first", file=sys.stderr)
        return 2

    t_start = time.monotonic()
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="petacube-wms-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    dates = bench_dates(args.dates)
    procs: list[subprocess.Popen] = []
    loads = {"start": loadavg()}
    try:
        files = make_sources(work, args.size, dates)
        home = setup_petacube(work, files, args.size, args.scale_max)
        cogs = make_cogs(work, files)
        conf = write_mapfile(work, make_tile_index(work, cogs, dates, args.size), dates, args.size, args.scale_max)

        servers: dict[str, str] = {}
        path_fn: dict = {}
        if not args.petacube_cache:
            os.environ["PETACUBE_WMS_CACHE_BYTES"] = "0"  # inherited by `petacube serve`
        proc, url = wcs.start_petacube(work, home, args.workers)
        procs.append(proc)
        servers["petacube"], path_fn["petacube"] = url, petacube_path
        for mode in [m.strip() for m in args.mapserver.split(",") if m.strip()]:
            proc, url = wcs.start_lighttpd(work, conf, mode, args.fcgi_procs)
            procs.append(proc)
            name = f"mapserver-{mode}"
            servers[name], path_fn[name] = url, mapserver_path

        reqs = map_requests(args.requests, args.size, dates)
        print("sanity (one GetMap per zoom level, images kept as sanity-*.png in the work dir):")
        problems = sanity(work, servers, reqs[:len(ZOOMS)], path_fn)
        for p in problems:
            print("  SANITY: " + p)

        # Sequential latency per zoom level, on requests the load list does not start with.
        lat_reqs = reqs[len(reqs) // 2:]
        latencies = {}
        for name in servers:
            if name != "mapserver-cgi":  # CGI start-up dominates its latencies
                latencies[name] = zoom_latency(servers[name], path_fn[name], lat_reqs, args.latency_samples)
        loads["after latency"] = loadavg()

        conns = [int(c) for c in args.connections.split(",")]
        results = []
        for name, base in servers.items():
            paths = [path_fn[name](*r) for r in reqs]
            for p in paths[-20:]:  # warm-up: open files, start lazy workers
                httpx.get(base + p, timeout=120)
            for c in conns:
                loads[f"{name} c={c} before"] = loadavg()
                r = wcs.run_wrk(work, name, base, paths, c, args.duration)
                r.update(server=name, conns=c, load=loadavg())
                results.append(r)
                print(f"  {name:18s} c={c}: {r['rps']:.1f} req/s, p50 {r['p50'] / 1000:.1f} ms, "
                      f"p99 {r['p99'] / 1000:.1f} ms, errors {r['errors']}, load {r['load']}", flush=True)

        print(f"\n{len(dates)} dates × {args.size}² × {len(wcs.BANDS)} bands; {PX}×{PX} PNG GetMaps, "
              f"zoom widths {', '.join(f'{min(FULL_WIDTH / z, RES * args.size):.0f} m' for z in ZOOMS)}; "
              f"petacube workers {args.workers}, response cache {'on' if args.petacube_cache else 'off'}; "
              f"MapServer FastCGI procs {args.fcgi_procs}")
        print(f"{'server':18s} {'conns':>5s} {'req/s':>8s} {'p50 ms':>8s} {'p99 ms':>8s} {'p99/p50':>8s} {'errors':>7s} {'load (1/5/15 min)':>18s}")
        for r in results:
            print(f"{r['server']:18s} {r['conns']:5d} {r['rps']:8.1f} {r['p50'] / 1000:8.1f} "
                  f"{r['p99'] / 1000:8.1f} {r['p99'] / max(r['p50'], 1):8.2f} {r['errors']:7d} {r['load']:>18s}")

        print("\nsequential median latency per zoom level (ms):")
        print(f"{'server':18s} " + " ".join(f"{'1/' + str(z):>8s}" for z in ZOOMS) + f" {'whole/1/64':>11s}")
        for name, lat in latencies.items():
            print(f"{name:18s} " + " ".join(f"{lat[z] * 1000:8.1f}" for z in ZOOMS) +
                  f" {lat[ZOOMS[0]] / lat[ZOOMS[-1]]:11.2f}")

        print()
        ok = not problems
        ok &= wcs.check_targets(results, conns, servers, throughput_factor=1.5, p99_factor=2.0)
        lat = latencies["petacube"]
        ratio = lat[ZOOMS[0]] / lat[ZOOMS[-1]]
        passed = ratio <= 2
        print(f"  petacube whole-extent / zoomed-in (1/{ZOOMS[-1]}) median latency = {ratio:.2f} (<= 2): "
              f"{'PASS' if passed else 'FAIL'}")
        ok &= passed
        print("\nload average (1/5/15 min): " + "; ".join(f"{k}: {v}" for k, v in loads.items()) +
              f"; end: {loadavg()}")
        print(f"wall time of the whole benchmark: {time.monotonic() - t_start:.0f} s; work dir {work}")
        return 0 if ok else 1
    finally:
        for p in procs:
            wcs.stop(p)
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
