"""Slicers: keys and arrays from GeoTIFF, netCDF and GRIB files, checked against rasterio,
netCDF4 and eccodes read directly; bad files give SourceFileError naming the file."""

import sys

import numpy as np
import pytest

import datagen  # tests/datagen.py (tests/conftest.py puts tests/ on sys.path)
from petacube.errors import IngredientsError, SourceFileError
from petacube.ingest.sentences import evaluate
from petacube.ingest.slicers import open_source
from petacube.model import Crs

# ---- gdal -------------------------------------------------------------------------------


@pytest.fixture
def tif(tmp_path):
    data = datagen.random_array((2, 5, 7), "int16", seed=1, low=-100, high=100)
    path = datagen.write_geotiff(
        tmp_path / "S2_20210315_B04.tif",
        data,
        nodata=-9999,
        tags={"TIFFTAG_DATETIME": "2021:03:15 10:10:21", "PRODUCT": "L2A"},
        band_descriptions=["red", "nir"],
        band_units=["dn", "dn"],
    )
    return path, data


def test_gdal_geometry_keys_match_rasterio(tif):
    import rasterio

    path, _ = tif
    with rasterio.open(path) as ds:
        t, w, h = ds.transform, ds.width, ds.height
    with open_source(path, "gdal") as src:
        (unit,) = src.units()
        r = unit.resolve
        assert r("gdal:resolutionX") == t.a == 10
        assert r("gdal:resolutionY") == t.e == -10  # negative: north-up
        assert r("gdal:minX") == t.c == 500000
        assert r("gdal:maxX") == t.c + w * t.a == 500070
        assert r("gdal:maxY") == t.f == 5000000
        assert r("gdal:minY") == t.f + h * t.e == 4999950
        assert r("gdal:originX") == t.c + t.a / 2  # centre of the first pixel, as wcst_import
        assert r("gdal:originY") == t.f + t.e / 2
        assert (r("gdal:sizeX"), r("gdal:sizeY"), r("gdal:bandCount")) == (7, 5, 2)
        assert evaluate("(${gdal:maxX} - ${gdal:minX}) / ${gdal:resolutionX}", r) == 7


def test_gdal_metadata_bands_crs(tif):
    path, data = tif
    with open_source(path, "gdal") as src:
        unit = src.units()[0]
        assert unit.resolve("gdal:metadata:TIFFTAG_DATETIME") == "2021:03:15 10:10:21"
        assert unit.resolve("gdal:metadata:PRODUCT") == "L2A"
        assert unit.resolve("gdal:metadata")["PRODUCT"] == "L2A"
        assert unit.crs == "EPSG:32633"
        Crs.parse(unit.crs)
        assert unit.band_count == 2
        assert unit.shape == (5, 7) and unit.dims == ("y", "x")
        assert unit.transform.a == 10
        meta = unit.band_meta(2)
        assert meta == {"index": 2, "dtype": "int16", "nodata": -9999.0, "description": "nir", "unit": "dn", "color_interp": meta["color_interp"]}
        np.testing.assert_array_equal(unit.read(1), data[0])
        np.testing.assert_array_equal(unit.read("nir"), data[1])
        np.testing.assert_array_equal(unit.read("2"), data[1])
        assert unit.read(1).dtype == np.int16
        bands = unit.resolve("gdal:bands")
        assert [b["description"] for b in bands] == ["red", "nir"]


def test_gdal_unknown_keys_and_bands(tif):
    path, _ = tif
    with open_source(path, "gdal") as src:
        unit = src.units()[0]
        with pytest.raises(IngredientsError, match=r"gdal:minx.*S2_20210315_B04\.tif.*did you mean '\$\{gdal:minX\}'"):
            unit.resolve("gdal:minx")
        with pytest.raises(IngredientsError, match="no metadata tag 'NOPE'.*PRODUCT"):
            unit.resolve("gdal:metadata:NOPE")
        with pytest.raises(IngredientsError, match="netcdf key.*gdal slicer"):
            unit.resolve("netcdf:variable:x")
        with pytest.raises(IngredientsError, match="unknown sentence key"):
            unit.resolve("foo:bar")
        with pytest.raises(SourceFileError, match="no band 3"):
            unit.read(3)
        with pytest.raises(SourceFileError, match="no band 'blue'.*'red'"):
            unit.read("blue")


