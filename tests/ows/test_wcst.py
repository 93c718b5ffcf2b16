"""WCS-T at the handler level: InsertCoverage / UpdateCoverage / DeleteCoverage on OwsRequest values."""

from __future__ import annotations

import numpy as np
import pytest
from datagen import write_geotiff
from lxml import etree
from rasterio.transform import from_origin

import petacube
from petacube.ows.dispatch import handle
from petacube.ows.protocol import OwsRequest

BASE = "http://test/rasdaman/ows"
OWS = "{http://www.opengis.net/ows/2.0}"


def tif(path, data, x0=500000.0, y0=5000000.0, res=10.0, nodata=None, bands=None):
    data = np.asarray(data)
    write_geotiff(path, data, crs="EPSG:32633", transform=from_origin(x0, y0, res, res), nodata=nodata,
                  band_descriptions=bands)
    return path.read_bytes()


def req(files=(), **params):
    return OwsRequest("POST" if files else "GET", {k.lower(): [v] if isinstance(v, str) else list(v)
                                                   for k, v in params.items()},
                      BASE, files=list(files), user="w", roles=frozenset({"writer"}))


def wcst(cube, request, files=(), **params):
    return handle(req(files, service="WCS", version="2.0.1", request=request, **params), cube)


def report(resp):
    root = etree.fromstring(resp.body)
    exc = root.find(f"{OWS}Exception")
    return exc.get("exceptionCode"), exc.findtext(f"{OWS}ExceptionText")


@pytest.fixture
def cube(tmp_path):
    with petacube.open(tmp_path / "home") as c:
        yield c


def read(cube, cov_id, band=None):
    ds = cube.read(cov_id)
    return ds[band or next(iter(ds.data_vars))].values


def test_insert_update_delete(cube, tmp_path):
    base = np.arange(6 * 8, dtype="int16").reshape(6, 8) + 100
    resp = wcst(cube, "InsertCoverage", [tif(tmp_path / "a.tif", base, nodata=-1)], coverageId="A", useId="existing",
                tiling="ALIGNED [0:3, 0:3]")
    assert resp.status == 200, resp.body
    assert resp.body == b"A"
    assert np.array_equal(read(cube, "A"), base)
    assert cube.describe("A").tile_shape == (4, 4)
    # duplicate id
    resp = wcst(cube, "InsertCoverage", [tif(tmp_path / "a.tif", base, nodata=-1)], coverageId="A", useId="existing")
    assert resp.status == 409 and "exists" in report(resp)[1]
    # update a region with nulls: they keep the old cells
    patch = np.full((2, 3), -1, dtype="int16")
    patch[0, 0], patch[1, 2] = 7, 9
    resp = wcst(cube, "UpdateCoverage", [tif(tmp_path / "p.tif", patch, x0=500020, y0=4999980, nodata=-1)], coverageId="A")
    assert resp.status == 200, resp.body
    want = base.copy()
    want[2, 2], want[3, 4] = 7, 9
    assert np.array_equal(read(cube, "A"), want)
    # grow east and south: cells never written are null (-1)
    grow = np.full((2, 2), 5, dtype="int16")
    grow[0, 0] = -1  # null: the old cell stays
    resp = wcst(cube, "UpdateCoverage", [tif(tmp_path / "g.tif", grow, x0=500070, y0=4999950, nodata=-1)], coverageId="A")
    assert resp.status == 200, resp.body
    got = read(cube, "A")
    assert got.shape == (7, 9)
    assert np.array_equal(got[:6, :8], want)
    assert np.array_equal(got[5:7, 7:9], np.array([[want[5, 7], 5], [5, 5]]))
    assert got[6, 0] == -1 and got[0, 8] == -1
    # misaligned update
    resp = wcst(cube, "UpdateCoverage", [tif(tmp_path / "m.tif", grow, x0=500003, y0=5000000, nodata=-1)], coverageId="A")
    assert resp.status == 400 and "off the coverage grid" in report(resp)[1]
    resp = wcst(cube, "UpdateCoverage", [tif(tmp_path / "r.tif", grow, res=20, nodata=-1)], coverageId="A")
    assert resp.status == 400 and "resolution" in report(resp)[1]
    # delete
    assert wcst(cube, "DeleteCoverage", coverageId="A").status == 200
    assert "A" not in cube
    resp = wcst(cube, "DeleteCoverage", coverageId="A")
    assert resp.status == 404 and report(resp)[0] == "NoSuchCoverage"


