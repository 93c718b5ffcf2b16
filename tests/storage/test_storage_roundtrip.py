"""Writing and reading tiles: dtypes, regions across tiles, slots, growth, transactions."""

from __future__ import annotations

import numpy as np
import pytest
import zarr

from petacube.errors import InvalidParameterValue, InvalidSubsetting, NoSuchCoverage, StorageError
from petacube.model import Band, NilValue
from petacube.storage import TileStore

TILE = (1, 32, 32)


def _random(shape, dtype, seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        data = rng.normal(100, 30, shape).astype(dtype)
        data[0, 0, :5] = np.nan
        return data
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, shape, endpoint=True).astype(dtype)


def _everything(shape):
    return tuple(slice(0, n) for n in shape)


@pytest.mark.parametrize("dtype", ["uint8", "int16", "uint16", "float32", "float64"])
def test_roundtrip_across_tiles(store, make_coverage, dtype):
    cov = make_coverage(bands=(Band("v", dtype),), tile=TILE)  # 3 x 70 x 90: partial edge tiles
    data = _random(cov.storage_shape, dtype)
    with store.transaction("write") as tx:
        tx.ensure_coverage(cov)
        tx.write(cov, "v", _everything(cov.storage_shape), data)
    np.testing.assert_array_equal(store.read(cov, "v", _everything(cov.storage_shape)), data)
    region = (slice(1, 3), slice(20, 50), slice(30, 75))  # straddles 2x3 tiles per date
    got = store.read(cov, "v", region)
    assert got.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(got, data[1:3, 20:50, 30:75])
    np.testing.assert_array_equal(store.read(cov, "v", (slice(2, 3), slice(69, 70), slice(89, 90))), data[2:, 69:, 89:])


def test_partial_writes_and_unwritten_cells_hold_the_fill_value(store, make_coverage):
    cov = make_coverage(bands=(Band("b", "int16", (NilValue(-9999),)),), tile=TILE)
    patch = _random((1, 25, 40), "int16", seed=3)
    with store.transaction("patch") as tx:
        tx.ensure_coverage(cov)
        tx.write(cov, "b", (slice(1, 2), slice(10, 35), slice(20, 60)), patch)
    expected = np.full(cov.storage_shape, -9999, dtype="int16")
    expected[1:2, 10:35, 20:60] = patch
    np.testing.assert_array_equal(store.read(cov, "b", _everything(cov.storage_shape)), expected)


def test_write_bands_and_read_bands(store, make_coverage):
    bands = (Band("red", "uint16"), Band("nir", "uint16"), Band("ndvi", "float32"))
    cov = make_coverage(bands=bands, tile=TILE)
    data = {b.name: _random(cov.storage_shape, b.dtype, seed=i) for i, b in enumerate(bands)}
    with store.transaction("bands") as tx:
        tx.ensure_coverage(cov)
        tx.write_bands(cov, _everything(cov.storage_shape), data)
    got = store.read_bands(cov, ["ndvi", "red"], (slice(0, 2), slice(5, 66), slice(0, 90)))
    assert list(got) == ["ndvi", "red"]
    for name in got:
        np.testing.assert_array_equal(got[name], data[name][0:2, 5:66, 0:90])


def test_slot_lists_sorted_unsorted_repeated(store, make_coverage):
    cov = make_coverage(nt=5, tile=TILE)
    data = _random(cov.storage_shape, "uint16")
    with store.transaction("w") as tx:
        tx.ensure_coverage(cov)
        tx.write(cov, "b", _everything(cov.storage_shape), data)
    for slots in ([0, 1, 2], [4, 0, 2], [3, 3, 1, 3], [2], []):
        got = store.read(cov, "b", (slots, slice(10, 60), slice(31, 33)))
        np.testing.assert_array_equal(got, data[slots, 10:60, 31:33])
    # index lists work on spatial axes too
    got = store.read(cov, "b", ([1, 4], [69, 0, 33], slice(0, 90)))
    np.testing.assert_array_equal(got, data[np.ix_([1, 4], [69, 0, 33], np.arange(90))])


