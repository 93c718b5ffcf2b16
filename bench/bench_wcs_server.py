"""WCS server benchmark: petacube against MapServer 8 on the same GeoTIFFs, in one run.

Data: ``--dates`` (6) dates of ``--size``² (4096²) 3-band uint16 GeoTIFFs (EPSG:32633,
10 m pixels, 256² tiles, deflate), written into a temporary directory.

- petacube: the files are imported (``time_series_irregular``, 1×1024×1024 chunks) and
  served by ``petacube serve --workers 2``.
- MapServer 8 (Debian ``cgi-mapserver``) serves the same GeoTIFFs through WCS 2.0, one
  layer (coverage) per date, under lighttpd, both as plain CGI (one process per request)
  and as FastCGI (``--fcgi-procs`` persistent ``mapserv`` processes).

Load: ``wrk`` in a second process on loopback cycles through a list of random
GetCoverage requests (512×512 windows at random places and dates, GeoTIFF output; the
same windows for every server), with 2 and 8 connections, ``--duration`` seconds each.
A response counts as an error when its status is not 2xx, its Content-Type is not
image/tiff, or the socket fails / times out.

Targets (petacube): throughput ≥ MapServer's, p99 ≤ 3× p50, zero errors.
Before the load, one window is fetched from each server and the pixels compared.

Set-up: ``bench/setup_wcs_bench.sh`` (root) installs wrk, cgi-mapserver and lighttpd.
Run: ``.venv/bin/python bench/bench_wcs_server.py`` (not part of ``make test``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

ORIGIN_E, ORIGIN_N, RES = 500000.0, 5000000.0, 10.0
WIN = 512
DATES = ["20210105", "20210119", "20210213", "20210307", "20210402", "20210428",
         "20210517", "20210603", "20210621", "20210712", "20210730", "20210815"]
BANDS = ["B02", "B03", "B04"]
MAPSERV = "/usr/lib/cgi-bin/mapserv"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def iso(date: str) -> str:
    return f"{date[:4]}-{date[4:6]}-{date[6:]}"


# --------------------------------------------------------------------------- data


def generate(src: Path, size: int, dates: list[str]) -> list[Path]:
    """Write one 3-band uint16 GeoTIFF per date; values stay below 32768 (MapServer INT16)."""
    import rasterio
    from rasterio.transform import from_origin

    src.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(42)
    x = np.arange(size, dtype="float32")
    paths = []
    for t, date in enumerate(dates):
        path = src / f"S2_{date}_bench.tif"
        paths.append(path)
        profile = {"driver": "GTiff", "width": size, "height": size, "count": len(BANDS), "dtype": "uint16",
                   "crs": "EPSG:32633", "transform": from_origin(ORIGIN_E, ORIGIN_N, RES, RES),
                   "tiled": True, "blockxsize": 256, "blockysize": 256, "compress": "deflate"}
        with rasterio.open(path, "w", **profile) as dst:
            for b in range(len(BANDS)):
                sx = np.sin(x / (180 + 40 * b) + t)
                cy = np.cos(x / (260 - 30 * b) - t)
                band = 2000 + 1000 * b + 800 * np.add.outer(cy, sx)
                band += rng.integers(0, 200, size=(size, size), dtype=np.int16)
                dst.write(band.astype("uint16"), b + 1)
            for b, name in enumerate(BANDS, start=1):
                dst.set_band_description(b, name)
    return paths


# --------------------------------------------------------------------------- petacube


def setup_petacube(work: Path, src: Path) -> Path:
    import petacube
    from petacube.ingest.importer import run_import

    ing = {
        "config": {"service_url": "http://localhost:8080/rasdaman/ows", "automated": True},
        "input": {"coverage_id": "S2", "paths": [str(src / "*.tif")]},
        "recipe": {"name": "time_series_irregular", "options": {
            "time_parameter": {"filename": {"regex": "S2_(\\d{8})_", "group": "1"}, "datetime_format": "YYYYMMDD"},
            "time_crs": "OGC/0/AnsiDate",
            "tiling": "ALIGNED [0:0, 0:1023, 0:1023]"}},
    }
    (work / "s2.json").write_text(json.dumps(ing))
    home = work / "home"
    with petacube.open(home) as cube:
        run_import(work / "s2.json", cube, show_progress=False)
    return home


def start_petacube(work: Path, home: Path, workers: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "PETACUBE_HOME": str(home), "PETACUBE_ACCESS_LOG": str(work / "petacube-access.log")}
    env.pop("PETACUBE_CONFIG", None)
    exe = Path(sys.executable).with_name("petacube")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "petacube.cli"]
    with open(work / "petacube.err", "wb") as out:  # the child keeps its own descriptor
        proc = subprocess.Popen(cmd + ["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)],
                                env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    wait_http(f"{url}/health", proc, work / "petacube.err")
    return proc, url


def wait_http(url: str, proc: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited with {proc.returncode}:\n{log.read_text(errors='replace')}")
        try:
            if httpx.get(url, timeout=5).status_code < 500:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer:\n{log.read_text(errors='replace')}")
        time.sleep(0.2)


# --------------------------------------------------------------------------- MapServer


def write_mapfile(work: Path, paths: list[Path], dates: list[str], size: int, compress: bool) -> Path:
    ext = (ORIGIN_E, ORIGIN_N - RES * size, ORIGIN_E + RES * size, ORIGIN_N)
    ext_s = " ".join(f"{v:.1f}" for v in ext)
    layers = []
    for path, date in zip(paths, dates):
        layers.append(f"""
  LAYER
    NAME "d{date}"
    TYPE RASTER
    STATUS ON
    DATA "{path}"
    PROJECTION "init=epsg:32633" END
    METADATA
      "wcs_label" "S2 {iso(date)}"
      "wcs_srs" "EPSG:32633"
      "wcs_extent" "{ext_s}"
      "wcs_size" "{size} {size}"
      "wcs_resolution" "{RES} {RES}"
      "wcs_bandcount" "3"
      "wcs_imagemode" "INT16"
      "wcs_formats" "GEOTIFF_INT16"
      "wcs_native_format" "image/tiff"
      "wcs_rangeset_axes" "bands"
      "wcs_band_names" "{' '.join(BANDS)}"
      "wcs_enable_request" "*"
    END
  END""")
    # By default the same GeoTIFF encoding as petacube's output (deflate, 256² tiles).
    fmt_opts = ("".join(f'    FORMATOPTION "{o}"\n' for o in ("COMPRESS=DEFLATE", "TILED=YES", "BLOCKXSIZE=256", "BLOCKYSIZE=256"))
                if compress else "")
    mapfile = work / "bench.map"
    mapfile.write_text(f"""MAP
  NAME "bench"
  EXTENT {ext_s}
  SIZE {WIN} {WIN}
  MAXSIZE 8192
  PROJECTION "init=epsg:32633" END
  OUTPUTFORMAT
    NAME "GEOTIFF_INT16"
    DRIVER "GDAL/GTiff"
    MIMETYPE "image/tiff"
    IMAGEMODE INT16
    EXTENSION "tif"
{fmt_opts}  END
  WEB
    METADATA
      "ows_enable_request" "*"
      "wcs_label" "bench"
      "ows_onlineresource" "http://127.0.0.1/cgi-bin/mapserv?"
    END
  END
{''.join(layers)}
END
""")
    conf = work / "mapserver.conf"
    conf.write_text(f'CONFIG\n  ENV\n    MS_MAPFILE "{mapfile}"\n  END\nEND\n')
    return conf


def start_lighttpd(work: Path, conf: Path, mode: str, fcgi_procs: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    root = work / f"www-{mode}"
    root.mkdir(exist_ok=True)
    if mode == "cgi":
        handler = f"""server.modules += ("mod_cgi", "mod_alias", "mod_setenv")
