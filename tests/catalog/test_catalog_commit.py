"""Commits: versions, optimistic locking, atomicity, deletion, concurrent writers."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

import petacube.catalog.slices
from petacube.catalog import CatalogConflict, ImportRecord, SliceRecord
from petacube.errors import CoverageExists, InvalidParameterValue, NoSuchCoverage
from petacube.model import Coverage, IrregularAxis


def test_optimistic_lock_detects_a_concurrent_writer(open_catalog, utm_time_series):
    a, b = open_catalog(), open_catalog()
    cov = utm_time_series()
    assert a.commit(cov, expected_version=0) == 1
    assert b.version(cov.id) == 1

    axis, _ = cov.axes[0].with_coefficient(150_030.0)
    assert a.commit(cov.with_axis(axis), expected_version=1) == 2
    stale, _ = cov.axes[0].with_coefficient(150_040.0)
    with pytest.raises(CatalogConflict) as info:
        b.commit(cov.with_axis(stale), expected_version=1,
                 new_slices=[SliceRecord("late.tif", ((3, 4), (0, 1098), (0, 1098)))])
    assert info.value.status == 409 and info.value.code == "NoApplicableCode"
    assert "version 2" in info.value.message and "expected 1" in info.value.message
    # b's work is not visible
    assert a.get(cov.id).axes[0].coefficients == (150_000.5, 150_010.25, 150_020.0, 150_030.0)
    assert a.slice_count(cov.id) == 0

    # reload and retry
    fresh = b.get(cov.id)
    retry, slot = fresh.axes[0].with_coefficient(150_040.0)
    assert slot == 4
    assert b.commit(fresh.with_axis(retry), expected_version=b.version(cov.id)) == 3
    assert a.get(cov.id).axes[0].coefficients[-1] == 150_040.0


def test_expected_version_zero_refuses_an_existing_coverage(catalog, utm_time_series):
    cov = utm_time_series()
    catalog.commit(cov, expected_version=0)
    with pytest.raises(CoverageExists) as info:
        catalog.commit(cov, expected_version=0)
    assert info.value.code == "DuplicatedCoverageId" and info.value.status == 409
    assert catalog.version(cov.id) == 1
    with pytest.raises(NoSuchCoverage):
        catalog.commit(utm_time_series("other"), expected_version=3)
    assert not catalog.exists("other")
    with pytest.raises(InvalidParameterValue):
        catalog.commit(cov, expected_version=-1)


def test_delete_removes_everything_of_one_coverage(catalog, sql, utm_time_series):
    keep, gone = utm_time_series("keep"), utm_time_series("gone")
    for cov in (keep, gone):
        catalog.commit(cov, new_slices=[SliceRecord("a.tif", ((0, 1), (0, 10), (0, 10)))],
                       imported=[ImportRecord("a.tif", "10:20")])
    catalog.delete("gone")
    assert catalog.coverage_ids() == ["keep"]
    assert not catalog.exists("gone")
    with pytest.raises(NoSuchCoverage):
        catalog.get("gone")
    with pytest.raises(NoSuchCoverage):
        catalog.delete("gone")
    for table, column in (("coverages", "id"), ("axes", "coverage_id"), ("bands", "coverage_id"),
                          ("axis_coefficients", "coverage_id"), ("slices", "coverage_id"),
                          ("slice_extents", "coverage_id"), ("imports", "coverage_id")):
        assert sql(f"SELECT {column}, COUNT(*) FROM {table} GROUP BY {column}") == [("keep", {
            "coverages": 1, "axes": 3, "bands": 2, "axis_coefficients": 3, "slices": 1,
            "slice_extents": 3, "imports": 1}[table])]
    assert catalog.get("keep").axes[0].coefficients == (150_000.5, 150_010.25, 150_020.0)
    # the id can be used again
    assert catalog.commit(gone, expected_version=0) == 1
    assert catalog.slice_count("gone") == 0 and catalog.imported("gone") == {}


def _grown(cov: Coverage) -> Coverage:
    axis, _ = cov.axes[0].with_coefficient(150_005.0)
    return Coverage(cov.id, cov.crs, (axis, *cov.axes[1:]), cov.bands[:1], metadata={"changed": True})


def test_failure_mid_transaction_leaves_previous_state(catalog, utm_time_series, monkeypatch):
    cov = utm_time_series()
    first = SliceRecord("first.tif", ((0, 1), (0, 1098), (0, 1098)))
    catalog.commit(cov, new_slices=[first], imported=[ImportRecord("first.tif", "1:1")])

    def explode(*args, **kwargs):
        raise RuntimeError("disk on fire")

    # axes, bands, coefficients and the version are already rewritten when slices go in
    monkeypatch.setattr(petacube.catalog.slices, "insert_slices", explode)
    with pytest.raises(RuntimeError, match="disk on fire"):
        catalog.commit(_grown(cov), new_slices=[SliceRecord("x.tif", ((3, 4), (0, 1), (0, 1)))],
                       imported=[ImportRecord("x.tif", "2:2")], shift=(2, 7))
    monkeypatch.undo()
    _assert_unchanged(catalog, cov)


def test_invalid_import_record_fails_in_the_database_and_rolls_back(catalog, utm_time_series):
    cov = utm_time_series()
    catalog.commit(cov, new_slices=[SliceRecord("first.tif", ((0, 1), (0, 1098), (0, 1098)))],
                   imported=[ImportRecord("first.tif", "1:1")])
    # import records are written last: a NULL fingerprint fails there, after everything else
    with pytest.raises(sa.exc.IntegrityError):
        catalog.commit(_grown(cov), new_slices=[SliceRecord("x.tif", ((3, 4), (0, 1), (0, 1)))],
                       imported=[ImportRecord("x.tif", None)], shift=(2, 7))
    _assert_unchanged(catalog, cov)


def test_invalid_slices_are_refused_before_writing(catalog, utm_time_series):
    cov = utm_time_series()
    catalog.commit(cov, new_slices=[SliceRecord("first.tif", ((0, 1), (0, 1098), (0, 1098)))],
                   imported=[ImportRecord("first.tif", "1:1")])
    bad = [
        (SliceRecord("2d.tif", ((0, 1), (0, 1))), "2-D region"),
        (SliceRecord("out.tif", ((3, 4), (0, 1), (0, 1))), "outside its storage extent 0:3"),
        (SliceRecord("neg.tif", ((0, 1), (-1, 1), (0, 1))), "outside"),
        (SliceRecord("b.tif", ((0, 1), (0, 1), (0, 1)), True, (1,)), "band_indices"),
        (SliceRecord("b0.tif", ((0, 1), (0, 1), (0, 1)), True, (0, 1)), "1-based"),
        (SliceRecord("m.tif", ((0, 1), (0, 1), (0, 1)), metadata={"x": {1}}), "metadata"),
        (SliceRecord("", ((0, 1), (0, 1), (0, 1))), "needs a source path"),
    ]
    for record, message in bad:
        with pytest.raises(InvalidParameterValue, match=message):
            catalog.commit(cov, new_slices=[record])
    with pytest.raises(InvalidParameterValue, match="lo 5 above hi 2"):
        SliceRecord("r.tif", ((5, 2),))
    with pytest.raises(InvalidParameterValue, match="lo 5 equal to hi 5"):
        SliceRecord("r.tif", ((5, 5),))
    with pytest.raises(InvalidParameterValue, match="shift axis 3"):
        catalog.commit(cov, shift=(3, 1))
    with pytest.raises(InvalidParameterValue, match="irregular"):
        catalog.commit(cov, shift=(0, 1))
    _assert_unchanged(catalog, cov)


def _assert_unchanged(catalog, cov: Coverage) -> None:
    got = catalog.get(cov.id)
    assert catalog.version(cov.id) == 1
    assert got.axes == cov.axes
    assert [b.name for b in got.bands] == ["B04", "ndvi"]
    assert got.metadata == cov.metadata
    assert [(s.path, s.region) for s in catalog.slices(cov.id)] == [
        ("first.tif", ((0, 1), (0, 1098), (0, 1098)))]
    assert catalog.imported(cov.id) == {"first.tif": ImportRecord("first.tif", "1:1", "done")}


def test_concurrent_writers_queue_and_every_commit_counts(open_catalog, utm_time_series):
    """Writers in several threads, each with its own Catalog (own connections)."""
    cov = utm_time_series()
    open_catalog().commit(cov)
    writers, commits = 6, 5
    catalogs = [open_catalog() for _ in range(writers)]
    errors: list[BaseException] = []

    def write(k: int) -> None:
        try:
            for i in range(commits):
                catalogs[k].commit(cov, new_slices=[SliceRecord(f"w{k}-{i}.tif", ((k % 3, k % 3 + 1), (0, 1), (0, 1)))],
                                   imported=[ImportRecord(f"w{k}-{i}.tif", f"{k}:{i}")])
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(k,)) for k in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    reader = open_catalog()
    assert reader.version(cov.id) == 1 + writers * commits
    assert reader.slice_count(cov.id) == writers * commits
    assert len(reader.imported(cov.id)) == writers * commits


def test_optimistic_writers_in_threads_retry_until_done(open_catalog, utm_time_series):
    """Each thread adds its own date with read-modify-write; conflicts make it retry."""
    cov = utm_time_series(coeffs=(1.0,), slots=(0,))
    open_catalog().commit(cov)
    writers = 5
    catalogs = [open_catalog() for _ in range(writers)]
    conflicts = []

    def add_date(k: int) -> None:
        cat = catalogs[k]
        while True:
            current, version = cat.get_with_version(cov.id)
            axis, _ = current.axes[0].with_coefficient(10.0 + k)
            try:
                cat.commit(current.with_axis(axis), expected_version=version)
                return
            except CatalogConflict:
                conflicts.append(k)

    threads = [threading.Thread(target=add_date, args=(k,)) for k in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    axis = open_catalog().get(cov.id).axes[0]
    assert isinstance(axis, IrregularAxis)
    assert axis.coefficients == (1.0, 10.0, 11.0, 12.0, 13.0, 14.0)
    assert sorted(axis.slots) == [0, 1, 2, 3, 4, 5]


WRITER = """
import sys
from petacube.catalog import Catalog, ImportRecord, SliceRecord
url, cov_id, name, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
with Catalog(url) as cat:
    for i in range(n):
        cov, version = cat.get_with_version(cov_id)
        cat.commit(cov, new_slices=[SliceRecord(f"{name}-{i}.tif", ((0, 1), (0, 1), (0, 1)))],
                   imported=[ImportRecord(f"{name}-{i}.tif", f"{i}:0")])
