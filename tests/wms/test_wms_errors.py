"""Bad input: every mistake is a WMS 1.3.0 ServiceExceptionReport with a 4xx status (or, on
request, an image); never a 500."""

from __future__ import annotations

import io

import pytest
from lxml import etree
from PIL import Image
from wms_server import FULL_BBOX, get

OGC = "{http://www.opengis.net/ogc}"
MAP = dict(request="GetMap", layers="S2", styles="", crs="EPSG:32633", bbox=FULL_BBOX, width=16, height=16,
           format="image/png")

CASES = [
    ("unknown layer", dict(layers="NOPE"), 404, "LayerNotDefined"),
    ("not a WMS layer", dict(layers="HIDDEN"), 404, "LayerNotDefined"),
    ("unknown style", dict(styles="nope"), 404, "StyleNotDefined"),
    ("style count", dict(styles="lin,lin"), 400, "InvalidParameterValue"),
    ("bad CRS", dict(crs="EPSG:999999"), 400, "InvalidCRS"),
    ("not a CRS", dict(crs="WGS84"), 400, "InvalidCRS"),
    ("3-D CRS", dict(crs="EPSG:4979"), 400, "InvalidCRS"),
    ("bbox count", dict(bbox="1,2,3"), 400, "InvalidParameterValue"),
    ("bbox order", dict(bbox="500640,4999360,500000,5000000"), 400, "InvalidParameterValue"),
    ("bbox text", dict(bbox="a,b,c,d"), 400, "InvalidParameterValue"),
    ("too wide", dict(width=100000), 400, "InvalidParameterValue"),
    ("zero height", dict(height=0), 400, "InvalidParameterValue"),
    ("format", dict(format="image/gif"), 400, "InvalidFormat"),
    ("malformed time", dict(time="yesterday"), 400, "InvalidDimensionValue"),
    ("time not in layer", dict(time="2020-01-01"), 400, "InvalidDimensionValue"),
    ("backwards range", dict(time="2021-05-20/2021-04-15"), 400, "InvalidDimensionValue"),
    ("empty range", dict(time="2019-01-01/2019-02-01"), 400, "InvalidDimensionValue"),
    ("bad period", dict(time="2021-04-15/2021-05-20/PXD"), 400, "InvalidDimensionValue"),
    ("transparent", dict(transparent="maybe"), 400, "InvalidParameterValue"),
    ("bgcolor", dict(bgcolor="red"), 400, "InvalidParameterValue"),
    ("missing bbox", dict(bbox=""), 400, "MissingParameterValue"),
    ("missing layers", dict(layers=""), 400, "MissingParameterValue"),
    ("version", dict(version="2.0.0"), 400, "InvalidParameterValue"),
]


@pytest.mark.parametrize("what, change, status, code", CASES, ids=[c[0] for c in CASES])
def test_get_map_bad_input(wms, what, change, status, code):
    r = get(wms, **{**MAP, **change})
    assert r.status_code == status, r.text
    root = etree.fromstring(r.content)
    assert root.tag == f"{OGC}ServiceExceptionReport" and root.get("version") == "1.3.0"
    exc = root.find(f"{OGC}ServiceException")
    assert exc.get("code") == code and exc.text.strip()


def test_feature_info_and_legend_bad_input(wms):
    info = dict(MAP, request="GetFeatureInfo", query_layers="S2", i=1, j=1)
    for change, code in ((dict(query_layers="DEM"), "LayerNotDefined"), (dict(i="x"), "InvalidPoint"),
                         (dict(j=-1), "InvalidPoint"), (dict(info_format="image/png"), "InvalidFormat")):
        r = get(wms, **{**info, **change})
        assert r.status_code in (400, 404) and f'code="{code}"' in r.text, (change, r.text)
    r = get(wms, request="GetLegendGraphic", layer="NOPE", format="image/png")
    assert r.status_code == 404 and 'code="LayerNotDefined"' in r.text


def test_exceptions_in_image_and_blank(wms):
    for mode in ("INIMAGE", "BLANK", "application/vnd.ogc.se_inimage"):
        r = get(wms, **{**MAP, "layers": "NOPE", "exceptions": mode, "width": 40, "height": 30})
        assert r.status_code == 200 and r.headers["content-type"] == "image/png"
        image = Image.open(io.BytesIO(r.content))
        assert image.size == (40, 30)
        drawn = len(set(image.convert("RGB").getdata())) > 1
        assert drawn == ("INIMAGE" in mode.upper())
