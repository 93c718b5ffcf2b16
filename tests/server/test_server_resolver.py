"""The CRS resolver over HTTP: /def and /rasdaman/def."""

from __future__ import annotations

import httpx
import pytest
from lxml import etree
from test_server_wcps import exception_of

GML = "{http://www.opengis.net/gml/3.2}"


def gml(resp: httpx.Response):
    assert resp.status_code == 200, resp.text
    return etree.fromstring(resp.content)


@pytest.mark.parametrize("prefix", ["/def", "/rasdaman/def"])
def test_epsg(server, prefix):
    root = gml(httpx.get(f"{server.url}{prefix}/crs/EPSG/0/32633", timeout=30))
    assert root.tag == f"{GML}ProjectedCRS"
    assert root.findtext(f"{GML}identifier").endswith(f"{prefix}/crs/EPSG/0/32633")
    abbrevs = [e.text for e in root.iter(f"{GML}axisAbbrev")]
    assert abbrevs == ["E", "N"]
    root = gml(httpx.get(f"{server.url}{prefix}/crs/EPSG/0/4326", timeout=30))
    assert root.tag == f"{GML}GeodeticCRS"
    assert [e.text for e in root.iter(f"{GML}axisAbbrev")] == ["Lat", "Lon"]


def test_time_and_index(server):
    root = gml(httpx.get(f"{server.url}/def/crs/OGC/0/AnsiDate", timeout=30))
    assert root.tag == f"{GML}TemporalCRS"
    assert root.findtext(f".//{GML}origin").startswith("1600-12-31")
    assert root.find(f".//{GML}CoordinateSystemAxis").get("uom") == "d"
    root = gml(httpx.get(f"{server.url}/def/crs/OGC/0/UnixTime", timeout=30))
    assert root.findtext(f".//{GML}origin").startswith("1970-01-01")
    root = gml(httpx.get(f"{server.url}/def/crs/OGC/0/Index3D", timeout=30))
    assert root.tag == f"{GML}EngineeringCRS"
    assert len(root.findall(f".//{GML}CoordinateSystemAxis")) == 3


def test_compound(server):
    r = httpx.get(f"{server.url}/rasdaman/def/crs-compound", params={
        "1": f"{server.url}/rasdaman/def/crs/EPSG/0/32633", "2": f"{server.url}/rasdaman/def/crs/OGC/0/AnsiDate"},
        timeout=30)
    root = gml(r)
    assert root.tag == f"{GML}CompoundCRS"
    comps = [c[0] for c in root.findall(f"{GML}componentReferenceSystem")]
    assert [etree.QName(c).localname for c in comps] == ["ProjectedCRS", "TemporalCRS"]
    assert comps[0].findtext(f"{GML}identifier").endswith("/crs/EPSG/0/32633")


def test_unknown_codes_are_404(server):
    for path in ("/def/crs/EPSG/0/999999", "/def/crs/OGC/0/Nope", "/def/crs/FOO/0/1", "/def/whatever"):
        r = httpx.get(server.url + path, timeout=30)
        assert r.status_code == 404, path
        assert exception_of(r)[0] == "NoSuchCrs"


def test_listing(server):
    root = etree.fromstring(httpx.get(f"{server.url}/def/crs/OGC/0", timeout=30).content)
    ids = [e.text for e in root]
    assert any(i.endswith("/AnsiDate") for i in ids) and any(i.endswith("/Index2D") for i in ids)
