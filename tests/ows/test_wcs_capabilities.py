"""GetCapabilities and DescribeCoverage on a small imported cube."""

from __future__ import annotations

import time

import numpy as np
import pyproj
import pytest
from lxml import etree
from wcs_cube import (
    BASE_URL,
    DATES,
    HEIGHT,
    ORIGIN,
    RES,
    WIDTH,
    build_cube,
    request,
    xml_request,
)

from petacube.model import (
    Band,
    Coverage,
    Crs,
    IrregularAxis,
    NilValue,
    RegularAxis,
    datetime_to_number,
)
from petacube.ows.wcs import handle_wcs, resolver_for
from petacube.ows.wcs.describe import coverage_description
from petacube.ows.wcs.errors import VersionNegotiationFailed

NS = {"wcs": "http://www.opengis.net/wcs/2.0", "ows": "http://www.opengis.net/ows/2.0",
      "gml": "http://www.opengis.net/gml/3.2", "gmlcov": "http://www.opengis.net/gmlcov/1.0",
      "swe": "http://www.opengis.net/swe/2.0", "gmlrgrid": "http://www.opengis.net/gml/3.3/rgrid",
      "xlink": "http://www.w3.org/1999/xlink"}
RESOLVER = "http://test.local/rasdaman/def"

wcs = pytest.fixture(scope="session", name="wcs")(build_cube)


def _xml(resp):
    assert resp.status == 200
    return etree.fromstring(resp.body)


def _summary(root, cid):
    (el,) = root.xpath(f"//wcs:CoverageSummary[wcs:CoverageId='{cid}']", namespaces=NS)
    return el


def test_capabilities_structure(wcs):
    root = _xml(handle_wcs(request(request="GetCapabilities"), wcs.cube))
    assert root.tag == f"{{{NS['wcs']}}}Capabilities" and root.get("version") == "2.0.1"
    profiles = root.xpath("//ows:ServiceIdentification/ows:Profile/text()", namespaces=NS)
    assert "http://www.opengis.net/spec/WCS/2.0/conf/core" in profiles
    assert root.xpath("//ows:ServiceTypeVersion/text()", namespaces=NS) == ["2.0.1"]
    ops = root.xpath("//ows:OperationsMetadata/ows:Operation/@name", namespaces=NS)
    assert ops == ["GetCapabilities", "DescribeCoverage", "GetCoverage", "ProcessCoverages"]
    hrefs = set(root.xpath("//ows:Operation//ows:Get/@xlink:href | //ows:Operation//ows:Post/@xlink:href", namespaces=NS))
    assert hrefs == {BASE_URL}
    formats = root.xpath("//wcs:ServiceMetadata/wcs:formatSupported/text()", namespaces=NS)
    assert {"image/tiff", "application/gml+xml", "application/netcdf"} <= set(formats)
    assert sorted(root.xpath("//wcs:CoverageSummary/wcs:CoverageId/text()", namespaces=NS)) == ["DEM", "S2"]


def test_capabilities_summaries(wcs):
    root = _xml(handle_wcs(request(request="GetCapabilities"), wcs.cube))
    s2 = _summary(root, "S2")
    assert s2.findtext("wcs:CoverageSubtype", namespaces=NS) == "ReferenceableGridCoverage"
    assert _summary(root, "DEM").findtext("wcs:CoverageSubtype", namespaces=NS) == "RectifiedGridCoverage"
    # WGS84 box: the projected envelope transformed independently here
    west, north = ORIGIN
    east, south = west + WIDTH * RES, north - HEIGHT * RES
    t = pyproj.Transformer.from_crs("EPSG:32633", "EPSG:4326", always_xy=True)
    expect = t.transform_bounds(west, south, east, north, densify_pts=21)
    lower = [float(v) for v in s2.findtext("ows:WGS84BoundingBox/ows:LowerCorner", namespaces=NS).split()]
    upper = [float(v) for v in s2.findtext("ows:WGS84BoundingBox/ows:UpperCorner", namespaces=NS).split()]
    np.testing.assert_allclose(lower + upper, expect, atol=1e-9)
    assert 14.9 < lower[0] < 15.1 and 45.0 < lower[1] < 45.2
    box = s2.find("ows:BoundingBox", namespaces=NS)
    assert box.get("crs") == (f"{RESOLVER}/crs-compound?1={RESOLVER}/crs/OGC/0/AnsiDate&2={RESOLVER}/crs/EPSG/0/32633")
    assert box.get("dimensions") == "3"
    assert box.findtext("ows:LowerCorner", namespaces=NS).split() == ['"2021-04-15T00:00:00.000Z"', "500000", "4999600"]
    assert box.findtext("ows:UpperCorner", namespaces=NS).split() == ['"2021-05-20T00:00:00.000Z"', "500500", "5000000"]
    params = dict(zip(s2.xpath(".//ows:AdditionalParameter/ows:Name/text()", namespaces=NS),
                      s2.xpath(".//ows:AdditionalParameter/ows:Value/text()", namespaces=NS)))
    assert params["sizeInBytes"] == str(3 * HEIGHT * WIDTH * 3 * 2)
    assert params["axisList"] == "ansi,E,N"


