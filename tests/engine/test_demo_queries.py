"""The nine classic Sentinel-2 demo queries, as text, end to end (parser -> engine ->
encoder); decoded outputs compared with numpy on the source arrays."""

from __future__ import annotations

import io
import subprocess
import sys

import numpy as np
import pytest
import rasterio
from PIL import Image
from rasterio.features import geometry_mask
from shapely.geometry import Polygon

import petacube
from petacube.errors import WcpsSyntaxError

B = {name: i for i, name in enumerate(["B02", "B03", "B04", "B05", "B06", "B08"])}
DAY = 1  # index of 2021-05-01 in the fixture
AT = 'ansi("2021-05-01")'


def run(cube, text):
    return petacube.query(text, cube=cube)


def png(res) -> np.ndarray:
    assert res.media_type == "image/png"
    return np.asarray(Image.open(io.BytesIO(res.data)))


def u8(a):
    """GDAL's conversion to Byte (as rasdaman encodes PNG): clamp, round half up."""
    return np.clip(np.floor(a + 0.5), 0, 255).astype("uint8")


def src_band(src, name):
    return src[DAY, B[name]].astype("float64")


def test_true_colour(s2):
    cube, src = s2
    [res] = run(cube, f'for $c in (S2) return encode({{red: $c.B04[{AT}] / 16; green: $c.B03[{AT}] / 16; blue: $c.B02[{AT}] / 16}}, "image/png")')
    img = png(res)
    assert img.shape == (64, 80, 3)
    for k, band in enumerate(("B04", "B03", "B02")):
        assert np.array_equal(img[..., k], u8(src_band(src, band) / 16))


def test_false_colour_infrared(s2):
    cube, src = s2
    [res] = run(cube, f'for $c in (S2) return encode({{red: $c.B08; green: $c.B04; blue: $c.B03}}[{AT}] / 16, "png")')
    img = png(res)
    assert np.array_equal(img[..., 0], u8(src_band(src, "B08") / 16))


def test_ndvi_green_highlight(s2):
    cube, src = s2
    q = f"""for $c in (S2)
    let $s := $c[{AT}], $ndvi := ((float)$s.B08 - $s.B04) / ((float)$s.B08 + $s.B04)
    return encode(switch case $ndvi > 0.2 return {{red: 0; green: 255; blue: 0}}
                         default return {{red: $s.B04 / 16; green: $s.B03 / 16; blue: $s.B02 / 16}}, "image/png")"""
    img = png(run(cube, q)[0])
    n, r = src_band(src, "B08"), src_band(src, "B04")
    with np.errstate(invalid="ignore", divide="ignore"):
        green = (n - r) / (n + r) > 0.2
    assert np.all(img[green] == [0, 255, 0])
    assert np.array_equal(img[~green][:, 0], u8(r / 16)[~green])


def test_land_and_water_masks(s2):
    cube, src = s2
    water = png(run(cube, f'for $c in (S2) return encode(($c.B08[{AT}] < 1000) * 255, "image/png")')[0])
    assert np.array_equal(water, np.where(src[DAY, B["B08"]] < 1000, 255, 0).astype("uint8"))
    land = png(run(cube, f'for $c in (S2) return encode((($c.B08[{AT}] > $c.B04[{AT}]) and ($c.B08[{AT}] > 1000)) * 255, "png")')[0])
    want = (src[DAY, B["B08"]] > src[DAY, B["B04"]]) & (src[DAY, B["B08"]] > 1000)
    assert np.array_equal(land, np.where(want, 255, 0).astype("uint8"))


def test_mtci_as_tiff(s2):
    cube, src = s2
    [res] = run(cube, f'for $c in (S2) let $s := $c[{AT}] return encode(((float)$s.B06 - $s.B05) / ($s.B05 - $s.B04), "image/tiff")')
    with rasterio.open(io.BytesIO(res.data)) as f:
        got = f.read(1)
        assert f.crs.to_epsg() == 32633 and f.transform.c == 500000 and f.transform.f == 5000000
    b4, b5, b6 = (src_band(src, k) for k in ("B04", "B05", "B06"))
    ok = (src[DAY, B["B04"]] != 0) & (b5 != b4)
    assert np.allclose(got[ok], ((b6 - b5) / (b5 - b4))[ok], rtol=1e-5)


def test_average_and_count_scalars(s2):
    cube, src = s2
    [avg] = run(cube, "for $c in (S2) return avg($c.B08)")
    assert avg.value == pytest.approx(np.ma.masked_equal(src[:, B["B08"]].astype(float), 0).mean())
    [cnt] = run(cube, f"for $c in (S2) return count($c.B08[{AT}] > 2000)")
    assert cnt.value == int((src[DAY, B["B08"]] > 2000).sum())


def test_polygon_clip(s2):
    cube, src = s2
    poly = "POLYGON((500100 4999900, 500500 4999900, 500500 4999500, 500100 4999500, 500100 4999900))"
    [res] = run(cube, f'for $c in (S2) return encode(clip($c.B04[{AT}], {poly}), "image/tiff")')
    with rasterio.open(io.BytesIO(res.data)) as f:
        got = f.read(1)
        assert (f.transform.c, f.transform.f) == (500100.0, 4999900.0)
        assert got.shape == (40, 40)
    want = src[DAY, B["B04"]][10:50, 10:50]
    assert np.array_equal(got, want)  # an axis-aligned square: every cell inside


