import numpy as np
import pytest
import rasterio
import xarray as xr
from encode_values import geo_dataset
from rasterio.io import MemoryFile

from petacube.encode import encode
from petacube.errors import InvalidParameterValue


def _open(data: bytes):
    mem = MemoryFile(data)
    return mem, mem.open()


def test_multiband_geotiff_geotransform_crs_nodata_descriptions(rgb):
    ds = geo_dataset(rgb, nodata=0)
    data, mime = encode(ds, "image/tiff")
    assert mime == "image/tiff"
    mem, f = _open(data)
    with mem, f:
        assert f.count == 3 and (f.height, f.width) == (4, 6)
        assert f.crs.to_epsg() == 32633
        assert tuple(f.transform)[:6] == (10.0, 0.0, 500000.0, 0.0, -10.0, 5000000.0)
        assert f.nodata == 0
        assert f.descriptions == ("red", "green", "blue")
        assert f.profile["compress"].lower() == "deflate" and f.profile["tiled"]
        for i, b in enumerate(("red", "green", "blue"), 1):
            assert np.array_equal(f.read(i), rgb[b])


def test_south_up_dataset_is_written_north_up():
    arr = np.arange(12, dtype=np.int16).reshape(3, 4)  # row 0 = southernmost
    ds = geo_dataset({"v": arr}, south_up=True)
    data, _ = encode(ds, "GTiff")
    mem, f = _open(data)
    with mem, f:
        assert np.array_equal(f.read(1), arr[::-1])
        assert f.transform.f == 5000000.0 and f.transform.e == -10.0


def test_sliced_time_axis_is_dropped_and_single_cell_uses_resolution_attr():
    arr = np.ones((1, 1, 3), dtype=np.float32)
    ds = xr.Dataset({"v": (("ansi", "N", "E"), arr)},
                    coords={"ansi": [np.datetime64("2021-05-01", "ns")], "N": [4999995.0],
                            "E": [500005.0, 500015.0, 500025.0]},
                    attrs={"crs": "OGC/0/AnsiDate@EPSG/0/32633", "resolution_N": -10.0})
    data, _ = encode(ds, "tiff")
    mem, f = _open(data)
    with mem, f:
        assert (f.height, f.width) == (1, 3)
        assert tuple(f.transform)[:6] == (10.0, 0.0, 500000.0, 0.0, -10.0, 5000000.0)


def test_single_cell_axis_without_resolution_is_an_error():
    ds = xr.Dataset({"v": (("N", "E"), np.ones((1, 2)))}, coords={"N": [5.0], "E": [1.0, 2.0]},
                    attrs={"crs": "EPSG/0/32633"})
    with pytest.raises(InvalidParameterValue, match="single cell"):
        encode(ds, "image/tiff")


def test_3d_result_to_geotiff_is_an_error_naming_the_axes():
    arr = np.zeros((2, 3, 4), dtype=np.uint8)
    ds = xr.Dataset({"v": (("ansi", "N", "E"), arr)},
                    coords={"ansi": np.array(["2021-01-01", "2021-01-02"], dtype="datetime64[ns]"),
                            "N": [30.0, 20.0, 10.0], "E": [1.0, 2.0, 3.0, 4.0]},
                    attrs={"crs": "OGC/0/AnsiDate@EPSG/0/32633"})
    with pytest.raises(InvalidParameterValue) as err:
        encode(ds, "image/tiff")
    assert "GeoTIFF holds 2-D data" in str(err.value) and "ansi(2)" in str(err.value)
    assert err.value.code == "InvalidParameterValue"


def test_format_parameters_and_cog():
    arr = np.arange(300 * 300, dtype=np.float32).reshape(300, 300)
    ds = geo_dataset({"v": arr})
    data, _ = encode(ds, "image/tiff", {"formatParameters": {"COMPRESS": "LZW"}})
    mem, f = _open(data)
    with mem, f:
        assert f.profile["compress"].lower() == "lzw"
    for fmt, opts in (("image/tiff;application=geotiff;profile=cloud-optimized", None),
                      ("tiff", {"formatParameters": {"COG": True}})):
        data, mime = encode(ds, fmt, opts)
        mem, f = _open(data)
        with mem, f:
            assert f.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
            assert np.array_equal(f.read(1), arr)


def test_dataarray_and_bad_gdal_option():
    da = xr.DataArray(np.ones((2, 2), dtype=np.uint8), dims=("N", "E"),
                      coords={"N": [15.0, 5.0], "E": [5.0, 15.0]}, attrs={"crs": "EPSG/0/4326"}, name="b")
    # EPSG:4326 labels are Lat/Long: N/E are not its axes, so the result is not georeferenced
    data, _ = encode(da, "image/tiff")
    with MemoryFile(data) as mem, mem.open() as f:
        assert f.crs is None and f.descriptions == ("b",)
    with pytest.raises(InvalidParameterValue, match="formatParameters"):
        encode(geo_dataset({"v": np.ones((2, 2))}), "tiff", {"formatParameters": ["COMPRESS"]})


def test_rasterio_is_independent():
    assert rasterio.__gdal_version__