alias.url = ("/cgi-bin/mapserv" => "{MAPSERV}")
setenv.add-environment = ("MAPSERVER_CONFIG_FILE" => "{conf}")
$HTTP["url"] =~ "^/cgi-bin/" {{ cgi.assign = ("" => "") }}
"""
    else:
        handler = f"""server.modules += ("mod_fastcgi")
fastcgi.server = ("/cgi-bin/mapserv" => ((
  "socket" => "{work}/mapserv-fcgi.sock",
  "bin-path" => "{MAPSERV}",
  "bin-environment" => ("MAPSERVER_CONFIG_FILE" => "{conf}"),
  "check-local" => "disable",
  "min-procs" => {fcgi_procs},
  "max-procs" => {fcgi_procs}
)))
"""
    cfg = work / f"lighttpd-{mode}.conf"
    cfg.write_text(f"""server.document-root = "{root}"
server.bind = "127.0.0.1"
server.port = {port}
server.errorlog = "{work}/lighttpd-{mode}.err"
server.max-connections = 1024
server.max-keep-alive-requests = 100000
{handler}""")
    log = work / f"lighttpd-{mode}.out"
    with open(log, "wb") as out:
        proc = subprocess.Popen(["lighttpd", "-D", "-f", str(cfg)], stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    wait_http(f"{url}/cgi-bin/mapserv?SERVICE=WCS&REQUEST=GetCapabilities&VERSION=2.0.1", proc, log)
    return proc, url


# --------------------------------------------------------------------------- requests


def windows(n: int, size: int, dates: list[str], seed: int = 7) -> list[tuple[str, int, int]]:
    rng = np.random.default_rng(seed)
    return [(dates[rng.integers(len(dates))], int(rng.integers(0, size - WIN + 1)), int(rng.integers(0, size - WIN + 1)))
            for _ in range(n)]


def bounds(col: int, row: int) -> tuple[float, float, float, float]:
    """Outer edges of the WIN×WIN pixel window whose top-left pixel is (col, row)."""
    e0 = ORIGIN_E + RES * col
    n1 = ORIGIN_N - RES * row
    return e0, e0 + RES * WIN, n1 - RES * WIN, n1


def petacube_path(date: str, col: int, row: int) -> str:
    # petacube (like rasdaman) takes floor((hi - lo) / res + 0.5) cells from the cell holding
    # lo: the outer edges give exactly WIN cells (checked by the sanity step).
    e0, e1, n0, n1 = bounds(col, row)
    return ("/rasdaman/ows?SERVICE=WCS&VERSION=2.0.1&REQUEST=GetCoverage&COVERAGEID=S2"
            f"&SUBSET=ansi(%22{iso(date)}%22)&SUBSET=E({e0:.1f},{e1:.1f})&SUBSET=N({n0:.1f},{n1:.1f})"
            "&FORMAT=image/tiff")


def mapserver_path(date: str, col: int, row: int) -> str:
    # MapServer derives the output grid from the subset box and the native resolution:
    # the outer edges give exactly WIN×WIN pixels on the source grid (checked below).
    e0, e1, n0, n1 = bounds(col, row)
    return ("/cgi-bin/mapserv?SERVICE=WCS&VERSION=2.0.1&REQUEST=GetCoverage"
            f"&COVERAGEID=d{date}&SUBSET=x({e0:.1f},{e1:.1f})&SUBSET=y({n0:.1f},{n1:.1f})&FORMAT=image/tiff")


def read_tiff(data: bytes) -> tuple[np.ndarray, tuple]:
    from rasterio.io import MemoryFile

    with MemoryFile(data) as mf, mf.open() as ds:
        return ds.read(), tuple(ds.transform)[:6]


def sanity(servers: dict[str, str], wins, paths: dict, files: dict[str, Path]) -> list[str]:
    """Fetch a few windows from every server; compare with the source file and each other."""
    import rasterio
    from rasterio.windows import Window

    problems = []
    for date, col, row in wins:
        with rasterio.open(files[date]) as ds:
            truth = ds.read(window=Window(col, row, WIN, WIN))
        for name, base in servers.items():
            r = httpx.get(base + paths[name](date, col, row), timeout=60)
            ctype = r.headers.get("content-type", "")
            if r.status_code != 200 or "tiff" not in ctype:
                problems.append(f"{name} {date} ({col},{row}): HTTP {r.status_code} {ctype}: {r.text[:300]!r}")
                continue
            arr, transform = read_tiff(r.content)
            if arr.shape != truth.shape:
                problems.append(f"{name} {date} ({col},{row}): shape {arr.shape}, expected {truth.shape}, transform {transform}")
            elif not np.array_equal(arr.astype("int64"), truth.astype("int64")):
                diff = int(np.count_nonzero(arr.astype("int64") != truth))
                problems.append(f"{name} {date} ({col},{row}): {diff} of {truth.size} values differ from the source file")
    return problems


# --------------------------------------------------------------------------- load

WRK_LUA = r"""
local paths = {}
local idx = 0
local counter = 0
local threads = {}
bad = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines("%PATHS%") do paths[#paths + 1] = line end
  idx = ((tid or 0) * 997) % #paths
end

function request()
  idx = idx % #paths + 1
  return wrk.format("GET", paths[idx])
end

function response(status, headers, body)
  local ct = headers["Content-Type"] or headers["content-type"] or ""
  if status >= 200 and status < 300 and not string.find(ct, "tiff", 1, true) then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local badtotal = 0
  for _, t in ipairs(threads) do badtotal = badtotal + (t:get("bad") or 0) end
  local e = summary.errors
  io.write(string.format(
    'JSON:{"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"bad_type":%d,"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout, badtotal,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
"""


def run_wrk(work: Path, name: str, base: str, paths: list[str], conns: int, duration: int) -> dict:
    plist = work / f"paths-{name}.txt"
    plist.write_text("\n".join(paths) + "\n")
    script = work / f"wrk-{name}.lua"
    script.write_text(WRK_LUA.replace("%PATHS%", str(plist)))
    threads = min(conns, 2)
    cmd = ["wrk", "-t", str(threads), "-c", str(conns), "-d", f"{duration}s", "--timeout", "30s",
           "-s", str(script), base + "/"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 120, check=False)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("JSON:")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no result:\n{out.stdout}\n{out.stderr}")
    r = json.loads(line[5:])
    r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
    r["errors"] = r["connect"] + r["read"] + r["write"] + r["status"] + r["timeout"] + r["bad_type"]
    r["mbps"] = r["bytes"] / (r["duration_us"] / 1e6) / 2**20
    return r


# --------------------------------------------------------------------------- main


def stop(proc: subprocess.Popen | None) -> None:
    """Stop a server and everything in its process group (start_new_session made the group
    ours alone): lighttpd's FastCGI mapserv children outlive their parent otherwise."""
    if proc is None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        pass
    time.sleep(0.5)
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # leftovers that ignored SIGTERM
    except ProcessLookupError:
        pass
    if proc.poll() is None:
        proc.wait(5)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", type=int, default=4096, help="GeoTIFF width = height (default 4096)")
    ap.add_argument("--dates", type=int, default=6, help="number of dates (default 6, at most 12)")
    ap.add_argument("--duration", type=int, default=12, help="seconds per wrk run (default 12)")
    ap.add_argument("--connections", default="2,8", help="comma-separated connection counts (default 2,8)")
    ap.add_argument("--workers", type=int, default=2, help="petacube serve --workers (default 2)")
    ap.add_argument("--fcgi-procs", type=int, default=4, help="MapServer FastCGI processes (default 4)")
    ap.add_argument("--mapserver", default="cgi,fastcgi", help="MapServer modes to run: cgi, fastcgi (default both)")
    ap.add_argument("--mapserver-compress", default="deflate", choices=["deflate", "none"],
                    help="MapServer GeoTIFF output: deflate + 256² tiles like petacube's (default) or plain")
    ap.add_argument("--requests", type=int, default=5000, help="distinct random windows in the request list")
    ap.add_argument("--workdir", help="keep everything in this directory (default: a temporary one, removed)")
    args = ap.parse_args()

    missing = [t for t in ("wrk", "lighttpd") if shutil.which(t) is None] + ([MAPSERV] if not Path(MAPSERV).exists() else [])
    if missing:
        print(f"missing: {', '.join(missing)}; run bench/setup_wcs_bench.sh (as root) first", file=sys.stderr)
        return 2

    t_start = time.monotonic()
    work = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="petacube-wcs-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    dates = DATES[: args.dates]
    procs: list[subprocess.Popen] = []
    try:
        t = time.monotonic()
        files = generate(work / "src", args.size, dates)
        print(f"data: {len(dates)} × {args.size}² × 3 uint16 GeoTIFFs, "
              f"{sum(f.stat().st_size for f in files) / 2**20:.0f} MiB on disk, {time.monotonic() - t:.1f} s")
        t = time.monotonic()
        home = setup_petacube(work, work / "src")
        print(f"petacube import: {time.monotonic() - t:.1f} s")

        servers: dict[str, str] = {}
        path_fn: dict = {}
        proc, url = start_petacube(work, home, args.workers)
        procs.append(proc)
        servers["petacube"], path_fn["petacube"] = url, petacube_path
        conf = write_mapfile(work, files, dates, args.size, args.mapserver_compress == "deflate")
        for mode in [m.strip() for m in args.mapserver.split(",") if m.strip()]:
            proc, url = start_lighttpd(work, conf, mode, args.fcgi_procs)
            procs.append(proc)
            name = f"mapserver-{mode}"
            servers[name], path_fn[name] = url, mapserver_path

        wins = windows(args.requests, args.size, dates)
        problems = sanity(servers, wins[:3], path_fn, dict(zip(dates, files)))
        if problems:
            print("SANITY: responses differ:")
            for p in problems:
                print("  " + p)
        else:
            print(f"sanity: {len(wins[:3])} windows, every server returns the source pixels (512×512×3 uint16), identical")

        conns = [int(c) for c in args.connections.split(",")]
        results = []
        for name, base in servers.items():
            paths = [path_fn[name](*w) for w in wins]
            for p in paths[-20:]:  # warm-up: open files, fill caches, start lazy workers
                httpx.get(base + p, timeout=60)
            for c in conns:
                r = run_wrk(work, name, base, paths, c, args.duration)
                r.update(server=name, conns=c)
                results.append(r)
                print(f"  {name:18s} c={c}: {r['rps']:.1f} req/s, p50 {r['p50'] / 1000:.1f} ms, "
                      f"p99 {r['p99'] / 1000:.1f} ms, errors {r['errors']}", flush=True)

        print()
        print(f"{'server':18s} {'conns':>5s} {'req/s':>8s} {'MiB/s':>7s} {'p50 ms':>8s} {'p99 ms':>8s} {'p99/p50':>8s} {'errors':>7s}")
        for r in results:
            print(f"{r['server']:18s} {r['conns']:5d} {r['rps']:8.1f} {r['mbps']:7.1f} {r['p50'] / 1000:8.1f} "
                  f"{r['p99'] / 1000:8.1f} {r['p99'] / max(r['p50'], 1):8.2f} {r['errors']:7d}")
        print()
        ok = not problems
        ok &= check_targets(results, conns, servers, throughput_factor=1.0, p99_factor=3.0)
        print(f"\nwall time of the whole benchmark: {time.monotonic() - t_start:.0f} s; work dir {work}")
        return 0 if ok else 1
    finally:
        for p in procs:
            stop(p)
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)


def check_targets(results: list[dict], conns, servers, *, throughput_factor: float, p99_factor: float) -> bool:
    """Print petacube's req/s ratio to each MapServer mode and PASS/FAIL for its targets at each
    connection count: throughput ≥ ``throughput_factor`` × the best MapServer mode, p99 ≤
    ``p99_factor`` × p50, zero errors. True when every target passes."""
    ok = True
    by = {(r["server"], r["conns"]): r for r in results}
    for c in conns:
        pc = by[("petacube", c)]
        ms = [by[(s, c)] for s in servers if s != "petacube"]
        for m in ms:
            print(f"c={c}: petacube / {m['server']} req/s = {pc['rps'] / max(m['rps'], 1e-9):.2f}")
        best = max(ms, key=lambda m: m["rps"], default=None)
        checks = {
            f"throughput >= {throughput_factor:g} x MapServer (best mode{', ' + best['server'] if best else ''})":
                best is None or pc["rps"] >= throughput_factor * best["rps"],
            f"p99 <= {p99_factor:g} x p50 ({pc['p99'] / max(pc['p50'], 1):.2f})": pc["p99"] <= p99_factor * pc["p50"],
            "zero errors": pc["errors"] == 0,
        }
        for what, passed in checks.items():
            print(f"  c={c} petacube {what}: {'PASS' if passed else 'FAIL'}")
            ok &= passed
    return ok


if __name__ == "__main__":
    sys.exit(main())