"""


def test_several_processes_share_the_catalog(catalog, catalog_url, sql, utm_time_series):
    import subprocess
    import sys

    catalog.commit(utm_time_series())
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, catalog_url, "S2_NDVI", f"p{k}", "10"],
                              stderr=subprocess.PIPE, text=True) for k in range(4)]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    assert catalog.version("S2_NDVI") == 41
    assert catalog.slice_count("S2_NDVI") == 40
    assert len(catalog.imported("S2_NDVI")) == 40
    if catalog.dialect == "sqlite":
        assert sql("PRAGMA journal_mode") == [("wal",)]


@pytest.mark.parametrize("expected", [None, 0])
def test_writers_creating_the_same_coverage_at_once(open_catalog, utm_time_series, expected):
    writers = 6
    catalogs = [open_catalog() for _ in range(writers)]
    for cat in catalogs:
        cat.coverage_ids()  # connect before the race
    start = threading.Barrier(writers)
    outcomes: list[object] = []

    def create(k: int) -> None:
        start.wait()
        try:
            outcomes.append(catalogs[k].commit(utm_time_series("race"), expected_version=expected))
        except CoverageExists as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=create, args=(k,)) for k in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if expected is None:  # everyone wins, one after the other
        assert sorted(outcomes) == [1, 2, 3, 4, 5, 6]
    else:  # exactly one creates it
        assert outcomes.count(1) == 1
        assert sum(isinstance(o, CoverageExists) for o in outcomes) == writers - 1
    assert catalogs[0].get("race").axes[0].coefficients == (150_000.5, 150_010.25, 150_020.0)
