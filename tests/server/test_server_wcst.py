"""WCS-T against the real server: insert (upload), read back, update with nulls, new dates,
delete, rights, bad inputs, and a remote `petacube import` over WCS-T."""

from __future__ import annotations

import json

import httpx
import numpy as np
import pytest
from datagen import ingredients, write_geotiff
from rasterio.io import MemoryFile
from rasterio.transform import from_origin
from server_fixture import BANDS, DATES, ORIGIN, RES, start_server
from test_server_wcps import exception_of

WRITER = ("writer1", "writepw")


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    running = start_server(tmp_path_factory.mktemp("wcst"))
    yield running
    running.stop()


def tif_bytes(tmp_path, name, data, x0=ORIGIN[0], y0=ORIGIN[1], res=RES, nodata=0, bands=None):
    write_geotiff(tmp_path / name, data, crs="EPSG:32633", transform=from_origin(x0, y0, res, res), nodata=nodata,
                  band_descriptions=bands)
    return (tmp_path / name).read_bytes()


def post(srv, params, data=None, auth=WRITER):
    files = {"file": ("in.tif", data, "image/tiff")} if data is not None else None
    return httpx.post(srv.ows(), data={"service": "WCS", "version": "2.0.1", **params}, files=files, auth=auth,
                      timeout=60)


def get_tiff(srv, cov_id, *subsets):
    params = [("service", "WCS"), ("version", "2.0.1"), ("request", "GetCoverage"), ("coverageId", cov_id),
              ("format", "image/tiff")] + [("subset", s) for s in subsets]
    r = httpx.get(srv.ows(), params=params, auth=WRITER, timeout=60)
    assert r.status_code == 200, r.text
    with MemoryFile(r.content) as mem, mem.open() as src:
        return src.read()


def test_insert_update_delete_round_trip(srv, tmp_path):
    rng = np.random.default_rng(1)
    data = rng.integers(1, 1000, size=(2, 10, 12)).astype("uint16")
    upload = tif_bytes(tmp_path, "a.tif", data, bands=["b1", "b2"])
    r = post(srv, {"request": "InsertCoverage", "coverageId": "WT", "useId": "existing"}, upload, auth=None)
    assert r.status_code == 401
    r = post(srv, {"request": "InsertCoverage", "coverageId": "WT", "useId": "existing"}, upload, auth=("reader1", "readpw"))
    assert r.status_code == 403 and exception_of(r)[0] == "AccessDenied"
    r = post(srv, {"request": "InsertCoverage", "coverageId": "WT", "useId": "existing"}, upload)
    assert r.status_code == 200, r.text
    assert np.array_equal(get_tiff(srv, "WT"), data)
    r = post(srv, {"request": "InsertCoverage", "coverageId": "WT", "useId": "existing"}, upload)
    assert r.status_code == 409
    # update: nulls (0) keep the old cells
    patch = np.zeros((2, 4, 5), dtype="uint16")
    patch[:, 1:3, 1:4] = 4242
    r = post(srv, {"request": "UpdateCoverage", "coverageId": "WT"},
              tif_bytes(tmp_path, "p.tif", patch, x0=ORIGIN[0] + 30, y0=ORIGIN[1] - 20, bands=["b1", "b2"]))
    assert r.status_code == 200, r.text
    want = data.copy()
    want[:, 3:5, 4:7] = 4242
    assert np.array_equal(get_tiff(srv, "WT"), want)
    # bad inputs
    r = post(srv, {"request": "UpdateCoverage", "coverageId": "NOPE"}, upload)
    assert r.status_code == 404 and exception_of(r)[0] == "NoSuchCoverage"
    r = post(srv, {"request": "UpdateCoverage", "coverageId": "WT"}, b"II*\x00 this is not a tiff" * 4)
    assert r.status_code == 400 and "read" in exception_of(r)[2]
    r = post(srv, {"request": "UpdateCoverage", "coverageId": "WT"},
              tif_bytes(tmp_path, "m.tif", patch, x0=ORIGIN[0] + 3, bands=["b1", "b2"]))
    assert r.status_code == 400 and "off the coverage grid" in exception_of(r)[2]
    r = post(srv, {"request": "InsertCoverage", "coverageId": "X", "coverageRef": "/etc/passwd"})
    assert r.status_code == 403 and "upload_dirs" in exception_of(r)[2]
    r = post(srv, {"request": "InsertCoverage", "coverageId": "X", "coverageRef": "https://example.com/x.tif"})
    assert r.status_code == 400 and "network" in exception_of(r)[2]
    # delete
    r = httpx.get(srv.ows(), params={"service": "WCS", "version": "2.0.1", "request": "DeleteCoverage",
                                     "coverageId": "WT"}, auth=WRITER, timeout=30)
    assert r.status_code == 200, r.text
    r = httpx.get(srv.ows(), params={"service": "WCS", "version": "2.0.1", "request": "DescribeCoverage",
                                     "coverageId": "WT"}, timeout=30)
    assert r.status_code == 404


