"""Water and wetness masks: hand-checked thresholds, the real Barbellino lake crop, multi-resolution scenes."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import rasterio
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from l2b_gen import write_l2b
from shared_data import SHARED_DATA

from petacube.sagris.aggregate import run_aggregate
from petacube.sagris.masks import MASKS, MaskOptions, Thresholds, run_masks
from petacube.sagris.masks.cli import masks_cmd
from petacube.sagris.masks.indices import (
    classify,
    normalized_difference,
    tasselled_cap_wetness,
)

BARBELLINO = SHARED_DATA / "s2_toa_boa_scl_barbellino_sen2r"
SEN2R_BOA_BANDS = ["B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B09", "B11", "B12"]
SPEC = {m.name: m for m in MASKS}


def test_normalized_difference_and_thresholds_by_hand():
    g = np.array([[3000, 1000, 2000, 500]], "uint16")
    nir = np.array([[1000, 3000, 2000, 0]], "uint16")
    nd = normalized_difference(g, nir)
    assert np.allclose(nd[0, :3], [0.5, -0.5, 0.0])  # (3000-1000)/4000, (1000-3000)/4000, 0
    clear = np.array([[True, True, True, True]])
    m = classify(SPEC["WATER_NDWI"], {"B03": g, "B08": nir}, clear, Thresholds())
    # 0.5 > 0 water; -0.5 not; exactly 0 is not above the threshold; a nodata band → 255
    assert m.tolist() == [[1, 0, 0, 255]]
    m = classify(SPEC["WATER_NDWI"], {"B03": g, "B08": nir}, clear, Thresholds(ndwi=-0.6))
    assert m.tolist() == [[1, 1, 1, 255]]
    m = classify(SPEC["WATER_NDWI"], {"B03": g, "B08": nir}, np.array([[False, True, True, True]]), Thresholds(ndwi=-0.6))
    assert m.tolist() == [[255, 1, 1, 255]]  # a cloudy pixel is nodata
    # MNDWI with a threshold of 0.3: (2000-1000)/3000 = 0.333 > 0.3, (2000-1200)/3200 = 0.25 not
    m = classify(SPEC["WATER_MNDWI"], {"B03": np.array([[2000, 2000]], "uint16"), "B11": np.array([[1000, 1200]], "uint16")},
                 np.ones((1, 2), bool), Thresholds(mndwi=0.3))
    assert m.tolist() == [[1, 0]]


def test_tasselled_cap_wetness_by_hand():
    # Nedkov 2017 weights on a water-like and a dry-soil-like spectrum (reflectance × 10000)
    water = {"B01": 600, "B02": 500, "B03": 400, "B04": 300, "B05": 250, "B06": 200, "B07": 180, "B08": 150,
             "B8A": 140, "B09": 50, "B11": 50, "B12": 30}
    soil = {"B01": 1000, "B02": 1200, "B03": 1500, "B04": 1900, "B05": 2200, "B06": 2400, "B07": 2500,
            "B08": 2600, "B8A": 2700, "B09": 900, "B11": 3500, "B12": 3000}
    w = {"B01": 0.0649, "B02": 0.1363, "B03": 0.2802, "B04": 0.3072, "B05": 0.5288, "B06": 0.1379, "B07": -0.0001,
         "B08": -0.0807, "B09": -0.0302, "B11": -0.4064, "B12": -0.5602, "B8A": -0.1389}
    for spectrum in (water, soil):
        want = sum(w[b] * v / 10000 for b, v in spectrum.items())
        got = tasselled_cap_wetness({b: np.array([v], "uint16") for b, v in spectrum.items()})
        assert got[0] == pytest.approx(want, abs=1e-6)
    bands = {b: np.array([water[b], soil[b]], "uint16") for b in water}
    assert classify(SPEC["WET_TCW"], bands, np.array([True, True]), Thresholds()).tolist() == [1, 0]
    # water by hand: .003894+.006815+.011208+.009216+.01322+.002758 (B01..B06)
    #   -.0000018-.0012105-.000151-.0020320-.0016806-.0019446 (B07 B08 B09 B11 B12 B8A) = 0.0400905
    assert tasselled_cap_wetness({b: np.array([v], "uint16") for b, v in water.items()})[0] == pytest.approx(0.0400905, abs=1e-6)
    # soil: .00649+.016356+.04203+.058368+.116336+.033096 = .272676 (B01..B06)
    #   minus .000025+.020982+.002718+.14224+.16806+.037503 = .371528 → -0.098852
    assert tasselled_cap_wetness({b: np.array([v], "uint16") for b, v in soil.items()})[0] == pytest.approx(-0.098852, abs=1e-6)


def _write(path, arr, transform, crs, nodata, names, tags=None):
    with rasterio.open(path, "w", driver="GTiff", width=arr.shape[2], height=arr.shape[1], count=arr.shape[0],
                       dtype=arr.dtype.name, crs=crs, transform=transform, nodata=nodata) as dst:
        dst.write(arr)
        for i, n in enumerate(names, start=1):
            dst.set_band_description(i, n)
        dst.update_tags(**(tags or {}))


@pytest.mark.parametrize("date", ["20190723", "20170703"])
def test_barbellino_water_masks_against_scl(tmp_path, date):
    """The real sen2cor BOA crop as a 10 m L2C scene: NDWI/MNDWI water vs the SCL water class."""
    with rasterio.open(BARBELLINO / f"S2A2A_{date}_022_Barbellino_BOA_10.tif") as ds:
        boa, transform, crs = ds.read(), ds.transform, ds.crs
    with rasterio.open(BARBELLINO / f"S2A2A_{date}_022_Barbellino_SCL_10.tif") as ds:
        scl = ds.read(1).repeat(2, axis=0).repeat(2, axis=1)  # 20 m classes on the 10 m grid
    assert boa.shape == (11, 42, 24) and scl.shape == (42, 24)
    boa = np.where(boa == 65535, 0, boa).astype("uint16")
    cloud = np.select([scl == 0, np.isin(scl, (8, 9)), scl == 3, scl == 10], [255, 1, 2, 3], 0).astype("uint8")
    l2c = tmp_path / "l2c"
    l2c.mkdir()
    stem = f"S2A_MSIL2C_{date}T101031_R022_10m_32632"
    _write(l2c / f"{stem}.tif", boa, transform, crs, 0, SEN2R_BOA_BANDS, {"TIFFTAG_DATETIME": f"{date[:4]}:{date[4:6]}:{date[6:]} 10:10:31"})
    _write(l2c / f"{stem}_CLOUDMASK.tif", cloud[None], transform, crs, 255, ["CLOUDMASK"])
    out = tmp_path / "masks"
    result = run_masks(l2c, out, MaskOptions(resolution=10))
    assert [o.status for o in result.outcomes] == ["done"]
    with rasterio.open(out / f"{stem}_MASKS.tif") as ds:
        masks = dict(zip(ds.descriptions, ds.read()))
        assert ds.transform == transform and ds.crs == crs and ds.nodata == 255
    meta = json.loads((out / f"{stem}_MASKS.json").read_text())
    # B8A is not in the sen2r crop: NDMI and TCW cannot be made and the json says so
    assert sorted(masks) == ["WATER_MNDWI", "WATER_NDWI"]
    assert meta["omitted"] == {"WET_NDMI": "needs B8A", "WET_TCW": "needs B8A"}
    b = dict(zip(SEN2R_BOA_BANDS, boa.astype("float64")))
    clear = cloud == 0
    ndwi = (b["B03"] - b["B08"]) / (b["B03"] + b["B08"])
    mndwi = (b["B03"] - b["B11"]) / (b["B03"] + b["B11"])
    for name, index in (("WATER_NDWI", ndwi), ("WATER_MNDWI", mndwi)):
        want = np.where(clear, (index > 0).astype("uint8"), 255)
        assert np.array_equal(masks[name], want), name
    water = scl == 6
    agreement = {}
    for name in ("WATER_NDWI", "WATER_MNDWI"):
        m = masks[name]
        ok = m != 255
        agreement[name] = float(((m == 1) == water)[ok].mean())
        assert meta["flagged_fraction_of_valid"][name] == pytest.approx((m[ok] == 1).mean())
    print(f"\nBarbellino {date}: clear {clear.mean():.1%}, SCL water {water.mean():.1%}, "
          f"NDWI>0 {(ndwi > 0).mean():.1%}, MNDWI>0 {(mndwi > 0).mean():.1%}, agreement with SCL water "
          f"NDWI {agreement['WATER_NDWI']:.1%}, MNDWI {agreement['WATER_MNDWI']:.1%}")
    if date == "20190723":  # the figures the data README quotes for this date (all 1008 pixels)
        assert round(100 * (ndwi > 0).mean(), 1) == 28.5
        assert round(100 * (mndwi > 0).mean(), 1) == 26.6
        assert round(100 * water.mean(), 1) == 25.8
    # 2019: clear sky, 96 % agreement. 2017: of the 173 pixels NDWI calls water sen2cor put
    # 101 in "dark area" (SCL 2) and 28 in "unclassified" (7), so SCL water is only 4.4 %.
    assert min(agreement.values()) > {"20190723": 0.95, "20170703": 0.84}[date]


def test_masks_from_a_multi_resolution_scene(tmp_path):
    """20 m masks from aggregated L2C at 10/20/60 m: B08 averaged from 10 m, B01/B09 from 60 m."""
    rng = np.random.default_rng(5)
    left, top = 4_000_020.0, 3_000_000.0  # on the 60 m lattice
    b20 = rng.integers(200, 4000, size=(9, 12, 9)).astype("uint16")  # 240 m × 180 m
    b60 = rng.integers(200, 4000, size=(12, 4, 3)).astype("uint16")
    # 10 m bands constant over each 2 × 2 block so the 20 m average is exact
    b10_coarse = rng.integers(200, 4000, size=(4, 12, 9)).astype("uint16")
    b10 = b10_coarse.repeat(2, axis=1).repeat(2, axis=2)
    cloud20 = np.zeros((12, 9), "uint8")
    cloud20[0, :3] = 1
    cloud20[5, 5] = 3
    b20[:, 11, 8] = 0  # a nodata pixel
    cloud20[11, 8] = 255
    src = tmp_path / "l2b"
    write_l2b(src, res=10, left=left, top=top, data=b10, cloud=cloud20.repeat(2, 0).repeat(2, 1))
    write_l2b(src, res=20, left=left, top=top, data=b20, cloud=cloud20)
    write_l2b(src, res=60, left=left, top=top, data=b60, cloud=np.zeros((4, 3), "uint8"))
    l2c, out = tmp_path / "l2c", tmp_path / "masks"
    assert run_aggregate(src, l2c).count("done") == 3
    result = run_masks(l2c, out, MaskOptions(block=5, thresholds=Thresholds(ndwi=0.1, mndwi=-0.1, ndmi=0.05, tcw=-0.02)))
    assert [o.status for o in result.outcomes] == ["done"]
    stem = "S2A_MSIL2C_20210415T101021_R022_20m_3035_MASKS"
    with rasterio.open(out / f"{stem}.tif") as ds:
        masks = dict(zip(ds.descriptions, ds.read()))
        assert ds.tags()["TIFFTAG_DATETIME"] == "2021:04:15 10:10:21"
    bands = dict(zip(["B02", "B03", "B04", "B05", "B06", "B07", "B8A", "B11", "B12"], b20.astype("float64")))
    bands["B08"] = b10_coarse[3].astype("float64")
    sixty = dict(zip(["B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B11", "B12"], b60))
    for name in ("B01", "B09"):
        bands[name] = sixty[name].repeat(3, axis=0).repeat(3, axis=1).astype("float64")
    ok = (cloud20 == 0) & (b20[0] != 0)
    w = {"B01": 0.0649, "B02": 0.1363, "B03": 0.2802, "B04": 0.3072, "B05": 0.5288, "B06": 0.1379, "B07": -0.0001,
         "B08": -0.0807, "B09": -0.0302, "B11": -0.4064, "B12": -0.5602, "B8A": -0.1389}
    tcw = sum(w[k] * bands[k] / 10000 for k in w)
    with np.errstate(invalid="ignore"):  # 0/0 at the nodata pixel: NaN, and the mask says 255 there anyway
        want = {
            "WATER_NDWI": (bands["B03"] - bands["B08"]) / (bands["B03"] + bands["B08"]) > 0.1,
            "WATER_MNDWI": (bands["B03"] - bands["B11"]) / (bands["B03"] + bands["B11"]) > -0.1,
            "WET_NDMI": (bands["B8A"] - bands["B11"]) / (bands["B8A"] + bands["B11"]) > 0.05,
            "WET_TCW": tcw > -0.02,
        }
    assert list(masks) == list(want)
    for name, flag in want.items():
        assert np.array_equal(masks[name], np.where(ok, flag.astype("uint8"), 255)), name
        assert 0 < (masks[name] == 1).sum() < ok.sum()  # the thresholds split the pixels: a real test
    # re-run: nothing new; masks on the 60 m grid are another output
    assert [o.status for o in run_masks(l2c, out).outcomes] == ["skipped"]
    res60 = run_masks(l2c, out, MaskOptions(resolution=60))
    assert [o.status for o in res60.outcomes] == ["done"]


def test_masks_cli_and_bad_input(tmp_path):
    src, l2c, out = tmp_path / "l2b", tmp_path / "l2c", tmp_path / "masks"
    write_l2b(src, res=20, shape=(6, 6))
    run_aggregate(src, l2c)
    runner = CliRunner()
    res = runner.invoke(masks_cmd, ["-i", str(l2c), "-o", str(out), "--resolution", "10", "--no-progress"])
    assert res.exit_code == 0 and "no 10 m L2C of this scene (has 20 m)" in res.output
    res = runner.invoke(masks_cmd, ["-i", str(l2c), "-o", str(out), "--mndwi", "0.2", "--mask", "WATER_MNDWI",
                                    "--mask", "WET_NDMI", "--no-progress"])
    assert res.exit_code == 0, res.output
    meta = json.loads((out / "S2A_MSIL2C_20210415T101021_R022_20m_3035_MASKS.json").read_text())
    assert meta["bands"] == ["WATER_MNDWI", "WET_NDMI"] and meta["thresholds"]["mndwi"] == 0.2
    (l2c / "S2A_MSIL2C_20210415T101021_R022_20m_3035_CLOUDMASK.tif").unlink()
    (out / "S2A_MSIL2C_20210415T101021_R022_20m_3035_MASKS.tif").unlink()
    res = runner.invoke(masks_cmd, ["-i", str(l2c), "-o", str(out), "--no-progress"])
    assert res.exit_code == 1 and "CLOUDMASK.tif is missing" in res.output
    res = runner.invoke(masks_cmd, ["-i", str(tmp_path / "none"), "-o", str(out)])
    assert res.exit_code == 2 and "does not exist" in res.output
