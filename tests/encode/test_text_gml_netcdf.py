import csv
import io
import json

import netCDF4
import numpy as np
import pytest
import xarray as xr
from encode_values import geo_dataset
from lxml import etree
from rasterio.io import MemoryFile

from petacube.encode import decode, encode
from petacube.errors import InvalidParameterValue

GML = "{http://www.opengis.net/gml/3.2}"


def test_json_layout_matches_numpy():
    arr = np.arange(6, dtype=np.int32).reshape(2, 3)
    da = xr.DataArray(arr, dims=("i", "j"))
    data, mime = encode(da, "application/json")
    assert mime == "application/json" and json.loads(data) == arr.tolist()
    assert data == b"[[0,1,2],[3,4,5]]"
    assert json.loads(encode(da, "json", {"transpose": [0, 1]})[0]) == arr.T.tolist()
    assert json.loads(encode(xr.DataArray(np.array([1.5, 2.25]), dims=("t",)), "json")[0]) == [1.5, 2.25]


def test_json_nulls_and_multiband_cells():
    ds = geo_dataset({"a": np.array([[1.0, -9999.0]]), "b": np.array([[np.nan, 3.0]])}, nodata=-9999)
    assert encode(ds, "json")[0] == b'[["1 null","null 3"]]'
    ds1 = geo_dataset({"a": np.array([[1.0, -9999.0, np.nan]])}, nodata=-9999)
    assert json.loads(encode(ds1, "json")[0]) == [[1.0, None, None]]


def test_csv_layout_is_rasdamans():
    arr = np.arange(8, dtype=np.int16).reshape(2, 2, 2)
    da = xr.DataArray(arr, dims=("a", "b", "c"))
    data, mime = encode(da, "text/csv")
    assert mime == "text/csv"
    assert data == b"{{0,1},{2,3}},{{4,5},{6,7}}"  # no outermost braces, as rasdaman writes
    assert encode(xr.DataArray(np.array([1, 2, 3]), dims=("x",)), "csv")[0] == b"1,2,3"
    assert encode(da, "csv", {"formatParameters": {"outerDelimiters": True}})[0].startswith(b"{{{")
    inner = encode(xr.DataArray(arr[0], dims=("a", "b")), "csv", {"formatParameters": {"order": "inner_outer"}})[0]
    assert inner == b"{0,2},{1,3}"
    rgb = geo_dataset({"r": np.array([[1, 2]], np.uint8), "g": np.array([[3, 4]], np.uint8),
                       "b": np.array([[5, 6]], np.uint8)})
    assert encode(rgb, "csv")[0] == b'{"1 3 5","2 4 6"}'
    # parseable by an independent CSV reader once the braces are stripped
    row = next(csv.reader(io.StringIO(encode(rgb, "csv")[0].decode().strip("{}"))))
    assert row == ["1 3 5", "2 4 6"]


def test_number_formatting_and_scalars():
    f = xr.DataArray(np.array([0.1, 1e-5, 2.0], dtype=np.float64), dims=("x",))
    assert encode(f, "csv")[0] == b"0.1,1e-05,2"
    f32 = xr.DataArray(np.array([0.1], dtype=np.float32), dims=("x",))
    assert encode(f32, "csv")[0] == b"0.1"
    assert encode(np.float64(2.5), "json") == (b"2.5", "application/json")
    assert encode(7, "csv")[0] == b"7"
    assert encode(True, "json")[0] == b"true" and encode(np.bool_(False), "csv")[0] == b"f"
    with pytest.raises(InvalidParameterValue, match="scalar"):
        encode(3, "png")


def test_unknown_format_lists_supported_ones():
    with pytest.raises(InvalidParameterValue) as err:
        encode(xr.DataArray(np.zeros(2), dims=("x",)), "image/bmp")
    assert "image/bmp" in str(err.value) and "image/png" in str(err.value) and "text/csv" in str(err.value)
    with pytest.raises(InvalidParameterValue, match="JSON"):
        encode(xr.DataArray(np.zeros(2), dims=("x",)), "json", "{not json")


def test_gml_rectified_grid_coverage():
    arr = np.array([[1, 2, 3], [4, 5, 6]], dtype=np.int16)
    ds = geo_dataset({"v": arr}, nodata=-1)
    data, mime = encode(ds, "application/gml+xml")
    assert mime == "application/gml+xml"
    root = etree.fromstring(data)
    assert root.tag == "{http://www.opengis.net/gmlcov/1.0}RectifiedGridCoverage"
    grid = root.find(f"{GML}domainSet/{GML}RectifiedGrid")
    assert grid.findtext(f"{GML}limits/{GML}GridEnvelope/{GML}high") == "1 2"
    assert grid.findtext(f"{GML}axisLabels") == "N E"
    env = root.find(f"{GML}boundedBy/{GML}Envelope")
    assert env.get("axisLabels") == "E N"  # EPSG:32633 axis order
    assert env.findtext(f"{GML}lowerCorner") == "500000 4999980"
    assert env.findtext(f"{GML}upperCorner") == "500030 5000000"
    offsets = [o.text for o in grid.findall(f"{GML}offsetVector")]
    assert offsets == ["0 -10", "10 0"]
    tuples = root.findtext(f"{GML}rangeSet/{GML}DataBlock/{GML}tupleList")
    assert [int(t) for t in tuples.split(",")] == arr.ravel().tolist()
    swe = "{http://www.opengis.net/swe/2.0}"
    field = root.find(f"{{http://www.opengis.net/gmlcov/1.0}}rangeType/{swe}DataRecord/{swe}field")
    assert field.get("name") == "v" and field.findtext(f".//{swe}nilValue") == "-1"