def test_new_dates_in_a_time_series(srv, tmp_path):
    after = np.full((3, 24, 32), 7, dtype="uint16")
    between = np.full((3, 24, 32), 5, dtype="uint16")
    between[:, :2, :] = 0  # nulls on a new date: nothing to keep, stays null
    for arr, date in ((after, "2021-06-01"), (between, "2021-05-10")):
        r = post(srv, {"request": "UpdateCoverage", "coverageId": "S2", "subset": f'ansi("{date}")'},
                 tif_bytes(tmp_path, f"{date}.tif", arr, bands=BANDS))
        assert r.status_code == 200, r.text
    assert np.array_equal(get_tiff(srv, "S2", 'ansi("2021-06-01")'), after)
    assert np.array_equal(get_tiff(srv, "S2", 'ansi("2021-05-10")'), between)
    assert np.array_equal(get_tiff(srv, "S2", 'ansi("2021-05-01")'), srv.s2[1])
    assert np.array_equal(get_tiff(srv, "S2", 'ansi("2021-05-20")'), srv.s2[2])


def test_remote_import_matches_local(srv, tmp_path, monkeypatch):
    import petacube
    from petacube.ingest.importer import run_import

    root = srv.home.parent
    spec = ingredients("S2R", [str(root / "s2" / "*.tif")], "time_series_irregular", {
        "time_parameter": {"filename": {"regex": "S2_(\\d{8})", "group": "1"}, "datetime_format": "YYYYMMDD"},
        "time_crs": "OGC/0/AnsiDate", "tiling": "ALIGNED [0:0, 0:15, 0:15]"}, service_url=srv.ows())
    (tmp_path / "s2r.json").write_text(json.dumps(spec))
    with petacube.open(tmp_path / "local") as cube:
        monkeypatch.delenv("PETACUBE_WCST_USER", raising=False)
        with pytest.raises(Exception, match="401"):
            run_import(tmp_path / "s2r.json", cube, show_progress=False, force_remote=True)
        monkeypatch.setenv("PETACUBE_WCST_USER", WRITER[0])
        monkeypatch.setenv("PETACUBE_WCST_PASSWORD", WRITER[1])
        httpx.get(srv.ows(), params={"service": "WCS", "request": "DeleteCoverage", "coverageId": "S2R"},
                  auth=WRITER, timeout=30)
        report = run_import(tmp_path / "s2r.json", cube, show_progress=False, force_remote=True)
        assert len(report.imported) == 3
        assert "S2R" not in cube  # nothing written locally
    for i, date in enumerate(DATES):
        iso = f"{date[:4]}-{date[4:6]}-{date[6:]}"
        assert np.array_equal(get_tiff(srv, "S2R", f'ansi("{iso}")'), srv.s2[i])


def test_xml_post_transactions_over_http(srv):
    ns = 'xmlns:wcs="http://www.opengis.net/wcs/2.0" xmlns:gml="http://www.opengis.net/gml/3.2"'
    insert = (f'<wcs:InsertCoverage {ns} service="WCS" version="2.0.1"><wcs:coverage>'
              '<gml:GridCoverage gml:id="XG"><gml:domainSet><gml:Grid><gml:limits><gml:GridEnvelope>'
              '<gml:low>0 0</gml:low><gml:high>1 2</gml:high></gml:GridEnvelope></gml:limits></gml:Grid>'
              '</gml:domainSet><gml:rangeSet><gml:DataBlock><gml:tupleList>1,2,3,4,5,6</gml:tupleList>'
              '</gml:DataBlock></gml:rangeSet></gml:GridCoverage></wcs:coverage>'
              '<wcs:useId>existing</wcs:useId><wcs:coverageId>XMLGRID</wcs:coverageId></wcs:InsertCoverage>')
    headers = {"Content-Type": "application/xml"}
    r = httpx.post(srv.ows(), content=insert, headers=headers, timeout=60)
    assert r.status_code == 401  # anonymous: no writes
    r = httpx.post(srv.ows(), content=insert, headers=headers, auth=("reader1", "readpw"), timeout=60)
    assert r.status_code == 403
    r = httpx.post(srv.ows(), content=insert, headers=headers, auth=WRITER, timeout=60)
    assert r.status_code == 200 and r.text == "XMLGRID"
    q = httpx.get(srv.ows(), params={"query": "for $c in (XMLGRID) return encode($c, \"json\")"}, timeout=60)
    assert json.loads(q.text) == [[1, 2, 3], [4, 5, 6]]
    delete = f'<wcs:DeleteCoverage {ns} service="WCS" version="2.0.1"><wcs:coverageId>XMLGRID</wcs:coverageId></wcs:DeleteCoverage>'
    r = httpx.post(srv.ows(), content=delete, headers=headers, auth=WRITER, timeout=60)
    assert r.status_code == 200
    r = httpx.post(srv.ows(), content=delete, headers=headers, auth=WRITER, timeout=60)
    assert r.status_code == 404 and exception_of(r)[0] == "NoSuchCoverage"
