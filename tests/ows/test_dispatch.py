"""The OWS dispatcher without HTTP: routing, rights hooks, exception reports, hostile XML."""

from __future__ import annotations

import logging
import sys
import time

import pytest
from lxml import etree

from petacube.errors import (
    NoSuchCoverage,
    QueryCancelled,
    ResultTooLarge,
    WcpsSyntaxError,
)
from petacube.ows import dispatch
from petacube.ows.dispatch import Operation, handle, handle_wcps
from petacube.ows.exceptions import (
    AccessDenied,
    AuthenticationRequired,
    OperationNotSupported,
    exception_report,
    status_of,
)
from petacube.ows.protocol import OwsRequest, OwsResponse

OWS = "{http://www.opengis.net/ows/2.0}"
BASE = "http://test.local/rasdaman/ows"


def kvp(**params) -> OwsRequest:
    return OwsRequest("GET", {k.lower(): [v] for k, v in params.items()}, BASE)


def xml(body: bytes) -> OwsRequest:
    return OwsRequest("POST", {}, BASE, body=body, content_type="text/xml")


def report(resp: OwsResponse) -> tuple[str, str | None, str]:
    root = etree.fromstring(resp.body)
    assert root.tag == f"{OWS}ExceptionReport"
    exc = root.find(f"{OWS}Exception")
    return exc.get("exceptionCode"), exc.get("locator"), exc.findtext(f"{OWS}ExceptionText")


class Recorder:
    def __init__(self, refuse: Exception | None = None):
        self.ops: list[Operation] = []
        self.refuse = refuse

    def __call__(self, op: Operation) -> None:
        self.ops.append(op)
        if self.refuse is not None:
            raise self.refuse


@pytest.mark.parametrize(("err", "status"), [
    (NoSuchCoverage("x"), 404), (WcpsSyntaxError("bad", line=1, column=2), 400), (ResultTooLarge("big"), 413),
    (QueryCancelled("slow"), 408), (OperationNotSupported("no"), 501), (AuthenticationRequired("who"), 401),
    (AccessDenied("no"), 403),
])
def test_status_of_errors(err, status):
    assert status_of(err) == status
    resp = exception_report(err)
    assert resp.status == status
    code, locator, text = report(resp)
    assert code == err.code and text == err.message and locator == err.locator


def test_rasdaman_codes_map_to_statuses():
    from petacube.errors import PetacubeError

    class Mediatype(PetacubeError):
        code = "InvalidMediatype"

    assert status_of(Mediatype("x")) == 415


def test_unknown_request_and_service():
    code, locator, text = report(handle(kvp(service="WCS", request="Frobnicate"), None))
    assert code == "OperationNotSupported" and locator == "request" and "Frobnicate" in text and "GetCoverage" in text
    resp = handle(kvp(service="SOS", request="GetCapabilities"), None)
    assert resp.status == 400
    code, locator, text = report(resp)
    assert code == "InvalidParameterValue" and locator == "service" and "SOS" in text and "WCS" in text
    code, _, _ = report(handle(kvp(service="WCS"), None))
    assert code == "MissingParameterValue"


def test_wcs_goes_to_handle_wcs(monkeypatch):
    from petacube.ows import wcs

    seen = []
    monkeypatch.setattr(wcs, "handle_wcs", lambda req, cube: seen.append(req) or OwsResponse(200, "text/xml", b"<ok/>"))
    rec = Recorder()
    resp = handle(kvp(request="DescribeCoverage", coverageId="A,B"), None, authorize=rec)  # service defaults to WCS
    assert resp.status == 200 and len(seen) == 1
    assert rec.ops == [Operation("WCS", "DescribeCoverage", ("A", "B"))]
    body = (b'<wcs:GetCoverage xmlns:wcs="http://www.opengis.net/wcs/2.0" service="WCS" version="2.0.1">'
            b"<wcs:CoverageId>C</wcs:CoverageId></wcs:GetCoverage>")
    assert handle(xml(body), None, authorize=rec).status == 200
    assert rec.ops[-1] == Operation("WCS", "GetCoverage", ("C",))


