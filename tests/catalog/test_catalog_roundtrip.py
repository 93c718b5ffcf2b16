"""A committed coverage comes back exactly: axes, CRS, bands, nil values, metadata."""

from __future__ import annotations

import math

import pytest

from petacube.catalog import SCHEMA_VERSION, Catalog
from petacube.errors import InvalidParameterValue, NoSuchCoverage, StorageError
from petacube.model import Band, Coverage, Crs, CrsAxis, IrregularAxis, NilValue, RegularAxis


def assert_same_bands(got: tuple[Band, ...], want: tuple[Band, ...]) -> None:
    # NilValue(nan) != NilValue(nan), so compare nil values field by field
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert (g.name, g.dtype, g.uom, g.description, g.definition) == (
            w.name, w.dtype, w.uom, w.description, w.definition)
        assert len(g.nil_values) == len(w.nil_values)
        for gn, wn in zip(g.nil_values, w.nil_values):
            assert gn.reason == wn.reason
            assert (math.isnan(gn.low) and math.isnan(wn.low)) or gn.low == wn.low
            assert gn.high == wn.high


def test_utm_time_series_round_trip(catalog, utm_time_series):
    cov = utm_time_series()
    assert catalog.commit(cov) == 1
    got = catalog.get("S2_NDVI")

    assert got.crs == Crs.parse("EPSG/0/32633@OGC/0/AnsiDate")
    assert got.crs.identifier == "EPSG/0/32633@OGC/0/AnsiDate"
    ansi, n, e = got.axes
    assert isinstance(ansi, IrregularAxis)
    assert ansi.label == "ansi"
    assert ansi.crs_axis == CrsAxis("ansi", "future", "d", "time")
    assert ansi.coefficients == (150000.5, 150010.25, 150020.0)
    assert ansi.slots == (2, 0, 1)
    assert ansi.resolution == 1.0
    assert isinstance(n, RegularAxis) and isinstance(e, RegularAxis)
    assert n.crs_axis == CrsAxis("N", "north", "metre", "y")
    assert (n.label, n.lower, n.resolution, n.size, n.points) == (
        "N", 5190240.000000001, -10.000000000000002, 1098, False)
    assert (e.label, e.lower, e.resolution, e.size) == ("E", 399960.00000000006, 10.0, 1098)
    assert e.lower != 399960.0  # one ulp above, kept to the last bit
    assert got.tile_shape == (1, 512, 512)
    assert got.pyramid == ((1, 2, 2), (1, 4, 4))
    assert got.metadata == {"source": "Sentinel-2", "processing": {"level": "L2A", "baseline": [4, 0]},
                            "cloud": 0.30000000000000004,
                            "tags": {"nested": {"deep": None, "flag": True}}}
    assert (got.insitu, got.wms_import) == (False, False)
    assert_same_bands(got.bands, (
        Band("B04", "uint16", (NilValue(0.0, None, "no data"),), "reflectance", "Red, 665 nm",
             "http://www.opengis.net/def/dataType/OGC/0/unsignedShort"),
        Band("ndvi", "float32", (NilValue(float("nan")), NilValue(-1.0000000000000002, -0.5, "water"))),
    ))
    assert got.axes == cov.axes
    assert got.storage_shape == (3, 1098, 1098)


def test_geographic_2d_round_trip(catalog):
    crs = Crs.parse("EPSG:4326")
    cov = Coverage(
        id="dem",
        crs=crs,
        axes=(RegularAxis("Lat", crs.axis("Lat"), -33.999999999999996, -0.000277777777777778, 3601),
              RegularAxis("Long", crs.axis("Long"), 151.0, 0.000277777777777778, 3601)),
        bands=(Band("height", "int16", (NilValue(-32768.0),), "m"),),
        insitu=True,
        wms_import=True,
    )
    catalog.commit(cov)
    got = catalog.get("dem")
    assert got == cov
    assert got.crs.identifier == "EPSG/0/4326"
    assert got.dims == ("Lat", "Long")
    assert got.axes[0].lower == -33.999999999999996
    assert got.axes[0].resolution == -0.000277777777777778
    assert got.tile_shape is None and got.pyramid == () and got.metadata == {}
    assert (got.insitu, got.wms_import) == (True, True)


