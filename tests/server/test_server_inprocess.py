"""The app in-process (Starlette's TestClient) over the server fixture's home: settings
that the subprocess does not use, and the access log through caplog."""

from __future__ import annotations

import json
import logging

from starlette.testclient import TestClient

from petacube.config import load_settings
from petacube.server import create_app

QUERY = {"service": "WCS", "request": "ProcessCoverages", "query": "for $c in (S2) return max($c.B02)"}


def test_anonymous_read_off_server_wide(server):
    app = create_app(load_settings(home=server.home, anonymous_read=False))
    with TestClient(app) as client:
        r = client.get("/rasdaman/ows", params=QUERY)
        assert r.status_code == 401 and "basic" in r.headers["www-authenticate"].lower()
        r = client.get("/rasdaman/ows", params=QUERY, auth=("reader1", "readpw"))
        assert r.status_code == 200 and float(r.text) == server.s2[:, 0].max()
        assert client.get("/health").status_code == 200  # not an OGC request: open


def test_access_log_through_caplog(server, caplog):
    app = create_app(load_settings(home=server.home))
    with TestClient(app) as client, caplog.at_level(logging.INFO, logger="petacube.access"):
        client.get("/rasdaman/ows", params=QUERY, auth=("reader1", "readpw"))
    records = [json.loads(r.getMessage()) for r in caplog.records if r.name == "petacube.access"]
    assert records[-1]["user"] == "reader1"
    assert records[-1]["request"] == "ProcessCoverages" and records[-1]["coverage"] == "S2"
    assert records[-1]["status"] == 200 and records[-1]["bytes"] > 0


def test_small_upload_limit(server):
    app = create_app(load_settings(home=server.home, max_upload_bytes=100))
    with TestClient(app) as client:
        r = client.post("/rasdaman/ows", data={**QUERY, "pad": "x" * 200})
        assert r.status_code == 413
