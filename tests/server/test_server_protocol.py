"""Routing, hostile XML, body limits, health, the static page and the access log."""

from __future__ import annotations

import json
import time

import httpx
from lxml import etree
from server_fixture import MAX_UPLOAD
from test_server_wcps import exception_of

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<wcs:GetCapabilities xmlns:wcs="http://www.opengis.net/wcs/2.0" service="WCS">&lol9;</wcs:GetCapabilities>"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<wcs:DescribeCoverage xmlns:wcs="http://www.opengis.net/wcs/2.0" service="WCS" version="2.0.1">
<wcs:CoverageId>&xxe;</wcs:CoverageId></wcs:DescribeCoverage>"""


def post_xml(server, body: bytes) -> httpx.Response:
    return httpx.post(server.ows(), content=body, headers={"content-type": "application/xml"}, timeout=30)


def test_unknown_request_is_501_naming_it(server):
    r = httpx.get(server.ows(), params={"service": "WCS", "request": "GetNothing"}, timeout=30)
    assert r.status_code == 501
    code, _locator, text = exception_of(r)
    assert code == "OperationNotSupported" and "GetNothing" in text and "GetCoverage" in text


def test_unknown_service_is_400_listing_services(server):
    r = httpx.get(server.ows(), params={"service": "WFS", "request": "GetCapabilities"}, timeout=30)
    assert r.status_code == 400
    code, locator, text = exception_of(r)
    assert code == "InvalidParameterValue" and locator == "service" and "WFS" in text and "WCS" in text


def test_wcs_kvp_and_xml_are_routed(server):
    r = httpx.get(server.url + "/ows", params={"request": "GetCapabilities"}, timeout=30)  # service defaults to WCS
    assert r.status_code == 200 and b"Capabilities" in r.content
    body = (b'<wcs:DescribeCoverage xmlns:wcs="http://www.opengis.net/wcs/2.0" service="WCS" version="2.0.1">'
            b"<wcs:CoverageId>S2</wcs:CoverageId></wcs:DescribeCoverage>")
    r = post_xml(server, body)
    assert r.status_code == 200, r.text
    assert b"S2" in r.content


def test_billion_laughs_is_refused_quickly(server):
    start = time.monotonic()
    r = post_xml(server, BILLION_LAUGHS)
    assert time.monotonic() - start < 5
    assert r.status_code == 400
    assert exception_of(r)[0] == "InvalidEncodingSyntax"


def test_external_entity_is_not_expanded(server):
    r = post_xml(server, XXE)
    assert r.status_code == 400
    assert b"root:" not in r.content
    assert exception_of(r)[0] == "InvalidEncodingSyntax"


def test_malformed_xml(server):
    r = post_xml(server, b"<wcs:GetCoverage xmlns:wcs='http://www.opengis.net/wcs/2.0'>")
    assert r.status_code == 400 and exception_of(r)[0] == "InvalidEncodingSyntax"


def test_oversized_body_is_413(server):
    r = httpx.post(server.ows(), content=b"x" * (MAX_UPLOAD + 10), headers={"content-type": "text/plain"}, timeout=30)
    assert r.status_code == 413
    assert exception_of(r)[0] == "RequestTooLarge"


def test_oversized_chunked_upload_is_413(server):
    def chunks():
        for _ in range(MAX_UPLOAD // 65536 + 2):
            yield b"y" * 65536

    r = httpx.post(server.ows(), content=chunks(), headers={"content-type": "text/plain"}, timeout=30)
    assert r.status_code == 413


def test_health(server):
    r = httpx.get(server.url + "/health", timeout=30)
    assert r.status_code == 200
    info = r.json()
    assert info["status"] == "ok" and info["coverages"] == 2 and info["version"]


def test_static_page(server):
    r = httpx.get(server.url + "/", timeout=30)
    assert r.status_code == 200 and "GetCapabilities" in r.text


def test_access_log_line(server):
    before = len(server.access_log.read_text().splitlines()) if server.access_log.exists() else 0
    r = httpx.get(server.ows(), params={"service": "WCS", "request": "ProcessCoverages",
                                        "query": "for $c in (S2) return count($c.B02 > 100)"}, timeout=30)
    deadline = time.monotonic() + 5
    while True:
        # only lines written after our request, and ours by status and size: other tests
        # (the fuzz test) share the server and its log
        lines = [json.loads(line) for line in server.access_log.read_text().splitlines()[before:] if line.strip()]
        hits = [rec for rec in lines if rec["request"] == "ProcessCoverages" and rec["coverage"] == "S2"
                and rec["status"] == 200 and rec["bytes"] == len(r.content)]
        if hits or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    rec = hits[-1]
    assert set(rec) == {"time", "user", "client", "method", "path", "request", "coverage", "cells", "status", "bytes",
                        "ms"}
    # the plan covers every date and pixel of B02 and nothing else: the engine reads only
    # the bands a query uses
    assert rec["cells"] == server.s2[:, 0].size
    assert rec["status"] == 200 and rec["method"] == "GET" and rec["path"] == "/rasdaman/ows"
    assert rec["client"] == "127.0.0.1" and rec["user"] is None and rec["bytes"] > 0 and rec["ms"] >= 0


def test_exception_report_is_valid_ows(server):
    r = httpx.get(server.ows(), params={"service": "WCS", "request": "Nope"}, timeout=30)
    root = etree.fromstring(r.content)
    assert root.get("version") == "2.0.1"
    assert etree.QName(root).namespace == "http://www.opengis.net/ows/2.0"