def test_capabilities_sections_and_versions(wcs):
    root = _xml(handle_wcs(request(request="GetCapabilities", sections="Contents"), wcs.cube))
    assert root.find("ows:ServiceIdentification", NS) is None and root.find("wcs:Contents", NS) is not None
    root = _xml(handle_wcs(request(request="GetCapabilities", acceptversions="1.0.0,2.0.1"), wcs.cube))
    assert root.get("version") == "2.0.1"
    with pytest.raises(VersionNegotiationFailed, match="1.1.0"):
        handle_wcs(request(request="GetCapabilities", acceptversions="1.1.0"), wcs.cube)


def test_capabilities_parsed_by_owslib(wcs):
    from owslib.coverage.wcs201 import WebCoverageService_2_0_1

    body = handle_wcs(request(request="GetCapabilities"), wcs.cube).body
    service = WebCoverageService_2_0_1(BASE_URL, body, None)
    assert sorted(service.contents) == ["DEM", "S2"]
    assert service.identification.type == "OGC WCS"
    assert {op.name for op in service.operations} >= {"GetCoverage", "DescribeCoverage"}
    assert "image/tiff" in service.contents["S2"].supportedFormats


def test_capabilities_xml_post(wcs):
    body = """<wcs:GetCapabilities xmlns:wcs="http://www.opengis.net/wcs/2.0" xmlns:ows="http://www.opengis.net/ows/2.0"
      service="WCS"><ows:AcceptVersions><ows:Version>2.0.1</ows:Version></ows:AcceptVersions>
      <ows:Sections><ows:Section>Contents</ows:Section></ows:Sections></wcs:GetCapabilities>"""
    root = _xml(handle_wcs(xml_request(body), wcs.cube))
    assert len(root.xpath("//wcs:CoverageSummary", namespaces=NS)) == 2
    assert root.find("ows:OperationsMetadata", NS) is None


def test_describe_irregular(wcs):
    from owslib.coverage.wcs201 import ReferenceableGridByVectors

    root = _xml(handle_wcs(request(request="DescribeCoverage", coverageId="S2"), wcs.cube))
    (desc,) = root.xpath("//wcs:CoverageDescription", namespaces=NS)
    env = desc.find("gml:boundedBy/gml:Envelope", NS)
    assert env.get("axisLabels") == "ansi E N" and env.get("srsDimension") == "3"
    assert env.get("uomLabels") == "d metre metre"
    assert env.findtext("gml:lowerCorner", namespaces=NS) == '"2021-04-15T00:00:00.000Z" 500000 4999600'
    grid = desc.find("gml:domainSet/gmlrgrid:ReferenceableGridByVectors", NS)
    parsed = ReferenceableGridByVectors(grid)
    assert parsed.axislabels == ["ansi", "E", "N"]
    assert parsed.lowlimits == ["0", "0", "0"] and parsed.highlimits == ["2", str(WIDTH - 1), str(HEIGHT - 1)]
    assert parsed.origin == ['"2021-04-15T00:00:00.000Z"', str(int(ORIGIN[0] + RES / 2)), str(int(ORIGIN[1] - RES / 2))]
    assert parsed.offsetvectors == [["1", "0", "0"], ["0", "10", "0"], ["0", "0", "-10"]]
    coeffs = grid.xpath("gmlrgrid:generalGridAxis/gmlrgrid:GeneralGridAxis[gmlrgrid:gridAxesSpanned='ansi']"
                        "/gmlrgrid:coefficients/text()", namespaces=NS)[0]
    assert coeffs.split(" ") == [f'"{d[:4]}-{d[4:6]}-{d[6:]}T00:00:00.000Z"' for d in DATES]
    fields = desc.xpath("gmlcov:rangeType/swe:DataRecord/swe:field/@name", namespaces=NS)
    assert fields == ["B02", "B03", "B04"]
    nil = desc.xpath("//swe:field[@name='B03']//swe:nilValue", namespaces=NS)[0]
    assert nil.text == "0" and nil.get("reason")
    assert desc.findtext("wcs:ServiceParameters/wcs:CoverageSubtype", namespaces=NS) == "ReferenceableGridCoverage"