def test_clip_triangle_nulls_outside(s2):
    cube, src = s2
    tri = Polygon([(500000, 5000000), (500800, 5000000), (500000, 4999360)])
    wkt = "POLYGON((500000 5000000, 500800 5000000, 500000 4999360, 500000 5000000))"
    [res] = run(cube, f'for $c in (S2) return encode(clip($c.B03[{AT}], {wkt}), "image/tiff")')
    with rasterio.open(io.BytesIO(res.data)) as f:
        got, transform = f.read(1), f.transform
    outside = geometry_mask([tri], out_shape=got.shape, transform=transform)
    assert np.all(got[outside] == 0)
    inside = ~outside
    assert np.array_equal(got[inside], src[DAY, B["B03"]][: got.shape[0], : got.shape[1]][inside])


def test_syntax_error_has_position(s2):
    cube, _ = s2
    with pytest.raises(WcpsSyntaxError) as err:
        run(cube, "for $c in (S2) return avg($c.B08")
    assert err.value.line == 1


def test_cli_query(s2, tmp_path):
    cube, src = s2
    home = str(cube.settings.home)
    r = subprocess.run([sys.executable, "-m", "petacube.cli", "--home", home, "query", "for $c in (S2) return max($c.B02)"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert int(r.stdout.strip()) == int(src[:, B["B02"]].max())
    out = tmp_path / "b.png"
    r = subprocess.run([sys.executable, "-m", "petacube.cli", "--home", home, "query",
                        f'for $c in (S2) return encode($c.B02[{AT}] / 16, "image/png")', "-o", str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert np.array_equal(np.asarray(Image.open(out)), u8(src_band(src, "B02") / 16))
    bad = subprocess.run([sys.executable, "-m", "petacube.cli", "--home", home, "query", "for $c in (S2) return avg($c.B08"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "WcpsSyntaxError" in bad.stderr and "line 1" in bad.stderr and "Traceback" not in bad.stderr


def test_decode_uploaded_file(s2, tmp_path):
    cube, _ = s2
    from datagen import write_geotiff
    from rasterio.transform import from_origin

    data = np.arange(1, 13, dtype="uint16").reshape(1, 3, 4)
    path = write_geotiff(tmp_path / "up.tif", data, crs="EPSG:32633", transform=from_origin(600000, 5100000, 20, 20), nodata=0)
    [res] = petacube.query("for $c in (S2) return add(decode($1) * 2)", cube=cube, uploads=[path.read_bytes()])
    assert res.value == int(data.sum()) * 2
    [tif] = petacube.query('for $c in (S2) return encode(decode($1)[E(600020:600060)], "image/tiff")', cube=cube, uploads=[path.read_bytes()])
    with rasterio.open(io.BytesIO(tif.data)) as f:
        assert np.array_equal(f.read(1), data[0][:, 1:3])
        assert f.transform.c == 600020


def test_subset_in_another_crs(s2):
    cube, src = s2
    import pyproj

    to_ll = pyproj.Transformer.from_crs("EPSG:32633", "EPSG:4326", always_xy=True)
    lon0, lat0 = to_ll.transform(500105, 4999605)
    lon1, lat1 = to_ll.transform(500395, 4999895)
    q = (f'for $c in (S2) return encode($c.B02[{AT}, E:"EPSG:4326"({lon0}:{lon1}), N:"EPSG:4326"({lat0}:{lat1})], "image/tiff")')
    [res] = run(cube, q)
    back = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:32633", always_xy=True)
    x0, y0, x1, y1 = back.transform_bounds(lon0, lat0, lon1, lat1, densify_pts=21)
    # rasdaman arithmetic on the box: first column floor((x0-500000)/10), count floor((x1-x0)/10+0.5)
    c0, nc = int(np.floor((x0 - 500000) / 10)), int(np.floor((x1 - x0) / 10 + 0.5))
    r0, nr = int(np.floor((5000000 - y1) / 10)), int(np.floor((y1 - y0) / 10 + 0.5))
    with rasterio.open(io.BytesIO(res.data)) as f:
        assert np.array_equal(f.read(1), src[DAY, B["B02"]][r0:r0 + nr, c0:c0 + nc])
    with pytest.raises(Exception, match="both horizontal axes"):
        run(cube, f'for $c in (S2) return avg($c.B02[E:"EPSG:4326"({lon0}:{lon1})])')


def test_describe(s2):
    import json

    cube, _ = s2
    [res] = run(cube, 'for $c in (S2) return describe($c.B04[ansi("2021-05-01")], "application/json")')
    info = json.loads(res.data)
    assert info["coverageId"] == "S2"
    assert [a["axisLabel"] for a in info["axes"]] == ["N", "E"]
    assert info["axes"][1] == {"axisLabel": "E", "lowerBound": 500000.0, "upperBound": 500800.0, "size": 80, "resolution": 10.0}
    assert info["rangeType"][0]["name"] == "B04" and info["crs"].endswith("EPSG/0/32633")
