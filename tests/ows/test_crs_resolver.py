"""The CRS resolver without HTTP: GML built from pyproj, checked against pyproj itself."""

from __future__ import annotations

import pyproj
import pytest
from lxml import etree

from petacube.ows.crs_resolver import handle_def
from petacube.ows.protocol import OwsRequest

GML = "{http://www.opengis.net/gml/3.2}"
ROOT = "http://test.local/rasdaman/def"


def resolve(path: str, **params):
    return handle_def(OwsRequest("GET", {k: [v] for k, v in params.items()}, ROOT), path)


@pytest.mark.parametrize(("code", "kind"), [
    (4326, "GeodeticCRS"), (32633, "ProjectedCRS"), (3035, "ProjectedCRS"), (5773, "VerticalCRS"),
    (4978, "GeodeticCRS"), (7405, "CompoundCRS"),
])
def test_epsg_codes(code, kind):
    resp = resolve(f"crs/EPSG/0/{code}")
    assert resp.status == 200 and resp.media_type == "application/gml+xml"
    root = etree.fromstring(resp.body)
    assert root.tag == f"{GML}{kind}"
    assert root.findtext(f"{GML}identifier") == f"{ROOT}/crs/EPSG/0/{code}"
    crs = pyproj.CRS.from_epsg(code)
    assert root.findtext(f"{GML}name") == crs.name
    abbrevs = [e.text for e in root.iter(f"{GML}axisAbbrev")]
    assert abbrevs == [a.abbrev for a in crs.axis_info]
    # the WKT in the remarks is pyproj's own
    assert pyproj.CRS.from_wkt(root.findtext(f"{GML}remarks")).equals(crs)


def test_projected_crs_links_its_base():
    root = etree.fromstring(resolve("crs/EPSG/0/32633").body)
    base = root.find(f"{GML}baseGeodeticCRS")
    assert base.get("{http://www.w3.org/1999/xlink}href") == f"{ROOT}/crs/EPSG/0/4326"


def test_time_crs():
    root = etree.fromstring(resolve("crs/OGC/0/UnixTime").body)
    assert root.tag == f"{GML}TemporalCRS"
    assert root.findtext(f".//{GML}origin") == "1970-01-01T00:00:00Z"
    axis = root.find(f".//{GML}CoordinateSystemAxis")
    assert axis.get("uom") == "s" and axis.findtext(f"{GML}axisAbbrev") == "unix"


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5])
def test_index_crs(n):
    root = etree.fromstring(resolve(f"crs/OGC/0/Index{n}D").body)
    assert root.tag == f"{GML}EngineeringCRS"
    assert [e.text for e in root.iter(f"{GML}axisAbbrev")] == list("ijklm"[:n])


def test_compound():
    resp = resolve("crs-compound", **{"2": "http://x/def/crs/OGC/0/AnsiDate", "1": "http://x/def/crs/EPSG/0/4326"})
    root = etree.fromstring(resp.body)
    assert root.tag == f"{GML}CompoundCRS"
    kinds = [etree.QName(c[0]).localname for c in root.findall(f"{GML}componentReferenceSystem")]
    assert kinds == ["GeodeticCRS", "TemporalCRS"]
    ids = [e.get(f"{GML}id") for e in root.iter() if e.get(f"{GML}id")]
    assert len(ids) == len(set(ids))  # gml:ids unique across components


@pytest.mark.parametrize("path", ["crs/EPSG/0/999999", "crs/EPSG/0/abc", "crs/OGC/0/Index6D", "crs/EPSG/1/4326",
                                  "crs/XYZ/0/1", "nothing"])
def test_unknown_is_404(path):
    resp = resolve(path)
    assert resp.status == 404
    assert b"NoSuchCrs" in resp.body


def test_compound_errors():
    assert resolve("crs-compound").status == 400
    assert resolve("crs-compound", **{"1": "http://x/def/crs/EPSG/0/999999"}).status == 404
    assert resolve("crs-compound", a="http://x/def/crs/EPSG/0/4326").status == 400
