"""The same queries on a dask.distributed LocalCluster (two worker processes) give the
same answers as in-process: workers rebuild tile readers from the settings."""

from __future__ import annotations

import numpy as np
import pytest
from distributed import LocalCluster

from petacube.engine import ir
from petacube.engine.run import run_query

S2 = ir.CoverageRef("S2")


def queries():
    s = ir.Subset(S2, (ir.AxisSubset("ansi", at=ir.Scalar("2021-05-01")),))
    nir, red = ir.Field(s, "B08"), ir.Field(s, "B04")
    ndvi = ir.Binary("/", ir.Binary("-", nir, red), ir.Binary("+", nir, red))
    return [
        ir.Aggregate("avg", ir.Field(S2, "B08")),
        ir.Aggregate("avg", ndvi),
        ir.Aggregate("count", ir.Binary(">", nir, red)),
        ir.Aggregate("max", ir.Subset(ir.Field(S2, "B03"), (ir.AxisSubset("E", lo=ir.Scalar(500100), hi=ir.Scalar(500400)),))),
        ir.Condense("+", (ir.AxisIterator("t", "ansi", ir.Scalar(0), ir.Scalar(2)),),
                    ir.Aggregate("add", ir.Subset(ir.Field(S2, "B02"), (ir.AxisSubset("ansi", at=ir.IteratorVar("t")),)))),
    ]


@pytest.fixture(scope="module")
def cluster():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as c:
        yield c


def test_cluster_answers_equal_local(s2, cluster):
    cube, _ = s2
    local = [r.value for r in run_query(ir.Query(tuple(queries())), cube)]
    remote = [r.value for r in run_query(ir.Query(tuple(queries())), cube, scheduler=cluster.scheduler_address)]
    assert len(local) == 5
    for a, b in zip(local, remote):
        assert a == pytest.approx(b, rel=1e-9) if isinstance(a, float) else a == b
    assert all(np.isfinite(v) for v in local)
