"""SAFE access, product-type checks and the -z integrity check on real and generated products."""

from __future__ import annotations

import shutil
import sys
import zipfile
from pathlib import Path

import pytest

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parents[2])]
from s1_gen import PYROSAR_ZIPS, ROME, make_grd, ramp_dn

from petacube.sagris.batch.errors import BadProduct, UnknownProductType
from petacube.sagris.s1.pipeline import S1Options, process_product
from petacube.sagris.s1.product import NotSupported, S1Safe, check_supported, parse_name
from petacube.sagris.s2.integrity import check_integrity


def test_names_and_unsupported_types():
    n = parse_name(PYROSAR_ZIPS[0])
    assert (n.satellite, n.mode, n.product_type, n.absolute_orbit, n.datatake) == ("S1A", "IW", "GRD", 4739, "005DD8")
    assert n.relative_orbit == 117  # manifest.safe says 117
    check_supported(n)
    for bad in ("S1A_IW_SLC__1SDV_20210119T031653_20210119T031718_036201_043ED0_8255.zip",
                "S1B_EW_GRDM_1SDH_20210119T031653_20210119T031718_036201_043ED0_8255.zip"):
        with pytest.raises(NotSupported, match="not supported: .* handles IW GRD"):
            check_supported(parse_name(bad))
    with pytest.raises(UnknownProductType):
        parse_name("S2A_MSIL1C_20170729T153601_N0205_R111_T19UDP_20170729T153557.zip")


def test_real_zips_manifest_and_missing_measurements():
    for z in PYROSAR_ZIPS:
        p = S1Safe(z)
        info = p.check_manifest_type()
        assert info["product_type"] == "GRD" and len(info["footprint_lonlat"]) == 4
        assert p.polarisations() == ["VH", "VV"]
        with zipfile.ZipFile(z) as zf:
            assert zf.testzip() is None
        with pytest.raises(BadProduct, match=r"measurement/s1a-iw-grd-v.-.*tiff is listed in manifest.safe but missing"):
            check_integrity(p)
        with pytest.raises(BadProduct, match="measurement file is missing"):
            p.files_for("VV")
    assert S1Safe(PYROSAR_ZIPS[0]).check_manifest_type()["slice_number"] == 2


def test_real_zip_without_check_fails_clearly(tmp_path):
    with pytest.raises(BadProduct, match="the VH measurement file is missing"):
        process_product(PYROSAR_ZIPS[2], tmp_path, S1Options(out_dir=tmp_path / "out", epsg=32736))


def test_rome_manifest_lists_absent_vh():
    with pytest.raises(BadProduct, match="s1b-iw-grd-vh-.* is listed in manifest.safe but missing"):
        check_integrity(S1Safe(ROME))


def test_generated_zip_passes_and_corruption_is_caught(tmp_path):
    z = make_grd(tmp_path, ramp_dn(), factor=40)
    assert check_integrity(S1Safe(z)) >= 4
    folder = tmp_path / "f"
    with zipfile.ZipFile(z) as zf:
        zf.extractall(folder)
    safe = next(folder.glob("*.SAFE"))
    assert check_integrity(S1Safe(safe)) >= 4
    cal = next(safe.glob("annotation/calibration/calibration-*-vv-*.xml"))
    cal.write_bytes(cal.read_bytes().replace(b"<gamma", b"<gamma ", 1))
    with pytest.raises(BadProduct, match="does not match manifest.safe"):
        check_integrity(S1Safe(safe))
    trunc = tmp_path / "t" / z.name
    trunc.parent.mkdir()
    trunc.write_bytes(z.read_bytes()[: z.stat().st_size // 2])
    with pytest.raises(BadProduct):
        check_integrity(S1Safe(trunc))
    shutil.rmtree(folder)