def test_time_series_dates(cube, tmp_path):
    d1 = np.full((2, 4, 4), 1, dtype="uint16")
    resp = wcst(cube, "InsertCoverage", [tif(tmp_path / "1.tif", d1, nodata=0, bands=["B1", "B2"])],
                coverageId="TS", crs="OGC/0/AnsiDate@EPSG/0/32633", subset='ansi("2021-05-01")')
    assert resp.status == 200, resp.body
    assert cube.describe("TS").dims == ("ansi", "N", "E") or cube.describe("TS").dims[0] == "ansi"
    for date, v in (("2021-06-01", 3), ("2021-05-15", 2), ("2021-04-01", 9)):
        data = np.full((2, 4, 4), v, dtype="uint16")
        data[:, 0, 0] = 0
        resp = wcst(cube, "UpdateCoverage", [tif(tmp_path / f"{v}.tif", data, nodata=0, bands=["B1", "B2"])],
                    coverageId="TS", subset=f'ansi("{date}")')
        assert resp.status == 200, resp.body
    ds = cube.read("TS")
    assert [str(t)[:10] for t in ds["ansi"].values] == ["2021-04-01", "2021-05-01", "2021-05-15", "2021-06-01"]
    assert ds["B2"].values[:, 1, 1].tolist() == [9, 1, 2, 3]
    assert ds["B1"].values[:, 0, 0].tolist() == [0, 1, 0, 0]
    # an update of an existing date with nulls keeps the old cells
    upd = np.zeros((2, 4, 4), dtype="uint16")
    upd[:, 3, 3] = 7
    resp = wcst(cube, "UpdateCoverage", [tif(tmp_path / "u.tif", upd, nodata=0, bands=["B1", "B2"])],
                coverageId="TS", subset='ansi("2021-05-15")')
    assert resp.status == 200, resp.body
    b2 = cube.read("TS", {"ansi": "2021-05-15"})["B2"].values
    assert b2[3, 3] == 7 and b2[1, 1] == 2 and b2[0, 0] == 0
    # a missing date subset
    resp = wcst(cube, "UpdateCoverage", [tif(tmp_path / "u.tif", upd, nodata=0, bands=["B1", "B2"])], coverageId="TS")
    assert resp.status == 400 and "subset=ansi" in report(resp)[1]


def test_bad_inputs(cube, tmp_path):
    good = tif(tmp_path / "g.tif", np.ones((2, 2), dtype="uint8"))
    resp = wcst(cube, "UpdateCoverage", [good], coverageId="NOPE")
    assert resp.status == 404 and report(resp)[0] == "NoSuchCoverage"
    resp = wcst(cube, "InsertCoverage", [b"II*\x00garbage" * 10], coverageId="X")
    assert resp.status == 400 and "GDAL" in report(resp)[1] or "cannot read" in report(resp)[1]
    resp = wcst(cube, "InsertCoverage", [b"hello world"], coverageId="X")
    assert resp.status == 400 and "not GeoTIFF" in report(resp)[1]
    resp = wcst(cube, "InsertCoverage", coverageId="X", coverageRef="http://example.com/a.tif")
    assert resp.status == 400 and "network" in report(resp)[1]
    resp = wcst(cube, "InsertCoverage", coverageId="X", coverageRef=str(tmp_path / "g.tif"))
    assert resp.status == 403 and "upload_dirs" in report(resp)[1]
    resp = wcst(cube, "InsertCoverage", coverageId="X")
    assert resp.status == 400 and report(resp)[0] == "MissingParameterValue"
    resp = wcst(cube, "InsertCoverage", [good], coverageId="X", tiling="NONSENSE")
    assert resp.status == 400 and report(resp)[0] == "InvalidParameterValue"
    resp = wcst(cube, "InsertCoverage", [good], coverageId="1 bad")
    assert resp.status == 400
    assert "X" not in cube


def test_coverage_ref_and_gml(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    data = np.arange(12, dtype="float32").reshape(3, 4)
    tif(inbox / "in.tif", data)
    (tmp_path / "outside.tif").write_bytes((inbox / "in.tif").read_bytes())
    settings = petacube.config.load_settings(home=tmp_path / "home")
    settings = settings.model_copy(update={"upload_dirs": [inbox]})
    from petacube.datacube import Datacube

    with Datacube(settings) as cube:
        resp = wcst(cube, "InsertCoverage", coverageId="R", coverageRef=str(inbox / "in.tif"))
        assert resp.status == 200, resp.body
        assert np.array_equal(read(cube, "R"), data)
        resp = wcst(cube, "InsertCoverage", coverageId="R2", coverageRef=str(inbox / ".." / "outside.tif"))
        assert resp.status == 403 and "outside" in report(resp)[1]
        gml = (f'<gmlcov:RectifiedGridCoverage xmlns:gml="http://www.opengis.net/gml/3.2" '
               f'xmlns:gmlcov="http://www.opengis.net/gmlcov/1.0" gml:id="G"><gml:rangeSet><gml:File>'
               f'<gml:fileReference>file://{inbox / "in.tif"}</gml:fileReference><gml:mimeType>image/tiff</gml:mimeType>'
               f'</gml:File></gml:rangeSet></gmlcov:RectifiedGridCoverage>')
        resp = wcst(cube, "InsertCoverage", [gml.encode()], coverageId="G", pixelDataType="int16")
        assert resp.status == 200, resp.body
        assert cube.describe("G").bands[0].dtype == "int16"
        assert np.array_equal(read(cube, "G"), data.astype("int16"))
        tuples = ('<gml:GridCoverage xmlns:gml="http://www.opengis.net/gml/3.2" gml:id="T"><gml:domainSet><gml:Grid>'
                  '<gml:limits><gml:GridEnvelope><gml:low>0 0</gml:low><gml:high>1 2</gml:high></gml:GridEnvelope>'
                  '</gml:limits></gml:Grid></gml:domainSet><gml:rangeSet><gml:DataBlock><gml:tupleList>'
                  '1,2,3,4,5,6</gml:tupleList></gml:DataBlock></gml:rangeSet></gml:GridCoverage>')
        resp = wcst(cube, "InsertCoverage", coverageId="T", inputCoverage=tuples)
        assert resp.status == 200, resp.body
        assert read(cube, "T").tolist() == [[1, 2, 3], [4, 5, 6]]
