"""GetCapabilities read by OWSLib, and maps read by GDAL's WMS driver."""

from __future__ import annotations

import numpy as np
import pyproj
import rasterio
from lxml import etree
from owslib.wms import WebMapService
from wms_server import DATES, FULL_BBOX, ORIGIN, RES, SIZE, get, grey

NS = {"w": "http://www.opengis.net/wms"}


def test_owslib_reads_layers_crs_dimensions_styles(wms):
    service = WebMapService(wms.ows(), version="1.3.0", timeout=60)
    assert {"S2", "DEM"} <= set(service.contents) and "HIDDEN" not in service.contents
    s2 = service["S2"]
    assert {"EPSG:32633", "EPSG:4326", "EPSG:3857"} <= set(s2.crsOptions)
    to_ll = pyproj.Transformer.from_crs("EPSG:32633", "EPSG:4326", always_xy=True)
    west, south, east, north = to_ll.transform_bounds(ORIGIN[0], ORIGIN[1] - SIZE * RES, ORIGIN[0] + SIZE * RES,
                                                      ORIGIN[1], densify_pts=21)
    np.testing.assert_allclose(s2.boundingBoxWGS84, (west, south, east, north), rtol=1e-7)
    time = s2.dimensions["time"]
    assert [v[:10] for v in time["values"]] == DATES
    assert time["default"].startswith(DATES[-1])
    assert {"lin", "classes", "default"} <= set(s2.styles)
    assert "GetLegendGraphic" in s2.styles["classes"]["legend"]
    assert service["DEM"].dimensions == {}
    img = service.getmap(layers=["S2"], styles=["lin"], srs="EPSG:32633",
                         bbox=tuple(float(v) for v in FULL_BBOX.split(",")), size=(SIZE, SIZE),
                         format="image/png", transparent=True)
    assert img.read()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bounding_boxes_follow_each_crs_axis_order(wms):
    xml = etree.fromstring(get(wms, request="GetCapabilities").content)
    layer = xml.xpath("//w:Layer[w:Name='S2']", namespaces=NS)[0]
    boxes = {b.get("CRS"): [float(b.get(k)) for k in ("minx", "miny", "maxx", "maxy")]
             for b in layer.xpath("w:BoundingBox", namespaces=NS)}
    assert boxes["EPSG:32633"] == [ORIGIN[0], ORIGIN[1] - SIZE * RES, ORIGIN[0] + SIZE * RES, ORIGIN[1]]
    lat_first = boxes["EPSG:4326"]
    lon_first = boxes["CRS:84"]
    assert lat_first == [lon_first[1], lon_first[0], lon_first[3], lon_first[2]]
    assert 45 < lat_first[0] < 46 and 14 < lat_first[1] < 16  # latitude first (UTM 33N at 15°E, 45°N)


def test_gdal_wms_driver_reads_the_map(wms):
    # GDAL's WMS driver with a service description: the map grid is the source grid
    x0, y1 = ORIGIN
    x1, y0 = x0 + SIZE * RES, y1 - SIZE * RES
    description = (
        f'<GDAL_WMS><Service name="WMS"><Version>1.3.0</Version><ServerUrl>{wms.ows()}?</ServerUrl>'
        "<Layers>S2</Layers><Styles>lin</Styles><CRS>EPSG:32633</CRS><ImageFormat>image/png</ImageFormat>"
        f"<Transparent>TRUE</Transparent></Service><DataWindow><UpperLeftX>{x0}</UpperLeftX>"
        f"<UpperLeftY>{y1}</UpperLeftY><LowerRightX>{x1}</LowerRightX><LowerRightY>{y0}</LowerRightY>"
        f"<SizeX>{SIZE}</SizeX><SizeY>{SIZE}</SizeY></DataWindow><BlockSizeX>{SIZE}</BlockSizeX>"
        f"<BlockSizeY>{SIZE}</BlockSizeY><BandsCount>4</BandsCount></GDAL_WMS>")
    with rasterio.open(description) as ds:
        assert ds.crs.to_epsg() == 32633 and ds.shape == (SIZE, SIZE)
        grey_band, alpha = ds.read(1), ds.read(4)
    src = wms.s2[-1, 0]
    np.testing.assert_array_equal(grey_band[src != 0], grey(src / 16.0)[src != 0])
    np.testing.assert_array_equal(alpha, np.where(src == 0, 0, 255))