def test_file_keys_and_original_path(tif, tmp_path):
    path, _ = tif
    original = tmp_path / "raw" / "orig.tif"
    with open_source(path, "gdal", original_path=original) as src:
        r = src.units()[0].resolve
        assert r("file:path") == str(path)
        assert r("file:name") == "S2_20210315_B04.tif"
        assert r("file:dir_path") == str(tmp_path)
        assert r("file:original_path") == str(original)
        assert r("file:original_dir_path") == str(tmp_path / "raw")
        assert r("imported_file:name") == "S2_20210315_B04.tif"
        with pytest.raises(IngredientsError, match="file:nam.*did you mean"):
            r("file:nam")
    with open_source(path, "gdal") as src:
        assert src.units()[0].resolve("file:original_path") == str(path)


def test_gdal_without_crs_uses_default(tmp_path):
    path = datagen.write_geotiff(tmp_path / "nocrs.tif", np.zeros((3, 4), "uint8"), crs=None)
    with open_source(path, "gdal") as src:
        assert src.units()[0].crs is None
    with open_source(path, "gdal", default_crs="EPSG:4326") as src:
        assert src.units()[0].crs == "EPSG:4326"


def test_gdal_south_up_extent(tmp_path):
    from affine import Affine

    path = datagen.write_geotiff(tmp_path / "s.tif", np.zeros((4, 3), "float32"), crs="EPSG:4326", transform=Affine(0.5, 0, 10, 0, 0.25, 40))
    with open_source(path, "gdal") as src:
        r = src.units()[0].resolve
        assert (r("gdal:minY"), r("gdal:maxY"), r("gdal:resolutionY")) == (40, 41, 0.25)


# ---- netcdf -----------------------------------------------------------------------------


@pytest.fixture
def nc(tmp_path):
    tas = datagen.random_array((3, 4, 5), "int16", seed=2, low=0, high=1000)
    tas[0, 0, 0] = -999
    path = datagen.write_netcdf(
        tmp_path / "tas_2012.nc",
        variables={
            "tas": (("time", "lat", "lon"), tas, {"_FillValue": np.int16(-999), "scale_factor": 0.1, "units": "K",
                                                 "long_name": "air temperature", "grid_mapping": "crs"}),
            "crs": ((), np.int32(0), {"epsg_code": "EPSG:4326"}),
        },
        coords={
            "time": (np.array([15000.0, 15001.0, 15003.0]), {"units": "days since 1970-01-01", "calendar": "standard"}),
            "lat": (np.array([50.0, 49.5, 49.0, 48.5], "float32"), {"units": "degrees_north"}),
            "lon": (np.array([10.0, 10.5, 11.0, 11.5, 12.0]), {"units": "degrees_east"}),
        },
        global_attrs={"title": "Test data", "geospatial_lat_resolution": "0.5", "version": 3},
    )
    return path, tas


def test_netcdf_keys_match_netcdf4(nc):
    import netCDF4

    path, _ = nc
    with netCDF4.Dataset(path) as ds:
        time = ds["time"][:].tolist()
        lat = ds["lat"][:].tolist()
        lat_units = ds["lat"].units
        title = ds.title
        nlon = len(ds.dimensions["lon"])
    with open_source(path, "netcdf") as src:
        (unit,) = src.units()
        r = unit.resolve
        assert r("netcdf:variable:time") == time
        assert r("netcdf:variable:time:min") == min(time) == 15000.0
        assert r("netcdf:variable:time:max") == max(time) == 15003.0
        assert r("netcdf:variable:lat:first") == lat[0] == 50.0
        assert r("netcdf:variable:lat:last") == lat[-1] == 48.5
        assert r("netcdf:variable:lat:resolution") == (lat[-1] - lat[0]) / (len(lat) - 1) == -0.5
        assert r("netcdf:variable:lon:size") == nlon == 5
        assert r("netcdf:variable:lat:units") == lat_units == "degrees_north"
        assert r("netcdf:variable:lat:metadata:units") == lat_units
        assert r("netcdf:variable:lat:metadata") == {"units": "degrees_north"}
        assert r("netcdf:metadata:title") == title == "Test data"
        assert r("netcdf:metadata:version") == 3
        assert r("netcdf:metadata:*")["geospatial_lat_resolution"] == "0.5"
        assert r("netcdf:dimension:lon") == nlon
        assert evaluate("datetime(${netcdf:variable:time:min} * 24 * 3600)", r).isoformat() == "2011-01-26T00:00:00+00:00"
        assert evaluate("-${netcdf:metadata:geospatial_lat_resolution}", r) == -0.5


