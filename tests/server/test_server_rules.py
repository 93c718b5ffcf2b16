"""Fine-grained read rules (area, time range, resolution, cells per request, daily quota),
write-allowed addresses, checked on the read plan by the real server."""

from __future__ import annotations

import httpx
import numpy as np
import pyproj
import pytest
from click.testing import CliRunner
from rasterio.io import MemoryFile
from server_fixture import ORIGIN, RES, start_server
from starlette.testclient import TestClient
from test_server_wcps import exception_of

from petacube.cli import main
from petacube.config import load_settings
from petacube.server import create_app

USERS = ["alice", "bob", "carol", "dave", "erin"]


def cli(home, *args, input=None):
    result = CliRunner().invoke(main, ["--home", str(home), *args], input=input)
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    running = start_server(tmp_path_factory.mktemp("rules"))
    for name in USERS:
        assert cli(running.home, "user", "add", name, "--role", "reader", "--password-stdin", input="pw\n")[0] == 0
    # alice: S2 only inside a lon/lat polygon = the UTM box x 500000..500160 (the west half)
    to_ll = pyproj.Transformer.from_crs("EPSG:32633", "EPSG:4326", always_xy=True)
    x0, x1, y0, y1 = ORIGIN[0], ORIGIN[0] + 160, ORIGIN[1] - 24 * RES, ORIGIN[1]
    ring = [to_ll.transform(x, y) for x, y in ((x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0))]
    wkt = "POLYGON((" + ", ".join(f"{lon:.9f} {lat:.9f}" for lon, lat in ring) + "))"
    rules = [
        ("user:alice", "--coverage", "S2", "--area", wkt),
        ("user:bob", "--coverage", "S2", "--from", "2021-05-01"),
        ("user:carol", "--finest", "20"),
        ("user:dave", "--coverage", "SECRET", "--max-cells", "100"),
        ("user:erin", "--coverage", "SECRET", "--daily-bytes", "1000"),
    ]
    for rule in rules:
        code, out = cli(running.home, "rule", "add", *rule)
        assert code == 0, out
    yield running
    running.stop()


def get(srv, user, **params):
    return httpx.get(srv.ows(), params={"service": "WCS", "version": "2.0.1", **params}, auth=(user, "pw"), timeout=60)


def coverage(srv, user, cov, *subsets):
    params = [("service", "WCS"), ("version", "2.0.1"), ("request", "GetCoverage"), ("coverageId", cov),
              ("format", "image/tiff")] + [("subset", s) for s in subsets]
    password = srv.users[user][0] if user in srv.users else "pw"
    return httpx.get(srv.ows(), params=params, auth=(user, password), timeout=60)


def pixels(resp):
    with MemoryFile(resp.content) as mem, mem.open() as ds:
        return ds.read()


def test_area_rule(srv):
    r = coverage(srv, "alice", "S2", 'ansi("2021-05-01")', "E(500000,500100)")
    assert r.status_code == 200, r.text
    assert np.array_equal(pixels(r), srv.s2[1][:, :, :10])
    r = coverage(srv, "alice", "S2", 'ansi("2021-05-01")')
    assert r.status_code == 403 and "allowed area" in exception_of(r)[2]
    r = get(srv, "alice", request="ProcessCoverages",
            query='for $c in (S2) return avg($c[E(500200:500300)].B02)')
    assert r.status_code == 403 and exception_of(r)[0] == "AccessDenied"
    # another user is not restricted
    assert coverage(srv, "bob", "S2", 'ansi("2021-05-01")').status_code == 200


def test_time_rule(srv):
    r = coverage(srv, "bob", "S2", 'ansi("2021-04-15")')
    assert r.status_code == 403 and "from 2021-05-01" in exception_of(r)[2]
    r = get(srv, "bob", request="ProcessCoverages", query='for $c in (S2) return max($c.B03)')
    assert r.status_code == 403  # the whole time axis reaches before the allowed range
    r = get(srv, "bob", request="ProcessCoverages",
            query='for $c in (S2) return max($c[ansi("2021-05-01":"2021-05-20")].B03)')
    assert r.status_code == 200 and float(r.text) == srv.s2[1:, 1].max()


