"""Malformed and hostile requests against the real server: each answered with the right
OWS exception code and HTTP status, never a 500, and quickly."""

from __future__ import annotations

import time

import httpx
import pytest
from lxml import etree

OWS = "{http://www.opengis.net/ows/2.0}"
WCS = {"service": "WCS", "version": "2.0.1"}


def gc(**kw):
    return {**WCS, "request": "GetCoverage", "coverageId": "S2", "format": "image/tiff", **kw}


# (id, params, expected status, expected exception code)
CASES = [
    ("unknown-coverage", gc(coverageId="NOPE"), 404, "NoSuchCoverage"),
    ("missing-coverageid", {**WCS, "request": "GetCoverage"}, 400, "MissingParameterValue"),
    ("unknown-request", {**WCS, "request": "GetMagic"}, 501, "OperationNotSupported"),
    ("unknown-service", {"service": "XYZ", "request": "GetCapabilities"}, 400, None),
    ("bad-version", {"service": "WCS", "version": "9.9.9", "request": "GetCapabilities", "acceptVersions": "9.9.9"}, 400, None),
    ("describe-unknown", {**WCS, "request": "DescribeCoverage", "coverageId": "S2,NOPE"}, 404, "NoSuchCoverage"),
    ("unknown-axis", gc(subset="Lat(1,2)"), 400, "InvalidAxisLabel"),
    ("reversed-bounds", gc(subset="E(500300,500100)"), 400, "InvalidSubsetting"),
    ("garbage-number", gc(subset="E(abc,500100)"), 400, "InvalidSubsetting"),
    ("outside-extent", gc(subset="E(0,10)"), 400, "InvalidSubsetting"),
    ("bad-subset-syntax", gc(subset="E500000,500100"), 400, None),
    ("unclosed-subset", gc(subset="E(500000,500100"), 400, None),
    ("bad-time", gc(subset='ansi("2021-13-45")'), 400, None),
    ("missing-date", gc(subset='ansi("1999-01-01")'), 400, "InvalidSubsetting"),
    ("repeated-axis", [("service", "WCS"), ("version", "2.0.1"), ("request", "GetCoverage"), ("coverageId", "S2"),
                       ("subset", "E(500000,500100)"), ("subset", "E(500000,500200)")], 400, None),
    ("unknown-band", gc(rangesubset="B99"), 400, "NoSuchField"),
    ("bad-band-interval", gc(rangesubset="B04:B02:B03"), 400, None),
    ("unknown-format", gc(format="image/x-unknown"), 415, "InvalidMediatype"),
    ("3d-as-png", gc(format="image/png"), 400, None),
    ("zero-scalefactor", gc(scalefactor="0"), 400, None),
    ("negative-scalefactor", gc(scalefactor="-2"), 400, None),
    ("garbage-scalefactor", gc(scalefactor="big"), 400, None),
    ("scaleaxes-unknown-axis", gc(scaleaxes="Q(2)"), 400, None),
    ("scalesize-zero", gc(scalesize="E(0)"), 400, None),
    ("bad-outputcrs", gc(outputCrs="EPSG:999999"), 400, None),
    ("garbage-outputcrs", gc(outputCrs="not-a-crs"), 400, None),
    ("bad-subsettingcrs", gc(subsettingCrs="EPSG:1"), 400, None),
    ("bad-interpolation", gc(interpolation="magic"), 400, None),
    ("bad-clip-wkt", gc(clip="POLYGON((1 2, 3"), 400, None),
    ("clip-outside", gc(clip="POLYGON((0 0, 1 0, 1 1, 0 0))", subset='ansi("2021-05-01")'), 400, None),
    ("wcps-syntax", {**WCS, "request": "ProcessCoverages", "query": "for $c in (S2) return avg($c.B02"}, 400, "WcpsSyntaxError"),
    ("wcps-unknown-coverage", {**WCS, "request": "ProcessCoverages", "query": "for $c in (NOPE) return avg($c)"}, 404, "NoSuchCoverage"),
    ("wcps-unknown-band", {**WCS, "request": "ProcessCoverages", "query": "for $c in (S2) return avg($c.B99)"}, 400, "NoSuchField"),
    ("wcps-unbound-var", {**WCS, "request": "ProcessCoverages", "query": "for $c in (S2) return avg($d.B02)"}, 400, None),
    ("wcps-decode-missing", {**WCS, "request": "ProcessCoverages", "query": "for $c in (S2) return avg(decode($1))"}, 400, None),
    ("wcps-empty", {**WCS, "request": "ProcessCoverages", "query": ""}, 400, None),
    ("wcps-huge-number", {**WCS, "request": "ProcessCoverages", "query": "for $c in (S2) return avg($c.B02[E(1e400:2e400)])"}, 400, None),
    ("wcs-t-anonymous", {**WCS, "request": "DeleteCoverage", "coverageId": "S2"}, 401, None),
    ("secret-anonymous", gc(coverageId="SECRET"), 401, None),
    ("path-traversal-coverageref", {**WCS, "request": "InsertCoverage", "coverageRef": "../../../../etc/passwd"}, 401, None),
    ("sections-unknown", {**WCS, "request": "GetCapabilities", "sections": "Nonsense"}, 400, None),
    ("very-long-id", gc(coverageId="A" * 5000), 404, "NoSuchCoverage"),
    ("null-bytes", gc(coverageId="S2\x00x"), 404, None),
    ("unicode-axis", gc(subset="Ë(1,2)"), 400, "InvalidAxisLabel"),
]


