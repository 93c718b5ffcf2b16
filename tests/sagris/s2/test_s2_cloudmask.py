"""The aggressive cloud/shadow mask on scenes with known clouds (counts computed independently)."""

from __future__ import annotations

import math

import numpy as np
import rasterio
from shared_data import SHARED_DATA

from petacube.sagris.s2.cloudmask import (
    CloudMaskOptions,
    cloud_mask,
    mask_to_resolution,
)

BARBELLINO = SHARED_DATA / "s2_toa_boa_scl_barbellino_sen2r"


def scene():
    scl = np.full((200, 200), 4, np.uint8)
    scl[50:60, 100:110] = 9  # 100 px cloud high
    scl[150:160, 20:30] = 10  # 100 px cirrus
    scl[5:10, 5:10] = 3  # 25 px SCL shadow
    scl[190:, :] = 0  # 2000 px nodata
    return scl


def test_percentages_without_buffer_or_projection():
    scl = scene()
    opts = CloudMaskOptions(cloud_heights_m=(), buffer_m=0)
    m = cloud_mask(scl, scl != 0, res=20, sun_zenith=40, sun_azimuth=150, options=opts)
    counts = {v: int((m == v).sum()) for v in (0, 1, 2, 3, 255)}
    assert counts == {1: 100, 3: 100, 2: 25, 255: 2000, 0: 40000 - 2225}
    assert 100 * counts[1] / (40000 - 2000) == 100 / 380  # cloud percentage of valid pixels


def test_cloud_probability_and_buffer():
    scl = np.full((100, 100), 4, np.uint8)
    prob = np.zeros((100, 100), np.uint8)
    prob[50, 50] = 30  # above the 20 % default
    prob[10, 10] = 15  # below
    m = cloud_mask(scl, scl != 0, res=20, sun_zenith=0.0, sun_azimuth=0, cloud_probability=prob,
                   options=CloudMaskOptions(cloud_heights_m=(), buffer_m=60))
    yy, xx = np.mgrid[0:100, 0:100]
    disk = (yy - 50) ** 2 + (xx - 50) ** 2 <= 9  # 60 m / 20 m = 3 px radius, by hand
    np.testing.assert_array_equal(m == 1, disk)


def test_shadow_projected_away_from_the_sun():
    # sun in the south-east (azimuth 135°), zenith 45°: a cloud at h metres shadows h metres to the
    # north-west in each of x and y by h·tan(45°)/√2 → rows up and columns left.
    scl = np.full((300, 300), 4, np.uint8)
    scl[200:210, 200:210] = 8
    opts = CloudMaskOptions(cloud_heights_m=(1000.0, 2000.0), buffer_m=0, shadow_nir_max=None)
    m = cloud_mask(scl, scl != 0, res=20, sun_zenith=45, sun_azimuth=135, options=opts)
    d_lo = round(1000 / math.sqrt(2) / 20)  # 35 px
    d_hi = round(2000 / math.sqrt(2) / 20)  # 71 px
    shadow = m == 2
    # the shadow of the cloud at each sampled height, on the 60 m working grid (±3 px)
    assert shadow[200 - d_lo + 5, 200 - d_lo + 5] and shadow[200 - d_hi + 5, 200 - d_hi + 5]
    assert not shadow[200 + d_lo, 200 + d_lo]  # nothing on the sun side
    rows, cols = np.nonzero(shadow)
    assert rows.min() >= 200 - d_hi - 3 and cols.min() >= 200 - d_hi - 3 and rows.max() < 210 + 3
    # a dark-NIR condition removes shadow from bright pixels
    nir = np.full((300, 300), 0.4, np.float32)
    nir[:150, :] = 0.1
    m2 = cloud_mask(scl, scl != 0, res=20, sun_zenith=45, sun_azimuth=135, nir_reflectance=nir,
                    options=CloudMaskOptions(cloud_heights_m=(1000.0, 2000.0), buffer_m=0))
    assert ((m2 == 2) == (shadow & (nir < 0.25))).all()


def test_mask_to_coarser_grid_keeps_worst_class():
    m = np.array([[0, 0, 2, 0, 255, 255], [0, 0, 0, 3, 255, 1], [0, 0, 0, 0, 255, 255],
                  [255] * 6, [255] * 6, [255] * 6], np.uint8)
    assert mask_to_resolution(m, factor_down=3).tolist() == [[2, 1], [255, 255]]


def test_real_barbellino_scl_classes():
    """The real sen2cor SCL crop: mask classes equal the SCL classes when no buffer/projection is used."""
    with rasterio.open(BARBELLINO / "S2A2A_20170703_022_Barbellino_SCL_10.tif") as ds:
        scl = ds.read(1)
    opts = CloudMaskOptions(cloud_heights_m=(), buffer_m=0)
    m = cloud_mask(scl, scl != 0, res=20, sun_zenith=30, sun_azimuth=150, options=opts)
    assert int((m == 1).sum()) == int(np.isin(scl, (8, 9)).sum())
    assert int((m == 3).sum()) == int((scl == 10).sum())
    assert int((m == 2).sum()) == int((scl == 3).sum())
    assert int((m == 255).sum()) == int((scl == 0).sum())
