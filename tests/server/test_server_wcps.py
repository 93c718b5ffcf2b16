"""WCPS ProcessCoverages against the real server: GET, form POST, text POST, XML POST,
uploads for decode($1), several results as multipart/related, and errors."""

from __future__ import annotations

import email
import io
import re

import httpx
import numpy as np
import pytest
from lxml import etree
from PIL import Image

OWS = "{http://www.opengis.net/ows/2.0}"


def exception_of(resp: httpx.Response) -> tuple[str, str | None, str]:
    root = etree.fromstring(resp.content)
    assert root.tag == f"{OWS}ExceptionReport"
    exc = root.find(f"{OWS}Exception")
    return exc.get("exceptionCode"), exc.get("locator"), exc.findtext(f"{OWS}ExceptionText")


def wcps_get(server, query: str, **kw) -> httpx.Response:
    return httpx.get(server.ows(), params={"service": "WCS", "version": "2.0.1", "request": "ProcessCoverages",
                                           "query": query}, timeout=30, **kw)


def test_scalar_get(server):
    r = wcps_get(server, "for $c in (S2) return avg($c.B02)")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    assert float(r.text) == pytest.approx(server.s2[:, 0].astype("float64").mean(), rel=1e-6)


def test_scalar_post_form_and_q_alias(server):
    r = httpx.post(server.ows(), data={"service": "WCS", "request": "ProcessCoverages",
                                       "q": "for $c in (S2) return max($c.B03)"}, timeout=30)
    assert r.status_code == 200
    assert float(r.text) == server.s2[:, 1].max()


def test_text_plain_body_and_wcps_endpoint(server):
    r = httpx.post(server.ows(), content=b"for $c in (S2) return min($c.B04)",
                   headers={"content-type": "text/plain"}, timeout=30)
    assert r.status_code == 200 and float(r.text) == server.s2[:, 2].min()
    r = httpx.get(f"{server.url}/rasdaman/ows/wcps", params={"query": "for $c in (S2) return min($c.B02)"}, timeout=30)
    assert r.status_code == 200 and float(r.text) == server.s2[:, 0].min()


def test_xml_process_coverages(server):
    body = ('<ProcessCoveragesRequest xmlns="http://www.opengis.net/wcps/1.0" service="WCPS" version="1.0.0">'
            "<query><abstractSyntax>for $c in (S2) return max($c.B02)</abstractSyntax></query>"
            "</ProcessCoveragesRequest>")
    r = httpx.post(server.ows(), content=body.encode(), headers={"content-type": "application/xml"}, timeout=30)
    assert r.status_code == 200, r.text
    assert float(r.text) == server.s2[:, 0].max()


def test_png(server):
    r = wcps_get(server, 'for $c in (S2) return encode($c.B02[ansi("2021-05-01")], "image/png")')
    assert r.status_code == 200
    assert r.headers["content-type"] == "image/png"
    img = np.asarray(Image.open(io.BytesIO(r.content)))
    assert img.shape == server.s2.shape[2:]
    np.testing.assert_array_equal(img, server.s2[1, 0])


def test_two_results_multipart_related(server):
    r = wcps_get(server, "for $c in (S2, S2) return max($c.B02)")
    assert r.status_code == 200
    ctype = r.headers["content-type"]
    assert ctype.startswith("multipart/related") and "boundary=" in ctype
    msg = email.message_from_bytes(b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + r.content)
    parts = msg.get_payload()
    assert len(parts) == 2
    for part in parts:
        assert part.get_content_type() == "text/plain"
        assert float(part.get_payload()) == server.s2[:, 0].max()


def test_decode_upload(server):
    with open(server.upload, "rb") as fh:
        r = httpx.post(server.ows(), data={"service": "WCS", "request": "ProcessCoverages",
                                           "query": "for $c in (S2) return max(decode($1)) + 1"},
                       files=[("file1", ("u.tif", fh, "image/tiff"))], timeout=30)
    assert r.status_code == 200, r.text
    assert float(r.text) == 12.0  # the upload holds 0..11


def test_syntax_error_names_position(server):
    r = wcps_get(server, "for $c in (S2) return max($c.B02) + ")
    assert r.status_code == 400
    code, locator, text = exception_of(r)
    assert code == "WcpsSyntaxError"
    assert locator == "1:37"
    assert re.search(r"line 1, column 37", text)


def test_unknown_coverage_is_404(server):
    r = wcps_get(server, "for $c in (NOPE) return max($c)")
    assert r.status_code == 404
    code, _, text = exception_of(r)
    assert code == "NoSuchCoverage" and "NOPE" in text


def test_missing_query(server):
    r = httpx.get(server.ows(), params={"service": "WCS", "request": "ProcessCoverages"}, timeout=30)
    assert r.status_code == 400
    assert exception_of(r)[0] == "MissingParameterValue"
