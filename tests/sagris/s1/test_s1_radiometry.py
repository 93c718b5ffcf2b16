"""Calibration and thermal-noise removal against hand-read LUT values of the real annotation files."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from lxml import etree
from scipy.interpolate import RegularGridInterpolator

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parents[2])]
from s1_gen import NEW_NOISE_ZIP, OLD_NOISE_ZIP, ROME

from petacube.sagris.s1.annotation import read_annotation
from petacube.sagris.s1.product import S1Safe
from petacube.sagris.s1.radiometry import calibrate_block, interpolate_lut


def _ann(path, pol="VV"):
    p = S1Safe(path)
    files = {k: p.find_one(rx, k) for k, rx in (
        ("annotation", rf"^annotation/s1.-iw-grd-{pol.lower()}-.*\.xml$"),
        ("calibration", rf"^annotation/calibration/calibration-s1.-iw-grd-{pol.lower()}-"),
        ("noise", rf"^annotation/calibration/noise-s1.-iw-grd-{pol.lower()}-"))}
    return p, files, read_annotation(p, pol, files)


def test_readme_lut_points_rome():
    _, _, a = _ann(ROME)
    dn = np.array([[100]], np.uint16)
    # data README: line 1000, pixel 2000
    assert calibrate_block(dn, a, 1000, 2000, "sigma0", remove_noise=False)[0, 0] == pytest.approx(0.0236149, abs=1e-6)
    assert calibrate_block(dn, a, 1000, 2000, "beta0", remove_noise=False)[0, 0] == pytest.approx(0.0445136, abs=1e-6)
    assert calibrate_block(dn, a, 1000, 2000, "gamma0", remove_noise=False)[0, 0] == pytest.approx(0.0278584, abs=1e-6)
    assert interpolate_lut(a.calibration["sigmaNought"], [1000], [2000])[0, 0] == pytest.approx(650.7385, abs=1e-4)


def test_bilinear_matches_scipy_between_nodes():
    _, _, a = _ann(ROME)
    g = a.calibration["gamma"]
    grid = RegularGridInterpolator((g.lines.astype(float), g.pixels[0]), np.stack(g.values))
    rows = np.array([5.0, 700.0, 8123.0, 16000.0])
    cols = np.array([17.0, 2000.0, 13333.0, 25000.0])
    expect = grid(np.array([[r, c] for r in rows for c in cols])).reshape(4, 4)
    np.testing.assert_allclose(interpolate_lut(g, rows, cols), expect, rtol=1e-12)


def _with_nonzero_old_noise(zpath, tmp_path):
    """IPF 2.36 shipped all-zero noiseLut values; give the real old-format file non-zero ones to test with."""
    with zipfile.ZipFile(zpath) as zf:
        zf.extractall(tmp_path)
    safe = next(tmp_path.glob("*.SAFE"))
    nfile = next(safe.glob("annotation/calibration/noise-*-vv-*.xml"))
    root = etree.parse(str(nfile)).getroot()
    for v in root.findall("noiseVectorList/noiseVector"):
        pix = np.array(v.findtext("pixel").split(), float)
        v.find("noiseLut").text = " ".join(f"{500 + 0.01 * x + 0.003 * int(v.findtext('line')):.6e}" for x in pix)
    nfile.write_bytes(etree.tostring(root))
    return safe


def _vector(root, list_tag, vec_tag, lut_tag, i):
    v = root.findall(f"{list_tag}/{vec_tag}")[i]
    return int(v.findtext("line")), np.array(v.findtext("pixel").split(), float), np.array(v.findtext(lut_tag).split(), float)


@pytest.mark.parametrize("source,generation", [(ROME, "range×azimuth"), (NEW_NOISE_ZIP, "range×azimuth"),
                                               (OLD_NOISE_ZIP, "range-only")])
def test_noise_removal_gives_k(source, generation, tmp_path):
    if source == OLD_NOISE_ZIP:
        source = _with_nonzero_old_noise(source, tmp_path)
    p, files, a = _ann(source)
    assert a.noise_generation == generation
    noise = etree.fromstring(p.read_bytes(files["noise"]))
    cal = etree.fromstring(p.read_bytes(files["calibration"]))
    k = 0.037
    checked = 0
    for vi in range(2, 27, 4):
        if generation == "range-only":
            line, pix, eta = _vector(noise, "noiseVectorList", "noiseVector", "noiseLut", vi)
        else:
            line, pix, eta = _vector(noise, "noiseRangeVectorList", "noiseRangeVector", "noiseRangeLut", vi)
        cvs = cal.findall("calibrationVectorList/calibrationVector")
        cal_lines = np.array([int(v.findtext("line")) for v in cvs], float)
        cpix = np.array(cvs[0].findtext("pixel").split(), float)
        sig = np.stack([np.array(v.findtext("sigmaNought").split(), float) for v in cvs])
        nz = np.flatnonzero(eta > 0)
        for j in (nz[[len(nz) // 10, len(nz) // 2, (9 * len(nz)) // 10]] if len(nz) else []):
            col = int(pix[j])
            if col not in cpix or eta[j] == 0:
                continue
            e = eta[j]
            if generation != "range-only":  # the azimuth LUT of the block holding (line, col), read by hand
                for b in noise.findall("noiseAzimuthVectorList/noiseAzimuthVector"):
                    if int(b.findtext("firstRangeSample")) <= col <= int(b.findtext("lastRangeSample")):
                        bl = np.array(b.findtext("line").split(), float)
                        lut = np.array(b.findtext("noiseAzimuthLut").split(), float)
                        e *= np.interp(line, bl, lut)
            # at a calibration pixel node, bilinear reduces to linear between the vectors around `line`
            A = np.interp(line, cal_lines, sig[:, list(cpix).index(col)])
            dn = np.array([[np.sqrt(e + k * A * A)]])
            assert calibrate_block(dn, a, line, col, "sigma0")[0, 0] == pytest.approx(k, rel=1e-5)
            checked += 1
    assert checked >= 3


def test_fill_value_is_nodata_and_negative_power_clips_to_zero():
    _, _, a = _ann(ROME)
    out = calibrate_block(np.array([[0, 1]], np.uint16), a, 1000, 2000, "sigma0")
    assert np.isnan(out[0, 0]) and out[0, 1] == 0.0  # DN 1: 1 − η < 0
