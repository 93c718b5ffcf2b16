"""The `petacube sagris s2` batch: skips, -z failures, exit codes, parallel processors, killed runs."""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from safe_gen import L1C_0301, L2A_0212, L2A_0400, L2A_0509, make_safe

from petacube.sagris.cli import sagris

CLI = [sys.executable, "-c", "import sys; from petacube.sagris.cli import sagris; sagris(sys.argv[1:])"]
L1C_OF_0509 = "S2A_MSIL1C_20230625T234621_N0509_R073_T01WCP_20230626T010000"  # same datatake + tile as L2A_0509


def run(args):
    return CliRunner().invoke(sagris, args, catch_exceptions=False)


def visible(d: Path) -> list[str]:
    return sorted(p.name for p in d.iterdir() if not p.name.startswith(".")) if d.exists() else []


def test_l2a_first_l1c_skipped_and_rerun_does_nothing(tmp_path):
    inp, out = tmp_path / "in", tmp_path / "out"
    make_safe(inp, L2A_0509)
    make_safe(inp, L1C_0301, name=L1C_OF_0509)
    r = run(["s2", "-i", str(inp), "-o", str(out), "--no-progress"])
    assert r.exit_code == 0, r.output
    assert "its L2A (same datatake and tile) is in the input" in r.output
    # no -p: the 10/20/60 m zips and the L2A preview, all from the L2A
    assert len(visible(out)) == 4 and all(n.startswith("S2A_MSIL2B_20230625T234621_N0509") for n in visible(out))
    assert not (out / ".sagris-work").exists() or not any((out / ".sagris-work").iterdir())  # wiped on success
    before = {p: p.stat().st_mtime_ns for p in out.iterdir() if p.is_file()}
    r = run(["s2", "-i", str(inp), "-o", str(out), "--no-progress"])
    assert r.exit_code == 0 and "done 0, skipped 2, failed 0" in r.output
    assert {p: p.stat().st_mtime_ns for p in out.iterdir() if p.is_file()} == before


def test_l1c_skipped_when_outputs_of_its_datatake_exist(tmp_path):
    inp, out, inp2 = tmp_path / "in", tmp_path / "out", tmp_path / "in2"
    make_safe(inp, L2A_0509)
    assert run(["s2", "-i", str(inp), "-o", str(out), "--no-progress"]).exit_code == 0
    make_safe(inp2, L1C_0301, name=L1C_OF_0509)
    r = run(["s2", "-i", str(inp2), "-o", str(out), "--no-progress"])
    assert r.exit_code == 0 and "L2B outputs of the same datatake and tile exist" in r.output
    assert len(visible(out)) == 4


