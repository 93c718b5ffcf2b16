"""Pass mosaics checked pixel by pixel against the source granules with numpy."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import rasterio

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from l2b_gen import write_l2b

from petacube.sagris.aggregate import AggregateOptions, run_aggregate

RES = 20
LEFT, TOP = 4_000_000.0, 3_000_000.0
STEM = "S2A_MSIL2C_20210415T101021_R022_20m_3035"


def _granule_arrays(seed, shape, nodata_corner):
    """Random reflectances with a nodata swath edge and random clouds (and some mask nodata)."""
    rng = np.random.default_rng(seed)
    data = rng.integers(1, 10000, size=(9, *shape)).astype("uint16")
    rows, cols = np.indices(shape)
    edge = {"ne": cols - rows > shape[1] - 12, "sw": rows - cols > shape[0] - 14, None: np.zeros(shape, bool)}[nodata_corner]
    data[:, edge] = 0
    cloud = rng.choice([0, 0, 0, 1, 2, 3], size=shape).astype("uint8")
    cloud[edge] = 255
    cloud[rng.random(shape) < 0.02] = 255  # mask nodata inside the swath: not valid either
    return data, cloud


@pytest.fixture
def three_granules(tmp_path):
    """Three overlapping granules of one pass (tiles sort UUN < UUP < UVP) + one of another pass."""
    src = tmp_path / "l2b"
    specs = [("33UUP", LEFT, TOP, (40, 50), "ne"), ("33UVP", LEFT + 40 * RES, TOP - 4 * RES, (40, 50), "sw"),
             ("33UUN", LEFT + 20 * RES, TOP - 30 * RES, (36, 44), None)]
    granules = []
    for k, (tile, left, top, shape, corner) in enumerate(specs):
        data, cloud = _granule_arrays(k, shape, corner)
        granules.append(write_l2b(src, tile=tile, left=left, top=top, shape=shape, data=data, cloud=cloud))
    other = write_l2b(src, satellite="S2B", sensing="20210418T101559", orbit=65, left=LEFT, top=TOP, seed=9)
    # a native-UTM zip of the same pass must be ignored
    (src / "S2A_MSIL2B_20210415T101021_N0300_R022_T33UUP_20210415T130000_20m.zip").write_bytes(b"not for us")
    return src, granules, other


def expected_mosaic(granules, left, top, width, height):
    """The documented rule, computed independently: valid beats nodata, clear beats cloudy,
    then tile id order; returns (data, cloud, owner index or -1)."""
    data = np.zeros((9, height, width), "uint16")
    cloud = np.full((height, width), 255, "uint8")
    owner = np.full((height, width), -1)
    best = np.full((height, width), 9)
    order = sorted(range(len(granules)), key=lambda i: granules[i].path.name.split("_T")[1])
    for i in order:
        g = granules[i]
        r0 = round((top - g.transform.f) / RES)
        c0 = round((g.transform.c - left) / RES)
        h, w = g.cloud.shape
        valid = (g.cloud != 255) & (g.data != 0).any(axis=0)
        score = np.where(valid, (g.cloud != 0).astype(int), 9)
        sub = best[r0:r0 + h, c0:c0 + w]
        take = score < sub
        sub[take] = score[take]
        data[:, r0:r0 + h, c0:c0 + w][:, take] = g.data[:, take]
        cloud[r0:r0 + h, c0:c0 + w][take] = g.cloud[take]
        owner[r0:r0 + h, c0:c0 + w][take] = i
    return data, cloud, owner


def read(path):
    with rasterio.open(path) as ds:
        return ds.read(), ds.transform, ds.descriptions, ds.tags(), ds.crs


def test_seams_no_gap_no_double_count_cloud_free_wins(tmp_path, three_granules):
    src, granules, _other = three_granules
    out = tmp_path / "l2c"
    result = run_aggregate(src, out, AggregateOptions(block=16), progress=None)
    assert result.count("failed") == 0, result.outcomes
    assert sorted(o.product for o in result.outcomes if o.status == "done") == [
        STEM, "S2B_MSIL2C_20210418T101559_R065_20m_3035"]
    data, transform, names, tags, crs = read(out / f"{STEM}.tif")
    cm, _, _, _, _ = read(out / f"{STEM}_CLOUDMASK.tif")
    assert crs.to_epsg() == 3035 and names == tuple(granules[0].bands)
    # union of the three footprints: x 4000000 .. 4000000+90*20, y from TOP down to TOP-66*20
    assert (transform.c, transform.f, transform.a) == (LEFT, TOP, RES)
    assert data.shape == (9, 66, 90)
    want, want_cloud, owner = expected_mosaic(granules, LEFT, TOP, 90, 66)
    assert np.array_equal(data, want)
    assert np.array_equal(cm[0], want_cloud)
    # no gap: wherever any granule has a valid pixel, the output has one
    assert ((data != 0).any(axis=0) == (owner >= 0)).all()
    # every output pixel is exactly one source pixel (all bands from the same granule)
    for i, g in enumerate(granules):
        r0, c0 = int((TOP - g.transform.f) / RES), int((g.transform.c - LEFT) / RES)
        h, w = g.cloud.shape
        mine = owner[r0:r0 + h, c0:c0 + w] == i
        assert np.array_equal(data[:, r0:r0 + h, c0:c0 + w][:, mine], g.data[:, mine])
    meta = json.loads((out / f"{STEM}.json").read_text())
    counts = meta["pixels_per_granule"]
    assert sum(counts.values()) == int((owner >= 0).sum())  # no pixel counted twice
    for i, g in enumerate(granules):
        assert counts[g.path.name] == int((owner == i).sum())
    assert meta["source_granules"] == sorted(g.path.name for g in granules)
    assert meta["bands"] == granules[0].bands and meta["acquisition_time"] == "2021-04-15T10:10:21Z"
    assert tags["TIFFTAG_DATETIME"] == "2021:04:15 10:10:21"
    assert set(tags["SOURCE_GRANULES"].split(",")) == {g.path.name for g in granules}


def test_overlap_prefers_the_cloud_free_granule(tmp_path):
    src = tmp_path / "l2b"
    shape = (10, 10)
    a = write_l2b(src, tile="33UUP", left=LEFT, top=TOP, shape=shape, seed=1,
                  cloud=np.ones(shape, "uint8"))  # all cloud; first by tile order
    b = write_l2b(src, tile="33UVP", left=LEFT + 5 * RES, top=TOP, shape=shape, seed=2,
                  cloud=np.zeros(shape, "uint8"))
    out = tmp_path / "out"
    run_aggregate(src, out)
    data, *_ = read(out / f"{STEM}.tif")
    cm, *_ = read(out / f"{STEM}_CLOUDMASK.tif")
    assert np.array_equal(data[:, :, :5], a.data[:, :, :5])  # only A there, cloudy but valid
    assert np.array_equal(data[:, :, 5:], b.data)  # overlap: clear B wins over first-in-order A
    assert (cm[0, :, :5] == 1).all() and (cm[0, :, 5:] == 0).all()
    # when both are clear the lower tile id wins the overlap
    write_l2b(src, tile="33UUP", left=LEFT, top=TOP, shape=shape, seed=1, sensing="20210425T101021")
    write_l2b(src, tile="33UVP", left=LEFT + 5 * RES, top=TOP, shape=shape, seed=2, sensing="20210425T101021")
    run_aggregate(src, out)
    data2, *_ = read(out / "S2A_MSIL2C_20210425T101021_R022_20m_3035.tif")
    assert np.array_equal(data2[:, :, :10], a.data)
    assert np.array_equal(data2[:, :, 10:], b.data[:, :, 5:])


def test_unaligned_granule_is_resampled_nearest(tmp_path):
    src = tmp_path / "l2b"
    a = write_l2b(src, tile="33UUP", left=LEFT, top=TOP, shape=(10, 10), seed=1)
    # 33UVP sits 7 m east of the lattice: nearest neighbour, never a new value
    b = write_l2b(src, tile="33UVP", left=LEFT + 200 + 7, top=TOP, shape=(10, 10), seed=2)
    out = tmp_path / "out"
    run_aggregate(src, out)
    data, _transform, *_ = read(out / f"{STEM}.tif")
    assert data.shape == (9, 10, 21)
    assert np.array_equal(data[:, :, :10], a.data)
    # output col 10..20 centre x = LEFT + (c + 0.5) * 20; B's column = floor((x - B.left) / 20)
    for c in range(10, 21):
        x = LEFT + (c + 0.5) * RES
        bc = int(np.floor((x - (LEFT + 207)) / RES))
        if 0 <= bc < 10:
            assert np.array_equal(data[:, :, c], b.data[:, :, bc]), c
        else:
            assert (data[:, :, c] == 0).all()


def test_duplicate_processing_of_a_tile_keeps_the_newest(tmp_path):
    src = tmp_path / "l2b"
    write_l2b(src, baseline="0300", discriminator="20210415T130000", seed=1, shape=(8, 8))
    new = write_l2b(src, baseline="0400", discriminator="20220101T000000", seed=2, shape=(8, 8))
    out = tmp_path / "out"
    result = run_aggregate(src, out)
    skipped = [o for o in result.outcomes if o.status == "skipped"]
    assert [o.product for o in skipped] == ["S2A_MSIL2B_20210415T101021_N0300_R022_T33UUP_20210415T130000_20m_3035.zip"]
    data, *_ = read(out / f"{STEM}.tif")
    assert np.array_equal(data, new.data)
    meta = json.loads((out / f"{STEM}.json").read_text())
    assert meta["superseded_granules"] == [skipped[0].product]