def test_netcdf_read_raw_values_and_meta(nc):
    import netCDF4

    path, tas = nc
    with netCDF4.Dataset(path) as ds:
        ds.set_auto_maskandscale(False)
        raw = ds["tas"][:]
    with open_source(path, "netcdf") as src:
        unit = src.units()[0]
        arr = unit.read("tas")
        np.testing.assert_array_equal(arr, raw)
        np.testing.assert_array_equal(arr, tas)  # no scale_factor applied, fill value kept
        assert arr.dtype == np.int16 and arr[0, 0, 0] == -999
        assert unit.dims_of("tas") == ("time", "lat", "lon")
        assert unit.shape_of("tas") == (3, 4, 5)
        meta = unit.band_meta("tas")
        assert (meta["dtype"], meta["nodata"], meta["unit"], meta["description"], meta["scale_factor"]) == ("int16", -999, "K", "air temperature", 0.1)
        assert unit.band_count == 1  # tas; the scalar grid mapping "crs" is no band
        assert unit.dims == ("time", "lat", "lon")  # the only data variable
        assert unit.crs == "EPSG:4326"  # from the grid_mapping variable's epsg_code
        with pytest.raises(SourceFileError, match="no variable 'pr'"):
            unit.read("pr")


def test_netcdf_unknown_keys(nc):
    path, _ = nc
    with open_source(path, "netcdf", default_crs="EPSG:3035") as src:
        unit = src.units()[0]
        assert unit.crs == "EPSG:4326"  # the file's own CRS wins over the default
        with pytest.raises(IngredientsError, match=r"variable '\$\{netcdf:variable:tim\}'.*tas_2012\.nc.*did you mean"):
            unit.resolve("netcdf:variable:tim:min")
        with pytest.raises(IngredientsError, match="no global attribute 'author'.*title"):
            unit.resolve("netcdf:metadata:author")
        with pytest.raises(IngredientsError, match="'median' is neither an operation"):
            unit.resolve("netcdf:variable:time:median")
        with pytest.raises(IngredientsError, match="dimension"):
            unit.resolve("netcdf:dimension:depth")
        with pytest.raises(IngredientsError, match="gdal key"):
            unit.resolve("gdal:minX")


def test_netcdf_grid_mapping_crs(tmp_path):
    path = datagen.write_netcdf(
        tmp_path / "gm.nc",
        variables={
            "v": (("y", "x"), np.zeros((2, 3), "float32"), {"grid_mapping": "spatial_ref"}),
            "spatial_ref": ((), np.int32(0), {"crs_wkt": Crs.parse("EPSG:32633").horizontal.to_wkt()}),
        },
        coords={"y": (np.array([1.0, 0.0]), {}), "x": (np.array([0.0, 1.0, 2.0]), {})},
        global_attrs={},
    )
    with open_source(path, "netcdf") as src:
        unit = src.units()[0]
        assert unit.crs == "EPSG:32633"
        assert unit.band_count == 1


def test_netcdf_without_crs_uses_default(tmp_path):
    path = datagen.write_netcdf(tmp_path / "plain.nc", {"v": (("y", "x"), np.zeros((2, 2)), {})}, {}, {})
    with open_source(path, "netcdf") as src:
        assert src.units()[0].crs is None
    with open_source(path, "netcdf", default_crs="EPSG:4326") as src:
        assert src.units()[0].crs == "EPSG:4326"


# ---- grib -------------------------------------------------------------------------------


def _grib_fields():
    a = np.arange(12, dtype=float).reshape(3, 4) + 273.5
    b = np.arange(12, dtype=float).reshape(3, 4) * 2 + 250
    b[1, 2] = 9999.0
    return [
        dict(values=a, lat_first=50.0, lon_first=10.0, dlat=1.0, dlon=0.5, date=20200102, time=600),
        dict(values=b, lat_first=50.0, lon_first=10.0, dlat=1.0, dlon=0.5, date=20200102, time=1200, missing=9999.0),
    ]