def _rezip(z: Path, change):
    """Rewrite a product zip, letting ``change(name, data)`` alter members (None drops one)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(z) as src, zipfile.ZipFile(buf, "w") as dst:
        for info in src.infolist():
            data = change(info.filename, src.read(info))
            if data is not None:
                dst.writestr(info, data)
    z.write_bytes(buf.getvalue())


def test_z_failures_are_reported_set_aside_and_the_batch_goes_on(tmp_path):
    inp, out = tmp_path / "in", tmp_path / "out"
    good = make_safe(inp, L2A_0212)
    bad_sum = make_safe(inp, L2A_0509)  # a band altered after the manifest was written
    _rezip(bad_sum, lambda n, d: d[:-10] + b"0123456789" if n.endswith("_B03_20m.jp2") else d)
    missing = make_safe(inp, L2A_0509, name="S2A_MSIL2A_20230625T234621_N0509_R073_T01WCS_20230626T022157")
    _rezip(missing, lambda n, d: None if n.endswith("_B8A_60m.jp2") else d)
    trunc = make_safe(inp, L1C_0301)
    trunc.write_bytes(trunc.read_bytes()[:-3000])
    (inp / "S2C_MSIL3X_nonsense.zip").write_bytes(b"PK")
    r = run(["s2", "-i", str(inp), "-o", str(out), "-z", "--no-progress"])
    assert r.exit_code == 1
    text = re.sub(r"\s+", " ", r.output)
    assert "SHA3-256 checksum of GRANULE/" in text and "_B03_20m.jp2 does not match" in text
    assert "_B8A_60m.jp2 is listed in manifest.safe but missing" in text
    assert "truncated or damaged" in text or "not a readable zip" in text
    assert "not a Sentinel-2 L1C or L2A product name" in text
    assert "done 1, skipped 0, failed 4" in text
    assert visible(out) and all(n.startswith(good.name[:10].replace("L2A", "L2B")) for n in visible(out))
    assert sorted(p.name for p in (inp / "_broken").glob("*.zip")) == sorted(
        [bad_sum.name, missing.name, trunc.name, "S2C_MSIL3X_nonsense.zip"])
    kept = list((out / ".sagris-work").glob("batch-*/batch.log"))
    assert kept and "failed" in kept[0].read_text()
    r = run(["s2", "-i", str(inp), "-o", str(out), "-z", "--no-progress"])
    assert r.exit_code == 0 and "done 0, skipped 1, failed 0" in r.output


def test_usage_errors_exit_2(tmp_path):
    make_safe(tmp_path / "in", L2A_0212)
    r = run(["s2", "-i", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "-p", "999999"])
    assert r.exit_code == 2 and "unknown EPSG code 999999" in r.output
    assert visible(tmp_path / "out") == []
    r = run(["s2", "-i", str(tmp_path / "nope"), "-o", str(tmp_path / "out")])
    assert r.exit_code == 2 and "does not exist" in r.output


def test_two_processors_on_one_folder_never_duplicate(tmp_path):
    inp, out = tmp_path / "in", tmp_path / "out"
    for i in range(6):
        make_safe(inp, L2A_0212, name=f"S2A_MSIL2A_20190212T192651_N0212_R013_T07HF{'ABCDEF'[i]}_20201007T160857")
    procs = [subprocess.Popen(CLI + ["s2", "-i", str(inp), "-o", str(out), "--no-progress", *extra],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for extra in (["--workers", "2"], [])]  # one of them with a process pool
    texts = [p.communicate(timeout=120)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), texts
    done = [int(re.search(r"done (\d+), skipped (\d+), failed 0", t).group(1)) for t in texts]
    assert sum(done) == 6, texts  # each product processed exactly once across both processors
    assert len(visible(out)) == 6 * 4  # no -p: 10/20/60 m zips and the L2A preview per product


def test_killed_run_leaves_no_partial_output(tmp_path):
    inp, out = tmp_path / "in", tmp_path / "out"
    for i in range(2):  # GeoTIFF-layout baseline (04.00, reprocessed): quick to generate at 360 px
        make_safe(inp, L2A_0400, size10=360, name=f"S2B_MSIL2A_20220413T150759_N0400_R025_T33XW{'JK'[i]}_20220414T082126")
    proc = subprocess.Popen(CLI + ["s2", "-i", str(inp), "-o", str(out), "-p", "32602", "--no-progress"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 60
        # kill while the first product is being written in the work folder
        while time.time() < deadline and not list((out / ".sagris-work").glob("batch-*/*/*/*.tif")):
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    names = visible(out)
    stems = {n.split("_10m")[0].split("_20m")[0].split("_60m")[0].split("_L2A_")[0].split("_32602_")[0] for n in names}
    for s in stems:  # every product in OUT is complete (8 files), none partial
        assert len([n for n in names if n.startswith(s)]) == 8, names
    r = run(["s2", "-i", str(inp), "-o", str(out), "-p", "32602", "--no-progress"])
    assert r.exit_code == 0, r.output
    assert len(visible(out)) == 2 * 8


def test_collect_moves_whole_outputs_never_overwriting(tmp_path):
    a, b, dest = tmp_path / "a", tmp_path / "b", tmp_path / "dest"
    for d, names in ((a, ["x_10m.zip", "x_L2A_preview.jpg"]), (b, ["y_10m.zip", "x_10m.zip"])):
        d.mkdir()
        for n in names:
            (d / n).write_text(f"{d.name}:{n}")
    r = run(["collect", "--from", str(a), "--from", str(b), "--to", str(dest)])
    assert r.exit_code == 0 and "collected 3 file(s)" in r.output
    assert visible(dest) == ["x_10m.zip", "x_L2A_preview.jpg", "y_10m.zip"]
    assert (dest / "x_10m.zip").read_text() == "a:x_10m.zip"  # b's copy did not overwrite it
    assert visible(b) == ["x_10m.zip"] and "already in" in r.output
    assert run(["collect", "--from", str(tmp_path / "nope"), "--to", str(dest)]).exit_code == 2


def test_watch_picks_up_new_products_and_dask_scheduler(tmp_path):
    inp, out = tmp_path / "in", tmp_path / "out"
    make_safe(inp, L2A_0212)
    r = run(["s2", "-i", str(inp), "-o", str(out), "--watch", "--interval", "0", "--settle", "0",
             "--max-cycles", "2", "--no-progress"])
    assert r.exit_code == 0 and r.output.count("sagris s2 summary") == 1  # the idle second cycle prints nothing
    assert len(visible(out)) == 4
    from distributed import LocalCluster

    make_safe(inp, L2A_0509)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        r = run(["s2", "-i", str(inp), "-o", str(out), "--scheduler", cluster.scheduler_address, "--no-progress"])
    assert r.exit_code == 0 and "done 1, skipped 1, failed 0" in r.output, r.output
    assert len(visible(out)) == 8
