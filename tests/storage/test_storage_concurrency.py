"""Two processes committing to the same tile store at the same time."""

from __future__ import annotations

import multiprocessing

import numpy as np
import pytest

from petacube.errors import StorageError
from petacube.storage import TileStore


def _writer(path, cov, region, value, barrier, results) -> None:
    try:
        with TileStore(path, threads=1) as store:
            with store.transaction(f"write {value}") as tx:
                # both sessions start from the same snapshot, so one commit has to rebase
                barrier.wait(timeout=60)
                shape = tuple(s.stop - s.start for s in region)
                tx.write(cov, "b", region, np.full(shape, value, dtype="uint16"))
        results.put((value, "ok"))
    except StorageError as exc:
        results.put((value, f"StorageError: {exc}"))
    except Exception as exc:  # reported to the test, which fails on it
        results.put((value, f"{type(exc).__name__}: {exc}"))


def _race(path, cov, regions) -> dict[int, str]:
    ctx = multiprocessing.get_context("spawn")  # icechunk's runtime does not survive fork
    barrier = ctx.Barrier(len(regions))
    results = ctx.Queue()
    procs = [
        ctx.Process(target=_writer, args=(str(path), cov, region, value, barrier, results))
        for value, region in enumerate(regions, start=1)
    ]
    for p in procs:
        p.start()
    outcome = dict(results.get(timeout=120) for _ in procs)
    for p in procs:
        p.join(timeout=60)
    return outcome


@pytest.fixture
def shared(tmp_path, make_coverage):
    cov = make_coverage(nt=2, ny=64, nx=64, tile=(1, 32, 32))
    path = tmp_path / "shared"
    with TileStore(path, threads=1) as store:
        with store.transaction("create") as tx:
            tx.ensure_coverage(cov)
    return path, cov


def test_disjoint_commits_from_two_processes_both_land(shared):
    path, cov = shared
    west = (slice(0, 2), slice(0, 64), slice(0, 32))
    east = (slice(0, 2), slice(0, 64), slice(32, 64))
    assert _race(path, cov, [west, east]) == {1: "ok", 2: "ok"}
    with TileStore(path, threads=1) as store:
        got = store.read(cov, "b", (slice(0, 2), slice(0, 64), slice(0, 64)))
        messages = [snap.message for snap in store.repository.ancestry(branch="main")]
    assert (got[..., :32] == 1).all() and (got[..., 32:] == 2).all()
    assert {"write 1", "write 2"} <= set(messages)


def test_commits_touching_the_same_tile_conflict(shared):
    path, cov = shared
    a = (slice(0, 1), slice(0, 10), slice(0, 10))
    b = (slice(0, 1), slice(20, 30), slice(20, 30))  # same 32x32 tile
    outcome = _race(path, cov, [a, b])
    assert sorted(v.split(":")[0] for v in outcome.values()) == ["StorageError", "ok"], outcome
    loser = next(k for k, v in outcome.items() if v != "ok")
    assert "was not committed" in outcome[loser]
    with TileStore(path, threads=1) as store:
        got = store.read(cov, "b", (slice(0, 1), slice(0, 32), slice(0, 32)))
    winner = 3 - loser
    region = a if winner == 1 else b
    expected = np.zeros((1, 32, 32), dtype="uint16")
    expected[region] = winner
    np.testing.assert_array_equal(got, expected)  # nothing of the loser is visible
