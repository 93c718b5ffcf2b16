"""The same queries through the rasql command, the /rasdaman/rasql endpoint and Python give
the same bytes; rights and errors over HTTP; concurrent update and select."""

from __future__ import annotations

import threading

import httpx
import numpy as np
import pytest
from click.testing import CliRunner
from lxml import etree
from rasql_server import start, stop

from petacube.rasql import Session, Upload
from petacube.rasql.cli import main

QUERIES = [
    "select c[3:7, 2:4] from mr as c",
    'select encode(c[0:9, 0:9], "png") from mr as c',
    'select encode(c[0:2, 0:1], "csv") from mr as c',
]


@pytest.fixture(scope="module")
def server(data, tmp_path_factory):
    url, proc = start(data.home, tmp_path_factory.mktemp("srv") / "server.log")
    yield url
    stop(proc)


def run_cli(data, *args):
    return CliRunner().invoke(main, ["--home", str(data.home), *args], catch_exceptions=False)


def python_bytes(data, query):
    with data.open() as cube:
        return Session(cube).execute(query).elements[0].payload()


@pytest.mark.parametrize("query", QUERIES)
def test_cli_http_python_same_bytes(data, server, tmp_path, query):
    expected = python_bytes(data, query)
    result = run_cli(data, "-q", query, "--out", "file", "--outfile", str(tmp_path / "r_%d"), "--quiet")
    assert result.exit_code == 0, result.output
    written = sorted(tmp_path.glob("r_1.*"))
    assert len(written) == 1 and written[0].read_bytes() == expected
    response = httpx.get(server + "/rasdaman/rasql", params={"query": query}, auth=("reader1", "readpw"))
    assert response.status_code == 200 and response.content == expected


def test_cli_prints_as_rasdaman(data):
    result = run_cli(data, "-q", "select avg_cells(c) from mr as c", "--out", "string")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert "Query result collection has 1 element(s):" in lines
    assert f"  Result element 1: {float(data.mr.mean()):.16g}" in lines
    assert lines[-1] == "rasql done."
    hexed = run_cli(data, "-q", "select c[0, 0:2] from mr as c", "--out", "hex", "--quiet")
    assert hexed.output.strip() == "Result object 1: " + " ".join(f"{v:2x}" for v in data.mr[0, 0:3])
    formatted = run_cli(data, "-q", "select c[0:1, 0:1] from mr as c", "--out", "formatted", "--quiet")
    m = data.mr
    assert formatted.output.strip() == f"Result object 1: {{{{{m[0, 0]},{m[0, 1]}}},{{{m[1, 0]},{m[1, 1]}}}}}"
    names = run_cli(data, "-q", "select r from RAS_COLLECTIONNAMES as r", "--out", "string", "--quiet")
    assert "  Result object 1: geo" in names.output.splitlines()


def test_cli_errors_exit_non_zero(data):
    bad = run_cli(data, "-q", "select c from mr as c wher x")
    assert bad.exit_code != 0 and "line 1, column 23" in bad.output and "wher" in bad.output
    unknown = run_cli(data, "-q", "select c from nope as c")
    assert unknown.exit_code != 0 and "rasdaman error 355" in unknown.output
    denied = run_cli(data, "-q", "delete from mr", "--user", "reader1", "--passwd", "readpw")
    assert denied.exit_code != 0 and "writer" in denied.output


def test_cli_insert_from_file(data, tmp_path):
    rng = np.random.default_rng(3)
    arr = rng.integers(0, 1000, (6, 5), dtype=np.uint16)
    raw = tmp_path / "cells.bin"
    raw.write_bytes(arr.tobytes())
    assert run_cli(data, "-q", "create collection u16 UShortSet").exit_code == 0
    ok = run_cli(data, "-q", "insert into u16 values $1", "-f", str(raw), "--mddtype", "UShortImage",
                 "--mdddomain", "[0:5,0:4]")
    assert ok.exit_code == 0, ok.output
    assert python_bytes(data, "select c from u16 as c") == arr.tobytes()
    png = tmp_path / "in.png"
    png.write_bytes(data.upload.read_bytes())
    assert run_cli(data, "-q", "create collection frompng GreySet").exit_code == 0
    assert run_cli(data, "-q", "insert into frompng values decode($1)", "-f", str(png)).exit_code == 0
    assert python_bytes(data, "select c from frompng as c") == data.mr.tobytes()


def test_http_rights_errors_and_multipart(data, server):
    url = server + "/rasdaman/rasql"
    denied = httpx.get(url, params={"query": "create collection h GreySet"}, auth=("reader1", "readpw"))
    assert denied.status_code == 403
    anonymous = httpx.get(url, params={"query": "drop collection mr"})
    assert anonymous.status_code == 401
    bad = httpx.get(url, params={"query": "select c[0:999, 0] from mr as c"}, auth=("reader1", "readpw"))
    assert 400 <= bad.status_code < 500
    report = etree.fromstring(bad.content)
    assert "ExceptionReport" in report.tag and "356" in "".join(report.itertext())
    missing = httpx.get(url, params={"query": "select c from nope as c"}, auth=("reader1", "readpw"))
    assert missing.status_code == 404
    made = httpx.post(url, data={"query": "create collection h GreySet"}, auth=("writer1", "writepw"))
    assert made.status_code == 200, made.text
    up = httpx.post(url, data={"query": "insert into h values decode($1)"}, files={"file1": data.upload.read_bytes()},
                    auth=("writer1", "writepw"))
    assert up.status_code == 200, up.text
    got = httpx.get(url, params={"query": "select c[0:1, 0] from h as c"}, auth=("reader1", "readpw"))
    assert got.headers["content-type"].startswith("application/octet-stream")
    assert got.content == data.mr[0:2, 0].tobytes()
    scalar = httpx.get(url, params={"query": "select max_cells(c) from h as c"}, auth=("reader1", "readpw"))
    assert scalar.text == str(int(data.mr.max()))


def test_concurrent_update_and_select_see_whole_states(tmp_path):
    import petacube

    with petacube.open(tmp_path / "home") as cube:
        s = Session(cube)
        s.execute("create collection cc LongSet")
        s.execute("insert into cc values marray x in [0:63, 0:63] values 0l")
    errors, seen = [], set()
    done = threading.Event()

    def writer():
        try:
            with petacube.open(tmp_path / "home") as cube:
                w = Session(cube)
                for k in range(1, 6):
                    w.execute(f"update cc as c set c assign marray x in [0:63, 0:63] values {k}l")
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            done.set()

    thread = threading.Thread(target=writer)
    thread.start()
    with petacube.open(tmp_path / "home") as cube:
        r = Session(cube)
        while not done.is_set() or not seen:
            cells = np.frombuffer(r.execute("select c from cc as c").elements[0].data, dtype=np.int32)
            values = set(np.unique(cells).tolist())
            assert len(values) == 1, f"a reader saw a mix of states: {sorted(values)}"
            seen |= values
    thread.join()
    assert not errors, errors
    with petacube.open(tmp_path / "home") as cube:
        final = np.frombuffer(Session(cube).execute("select c from cc as c").elements[0].data, dtype=np.int32)
    assert set(final.tolist()) == {5}


def test_upload_objects_are_positional(data):
    with data.open() as cube:
        el = Session(cube).execute("select decode($1) from mr as c", [Upload(data.upload.read_bytes())]).elements[0]
    assert el.data == data.mr.tobytes()