def test_missing_wcs_module_is_501(monkeypatch):
    monkeypatch.setitem(sys.modules, "petacube.ows.wcs", None)  # import raises ModuleNotFoundError
    resp = handle(kvp(service="WCS", request="GetCapabilities"), None)
    assert resp.status == 501 and report(resp)[0] == "OperationNotSupported"


def test_unexpected_exception_is_500_without_traceback(monkeypatch, caplog):
    from petacube.ows import wcs

    def boom(req, cube):
        raise RuntimeError("secret /internal/path")

    monkeypatch.setattr(wcs, "handle_wcs", boom)
    with caplog.at_level(logging.ERROR, logger="petacube.ows"):
        resp = handle(kvp(request="GetCapabilities"), None)
    assert resp.status == 500
    code, _, text = report(resp)
    assert code == "NoApplicableCode" and "internal error" in text
    assert b"secret" not in resp.body and b"Traceback" not in resp.body
    assert any(r.exc_info for r in caplog.records)


def test_write_requests_check_rights_first():
    rec = Recorder(refuse=AuthenticationRequired("send credentials"))
    resp = handle(kvp(service="WCS", request="InsertCoverage"), None, authorize=rec)
    assert resp.status == 401 and rec.ops[0].write
    seen = []
    import petacube.ows.wcst as wcst

    original = wcst.handle_wcst
    wcst.handle_wcst = lambda req, cube: seen.append(req.param("request")) or OwsResponse(200, "text/plain", b"")
    try:
        resp = handle(kvp(service="WCS", request="DeleteCoverage", coverageId="S2"), None, authorize=Recorder())
    finally:
        wcst.handle_wcst = original
    assert resp.status == 200 and seen == ["DeleteCoverage"]


def test_wcps_syntax_error_and_rights():
    resp = handle_wcps(OwsRequest("GET", {"query": ["for $c in (S2) return +"]}, BASE), None)
    assert resp.status == 400
    code, locator, text = report(resp)
    assert code == "WcpsSyntaxError" and "column" in text and locator
    rec = Recorder(refuse=AccessDenied("no"))
    resp = handle(kvp(query="for $c in (S2), $d in (DEM) return max($c.B02) + max($d)"), None, authorize=rec)
    assert resp.status == 403
    assert set(rec.ops[0].coverages) == {"S2", "DEM"} and rec.ops[0].request == "ProcessCoverages"


def test_raw_text_body_is_wcps():
    rec = Recorder(refuse=AccessDenied("no"))
    req = OwsRequest("POST", {}, BASE, body=b"for $c in (X) return max($c)", content_type="text/plain")
    assert handle(req, None, authorize=rec).status == 403
    assert rec.ops[0].coverages == ("X",)


BOMB = b"""<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
<!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;"><!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">
<!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;"><!ENTITY h "&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;">]>
<GetCapabilities>&h;</GetCapabilities>"""


def test_hostile_xml():
    start = time.monotonic()
    resp = handle(xml(BOMB), None)
    assert time.monotonic() - start < 2
    assert resp.status == 400 and report(resp)[0] == "InvalidEncodingSyntax"
    xxe = b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><DescribeCoverage><CoverageId>&x;</CoverageId></DescribeCoverage>'
    resp = handle(xml(xxe), None)
    assert resp.status == 400 and b"root:" not in resp.body
    deep = b"<GetCapabilities>" + b"<a>" * 1000 + b"</a>" * 1000 + b"</GetCapabilities>"
    assert report(handle(xml(deep), None))[0] == "InvalidEncodingSyntax"
    big = b"<GetCapabilities>" + b" " * (dispatch.MAX_XML_BYTES + 1) + b"</GetCapabilities>"
    assert report(handle(xml(big), None))[0] == "InvalidEncodingSyntax"


def test_unknown_xml_root():
    resp = handle(xml(b'<Frob xmlns="urn:x"/>'), None)
    assert resp.status == 501
    _code, _, text = report(resp)
    assert "Frob" in text and "GetCoverage" in text


def test_observe_sees_the_operation():
    seen = []
    handle(kvp(service="WCS", request="DeleteCoverage", coverageId="S2"), None, observe=seen.append)
    assert seen == [Operation("WCS", "DeleteCoverage", ("S2",), write=True)]