def _eccodes_messages(path):
    import eccodes

    out = []
    with open(path, "rb") as f:
        while (h := eccodes.codes_grib_new_from_file(f)) is not None:
            out.append({
                "values": eccodes.codes_get_values(h),
                "Ni": eccodes.codes_get(h, "Ni"),
                "Nj": eccodes.codes_get(h, "Nj"),
                "dataTime": eccodes.codes_get(h, "dataTime"),
                "dataDate": eccodes.codes_get(h, "dataDate"),
                "shortName": eccodes.codes_get(h, "shortName"),
                "lat0": eccodes.codes_get(h, "latitudeOfFirstGridPointInDegrees"),
                "lat1": eccodes.codes_get(h, "latitudeOfLastGridPointInDegrees"),
                "lon1": eccodes.codes_get(h, "longitudeOfLastGridPointInDegrees"),
                "dj": eccodes.codes_get(h, "jDirectionIncrementInDegrees"),
                "missingValue": eccodes.codes_get(h, "missingValue"),
                "distinctLatitudes": list(eccodes.codes_get_array(h, "distinctLatitudes")),
            })
            eccodes.codes_release(h)
    return out


def test_grib_messages_keys_and_values(tmp_path):
    path = datagen.write_grib(tmp_path / "t2m.grib2", _grib_fields())
    expected = _eccodes_messages(path)
    with open_source(path, "grib") as src:
        units = src.units()
        assert len(units) == len(expected) == 2
        for unit, exp in zip(units, expected):
            r = unit.resolve
            assert r("grib:dataDate") == exp["dataDate"] == 20200102
            assert r("grib:dataTime") == exp["dataTime"]
            assert r("grib:shortName") == exp["shortName"] == "2t"
            assert r("grib:latitudeOfLastGridPointInDegrees") == exp["lat1"] == 48.0
            assert r("grib:distinctLatitudes") == exp["distinctLatitudes"]
            # rows in scan order: row 0 at latitudeOfFirstGridPoint
            arr = unit.read()
            assert arr.shape == (exp["Nj"], exp["Ni"]) == (3, 4)
            np.testing.assert_array_equal(arr, exp["values"].reshape(exp["Nj"], exp["Ni"]))
            assert unit.shape == (3, 4) and unit.dims == ("y", "x") and unit.band_count == 1
            assert unit.crs == "EPSG:4326"
            assert r("grib:axis:y:first") == exp["lat0"] == 50.0
            assert r("grib:axis:y:resolution") == -exp["dj"] == -1.0  # north to south
            assert (r("grib:axis:y:min"), r("grib:axis:y:max")) == (48.0, 50.0)
            assert (r("grib:axis:x:min"), r("grib:axis:x:max"), r("grib:axis:x:resolution")) == (10.0, exp["lon1"], 0.5)
            assert r("grib:axis:x:size") == 4
            t = unit.transform
            assert (t.a, t.c, t.e, t.f) == (0.5, 9.75, -1.0, 50.5)
        assert units[0].resolve("grib:validDate") == "2020-01-02T06:00:00"
        assert evaluate("grib_datetime(${grib:dataDate}, ${grib:dataTime})", units[1].resolve).isoformat() == "2020-01-02T12:00:00+00:00"
        # the missing point holds missingValue
        assert units[1].read()[1, 2] == expected[1]["missingValue"] == 9999
        assert units[1].band_meta()["nodata"] == 9999 and units[1].band_meta()["bitmap"] is True
        assert units[0].band_meta()["dtype"] == "float64"


def test_grib_south_to_north_rows(tmp_path):
    vals = np.arange(6, dtype=float).reshape(2, 3)
    path = datagen.write_grib(tmp_path / "sn.grib2", [dict(values=vals, lat_first=-10.0, lon_first=0.0, dlat=2.0, dlon=1.0, j_scans_positively=1)])
    (exp,) = _eccodes_messages(path)
    with open_source(path, "grib") as src:
        unit = src.units()[0]
        np.testing.assert_array_equal(unit.read(), exp["values"].reshape(2, 3))
        np.testing.assert_array_equal(unit.read(), vals)
        assert unit.resolve("grib:jScansPositively") == 1
        assert unit.resolve("grib:axis:y:first") == -10.0
        assert unit.resolve("grib:axis:y:resolution") == 2.0