def test_index_3d_round_trip_with_many_dtypes(catalog):
    crs = Crs.parse("OGC/0/Index3D")
    bands = (
        Band("u8", "uint8", (NilValue(255.0, reason="fill"),)),
        Band("i8", "int8", (NilValue(-128.0), NilValue(-127.0, -100.0, "clipped"))),
        Band("i32", "int32"),
        Band("u64", "uint64", (NilValue(0.0),)),
        Band("f64", "float64", (NilValue(-math.inf, -1e300, "too small"), NilValue(1e308, math.inf))),
        Band("c64", "complex64"),
        Band("c128", "complex128", (NilValue(float("nan"), reason="nan"),)),
    )
    cov = Coverage(
        id="cube",
        crs=crs,
        axes=(RegularAxis("i", crs.axis("i"), 0.0, 1.0, 4, points=True),
              RegularAxis("j", crs.axis("j"), -5.0, 1.0, 10),
              RegularAxis("k", crs.axis("k"), 3.0, 1.0, 7)),
        bands=bands,
        tile_shape=(4, 10, 7),
    )
    catalog.commit(cov)
    got = catalog.get("cube")
    assert got.axes == cov.axes
    assert got.dims == ("i", "j", "k")
    assert [b.dtype for b in got.bands] == ["uint8", "int8", "int32", "uint64", "float64", "complex64", "complex128"]
    assert_same_bands(got.bands, bands)
    assert got.bands[4].nil_values[0].low == -math.inf
    assert got.bands[4].nil_values[1].high == math.inf


def test_update_replaces_description_and_bumps_version(catalog, utm_time_series):
    cov = utm_time_series()
    assert catalog.commit(cov) == 1
    crs = cov.crs
    changed = Coverage(
        id=cov.id, crs=crs,
        axes=(IrregularAxis("ansi", crs.axis("ansi"), (1.0, 2.0)),
              RegularAxis("N", crs.axis("N"), 0.0, -20.0, 5),
              RegularAxis("E", crs.axis("E"), 0.0, 20.0, 6)),
        bands=(Band("only", "float64"),),
        metadata={"x": 1},
    )
    assert catalog.commit(changed) == 2
    assert catalog.version(cov.id) == 2
    got = catalog.get(cov.id)
    assert got == changed
    assert got.axes[0].coefficients == (1.0, 2.0) and got.axes[0].slots == (0, 1)
    assert got.tile_shape is None and got.pyramid == ()


def test_an_irregular_axis_may_become_regular(catalog, sql, utm_time_series):
    cov = utm_time_series()
    catalog.commit(cov)
    crs = cov.crs
    regular = cov.with_axis(RegularAxis("ansi", crs.axis("ansi"), 150000.0, 1.0, 3, points=True))
    catalog.commit(regular)
    assert catalog.get(cov.id).axes == regular.axes
    assert sql("SELECT COUNT(*) FROM axis_coefficients") == [(0,)]


def test_coverage_ids_exists_and_unknown_ids(catalog, utm_time_series):
    assert catalog.coverage_ids() == []
    with pytest.raises(NoSuchCoverage, match="holds no coverages"):
        catalog.get("nothing")
    for cov_id in ("S2_L2A_20m", "S1_GRD", "S2_L2A_10m"):
        catalog.commit(utm_time_series(cov_id))
    assert catalog.coverage_ids() == ["S1_GRD", "S2_L2A_10m", "S2_L2A_20m"]
    assert catalog.exists("S1_GRD") and not catalog.exists("S1_grd")
    with pytest.raises(NoSuchCoverage) as info:
        catalog.get("S2_L2A_10")
    assert info.value.status == 404 and info.value.code == "NoSuchCoverage"
    assert "'S2_L2A_10'" in info.value.message
    assert "S2_L2A_10m" in info.value.message and "S1_GRD" in info.value.message
    for call in (catalog.version, catalog.slice_count, catalog.imported, catalog.size_summary,
                 catalog.slices, catalog.delete, catalog.forget_imports):
        with pytest.raises(NoSuchCoverage):
            call("missing")


