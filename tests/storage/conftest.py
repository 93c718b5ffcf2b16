"""Coverages and tile stores for the storage tests."""

from __future__ import annotations

import pytest

from petacube.model import Band, Coverage, Crs, IrregularAxis, NilValue, RegularAxis
from petacube.storage import TileStore

CRS_3D = Crs.parse("EPSG/0/32633@OGC/0/AnsiDate")  # labels E, N, ansi; grid order ansi, N, E
CRS_2D = Crs.parse("EPSG:32633")


def build_coverage(
    cov_id: str = "cov",
    nt: int | None = 3,
    ny: int = 70,
    nx: int = 90,
    bands: tuple[Band, ...] = (Band("b", "uint16", (NilValue(0),)),),
    tile: tuple[int, ...] | None = None,
    pyramid: tuple[tuple[int, ...], ...] = (),
    x_lower: float = 500000.0,
) -> Coverage:
    """A time series (nt dates) of ny x nx, or a 2-D coverage when nt is None."""
    crs = CRS_2D if nt is None else CRS_3D
    ax = {a.label: a for a in crs.axes}
    y = RegularAxis("N", ax["N"], 4000000.0, -10.0, ny)
    x = RegularAxis("E", ax["E"], x_lower, 10.0, nx)
    axes: tuple = (y, x)
    if nt is not None:
        axes = (IrregularAxis("ansi", ax["ansi"], tuple(150000.0 + i for i in range(nt))),) + axes
    return Coverage(cov_id, crs, axes, bands, tile_shape=tile, pyramid=pyramid)


@pytest.fixture
def make_coverage():
    return build_coverage


@pytest.fixture
def store(tmp_path):
    with TileStore(tmp_path / "tiles", threads=2) as s:
        yield s