@pytest.mark.parametrize("params, status, code", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_request_matrix(server, params, status, code):
    t0 = time.monotonic()
    r = httpx.get(server.ows(), params=params, timeout=30)
    assert r.status_code == status, (r.status_code, r.text[:500])
    assert time.monotonic() - t0 < 10
    root = etree.fromstring(r.content)
    assert root.tag == f"{OWS}ExceptionReport", r.text[:300]
    exc = root.find(f"{OWS}Exception")
    if code:
        assert exc.get("exceptionCode") == code, r.text[:500]
    text = "".join(exc.itertext()).strip()
    assert text and "Traceback" not in text


HOSTILE_XML = [
    ("billion-laughs", b"""<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;"><!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<wcs:GetCoverage xmlns:wcs="http://www.opengis.net/wcs/2.0" service="WCS" version="2.0.1"><wcs:CoverageId>&lol4;</wcs:CoverageId></wcs:GetCoverage>"""),
    ("external-entity", b"""<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>
<wcs:DescribeCoverage xmlns:wcs="http://www.opengis.net/wcs/2.0" service="WCS" version="2.0.1"><wcs:CoverageId>&e;</wcs:CoverageId></wcs:DescribeCoverage>"""),
    ("not-xml", b"<wcs:GetCoverage"),
    ("wrong-root", b"""<foo xmlns="urn:x"/>"""),
]


@pytest.mark.parametrize("body", [b for _, b in HOSTILE_XML], ids=[i for i, _ in HOSTILE_XML])
def test_hostile_xml(server, body):
    r = httpx.post(server.ows(), content=body, headers={"Content-Type": "application/xml"}, timeout=30)
    # 4xx, or 501 OperationNotSupported for a well-formed request that is not an OGC one
    assert 400 <= r.status_code < 500 or r.status_code == 501, (r.status_code, r.text[:300])
    assert b"root:" not in r.content  # /etc/passwd never expanded


def test_wrong_credentials(server):
    r = httpx.get(server.ows(), params={**WCS, "request": "DeleteCoverage", "coverageId": "S2"}, auth=("writer1", "wrong"))
    assert r.status_code == 401 and "WWW-Authenticate" in r.headers
    r = httpx.get(server.ows(), params={**WCS, "request": "DeleteCoverage", "coverageId": "S2"}, auth=("reader1", "readpw"))
    assert r.status_code == 403