def test_metadata_that_is_not_json_is_refused(catalog, utm_time_series):
    cov = utm_time_series()
    for bad in ({"when": object()}, {"v": float("nan")}, {"s": {1, 2}}):
        with pytest.raises(InvalidParameterValue, match="metadata of coverage S2_NDVI"):
            catalog.commit(Coverage(cov.id, cov.crs, cov.axes, cov.bands, metadata=bad))
    assert not catalog.exists(cov.id)


def test_numpy_values_in_metadata_become_json_numbers(catalog, utm_time_series):
    import numpy as np

    cov = utm_time_series()
    catalog.commit(Coverage(cov.id, cov.crs, cov.axes, cov.bands,
                            metadata={"n": np.int64(7), "f": np.float32(0.5), "a": np.arange(3)}))
    assert catalog.get(cov.id).metadata == {"n": 7, "f": 0.5, "a": [0, 1, 2]}


def test_catalog_reopens_and_keeps_schema_version(catalog_url, sql, utm_time_series):
    with Catalog(catalog_url) as cat:
        cat.commit(utm_time_series())
        assert cat.dialect in ("sqlite", "postgresql")
        assert cat.url == catalog_url
    with Catalog(catalog_url) as cat:
        assert cat.coverage_ids() == ["S2_NDVI"]
    assert sql("SELECT name, version FROM petacube_schema") == [("catalog", SCHEMA_VERSION)]
    sql("UPDATE petacube_schema SET version = 99")
    with pytest.raises(StorageError, match="schema version 99"):
        Catalog(catalog_url)


def test_bad_urls_are_user_errors(tmp_path):
    with pytest.raises(InvalidParameterValue, match="not a database URL"):
        Catalog("no url at all")
    with pytest.raises(InvalidParameterValue, match="only SQLite"):
        Catalog("mysql://u@localhost/db")
    # nothing listens on port 1: a storage failure naming the URL without its password
    with pytest.raises(StorageError, match=r"postgresql\+psycopg://u:\*\*\*@127.0.0.1:1/db") as info:
        Catalog("postgresql://u:secret@127.0.0.1:1/db")
    assert "secret" not in info.value.message


def test_storage_offset_of_regular_axes_round_trips(catalog):
    from petacube.model import Crs, RegularAxis

    crs = Crs.parse("EPSG:32633")
    e, n = crs.axes
    cov = Coverage(
        "MOSAIC", crs,
        (RegularAxis("N", n, 4_990_000.0, -10.0, 300, storage_offset=700), RegularAxis("E", e, 500_000.0, 10.0, 400, storage_offset=12)),
        (Band("b", "uint8"),),
    )
    catalog.commit(cov)
    got = catalog.get("MOSAIC")
    assert [a.storage_offset for a in got.axes] == [700, 12]
    assert got.storage_shape == (1000, 412)


def test_stamp_changes_on_commit_and_recreate(catalog, utm_time_series):
    cov = utm_time_series()
    catalog.commit(cov)
    first = catalog.stamp(cov.id)
    assert first[0] == 1
    catalog.commit(cov)
    second = catalog.stamp(cov.id)
    assert second[0] == 2 and second != first
    catalog.delete(cov.id)
    with pytest.raises(NoSuchCoverage):
        catalog.stamp(cov.id)
    import time

    time.sleep(0.01)
    catalog.commit(cov)
    again = catalog.stamp(cov.id)
    assert again[0] == 1 and again != first  # same version number, different commit time
