"""WCS-T as XML POST bodies (OGC 13-057r1): the same transactions as the KVP form."""

from __future__ import annotations

import numpy as np
import pytest
from datagen import write_geotiff
from lxml import etree
from rasterio.transform import from_origin

import petacube
from petacube.datacube import Datacube
from petacube.ows.dispatch import handle
from petacube.ows.exceptions import AccessDenied
from petacube.ows.protocol import OwsRequest

OWS = "{http://www.opengis.net/ows/2.0}"
NS = 'xmlns:wcs="http://www.opengis.net/wcs/2.0" xmlns:gml="http://www.opengis.net/gml/3.2" ' \
     'xmlns:gmlcov="http://www.opengis.net/gmlcov/1.0"'


def post(cube, xml: str, authorize=None):
    return handle(OwsRequest("POST", {}, "http://test/rasdaman/ows", body=xml.encode(), content_type="text/xml",
                             user="w", roles=frozenset({"writer"})), cube, authorize=authorize)


def read_only(op):
    if op.write:
        raise AccessDenied(f"{op.request} on {','.join(op.coverages)} needs write rights")


def report(resp):
    exc = etree.fromstring(resp.body).find(f"{OWS}Exception")
    return exc.get("exceptionCode"), exc.findtext(f"{OWS}ExceptionText")