def test_growth_along_time_and_x(store, make_coverage):
    cov = make_coverage(nt=2, nx=50, tile=TILE)
    first = _random(cov.storage_shape, "uint16", seed=1)
    with store.transaction("first") as tx:
        tx.ensure_coverage(cov)
        tx.write(cov, "b", _everything(cov.storage_shape), first)
    bigger = make_coverage(nt=4, nx=80, tile=TILE)
    later = _random((2, 70, 80), "uint16", seed=2)
    with store.transaction("grow") as tx:
        tx.ensure_coverage(bigger)
        tx.write(bigger, "b", (slice(2, 4), slice(0, 70), slice(0, 80)), later)
    expected = np.zeros(bigger.storage_shape, dtype="uint16")  # null 0 is the fill value
    expected[:2, :, :50] = first
    expected[2:] = later
    np.testing.assert_array_equal(store.read(bigger, "b", _everything(bigger.storage_shape)), expected)
    with store.transaction("never shrink") as tx:
        tx.ensure_coverage(cov)
    np.testing.assert_array_equal(store.read(bigger, "b", _everything(bigger.storage_shape)), expected)


def test_failed_transaction_leaves_nothing_visible(tmp_path, store, make_coverage):
    cov = make_coverage(tile=TILE)
    with pytest.raises(RuntimeError):
        with store.transaction("doomed") as tx:
            tx.ensure_coverage(cov)
            tx.write(cov, "b", _everything(cov.storage_shape), _random(cov.storage_shape, "uint16"))
            raise RuntimeError("boom")
    assert not store.has_coverage(cov.id)
    data = _random(cov.storage_shape, "uint16", seed=5)
    with store.transaction("good") as tx:
        tx.ensure_coverage(cov)
        tx.write(cov, "b", _everything(cov.storage_shape), data)
    with pytest.raises(ValueError):
        with store.transaction("doomed update") as tx:
            tx.write(cov, "b", (slice(0, 1), slice(0, 70), slice(0, 90)), np.ones((1, 70, 90), "uint16"))
            raise ValueError("boom")
    with TileStore(tmp_path / "tiles", threads=1) as other:  # a fresh reader agrees
        np.testing.assert_array_equal(other.read(cov, "b", _everything(cov.storage_shape)), data)


def test_readers_see_only_committed_data(store, make_coverage):
    cov = make_coverage(tile=TILE)
    with store.transaction("create") as tx:
        tx.ensure_coverage(cov)
    data = _random(cov.storage_shape, "uint16")
    with store.transaction("write") as tx:
        tx.write(cov, "b", _everything(cov.storage_shape), data)
        np.testing.assert_array_equal(tx.read(cov, "b", _everything(cov.storage_shape)), data)
        assert not store.read(cov, "b", _everything(cov.storage_shape)).any()
    np.testing.assert_array_equal(store.read(cov, "b", _everything(cov.storage_shape)), data)
    with pytest.raises(StorageError):
        tx.write(cov, "b", _everything(cov.storage_shape), data)


def test_errors(store, make_coverage):
    cov = make_coverage(tile=TILE, pyramid=((1, 2, 2),))
    with pytest.raises(NoSuchCoverage):
        store.read(cov, "b", _everything(cov.storage_shape))
    with store.transaction("create") as tx:
        tx.ensure_coverage(cov)
        with pytest.raises(InvalidParameterValue):
            tx.write(cov, "b", _everything(cov.storage_shape), np.zeros((1, 2, 3), "uint16"))
    with pytest.raises(InvalidParameterValue, match="no band 'nope'"):
        store.read(cov, "nope", _everything(cov.storage_shape))
    with pytest.raises(InvalidParameterValue, match="no level 2"):
        store.read(cov, "b", _everything(cov.storage_shape), level=2)
    with pytest.raises(InvalidSubsetting):
        store.read(cov, "b", (slice(0, 1), slice(0, 71), slice(0, 90)))
    with pytest.raises(InvalidSubsetting):
        store.read(cov, "b", ([3], slice(0, 70), slice(0, 90)))
    bad = make_coverage(cov_id="bad", bands=(Band("level_1", "uint8"),))
    with pytest.raises(InvalidParameterValue, match="reserved"):
        with store.transaction("bad") as tx:
            tx.ensure_coverage(bad)


