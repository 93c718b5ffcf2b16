"""GetMap against the real server: pixels compared with numpy on the source arrays."""

from __future__ import annotations

import io

import numpy as np
import pyproj
import rasterio
from PIL import Image
from wms_server import DATES, DEM_RES, FULL_BBOX, ORIGIN, RES, SIZE, get, get_map, grey, pixel_centres, sample_utm

LATEST = 2


def lin(values):
    return grey(values / 16.0)  # style "lin" is $c.B02 / 16 (exact in binary)


def test_native_grid_values_and_nodata_transparency(wms):
    a = get_map(wms, styles="lin")
    src = wms.s2[LATEST, 0]
    assert a.shape == (SIZE, SIZE, 2)  # grey + alpha
    np.testing.assert_array_equal(a[..., 0][src != 0], lin(src)[src != 0])
    np.testing.assert_array_equal(a[..., 1], np.where(src == 0, 0, 255))
    assert (src == 0).sum() == 64  # the nodata corner of the test data


def test_downsampled_map_takes_the_nearest_cell(wms):
    a = get_map(wms, styles="lin", width=SIZE // 2, height=SIZE // 2)
    src = wms.s2[LATEST, 0][1::2, 1::2]  # centre of output pixel k lies in source cell 2k+1
    np.testing.assert_array_equal(a[..., 0][src != 0], lin(src)[src != 0])


def test_zoomed_in_subset(wms):
    x0, y1 = ORIGIN[0] + 100, ORIGIN[1] - 50
    bbox = f"{x0},{y1 - 160},{x0 + 200},{y1}"  # 20 × 16 source cells
    a = get_map(wms, styles="lin", bbox=bbox, width=40, height=32)
    src = wms.s2[LATEST, 0][5:21, 10:30]
    np.testing.assert_array_equal(a[..., 0], lin(np.repeat(np.repeat(src, 2, 0), 2, 1)))


def test_time_single_range_and_list(wms):
    s2 = wms.s2[:, 0]
    first = get_map(wms, styles="lin", time=DATES[0])
    np.testing.assert_array_equal(first[..., 0][s2[0] != 0], lin(s2[0])[s2[0] != 0])
    # range: the later date on top where it has data, the older one below
    rng = get_map(wms, styles="lin", time=f"{DATES[0]}/{DATES[1]}")
    expected = np.where(s2[1] != 0, s2[1], s2[0])
    np.testing.assert_array_equal(rng[..., 0][expected != 0], lin(expected)[expected != 0])
    np.testing.assert_array_equal(rng[..., 1], np.where(expected == 0, 0, 255))
    assert (s2[1] == 0).sum() > (expected == 0).sum()  # the older date filled the gap
    lst = get_map(wms, styles="lin", time=f"{DATES[0]}T00:00:00Z,{DATES[2]}")
    expected = np.where(s2[2] != 0, s2[2], s2[0])
    np.testing.assert_array_equal(lst[..., 0][expected != 0], lin(expected)[expected != 0])


def test_default_time_is_the_latest(wms):
    np.testing.assert_array_equal(get_map(wms, styles="lin"), get_map(wms, styles="lin", time=DATES[LATEST]))


def test_colour_map_style(wms):
    a = get_map(wms, styles="classes")
    src = wms.s2[LATEST, 1]
    expected = np.where((src >= 2000)[..., None], [255, 0, 0, 255], [0, 0, 255, 255])
    expected[src == 0] = 0 if a[..., 3][src == 0].max() == 0 else -1
    np.testing.assert_array_equal(a[src != 0], expected[src != 0])
    assert (a[..., 3][src == 0] == 0).all()


def test_background_colour_when_not_transparent(wms):
    a = get_map(wms, styles="lin", transparent="FALSE", bgcolor="0x00FF00")
    assert a.shape[-1] == 3
    src = wms.s2[LATEST, 0]
    assert (a[src == 0] == [0, 255, 0]).all()
    np.testing.assert_array_equal(a[..., 1][src != 0], lin(src)[src != 0])


def test_layers_composited_bottom_up(wms):
    # DEM (grey style = its value) below, S2 over it: the S2 nodata corner shows the DEM
    a = get_map(wms, layers="DEM,S2", styles="grey,lin", format="image/png")
    s2 = wms.s2[LATEST, 0]
    xs, ys = pixel_centres([float(v) for v in FULL_BBOX.split(",")], SIZE, SIZE)
    dem, inside = sample_utm(wms.dem, xs, ys, res=DEM_RES)
    assert inside[s2 == 0].all()  # the DEM lies under the S2 nodata corner
    np.testing.assert_array_equal(a[..., 0][s2 != 0], lin(s2)[s2 != 0])
    np.testing.assert_array_equal(a[..., 0][s2 == 0], grey(dem)[s2 == 0])
    assert (a[..., 3] == 255).all()


def test_layer_without_nulls_is_transparent_outside_its_extent(wms):
    # DEM covers x 500000..500800, y 4999520..5000000; ask for a box reaching beyond it
    bbox = (499800.0, 4999400.0, 500900.0, 5000100.0)
    a = get_map(wms, layers="DEM", styles="grey", bbox=",".join(map(str, bbox)), width=55, height=35)
    xs, ys = pixel_centres(bbox, 55, 35)
    dem, inside = sample_utm(wms.dem, xs, ys, res=DEM_RES)
    np.testing.assert_array_equal(a[..., -1], np.where(inside, 255, 0))
    rgb = a[..., 0]
    np.testing.assert_array_equal(rgb[inside], grey(dem)[inside])


def _reprojected_expectation(wms, crs: str, bbox_xy, width, height):
    xs, ys = pixel_centres(bbox_xy, width, height)
    to_utm = pyproj.Transformer.from_crs(crs, "EPSG:32633", always_xy=True)
    ux, uy = to_utm.transform(xs, ys)
    src = wms.s2[LATEST, 0]
    values, inside = sample_utm(src, ux, uy)
    return values, inside & (values != 0)


def test_epsg4326_map_is_written_lat_lon(wms):
    to_ll = pyproj.Transformer.from_crs("EPSG:32633", "EPSG:4326", always_xy=True)
    lon0, lat0 = to_ll.transform(ORIGIN[0] + 60, ORIGIN[1] - 600)
    lon1, lat1 = to_ll.transform(ORIGIN[0] + 600, ORIGIN[1] - 60)
    width, height = 48, 40
    a = get_map(wms, styles="lin", crs="EPSG:4326", bbox=f"{lat0},{lon0},{lat1},{lon1}", width=width, height=height)
    values, valid = _reprojected_expectation(wms, "EPSG:4326", (lon0, lat0, lon1, lat1), width, height)
    same = a[..., 0][valid] == lin(values)[valid]
    assert same.mean() > 0.97  # GDAL's approximate transformer may move a pixel at cell edges
    # CRS:84 is the same map written lon/lat
    b = get_map(wms, styles="lin", crs="CRS:84", bbox=f"{lon0},{lat0},{lon1},{lat1}", width=width, height=height)
    np.testing.assert_array_equal(a, b)
    # the lon/lat order under EPSG:4326 is another place (outside the layer): an empty map
    c = get_map(wms, styles="lin", crs="EPSG:4326", bbox=f"{lon0},{lat0},{lon1},{lat1}", width=width, height=height)
    assert (c[..., -1] == 0).all()


def test_epsg3857_map(wms):
    to_m = pyproj.Transformer.from_crs("EPSG:32633", "EPSG:3857", always_xy=True)
    x0, y0 = to_m.transform(ORIGIN[0] + 40, ORIGIN[1] - 620)
    x1, y1 = to_m.transform(ORIGIN[0] + 620, ORIGIN[1] - 40)
    a = get_map(wms, styles="lin", crs="EPSG:3857", bbox=f"{x0},{y0},{x1},{y1}", width=50, height=50)
    values, valid = _reprojected_expectation(wms, "EPSG:3857", (x0, y0, x1, y1), 50, 50)
    assert (a[..., 0][valid] == lin(values)[valid]).mean() > 0.97


def test_jpeg_and_georeferenced_tiff(wms):
    r = get(wms, request="GetMap", layers="S2", styles="lin", crs="EPSG:32633", bbox=FULL_BBOX, width=SIZE,
            height=SIZE, format="image/jpeg")
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(r.content)).size == (SIZE, SIZE)
    r = get(wms, request="GetMap", layers="S2", styles="lin", crs="EPSG:32633", bbox=FULL_BBOX, width=SIZE,
            height=SIZE, format="image/tiff", transparent="TRUE")
    assert r.status_code == 200 and r.headers["content-type"] == "image/tiff"
    with rasterio.MemoryFile(r.content) as mem, mem.open() as ds:
        assert ds.crs.to_epsg() == 32633 and ds.count == 4
        assert ds.transform.c == ORIGIN[0] and ds.transform.f == ORIGIN[1] and ds.transform.a == RES
        src = wms.s2[LATEST, 0]
        np.testing.assert_array_equal(ds.read(1)[src != 0], lin(src)[src != 0])


def test_box_outside_every_layer_is_a_blank_map(wms):
    a = get_map(wms, styles="lin", bbox="0,0,1000,1000", width=16, height=16)
    assert (a[..., -1] == 0).all()


def test_repeated_request_is_answered_the_same(wms):
    params = dict(request="GetMap", layers="S2", styles="lin", crs="EPSG:32633", bbox=FULL_BBOX, width=32,
                  height=32, format="image/png", transparent="TRUE")
    assert get(wms, **params).content == get(wms, **{k.upper(): v for k, v in params.items()}).content