def test_grib_unknown_keys_and_axis_positions(tmp_path):
    path = datagen.write_grib(tmp_path / "t2m.grib2", _grib_fields())
    with open_source(path, "grib") as src:
        unit = src.units()[1]
        with pytest.raises(IngredientsError, match=r"message 2 of .*t2m\.grib2 has no key 'dataTme'.*'dataTime'"):
            unit.resolve("grib:dataTme")
        with pytest.raises(IngredientsError, match="irregular axis ansi"):
            unit.resolve("grib:axis:ansi")
        with pytest.raises(IngredientsError, match="grib:axis:x:<op>"):
            unit.resolve("grib:axis:x:median")
        src.set_axis_positions("ansi", ["2020-01-02T06:00", "2020-01-02T12:00"])
        assert unit.resolve("grib:axis:ansi") == ["2020-01-02T06:00", "2020-01-02T12:00"]


# ---- bad files --------------------------------------------------------------------------


def test_open_source_unknown_slicer(tif):
    with pytest.raises(IngredientsError, match="slicer type 'hdf'"):
        open_source(tif[0], "hdf")


@pytest.mark.parametrize("slicer", ["gdal", "netcdf", "grib"])
def test_missing_file(tmp_path, slicer):
    path = tmp_path / "nope.dat"
    with pytest.raises(SourceFileError, match=r"nope\.dat: no such file"):
        open_source(path, slicer)


@pytest.mark.parametrize("slicer", ["gdal", "netcdf", "grib"])
def test_empty_file(tmp_path, slicer):
    path = tmp_path / "empty.dat"
    path.write_bytes(b"")
    with pytest.raises(SourceFileError, match=r"empty\.dat: the file is empty"):
        open_source(path, slicer)


def _make(kind, tmp_path):
    if kind == "gdal":
        return datagen.write_geotiff(tmp_path / "a.tif", datagen.random_array((64, 64), "float32"), compress=None)
    if kind == "netcdf":
        return datagen.write_netcdf(
            tmp_path / "a.nc", {"v": (("y", "x"), datagen.random_array((64, 64)), {})}, {}, {}
        )
    return datagen.write_grib(tmp_path / "a.grib2", _grib_fields())


def _read_everything(path, slicer):
    with open_source(path, slicer) as src:
        for unit in src.units():
            unit.read("v" if slicer == "netcdf" else None if slicer == "grib" else 1)


@pytest.mark.parametrize("slicer", ["gdal", "netcdf", "grib"])
@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9])
def test_truncated_file(tmp_path, slicer, fraction):
    path = _make(slicer, tmp_path)
    datagen.truncate_file(path, int(path.stat().st_size * fraction))
    with pytest.raises(SourceFileError) as exc:
        _read_everything(path, slicer)
    assert str(path) in str(exc.value)
    assert "Traceback" not in str(exc.value)


@pytest.mark.parametrize("slicer", ["gdal", "netcdf", "grib"])
def test_corrupt_header(tmp_path, slicer):
    path = datagen.corrupt_file(_make(slicer, tmp_path))
    with pytest.raises(SourceFileError) as exc:
        _read_everything(path, slicer)
    assert str(path) in str(exc.value)


@pytest.mark.parametrize("wrong", ["netcdf", "grib"])
def test_wrong_format(tif, wrong):
    path = tif[0]
    with pytest.raises(SourceFileError, match=rf"{path.name}: not a"):
        open_source(path, wrong)


def test_text_file_is_not_a_raster(tmp_path):
    path = tmp_path / "notes.tif"
    path.write_text("just some text\n" * 20)
    with pytest.raises(SourceFileError, match=r"notes\.tif: not a raster GDAL can read"):
        open_source(path, "gdal")


def test_closed_file(tif):
    src = open_source(tif[0], "gdal")
    src.close()
    with pytest.raises(SourceFileError, match="closed"):
        src.units()


def test_damaged_middle_grib_message_is_not_skipped_silently(tmp_path):
    path = _make("grib", tmp_path)
    import eccodes

    with open(path, "rb") as f:
        h1 = eccodes.codes_grib_new_from_file(f)
        second = int(eccodes.codes_get(h1, "totalLength"))
        eccodes.codes_release(h1)
    datagen.corrupt_file(path, offset=second, nbytes=16)
    with pytest.raises(SourceFileError, match=r"a\.grib2: damaged GRIB message"):
        open_source(path, "grib")


def test_grib_slicer_import_keeps_pyproj_working():
    # eckitlib (an ecCodes dependency) bundles its own libproj; loaded before pyproj it
    # breaks EPSG lookups and aborts the process at exit. The grib slicer loads pyproj first.
    import subprocess

    code = (
        "import petacube.ingest.slicers.grib\n"
        "import pyproj\n"
        "print(pyproj.CRS.from_epsg(32633).to_epsg())\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "32633"