def test_gml_referenceable_grid_for_irregular_time():
    times = np.array(["2021-01-01", "2021-01-03", "2021-01-10"], dtype="datetime64[ns]")
    ds = xr.Dataset({"v": (("ansi",), np.array([1.0, 2.0, 3.0]))}, coords={"ansi": times},
                    attrs={"crs": "OGC/0/AnsiDate"})
    root = etree.fromstring(encode(ds, "gml")[0])
    assert root.tag.endswith("ReferenceableGridCoverage")
    coeffs = root.findtext(".//{http://www.opengis.net/gml/3.3/rgrid}coefficients")
    assert coeffs.split() == ['"2021-01-01T00:00:00.000Z"', '"2021-01-03T00:00:00.000Z"', '"2021-01-10T00:00:00.000Z"']


def test_netcdf_cf_variables_and_attrs():
    times = np.array(["2021-05-01", "2021-05-02"], dtype="datetime64[ns]")
    arr = np.arange(2 * 2 * 3, dtype=np.int16).reshape(2, 2, 3)
    ds = xr.Dataset({"red": (("ansi", "N", "E"), arr, {"nodata": ["-1"], "_FillValue": -1, "units": "DN"})},
                    coords={"ansi": times, "N": [15.0, 5.0], "E": [5.0, 15.0, 25.0]},
                    attrs={"crs": "OGC/0/AnsiDate@EPSG/0/32633", "coverage_id": "S2"})
    data, mime = encode(ds, "application/x-netcdf", {"metadata": {"project": "test"}})
    assert mime == "application/netcdf"
    with netCDF4.Dataset("x.nc", memory=data) as nc:
        red = nc["red"]
        red.set_auto_mask(False)
        assert red.dimensions == ("ansi", "N", "E") and np.array_equal(red[:], arr)
        assert red._FillValue == -1 and red.missing_value == -1 and red.grid_mapping == "crs"
        assert red.units == "DN"
        assert nc["ansi"].units == "days since 1970-01-01 00:00:00" and nc["ansi"].calendar == "standard"
        assert nc["ansi"][:].tolist() == [18748.0, 18749.0]
        assert nc["E"].standard_name == "projection_x_coordinate" and nc["N"].axis == "Y"
        assert "32633" in nc["crs"].crs_wkt or "UTM zone 33N" in nc["crs"].crs_wkt
        assert nc.Conventions == "CF-1.8" and nc.coverage_id == "S2" and nc.project == "test"


def test_decode_round_trips_geotiff_png_netcdf(rgb):
    ds = geo_dataset(rgb, nodata=0)
    back = decode(encode(ds, "tiff")[0])
    assert back.attrs["crs"] == "EPSG/0/32633" and list(back.data_vars) == ["red", "green", "blue"]
    assert back["red"].dims == ("N", "E") and np.allclose(back["E"], ds["E"]) and np.allclose(back["N"], ds["N"])
    assert np.array_equal(back["green"].values, rgb["green"]) and back["red"].attrs["nodata"] == ["0"]
    again = decode(encode(back, "tiff")[0])
    assert np.array_equal(again["blue"].values, rgb["blue"])

    png = decode(encode(xr.DataArray(rgb["red"], dims=("i", "j")), "png")[0])
    assert png.attrs["crs"] == "OGC/0/Index2D" and np.array_equal(png["band_1"].values, rgb["red"])

    times = np.array(["2021-05-01", "2021-05-03"], dtype="datetime64[ns]")
    cube = xr.Dataset({"v": (("ansi", "N", "E"), np.arange(12.0).reshape(2, 2, 3), {"_FillValue": -9999.0})},
                      coords={"ansi": times, "N": [15.0, 5.0], "E": [5.0, 15.0, 25.0]},
                      attrs={"crs": "OGC/0/AnsiDate@EPSG/0/32633"})
    nc = decode(encode(cube, "netcdf")[0])
    assert nc.attrs["crs"] == "OGC/0/AnsiDate@EPSG/0/32633"
    assert np.array_equal(nc["ansi"].values, times) and np.array_equal(nc["v"].values, cube["v"].values)
    assert nc["v"].attrs["nodata"] == ["-9999"]


def test_decode_bad_input():
    with pytest.raises(InvalidParameterValue, match="not GeoTIFF"):
        decode(b"hello world")
    with pytest.raises(InvalidParameterValue):
        decode(b"II*\x00garbage")
    with MemoryFile() as m:
        assert m is not None
