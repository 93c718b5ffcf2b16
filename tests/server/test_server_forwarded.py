"""Behind a reverse proxy: capabilities and resolver links name the public address, only
when the proxy is trusted; the access log names the real client."""

from __future__ import annotations

import json
import logging

import httpx
from starlette.testclient import TestClient

from petacube.config import load_settings
from petacube.server import create_app

CAPS = {"service": "WCS", "version": "2.0.1", "request": "GetCapabilities"}
PROXY = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "maps.example.org",
         "X-Forwarded-Prefix": "/datacube", "X-Forwarded-For": "203.0.113.7, 10.0.0.2"}


def test_trusted_loopback_proxy_headers_change_the_advertised_url(server):
    r = httpx.get(server.ows(), params=CAPS, headers=PROXY)
    assert r.status_code == 200
    assert 'href="https://maps.example.org/datacube/rasdaman/ows"' in r.text
    assert server.url not in r.text


def test_rfc7239_forwarded_header(server):
    r = httpx.get(server.ows(), params=CAPS, headers={"Forwarded": 'for="[2001:db8::1]:4711";proto=https;host=geo.example.net'})
    assert 'href="https://geo.example.net/rasdaman/ows"' in r.text


def test_forwarded_port_and_garbage_host(server):
    r = httpx.get(server.ows(), params=CAPS, headers={"X-Forwarded-Host": "geo.example.net", "X-Forwarded-Port": "8443",
                                                      "X-Forwarded-Proto": "https"})
    assert 'href="https://geo.example.net:8443/rasdaman/ows"' in r.text
    r = httpx.get(server.ows(), params=CAPS, headers={"X-Forwarded-Host": 'evil.example"><x a="'})
    assert "evil" not in r.text and f'href="{server.url}/rasdaman/ows"' in r.text


def test_resolver_links_follow_the_proxy(server):
    r = httpx.get(f"{server.url}/def/crs/OGC/0/AnsiDate", headers=PROXY)
    assert r.status_code == 200
    assert "<gml:identifier codeSpace=\"OGC\">https://maps.example.org/datacube/def/crs/OGC/0/AnsiDate<" in r.text


def test_untrusted_peer_headers_ignored_and_public_url_wins(server, caplog):
    app = create_app(load_settings(home=server.home, trusted_proxies=[]))
    with TestClient(app) as client:
        r = client.get("/rasdaman/ows", params=CAPS, headers=PROXY)
        assert "maps.example.org" not in r.text and 'href="http://testserver/rasdaman/ows"' in r.text
    app = create_app(load_settings(home=server.home, public_url="https://cube.example.com/eo/"))
    with TestClient(app) as client:
        r = client.get("/rasdaman/ows", params=CAPS, headers=PROXY)
        assert 'href="https://cube.example.com/eo/rasdaman/ows"' in r.text


def test_access_log_names_the_forwarded_client(server, caplog):
    app = create_app(load_settings(home=server.home, trusted_proxies=["0.0.0.0/0"]))
    with TestClient(app, client=("127.0.0.1", 5000)) as client, caplog.at_level(logging.INFO, logger="petacube.access"):
        client.get("/rasdaman/ows", params=CAPS, headers=PROXY)
    records = [json.loads(r.getMessage()) for r in caplog.records if r.name == "petacube.access"]
    assert records[-1]["client"] == "203.0.113.7"