def test_resolution_rule(srv):
    r = coverage(srv, "carol", "S2", 'ansi("2021-05-01")')  # 10 m cells
    assert r.status_code == 403 and "20 metre per cell or coarser" in exception_of(r)[2]
    r = coverage(srv, "carol", "SECRET")  # 20 m cells
    assert r.status_code == 200 and np.allclose(pixels(r)[0], srv.secret)


def test_cells_per_request(srv):
    r = coverage(srv, "dave", "SECRET")  # 16 × 12 = 192 cells
    assert r.status_code == 413 and "at most 100" in exception_of(r)[2]
    r = coverage(srv, "dave", "SECRET", "E(500000,500160)", "N(4999840,5000000)")  # 8 × 8
    assert r.status_code == 200 and np.allclose(pixels(r)[0], srv.secret[:8, :8])


def test_daily_quota(srv):
    first = coverage(srv, "erin", "SECRET")  # 192 float32 cells = 768 bytes read
    assert first.status_code == 200
    second = coverage(srv, "erin", "SECRET")
    assert second.status_code == 403
    assert "daily quota: 768 of 1,000 bytes" in exception_of(second)[2]
    small = coverage(srv, "erin", "SECRET", "E(500000,500040)", "N(4999960,5000000)")  # 4 cells = 16 bytes
    assert small.status_code == 200


def test_admin_is_exempt_and_rules_listed(srv):
    code, out = cli(srv.home, "rule", "add", "reader", "--max-cells", "1")
    assert code == 0
    try:
        assert coverage(srv, "admin1", "SECRET").status_code == 200
        assert coverage(srv, "reader1", "SECRET").status_code == 413
    finally:
        rule_id = out.split("#", 1)[1].split()[0]
        assert cli(srv.home, "rule", "remove", rule_id)[0] == 0
    code, out = cli(srv.home, "rule", "list")
    assert code == 0 and "user:erin on SECRET: daily quota 1000 bytes" in out and "reader on *" not in out


def test_bad_rules_refused_by_the_cli(srv):
    code, out = cli(srv.home, "rule", "add", "reader", "--area", "POLYGON((0 0, 1 1")
    assert code != 0 and "not valid WKT" in out
    code, out = cli(srv.home, "rule", "add", "reader", "--area", "POINT(1 2)")
    assert code != 0 and "POLYGON" in out
    code, out = cli(srv.home, "rule", "add", "reader", "--from", "yesterday-ish")
    assert code != 0 and "ISO 8601" in out
    code, out = cli(srv.home, "rule", "add", "reader", "--area", "POLYGON((0 0,1 0,1 1,0 0))", "--area-crs", "EPSG:999999")
    assert code != 0 and "EPSG:999999" in out
    code, out = cli(srv.home, "rule", "remove", "9999")
    assert code != 0 and "no rule #9999" in out


def test_server_wide_cells_limit_and_write_addresses(srv):
    app = create_app(load_settings(home=srv.home, max_cells_read=50, write_addresses=["127.0.0.0/8"]))
    upload = srv.upload.read_bytes()
    form = {"service": "WCS", "version": "2.0.1", "request": "InsertCoverage", "coverageId": "FROMLOOPBACK",
            "useId": "existing"}
    with TestClient(app, client=("127.0.0.1", 4000)) as client:
        r = client.get("/rasdaman/ows", params={"service": "WCS", "version": "2.0.1", "request": "GetCoverage",
                                                "coverageId": "S2", "subset": 'ansi("2021-05-01")'})
        assert r.status_code == 413
        r = client.post("/rasdaman/ows", data=form, files={"file": ("u.tif", upload, "image/tiff")})
        assert r.status_code == 200, r.text
    with TestClient(app, client=("192.0.2.9", 4000)) as client:
        r = client.post("/rasdaman/ows", data={**form, "coverageId": "FROMELSEWHERE"},
                        files={"file": ("u.tif", upload, "image/tiff")})
        assert r.status_code == 401