def test_delete_size_and_has_coverage(tmp_path, store, make_coverage):
    cov = make_coverage(tile=TILE)
    data = _random(cov.storage_shape, "uint16")
    with store.transaction("create") as tx:
        tx.ensure_coverage(cov)
        tx.write(cov, "b", _everything(cov.storage_shape), data)
    assert store.has_coverage(cov.id)
    # one coverage, written once: its chunks are all the repository holds (small chunks are
    # inlined in manifests, the others are files)
    stats = store.repository.chunk_storage_stats()
    assert store.size_on_disk(cov.id) == stats.native_bytes + stats.inlined_bytes
    chunk_files = sum(p.stat().st_size for p in (tmp_path / "tiles" / "chunks").rglob("*") if p.is_file())
    assert chunk_files == stats.native_bytes
    assert 0 < store.size_on_disk(cov.id) <= data.nbytes * 1.1
    with store.transaction("delete") as tx:
        tx.delete_coverage(cov.id)
    assert not store.has_coverage(cov.id)
    with pytest.raises(NoSuchCoverage):
        store.read(cov, "b", _everything(cov.storage_shape))
    with pytest.raises(NoSuchCoverage):
        store.size_on_disk(cov.id)


def test_ensure_coverage_changes_only_what_differs(store, make_coverage):
    cov = make_coverage(tile=TILE, pyramid=((1, 2, 2),))
    with store.transaction("create") as tx:
        tx.ensure_coverage(cov)
    before = store.snapshot_id()
    with store.transaction("same again") as tx:
        tx.ensure_coverage(cov)  # nothing to change, so nothing to commit (and nothing to conflict)
    assert store.snapshot_id() == before
    more = make_coverage(
        tile=TILE, pyramid=((1, 4, 4), (1, 8, 8)), bands=(cov.bands[0], Band("extra", "float32"))
    )
    with store.transaction("new band, new levels") as tx:
        tx.ensure_coverage(more)
    assert store.read(more, "extra", _everything((3, 70, 90))).shape == (3, 70, 90)
    assert store.read(more, "b", _everything((3, 18, 23)), level=1).shape == (3, 18, 23)  # ceil(70/4), ceil(90/4)
    assert store.read(more, "extra", _everything((3, 9, 12)), level=2).shape == (3, 9, 12)
    snapshot = store.repository.readonly_session(branch="main").store
    group = zarr.open_group(snapshot, path="coverages/cov", mode="r")
    levels = group.attrs["multiscales"][0]["datasets"]
    assert [d["factors"] for d in levels] == [[1, 1, 1], [1, 4, 4], [1, 8, 8]]
    assert group.attrs["petacube"]["bands"] == ["b", "extra"]
    with store.transaction("no pyramid") as tx:
        tx.ensure_coverage(make_coverage(tile=TILE, bands=more.bands))
    snapshot = store.repository.readonly_session(branch="main").store
    assert list(zarr.open_group(snapshot, path="coverages/cov", mode="r").group_keys()) == []


def test_a_directory_holding_something_else_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr("petacube.storage.tile_store.CREATE_ATTEMPTS", 1)
    (tmp_path / "notes.txt").write_text("not a tile store")
    with pytest.raises(StorageError, match="cannot open the tile store"):
        TileStore(tmp_path)
