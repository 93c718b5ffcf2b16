"""L2A/L1C → L2B outputs checked against the synthetic source pixels (numpy) and pyproj."""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import rasterio
from pyproj import Transformer

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from safe_gen import L1C_0301, L2A_0212, L2A_0509, band_array, default_band, make_safe

from petacube.sagris.s2.pipeline import S2Options, process_product

SIZES = {10: 120, 20: 60, 60: 20}


def read_zip_tif(zpath: Path, member: str, tmp: Path):
    with zipfile.ZipFile(zpath) as zf:
        zf.extract(member, tmp)
    return rasterio.open(tmp / member)


@pytest.fixture(scope="module")
def l2a_0509(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("l2a")
    scl = np.full((60, 60), 4, np.uint8)
    scl[10:20, 10:20] = 9
    scl[0:3, :] = 0  # nodata rows
    z = make_safe(tmp / "in", L2A_0509, scl=scl)
    outs = process_product(z, tmp / "work", S2Options(epsg=32602))
    return tmp, z, {p.name: p for p in outs}, scl


def test_outputs_follow_the_contract(l2a_0509):
    _, z, outs, _ = l2a_0509
    stem = "S2A_MSIL2B_20230625T234621_N0509_R073_T01WCP_20230626T022157"
    assert sorted(outs) == sorted([f"{stem}_{r}m.zip" for r in (10, 20, 60)] + [f"{stem}_{r}m_32602.zip" for r in (10, 20, 60)]
                                  + [f"{stem}_L2A_preview.jpg", f"{stem}_32602_preview.jpg"])
    with zipfile.ZipFile(outs[f"{stem}_20m.zip"]) as zf:
        assert sorted(zf.namelist()) == sorted([f"{stem}_20m.tif", f"{stem}_20m_SCL.tif", f"{stem}_20m_CLOUDMASK.tif",
                                                f"{stem}_20m.json"])
        meta = json.loads(zf.read(f"{stem}_20m.json"))
    assert meta["product"] == z.name[:-4] and meta["satellite"] == "S2A" and meta["relative_orbit"] == 73
    assert meta["tile"] == "01WCP" and meta["processing_baseline"] == "05.09" and meta["epsg"] == 32601
    assert meta["resolution"] == 20 and meta["correction"] == "l2a-input" and meta["quantification"] == 10000
    assert meta["bands"] == ["B02", "B03", "B04", "B05", "B06", "B07", "B8A", "B11", "B12"]
    assert meta["boa_add_offset"]["B02"] == -1000 and meta["acquisition_time"].startswith("2023-06-25T23:47")
    assert meta["sun_zenith"] == pytest.approx(42.8949736512547)


@pytest.mark.parametrize("res", [10, 20, 60])
def test_band_stack_equals_source_minus_offset(l2a_0509, res):
    tmp, _, outs, _ = l2a_0509
    name = next(n for n in outs if n.endswith(f"_{res}m.zip"))
    ds = read_zip_tif(outs[name], name[:-4] + ".tif", tmp / f"x{res}")
    bands = list(ds.descriptions)
    assert ds.tags()["ACQUISITION_TIME"].startswith("2023-06-25") and ds.tags()["BANDS"] == ",".join(bands)
    assert ds.dtypes[0] == "uint16" and ds.nodata == 0 and ds.block_shapes[0] == (512, 512) or ds.width < 512
    assert ds.crs.to_epsg() == 32601 and ds.transform.a == res and ds.transform.c == 300000
    for i, b in enumerate(bands, start=1):
        src = band_array({}, b, res, SIZES).astype(np.int64)  # the DNs the generator wrote in the R{res}m file
        expected = np.clip(src - 1000, 1, 65534)  # by hand: 05.09 offset −1000, Q 10000 → ×10000 unchanged scale
        np.testing.assert_array_equal(ds.read(i), expected, err_msg=f"{b} at {res} m")


def test_scl_and_mask_native(l2a_0509):
    tmp, _, outs, scl = l2a_0509
    name = next(n for n in outs if n.endswith("_10m.zip"))
    s = read_zip_tif(outs[name], name[:-4] + "_SCL.tif", tmp / "s").read(1)
    np.testing.assert_array_equal(s, np.repeat(np.repeat(scl, 2, 0), 2, 1))
    m = read_zip_tif(outs[name], name[:-4] + "_CLOUDMASK.tif", tmp / "m").read(1)
    assert (m[:6] == 255).all()  # SCL nodata rows
    assert (m[20:40, 20:40] == 1).all()  # the SCL cloud square, at 10 m


def test_reprojection_georeferencing(l2a_0509):
    tmp, _, outs, scl = l2a_0509
    name = next(n for n in outs if n.endswith("_20m_32602.zip"))
    ds = read_zip_tif(outs[name], name[:-4] + "_SCL.tif", tmp / "p")
    assert ds.crs.to_epsg() == 32602 and ds.transform.a == 20 and ds.transform.c % 20 == 0
    # corners of the native grid, transformed independently with pyproj, lie inside the output grid
    t = Transformer.from_crs(32601, 32602, always_xy=True)
    xs = [300000, 301200, 300000, 301200]
    ys = [7400040, 7400040, 7398840, 7398840]
    px, py = t.transform(xs, ys)
    b = ds.bounds
    assert b.left <= min(px) < b.left + 20 and b.right - 20 < max(px) <= b.right
    assert b.bottom <= min(py) < b.bottom + 20 and b.top - 20 < max(py) <= b.top
    # nearest resampling: an output pixel centre takes the SCL of the native pixel containing it
    a = ds.read(1)
    back = Transformer.from_crs(32602, 32601, always_xy=True)
    checked = 0
    for r in range(0, ds.height, 7):
        for c in range(0, ds.width, 7):
            x, y = ds.xy(r, c)
            sx, sy = back.transform(x, y)
            col, row = int((sx - 300000) // 20), int((7400040 - sy) // 20)
            inner = 1 <= col < 59 and 1 <= row < 59 and abs((sx - 300000) % 20 - 10) < 9 and abs((7400040 - sy) % 20 - 10) < 9
            if inner and scl[row, col] != 0:
                assert a[r, c] == scl[row, col]
                checked += 1
    assert checked > 20


def test_baseline_0212_has_no_offset(tmp_path):
    z = make_safe(tmp_path / "in", L2A_0212)
    outs = {p.name: p for p in process_product(z, tmp_path / "w", S2Options())}
    name = next(n for n in outs if n.endswith("_10m.zip"))
    ds = read_zip_tif(outs[name], name[:-4] + ".tif", tmp_path)
    np.testing.assert_array_equal(ds.read(1), band_array({}, "B02", 10, SIZES))
    assert not any("_32" in n for n in outs)  # no -p: native only


def test_l1c_builtin_dos(tmp_path):
    b02 = default_band("B02", (120, 120))
    b02[:40, :40] = 900  # a dark object of 1600 pixels at TOA 0.09
    z = make_safe(tmp_path / "in", L1C_0301, bands={"B02": b02})
    outs = {p.name: p for p in process_product(z, tmp_path / "w", S2Options(use_sen2cor=False))}
    name = next(n for n in outs if n.endswith("_10m.zip"))
    assert name.startswith("S2A_MSIL2B_20210908T042701_N0301_R133_T46RER")
    with zipfile.ZipFile(outs[name]) as zf:
        meta = json.loads(zf.read(name[:-4] + ".json"))
    assert meta["correction"] == "builtin-dos"
    ds = read_zip_tif(outs[name], name[:-4] + ".tif", tmp_path)
    # by hand: haze = dark (900) − 100·cos(θz) with θz from the real MTD_TL.xml (26.4931642669439°)
    haze = 900 - 100 * np.cos(np.radians(26.4931642669439))
    expected = np.clip(np.rint(b02.astype(np.float64) - haze), 1, 65534)
    np.testing.assert_allclose(ds.read(1), expected, atol=1)


def test_l1c_through_a_sen2cor_executable(tmp_path):
    """The Sen2Cor path: our command line (`L2A_Process --output_dir DIR SAFE`) and output discovery.

    Sen2Cor itself cannot be installed here; a stand-in executable writes an L2A SAFE the way
    Sen2Cor does (a S2?_MSIL2A_*.SAFE folder in --output_dir) and records its arguments.
    """
    exe = tmp_path / "L2A_Process"
    exe.write_text(f"""#!{sys.executable}
import sys
from pathlib import Path
sys.path[:0] = [{str(Path(__file__).resolve().parents[1])!r}, {str(Path(__file__).resolve().parents[2])!r}]
from safe_gen import make_safe, L2A_0509
args = sys.argv[1:]
assert args[0] == "--output_dir" and Path(args[2]).name.endswith(".SAFE") and Path(args[2]).is_dir(), args
Path(args[1], "args.txt").write_text(" ".join(args))
make_safe(Path(args[1]), L2A_0509, as_zip=False)
""")
    exe.chmod(0o755)
    z = make_safe(tmp_path / "in", L1C_0301)
    outs = {p.name: p for p in process_product(z, tmp_path / "w", S2Options(sen2cor=str(exe)))}
    name = next(n for n in outs if n.endswith("_10m.zip"))
    assert name.startswith("S2A_MSIL2B_20210908T042701_N0301_R133_T46RER")  # named after the L1C input
    with zipfile.ZipFile(outs[name]) as zf:
        meta = json.loads(zf.read(name[:-4] + ".json"))
    assert meta["correction"] == "sen2cor" and meta["processing_baseline"] == "05.09"
    ds = read_zip_tif(outs[name], name[:-4] + ".tif", tmp_path)
    np.testing.assert_array_equal(ds.read(1), np.clip(band_array({}, "B02", 10, SIZES).astype(int) - 1000, 1, None))
    failing = tmp_path / "bad" / "L2A_Process"
    failing.parent.mkdir()
    failing.write_text("#!/bin/sh\necho 'no DEM configured' >&2\nexit 3\n")
    failing.chmod(0o755)
    from petacube.sagris.batch.errors import BadProduct

    with pytest.raises(BadProduct, match="Sen2Cor failed \\(exit 3\\).*no DEM configured"):
        process_product(z, tmp_path / "w2", S2Options(sen2cor=str(failing)))