def test_describe_rectified_and_list(wcs):
    from owslib.coverage.wcs201 import RectifiedGrid

    root = _xml(handle_wcs(request(request="DescribeCoverage", coverageId="DEM,S2"), wcs.cube))
    assert root.xpath("//wcs:CoverageDescription/wcs:CoverageId/text()", namespaces=NS) == ["DEM", "S2"]
    (grid,) = root.xpath("//wcs:CoverageDescription[@gml:id='DEM']//gml:RectifiedGrid", namespaces=NS)
    parsed = RectifiedGrid(grid)
    assert parsed.axislabels == ["E", "N"] and parsed.highlimits == ["19", "29"]
    assert parsed.origin == ["500010", "4999990"]  # centre of cell (0, 0): 20 m pixels
    assert parsed.offsetvectors == [["20", "0"], ["0", "-20"]]
    srs = grid.find("gml:origin/gml:Point", NS).get("srsName")
    assert srs == f"{RESOLVER}/crs/EPSG/0/32633"
    assert root.xpath("//wcs:CoverageDescription[@gml:id='DEM']//swe:nilValue/text()", namespaces=NS) == ["-9999"]


def test_describe_xml_post(wcs):
    body = """<?xml version="1.0"?><wcs:DescribeCoverage xmlns:wcs="http://www.opengis.net/wcs/2.0" service="WCS"
      version="2.0.1"><wcs:CoverageId>DEM</wcs:CoverageId></wcs:DescribeCoverage>"""
    root = _xml(handle_wcs(xml_request(body), wcs.cube))
    assert root.xpath("//wcs:CoverageId/text()", namespaces=NS) == ["DEM"]


def test_describe_huge_irregular_axis_is_fast():
    crs = Crs.parse("OGC/0/AnsiDate@EPSG/0/32633")
    axes = {a.label: a for a in crs.axes}
    start = datetime_to_number("1800-01-01", "AnsiDate")
    coeffs = tuple(start + np.arange(100_000, dtype=float) * 0.5)
    cov = Coverage("BIG", crs, (IrregularAxis("ansi", axes["ansi"], coeffs),
                                RegularAxis("N", axes["N"], 0.0, -10.0, 10), RegularAxis("E", axes["E"], 0.0, 10.0, 10)),
                   (Band("b", "float32", (NilValue(-1.0),)),))
    t0 = time.perf_counter()
    el = coverage_description(cov, RESOLVER)
    text = etree.tostring(el)
    assert time.perf_counter() - t0 < 2.0
    coeff = el.xpath("//gmlrgrid:coefficients/text()", namespaces=NS)[0].split(" ")
    assert len(coeff) == 100_000 and coeff[0] == '"1800-01-01T00:00:00.000Z"' and coeff[1] == '"1800-01-01T12:00:00.000Z"'
    assert len(text) > 100_000 * 20


def test_resolver_from_base_url():
    from petacube.ows.protocol import OwsRequest

    assert resolver_for(OwsRequest("GET", {}, "http://h:8080/rasdaman/ows")) == "http://h:8080/rasdaman/def"
