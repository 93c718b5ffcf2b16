"""Slices (region query, shifting) and import records (upsert, forget)."""

from __future__ import annotations

import pytest

from petacube.catalog import ImportRecord, SliceRecord
from petacube.errors import InvalidParameterValue
from petacube.model import Band, Coverage, Crs, RegularAxis

CRS = Crs.parse("EPSG:4326")


def mosaic(rows: int = 200, cols: int = 300, lower_long: float = 10.0) -> Coverage:
    return Coverage(
        id="mosaic", crs=CRS,
        axes=(RegularAxis("Lat", CRS.axis("Lat"), 40.0, -0.01, rows),
              RegularAxis("Long", CRS.axis("Long"), lower_long, 0.01, cols)),
        bands=(Band("red", "uint16"), Band("nir", "uint16")),
        insitu=True,
    )


A = SliceRecord("/data/a.tif", ((0, 100), (0, 150)), metadata={"date": "2021-05-01", "cloud": {"pct": 3.5}})
B = SliceRecord("/data/b.tif", ((0, 100), (150, 300)))
C = SliceRecord("/data/c.nc", ((100, 200), (0, 300)), registered=True, band_indices=(2, 1),
                subdataset='NETCDF:"/data/c.nc":refl')


@pytest.fixture
def filled(catalog):
    catalog.commit(mosaic(), new_slices=[A, B, C])
    return catalog


def paths(records) -> list[str]:
    return [r.path for r in records]


def test_slices_come_back_in_arrival_order_with_their_fields(filled):
    got = filled.slices("mosaic")
    assert paths(got) == ["/data/a.tif", "/data/b.tif", "/data/c.nc"]
    a, b, c = got
    assert a.region == ((0, 100), (0, 150)) and a.registered is False and a.band_indices == ()
    assert a.metadata == {"date": "2021-05-01", "cloud": {"pct": 3.5}} and a.subdataset is None
    assert b.metadata == {}
    assert c.registered is True and c.band_indices == (2, 1)
    assert c.subdataset == 'NETCDF:"/data/c.nc":refl'
    assert a.id is not None and a.id < b.id < c.id
    assert filled.slice_count("mosaic") == 3


@pytest.mark.parametrize("region, expected", [
    (((50, 60), (140, 160)), ["/data/a.tif", "/data/b.tif"]),
    (((99, 101), (0, 1)), ["/data/a.tif", "/data/c.nc"]),
    (((100, 200), (150, 151)), ["/data/c.nc"]),
    (((100, 200), (0, 150)), ["/data/c.nc"]),  # touching A's end (hi is exclusive)
    (((0, 1), (299, 300)), ["/data/b.tif"]),
    (((0, 200), (0, 300)), ["/data/a.tif", "/data/b.tif", "/data/c.nc"]),
    (((0, 200), (300, 400)), []),
    (((50, 50), (0, 300)), []),  # empty region
])
def test_region_query(filled, region, expected):
    assert paths(filled.slices("mosaic", region)) == expected


def test_registered_filter(filled):
    assert paths(filled.slices("mosaic", registered=True)) == ["/data/c.nc"]
    assert paths(filled.slices("mosaic", registered=False)) == ["/data/a.tif", "/data/b.tif"]
    assert paths(filled.slices("mosaic", ((0, 200), (140, 160)), registered=False)) == [
        "/data/a.tif", "/data/b.tif"]
    with pytest.raises(InvalidParameterValue, match="2 axes"):
        filled.slices("mosaic", ((0, 1),))


def test_mosaic_growing_west_shifts_existing_slices(filled):
    # 50 new columns west of the old grid: old slices move 50 to the right
    grown = mosaic(cols=350, lower_long=9.5)
    west = SliceRecord("/data/west.tif", ((0, 200), (0, 50)))
    assert filled.commit(grown, new_slices=[west], shift=(1, 50), expected_version=1) == 2
    got = filled.slices("mosaic")
    assert [(s.path, s.region) for s in got] == [
        ("/data/a.tif", ((0, 100), (50, 200))),
        ("/data/b.tif", ((0, 100), (200, 350))),
        ("/data/c.nc", ((100, 200), (50, 350))),
        ("/data/west.tif", ((0, 200), (0, 50))),
    ]
    assert paths(filled.slices("mosaic", ((0, 10), (40, 60)))) == ["/data/a.tif", "/data/west.tif"]
    # several axes at once
    bigger = Coverage("mosaic", CRS, (RegularAxis("Lat", CRS.axis("Lat"), 40.0, -0.01, 210),
                                      RegularAxis("Long", CRS.axis("Long"), 9.4, 0.01, 360)),
                      grown.bands, insitu=True)
    filled.commit(bigger, shift=((0, 10), (1, 10)))
    assert filled.slices("mosaic")[0].region == ((10, 110), (60, 210))


def test_imports_are_upserted_and_forgotten(catalog):
    catalog.commit(mosaic(), imported=[ImportRecord("/data/a.tif", "100:1.5"),
                                       ImportRecord("/data/b.tif", "200:2.5")])
    assert catalog.imported("mosaic") == {
        "/data/a.tif": ImportRecord("/data/a.tif", "100:1.5", "done"),
        "/data/b.tif": ImportRecord("/data/b.tif", "200:2.5", "done"),
    }
    catalog.commit(mosaic(), imported=[ImportRecord("/data/a.tif", "101:9.0", "failed"),
                                       ImportRecord("/data/c.tif", "300:3.5"),
                                       ImportRecord("/data/c.tif", "301:3.5")])
    assert catalog.imported("mosaic") == {
        "/data/a.tif": ImportRecord("/data/a.tif", "101:9.0", "failed"),
        "/data/b.tif": ImportRecord("/data/b.tif", "200:2.5", "done"),
        "/data/c.tif": ImportRecord("/data/c.tif", "301:3.5", "done"),
    }
    summary = catalog.size_summary("mosaic")
    assert {k: summary[k] for k in ("version", "slices", "registered_slices", "imported_files")} == {
        "version": 2, "slices": 0, "registered_slices": 0, "imported_files": 3}
    assert summary["last_import"].endswith("+00:00")
    catalog.forget_imports("mosaic")
    assert catalog.imported("mosaic") == {}
    assert catalog.version("mosaic") == 2  # forgetting imports is not a description change


def test_size_summary_counts_slices(filled):
    summary = filled.size_summary("mosaic")
    assert summary == {"version": 1, "slices": 3, "registered_slices": 1, "imported_files": 0,
                       "last_import": None}
