"""DN → reflectance × 10000 from the product's own metadata, per processing baseline (hand values)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from safe_gen import L1C_0301, L2A_0212, L2A_0400, L2A_0509, META

from petacube.sagris.s2.bands import scale_to_reflectance
from petacube.sagris.s2.metadata import read_metadata
from petacube.sagris.s2.product import SafeProduct


def meta_of(name):
    return read_metadata(SafeProduct(META / f"{name}.SAFE"))


@pytest.mark.parametrize("name, offset", [(L2A_0212, 0.0), (L2A_0400, -1000.0), (L2A_0509, -1000.0)])
def test_real_metadata_offsets(name, offset):
    m = meta_of(name)
    assert m.quantification == 10000.0
    assert all(m.offset(b) == offset for b in ("B01", "B02", "B8A", "B12"))


def test_real_metadata_facts():
    m = meta_of(L2A_0509)
    assert (m.processing_baseline, m.relative_orbit, m.tile, m.epsg) == ("05.09", 73, "01WCP", 32601)
    assert m.sizes == {10: (10980, 10980), 20: (5490, 5490), 60: (1830, 1830)}
    assert (m.ulx, m.uly) == (300000.0, 7400040.0)
    assert m.sun_zenith == pytest.approx(42.8949736512547) and m.sun_azimuth == pytest.approx(174.705217601066)
    assert m.datatake_sensing_time == "2023-06-25T23:46:21.024Z"
    l1c = meta_of(L1C_0301)
    assert l1c.level == "L1C" and l1c.quantification == 10000.0 and l1c.add_offset == {}
    assert l1c.extra["solar_irradiance"]["B02"] > 1800


def test_hand_computed_dn_to_reflectance():
    dn = np.array([0, 1, 999, 1000, 1001, 1500, 2345, 65535], np.uint16)
    old = meta_of(L2A_0212)  # 02.12: reflectance = DN / 10000
    new = meta_of(L2A_0509)  # 05.09: reflectance = (DN - 1000) / 10000
    got_old = scale_to_reflectance(dn, old.offset("B04"), old.quantification)
    got_new = scale_to_reflectance(dn, new.offset("B04"), new.quantification)
    # by hand: ×10000 output; 0 stays nodata, 65535 stays saturated, valid values never drop to 0
    assert got_old.tolist() == [0, 1, 999, 1000, 1001, 1500, 2345, 65535]
    assert got_new.tolist() == [0, 1, 1, 1, 1, 500, 1345, 65535]
    # the same surface (reflectance 0.05) seen by both baselines gives the same output
    assert scale_to_reflectance(np.array([500]), 0, 10000)[0] == scale_to_reflectance(np.array([1500]), -1000, 10000)[0]
    # a different quantification (hypothetical product): 2000 DN at Q=20000 is reflectance 0.1
    assert scale_to_reflectance(np.array([2000], np.uint16), 0, 20000)[0] == 1000
