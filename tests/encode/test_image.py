import io

import numpy as np
import pytest
import xarray as xr
from encode_values import geo_dataset
from PIL import Image

from petacube.encode import encode
from petacube.errors import InvalidParameterValue


def _img(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


def test_grey_png_north_up_from_south_up_data():
    arr = np.arange(12, dtype=np.uint8).reshape(3, 4)
    data, mime = encode(geo_dataset({"v": arr}, south_up=True), "image/png")
    im = _img(data)
    assert mime == "image/png" and im.mode == "L" and im.size == (4, 3)
    assert np.array_equal(np.array(im), arr[::-1])


def test_rgb_png_and_jpeg(rgb):
    ds = geo_dataset(rgb)
    im = _img(encode(ds, "png")[0])
    assert im.mode == "RGB"
    expected = np.stack([rgb["red"], rgb["green"], rgb["blue"]], axis=-1)
    assert np.array_equal(np.array(im), expected)
    data, mime = encode(ds, "jpg")
    im = _img(data)
    assert mime == "image/jpeg" and im.format == "JPEG" and im.mode == "RGB" and im.size == (6, 4)


def test_rgba_png():
    bands = {b: np.full((2, 2), v, dtype=np.uint8) for b, v in zip("rgba", (1, 2, 3, 4))}
    im = _img(encode(geo_dataset(bands), "png")[0])
    assert im.mode == "RGBA" and tuple(np.array(im)[0, 0]) == (1, 2, 3, 4)


def test_cast_clamps_and_rounds_like_gdal():
    arr = np.array([[-5.0, 0.4, 0.5, 1.5], [254.6, 300.0, np.nan, 7.0]])
    im = _img(encode(geo_dataset({"v": arr}), "png")[0])
    assert np.array_equal(np.array(im), np.array([[0, 0, 1, 2], [255, 255, 0, 7]], dtype=np.uint8))
    b = np.array([[True, False]])
    assert np.array(_img(encode(geo_dataset({"v": b}), "png")[0])).tolist() == [[255, 0]]


def test_uint16_png_is_16_bit():
    arr = np.array([[0, 1000], [40000, 65535]], dtype=np.uint16)
    im = _img(encode(geo_dataset({"v": arr}), "png")[0])
    assert im.mode.startswith("I")
    assert np.array_equal(np.array(im).astype(np.int64), arr.astype(np.int64))


def test_nodata_option_makes_transparent_pixels():
    arr = np.array([[0, 5], [7, 0]], dtype=np.uint8)
    im = _img(encode(geo_dataset({"v": arr}), "png", {"nodata": 0})[0])
    assert im.mode == "LA"
    px = np.array(im)
    assert px[..., 1].tolist() == [[0, 255], [255, 0]] and px[..., 0].tolist() == arr.tolist()
    # RGB: transparent only where all bands hold their null value
    bands = {"r": np.array([[0, 0]], np.uint8), "g": np.array([[0, 9]], np.uint8), "b": np.array([[0, 0]], np.uint8)}
    px = np.array(_img(encode(geo_dataset(bands), "png", {"nodata": [0, 0, 0]})[0]))
    assert px.shape == (1, 2, 4) and px[0, :, 3].tolist() == [0, 255]


def test_transpose_swaps_the_two_axes_and_non_geo_first_axis_is_width():
    arr = np.arange(6, dtype=np.uint8).reshape(2, 3)  # dims (i, j): i along width, as rasdaman
    da = xr.DataArray(arr, dims=("i", "j"), attrs={"crs": "OGC/0/Index2D"})
    im = _img(encode(da, "png")[0])
    assert im.size == (2, 3) and np.array_equal(np.array(im), arr.T)
    im = _img(encode(da, "png", {"transpose": [0, 1]})[0])
    assert im.size == (3, 2) and np.array_equal(np.array(im), arr)


def test_colormap_values():
    arr = np.array([[-1.0, -0.5], [1.0, 3.0]])
    cmap = {"type": "values", "colorTable": {"-1": [255, 255, 255, 0], "-0.5": [125, 125, 125, 255],
                                             "1": [0, 0, 0, 255]}}
    px = np.array(_img(encode(geo_dataset({"v": arr}), "png", {"colorMap": cmap})[0]))
    assert px.tolist() == [[[255, 255, 255, 0], [125, 125, 125, 255]], [[0, 0, 0, 255], [0, 0, 0, 0]]]


def test_colormap_intervals_rgb():
    arr = np.array([[-5.0, -1.0, -0.7, -0.5, 0.2, 1.0, 9.0]])
    cmap = {"type": "intervals", "colorTable": {"-1": [10, 10, 10], "-0.5": [20, 20, 20], "1": [30, 30, 30]}}
    im = _img(encode(geo_dataset({"v": arr}), "png", {"colorMap": cmap})[0])
    assert im.mode == "RGB"
    assert np.array(im)[0, :, 0].tolist() == [10, 10, 10, 20, 20, 30, 30]


def test_colormap_ramp_interpolates_like_rasdaman():
    arr = np.array([[-0.75, 0.0, -2.0, 2.0, -0.5]])
    table = {"-1": [255, 255, 255, 0], "-0.5": [125, 125, 125, 255], "1": [0, 0, 0, 255]}
    px = np.array(_img(encode(geo_dataset({"v": arr}), "png", {"colorMap": {"type": "ramp", "colorTable": table}})[0]))
    # -0.75: halfway between -1 and -0.5: 0.5*255 + 0.5*125 = 190, alpha 0.5*0 + 0.5*255 = 127.5 -> 127
    assert px[0, 0].tolist() == [190, 190, 190, 127]
    # 0.0: between -0.5 and 1, weights 2/3 and 1/3: 125*2/3 = 83.33 -> 83, alpha 255
    assert px[0, 1].tolist() == [83, 83, 83, 255]
    assert px[0, 2].tolist() == [255, 255, 255, 0] and px[0, 3].tolist() == [0, 0, 0, 255]
    assert px[0, 4].tolist() == [125, 125, 125, 255]


def test_colormap_errors():
    ds = geo_dataset({"v": np.zeros((2, 2))})
    with pytest.raises(InvalidParameterValue, match="type"):
        encode(ds, "png", {"colorMap": {"type": "spline", "colorTable": {"0": [1, 2, 3]}}})
    with pytest.raises(InvalidParameterValue, match="same number"):
        encode(ds, "png", {"colorMap": {"type": "values", "colorTable": {"0": [1, 2, 3], "1": [1, 2, 3, 4]}}})


def test_too_many_bands_and_3d_are_errors():
    five = {str(i): np.zeros((2, 2), np.uint8) for i in range(5)}
    with pytest.raises(InvalidParameterValue, match="bands"):
        encode(geo_dataset(five), "png")
    da = xr.DataArray(np.zeros((2, 2, 2), np.uint8), dims=("a", "b", "c"))
    with pytest.raises(InvalidParameterValue, match="2-D"):
        encode(da, "jpeg")
