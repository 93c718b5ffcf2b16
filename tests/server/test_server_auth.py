"""HTTP Basic authentication, write rights and anonymous-read restrictions."""

from __future__ import annotations

import httpx
from test_server_wcps import exception_of

DELETE = {"service": "WCS", "version": "2.0.1", "request": "DeleteCoverage", "coverageId": "S2"}
SECRET_MAX = {"service": "WCS", "request": "ProcessCoverages", "query": "for $c in (SECRET) return max($c)"}


def test_write_without_credentials_is_401(server):
    r = httpx.get(server.ows(), params=DELETE, timeout=30)
    assert r.status_code == 401
    assert r.headers["www-authenticate"].lower().startswith("basic")
    assert exception_of(r)[0] == "AuthenticationRequired"


def test_wrong_password_is_401(server):
    r = httpx.get(server.ows(), params=DELETE, auth=("writer1", "wrong"), timeout=30)
    assert r.status_code == 401 and "www-authenticate" in r.headers
    r = httpx.get(server.ows(), params=DELETE, auth=("nobody", "x"), timeout=30)
    assert r.status_code == 401


def test_malformed_authorization_is_401(server):
    r = httpx.get(server.ows(), params=DELETE, headers={"authorization": "Basic !!!"}, timeout=30)
    assert r.status_code == 401


def test_reader_may_not_write(server):
    r = httpx.get(server.ows(), params=DELETE, auth=("reader1", "readpw"), timeout=30)
    assert r.status_code == 403
    assert exception_of(r)[0] == "AccessDenied"


def test_writer_and_admin_reach_the_wcst_handler(server):
    for user, password in (("writer1", "writepw"), ("admin1", "adminpw")):
        r = httpx.get(server.ows(), params={**DELETE, "coverageId": "NO_SUCH_COVERAGE"}, auth=(user, password), timeout=30)
        assert r.status_code == 404, r.text
        assert exception_of(r)[0] == "NoSuchCoverage"


def test_xml_write_request_needs_rights(server):
    body = (b'<wcs:DeleteCoverage xmlns:wcs="http://www.opengis.net/wcs/2.0" service="WCS" version="2.0.1">'
            b"<wcs:CoverageId>S2</wcs:CoverageId></wcs:DeleteCoverage>")
    r = httpx.post(server.ows(), content=body, headers={"content-type": "application/xml"}, timeout=30)
    assert r.status_code == 401


def test_anonymous_read_off_for_a_coverage(server):
    r = httpx.get(server.ows(), params=SECRET_MAX, timeout=30)
    assert r.status_code == 401
    code, locator, _ = exception_of(r)
    assert code == "AuthenticationRequired" and locator == "SECRET"
    r = httpx.get(server.ows(), params={"service": "WCS", "version": "2.0.1", "request": "DescribeCoverage",
                                        "coverageId": "SECRET"}, timeout=30)
    assert r.status_code == 401
    r = httpx.get(server.ows(), params=SECRET_MAX, auth=("reader1", "readpw"), timeout=30)
    assert r.status_code == 200
    assert float(r.text) == float(server.secret.max())


def test_other_coverages_stay_anonymous(server):
    r = httpx.get(server.ows(), params={"service": "WCS", "request": "ProcessCoverages",
                                        "query": "for $c in (S2) return max($c.B02)"}, timeout=30)
    assert r.status_code == 200


def test_access_log_names_the_user(server):
    import json
    import time

    httpx.get(server.ows(), params=SECRET_MAX, auth=("admin1", "adminpw"), timeout=30)
    time.sleep(0.2)
    lines = [json.loads(x) for x in server.access_log.read_text().splitlines() if x.strip()]
    assert any(rec["user"] == "admin1" and rec["coverage"] == "SECRET" for rec in lines)


def test_capabilities_lists_only_readable_coverages(server):
    import httpx

    params = {"service": "WCS", "version": "2.0.1", "request": "GetCapabilities"}
    anonymous = httpx.get(server.ows(), params=params, timeout=30).text
    reader = httpx.get(server.ows(), params=params, auth=("reader1", "readpw"), timeout=30).text
    assert "<wcs:CoverageId>S2</wcs:CoverageId>" in anonymous
    assert "<wcs:CoverageId>SECRET</wcs:CoverageId>" not in anonymous
    assert "<wcs:CoverageId>SECRET</wcs:CoverageId>" in reader