@pytest.fixture
def inbox_cube(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    settings = petacube.config.load_settings(home=tmp_path / "home").model_copy(update={"upload_dirs": [inbox]})
    with Datacube(settings) as cube:
        yield cube, inbox


def tif(path, data, x0=500000.0, y0=5000000.0):
    write_geotiff(path, np.asarray(data), crs="EPSG:32633", transform=from_origin(x0, y0, 10, 10), nodata=0,
                  band_descriptions=["B1"])
    return path


def test_insert_update_delete_as_xml(inbox_cube):
    cube, inbox = inbox_cube
    base = np.arange(1, 4 * 6 + 1, dtype="uint16").reshape(4, 6)
    tif(inbox / "base.tif", base)
    resp = post(cube, f'''<wcs:InsertCoverage {NS} service="WCS" version="2.0.1">
        <wcs:coverageRef>file://{inbox / "base.tif"}</wcs:coverageRef>
        <wcs:useId>existing</wcs:useId><wcs:coverageId>X1</wcs:coverageId>
        <wcs:Extension><tiling>ALIGNED [0:1, 0:2]</tiling></wcs:Extension>
      </wcs:InsertCoverage>''')
    assert resp.status == 200, resp.body
    assert resp.body == b"X1"
    assert np.array_equal(cube.read("X1")["B1"].values, base)
    assert cube.describe("X1").tile_shape == (3, 2)  # rasdaman's tiling order for EPSG:32633 is E, N

    patch = np.zeros((2, 2), dtype="uint16")
    patch[0, 0], patch[1, 1] = 500, 600  # zeros are nulls: the old cells stay
    tif(inbox / "patch.tif", patch, x0=500020, y0=4999990)
    resp = post(cube, f'''<wcs:UpdateCoverage {NS} service="WCS" version="2.0.1">
        <wcs:coverageId>X1</wcs:coverageId>
        <wcs:inputCoverageRef>{inbox / "patch.tif"}</wcs:inputCoverageRef>
      </wcs:UpdateCoverage>''')
    assert resp.status == 200, resp.body
    want = base.copy()
    want[1, 2], want[2, 3] = 500, 600
    assert np.array_equal(cube.read("X1")["B1"].values, want)

    resp = post(cube, f'<wcs:DeleteCoverage {NS} service="WCS" version="2.0.1"><wcs:coverageId>X1</wcs:coverageId></wcs:DeleteCoverage>')
    assert resp.status == 200 and "X1" not in cube


def test_inline_gml_coverage_and_time_slice(inbox_cube):
    cube, inbox = inbox_cube
    d1 = np.full((3, 3), 4, dtype="uint16")
    tif(inbox / "d1.tif", d1)
    resp = post(cube, f'''<wcs:InsertCoverage {NS} service="WCS" version="2.0.1">
        <wcs:coverage><gmlcov:RectifiedGridCoverage gml:id="TS"><gml:rangeSet><gml:File>
          <gml:fileReference>file://{inbox / "d1.tif"}</gml:fileReference><gml:mimeType>image/tiff</gml:mimeType>
        </gml:File></gml:rangeSet></gmlcov:RectifiedGridCoverage></wcs:coverage>
        <wcs:useId>existing</wcs:useId><wcs:coverageId>TS</wcs:coverageId>
        <wcs:Extension><crs>OGC/0/AnsiDate@EPSG/0/32633</crs></wcs:Extension>
        <wcs:DimensionSlice><wcs:Dimension>ansi</wcs:Dimension><wcs:SlicePoint>"2021-05-01"</wcs:SlicePoint></wcs:DimensionSlice>
      </wcs:InsertCoverage>''')
    assert resp.status == 200, resp.body
    d2 = np.full((3, 3), 9, dtype="uint16")
    tif(inbox / "d2.tif", d2)
    resp = post(cube, f'''<wcs:UpdateCoverage {NS} service="WCS" version="2.0.1">
        <wcs:coverageId>TS</wcs:coverageId><wcs:inputCoverageRef>{inbox / "d2.tif"}</wcs:inputCoverageRef>
        <wcs:DimensionSlice><wcs:Dimension>ansi</wcs:Dimension><wcs:SlicePoint>"2021-04-01"</wcs:SlicePoint></wcs:DimensionSlice>
      </wcs:UpdateCoverage>''')
    assert resp.status == 200, resp.body
    ds = cube.read("TS")
    assert [str(t)[:10] for t in ds["ansi"].values] == ["2021-04-01", "2021-05-01"]
    assert ds["B1"].values[:, 1, 1].tolist() == [9, 4]


def test_xml_transaction_errors(inbox_cube):
    cube, inbox = inbox_cube
    resp = post(cube, f'<wcs:DeleteCoverage {NS} service="WCS" version="2.0.1"/>')
    assert resp.status == 400 and report(resp)[0] == "MissingParameterValue"
    resp = post(cube, f'<wcs:DeleteCoverage {NS}><wcs:coverageId>NOPE</wcs:coverageId></wcs:DeleteCoverage>')
    assert resp.status == 404 and report(resp)[0] == "NoSuchCoverage"
    resp = post(cube, f'<wcs:InsertCoverage {NS}><wcs:coverage><a/><b/></wcs:coverage></wcs:InsertCoverage>')
    assert resp.status == 400 and "exactly one" in report(resp)[1]
    resp = post(cube, f'<wcs:InsertCoverage {NS}><wcs:coverageRef>http://evil.example/x.tif</wcs:coverageRef></wcs:InsertCoverage>')
    assert resp.status == 400 and "network" in report(resp)[1]
    resp = post(cube, f'''<wcs:UpdateCoverage {NS}><wcs:coverageId>NOPE</wcs:coverageId>
        <wcs:DimensionTrim><wcs:TrimLow>1</wcs:TrimLow></wcs:DimensionTrim></wcs:UpdateCoverage>''')
    assert resp.status == 400 and "Dimension" in report(resp)[1]
    resp = post(cube, '<Transaction xmlns="http://www.opengis.net/wcs/1.1/wcst"/>')
    assert resp.status in (400, 501) and "WCS-T 2.0" in report(resp)[1]
    # writes need a writer, checked before the body is used
    tif(inbox / "a.tif", np.ones((2, 2), dtype="uint16"))
    resp = post(cube, f'<wcs:InsertCoverage {NS}><wcs:coverageRef>{inbox / "a.tif"}</wcs:coverageRef>'
                      '<wcs:useId>existing</wcs:useId><wcs:coverageId>W</wcs:coverageId></wcs:InsertCoverage>',
                authorize=read_only)
    assert resp.status == 403 and "W" in report(resp)[1]
    assert "W" not in cube
