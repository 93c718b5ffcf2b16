"""Registered (in-situ) reads against rasterio reads of the source GeoTIFFs."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from affine import Affine

from petacube.errors import SourceFileError
from petacube.storage import FileReference, read_registered


def _geotiff(path, height, width, seed, count=1, dtype="uint16"):
    rng = np.random.default_rng(seed)
    data = rng.integers(1, 10000, (count, height, width)).astype(dtype)
    profile = dict(
        driver="GTiff", height=height, width=width, count=count, dtype=dtype, crs="EPSG:32633",
        transform=Affine(10, 0, 500000, 0, -10, 4000000), tiled=True, blockxsize=16, blockysize=16,
    )
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(data)
    return str(path)


def _full(path, band=1):
    with rasterio.open(path) as ds:
        return ds.read(band)


@pytest.fixture
def mosaic(tmp_path):
    """Three files in a (time, y, x) grid: two side by side at slot 0, one at slot 1."""
    a = _geotiff(tmp_path / "a.tif", 40, 50, seed=1)
    b = _geotiff(tmp_path / "b.tif", 30, 45, seed=2, count=2)
    c = _geotiff(tmp_path / "c.tif", 40, 50, seed=3)
    refs = [
        FileReference(a, 1, (0, 0, 0), (1, 40, 50)),
        FileReference(b, 2, (0, 10, 50), (1, 30, 45)),
        FileReference(c, 1, (1, 5, 20), (1, 40, 50)),
    ]
    return refs


def _expected(refs, region, fill):
    """Paste whole-file rasterio reads into the full grid, then cut the region."""
    shape = tuple(s.stop for s in region)
    grid = np.full(shape, fill, dtype="uint16")
    for ref in refs:
        full = _full(ref.path, ref.band_index)
        t, y, x = ref.offset
        h = max(0, min(full.shape[0], shape[1] - y))
        w = max(0, min(full.shape[1], shape[2] - x))
        if t < shape[0]:
            grid[t, y:y + h, x:x + w] = full[:h, :w]
    return grid[tuple(slice(s.start, s.stop) for s in region)]


def test_region_straddling_several_files(mosaic):
    region = (slice(0, 2), slice(5, 38), slice(30, 80))
    got = read_registered(mosaic, region, "uint16", 0)
    np.testing.assert_array_equal(got, _expected(mosaic, region, 0))


def test_later_reference_wins_where_files_overlap(tmp_path, mosaic):
    over = _geotiff(tmp_path / "over.tif", 20, 20, seed=9)
    refs = [*mosaic, FileReference(over, 1, (0, 30, 40), (1, 20, 20))]
    region = (slice(0, 1), slice(25, 45), slice(35, 65))
    got = read_registered(refs, region, "uint16", 0)
    np.testing.assert_array_equal(got, _expected(refs, region, 0))
    np.testing.assert_array_equal(got[0, 5:, 5:25], _full(over)[:15, :20])


def test_whole_grid_and_fill_where_no_file(mosaic):
    region = (slice(0, 2), slice(0, 45), slice(0, 95))
    got = read_registered(mosaic, region, "uint16", 65535, threads=2)
    expected = _expected(mosaic, region, 65535)
    np.testing.assert_array_equal(got, expected)
    assert (got[0, 40:, :50] == 65535).all()


def test_dtype_conversion_and_region_outside_every_file(mosaic):
    got = read_registered(mosaic, (slice(1, 2), slice(0, 5), slice(0, 20)), "float32", -1.0)
    assert got.dtype == np.float32 and (got == -1).all()
    region = (slice(0, 1), slice(12, 20), slice(48, 52))
    got = read_registered(mosaic, region, "float32", -1.0)
    np.testing.assert_array_equal(got, _expected(mosaic, region, 0).astype("float32"))


def test_missing_file_names_it(tmp_path, mosaic):
    gone = FileReference(str(tmp_path / "gone.tif"), 1, (0, 0, 0), (1, 40, 50))
    with pytest.raises(SourceFileError, match="gone.tif"):
        read_registered([*mosaic, gone], (slice(0, 1), slice(0, 10), slice(0, 10)), "uint16", 0)
    # a reference outside the region is not opened at all
    far = FileReference(str(tmp_path / "gone.tif"), 1, (0, 500, 500), (1, 40, 50))
    read_registered([far], (slice(0, 1), slice(0, 10), slice(0, 10)), "uint16", 0)


def test_changed_file_and_bad_band_are_reported(mosaic):
    resized = FileReference(mosaic[0].path, 1, (0, 0, 0), (1, 41, 50))
    with pytest.raises(SourceFileError, match="changed since it was registered"):
        read_registered([resized], (slice(0, 1), slice(0, 10), slice(0, 10)), "uint16", 0)
    band3 = FileReference(mosaic[1].path, 3, (0, 10, 50), (1, 30, 45))
    with pytest.raises(SourceFileError, match="band 3"):
        read_registered([band3], (slice(0, 1), slice(10, 20), slice(50, 60)), "uint16", 0)
