"""GetCoverage results checked against the source arrays (read back with rasterio)."""

from __future__ import annotations

import email

import numpy as np
import pyproj
import pytest
import rasterio
from lxml import etree
from wcs_cube import BASE_URL, build_cube, request, xml_request

from petacube.ows.wcs import handle_wcs

wcs = pytest.fixture(scope="session", name="wcs")(build_cube)

NS = {"gml": "http://www.opengis.net/gml/3.2", "gmlcov": "http://www.opengis.net/gmlcov/1.0",
      "swe": "http://www.opengis.net/swe/2.0", "gmlrgrid": "http://www.opengis.net/gml/3.3/rgrid"}
TIFF = "image/tiff"


def _tiff(resp):
    assert resp.status == 200 and resp.media_type == TIFF
    with rasterio.MemoryFile(resp.body) as mem, mem.open() as ds:
        return ds.read(), ds.crs, ds.transform, ds.nodata


def test_trim_and_time_slice(wcs):
    resp = handle_wcs(request(request="GetCoverage", coverageId="S2", format="image/tiff",
                              subset=['ansi("2021-05-01")', "E(500100,500300)", "N(4999700,4999900)"]), wcs.cube)
    data, crs, transform, _ = _tiff(resp)
    assert crs.to_epsg() == 32633
    assert (transform.c, transform.f, transform.a, transform.e) == (500100, 4999900, 10, -10)
    np.testing.assert_array_equal(data, wcs.s2[1, :, 10:30, 10:30])
    assert resp.headers["Content-Disposition"] == 'inline; filename="S2.tif"'
    assert resp.coverage == "S2" and resp.cells == 3 * 20 * 20


def test_unquoted_time_open_bounds_and_rangesubset_order(wcs):
    resp = handle_wcs(request(request="GetCoverage", coverageId="S2", format="tiff", rangesubset="B04,B02",
                              subset=["ansi(2021-05-20)", "E(*,500050)", "N(4999950,*)"]), wcs.cube)
    data, _, transform, _ = _tiff(resp)
    assert (transform.c, transform.f) == (500000, 5000000)
    np.testing.assert_array_equal(data, wcs.s2[2][[2, 0], 0:5, 0:5])


def test_rangesubset_interval_and_single_band(wcs):
    resp = handle_wcs(request(request="GetCoverage", coverageId="S2", format="image/tiff", rangesubset="B03:B04",
                              subset=['ansi("2021-04-15")']), wcs.cube)
    data, *_ = _tiff(resp)
    np.testing.assert_array_equal(data, wcs.s2[0, 1:3])
    resp = handle_wcs(request(request="GetCoverage", coverageId="S2", format="image/tiff", rangesubset="B03",
                              subset=['ansi("2021-04-15")']), wcs.cube)
    data, *_ = _tiff(resp)
    np.testing.assert_array_equal(data, wcs.s2[0, 1:2])


def test_grid_subset_crs1(wcs):
    resp = handle_wcs(request(request="GetCoverage", coverageId="DEM", format="image/tiff",
                              subset=["E,CRS:1(2,5)", "N,http://www.opengis.net/def/crs/OGC/0/Index2D(10,12)"]), wcs.cube)
    data, *_ = _tiff(resp)
    np.testing.assert_array_equal(data[0], wcs.dem[10:13, 2:6])


def test_scalesize_and_scalefactor(wcs):
    resp = handle_wcs(request(request="GetCoverage", coverageId="DEM", format="image/tiff", scalesize="E(10),N(10)"), wcs.cube)
    data, _, transform, _ = _tiff(resp)
    rows = np.floor((np.arange(10) + 0.5) * 30 / 10).astype(int)
    cols = np.floor((np.arange(10) + 0.5) * 20 / 10).astype(int)
    np.testing.assert_array_equal(data[0], wcs.dem[np.ix_(rows, cols)])
    assert (transform.a, transform.e) == (40, -60)
    resp = handle_wcs(request(request="GetCoverage", coverageId="DEM", format="image/tiff", scalefactor="2"), wcs.cube)
    data, _, transform, _ = _tiff(resp)
    assert data.shape == (1, 15, 10) and (transform.a, transform.e) == (40, -40)  # factor 2 halves the cells
    resp = handle_wcs(request(request="GetCoverage", coverageId="DEM", format="image/tiff", scaleaxes="E(0.5)"), wcs.cube)
    assert _tiff(resp)[0].shape == (1, 30, 40)
    resp = handle_wcs(request(request="GetCoverage", coverageId="DEM", format="image/tiff", scaleextent="E(0:4),N(0:5)",
                              interpolation="http://www.opengis.net/def/interpolation/OGC/1/nearest-neighbor"), wcs.cube)
    assert _tiff(resp)[0].shape == (1, 6, 5)


def test_output_crs_4326(wcs):
    resp = handle_wcs(request(request="GetCoverage", coverageId="DEM", format="image/tiff", outputCrs="EPSG:4326"), wcs.cube)
    data, crs, transform, _ = _tiff(resp)
    assert crs.to_epsg() == 4326
    t = pyproj.Transformer.from_crs("EPSG:32633", "EPSG:4326", always_xy=True)
    w, s, e, n = t.transform_bounds(500000, 4999400, 500400, 5000000)
    h, wd = data.shape[1:]
    left, top = transform.c, transform.f
    right, bottom = left + wd * transform.a, top + h * transform.e
    np.testing.assert_allclose([left, bottom, right, top], [w, s, e, n], atol=abs(transform.a) * 1.5)
    valid = data[0][data[0] != -9999]
    assert valid.size > 0.5 * data[0].size and valid.min() >= wcs.dem.min() and valid.max() <= wcs.dem.max()


def test_subsetting_crs_lonlat(wcs):
    t = pyproj.Transformer.from_crs("EPSG:32633", "EPSG:4326", always_xy=True)
    lon0, lat0 = t.transform(500100, 4999600)
    lon1, lat1 = t.transform(500300, 4999800)
    resp = handle_wcs(request(request="GetCoverage", coverageId="DEM", format="image/tiff",
                              subsettingCrs="http://www.opengis.net/def/crs/EPSG/0/4326",
                              subset=[f"Lat({lat0},{lat1})", f"Long({lon0},{lon1})"]), wcs.cube)
    data, _, transform, _ = _tiff(resp)
    # the projected box containing the lon/lat box: about 200 m x 200 m of 20 m cells
    assert 9 <= data.shape[1] <= 12 and 9 <= data.shape[2] <= 12
    row, col = int((5000000 - transform.f) / 20), int((transform.c - 500000) / 20)
    np.testing.assert_array_equal(data[0], wcs.dem[row:row + data.shape[1], col:col + data.shape[2]])


def test_clip_polygon(wcs):
    wkt = "POLYGON((500000 5000000, 500400 5000000, 500000 4999400, 500000 5000000))"
    resp = handle_wcs(request(request="GetCoverage", coverageId="DEM", format="image/tiff", clip=wkt), wcs.cube)
    data, *_ = _tiff(resp)
    assert data.shape == (1, 30, 20)
    y, x = np.mgrid[0:30, 0:20]
    cx, cy = 500000 + (x + 0.5) * 20, 5000000 - (y + 0.5) * 20
    inside = (cx - 500000) / 400 + (5000000 - cy) / 600 <= 1  # below the hypotenuse
    np.testing.assert_array_equal(data[0][inside], wcs.dem[inside])
    assert (data[0][~inside] == -9999).all()


def test_default_format_is_gml(wcs):
    resp = handle_wcs(request(request="GetCoverage", coverageId="DEM", subset=["E(500000,500040)", "N(4999960,5000000)"]),
                      wcs.cube)
    assert resp.media_type == "application/gml+xml"
    root = etree.fromstring(resp.body)
    assert etree.QName(root).localname == "RectifiedGridCoverage"
    values = [float(v) for v in root.findtext(".//gml:tupleList", namespaces=NS).replace(",", " ").split()]
    np.testing.assert_allclose(values, wcs.dem[0:2, 0:2].ravel(), rtol=1e-6)
    # the CRS is named by this server's resolver, exactly as DescribeCoverage names it
    described = etree.fromstring(handle_wcs(request(request="DescribeCoverage", coverageId="DEM"), wcs.cube).body)
    srs = root.find(".//gml:Envelope", namespaces=NS).get("srsName")
    assert srs == described.find(".//gml:Envelope", namespaces=NS).get("srsName")
    assert srs.startswith(BASE_URL.rsplit("/", 1)[0] + "/def/crs/")  # petascope: .../rasdaman/def


def test_multipart(wcs):
    resp = handle_wcs(request(request="GetCoverage", coverageId="S2", format="image/tiff", mediatype="multipart/related",
                              subset=['ansi("2021-05-01")', "E(500100,500300)"]), wcs.cube)
    assert resp.media_type.startswith("multipart/related")
    msg = email.message_from_bytes(f"Content-Type: {resp.media_type}\r\n\r\n".encode() + resp.body)
    parts = msg.get_payload()
    assert [p.get_content_type() for p in parts] == ["application/gml+xml", "image/tiff"]
    gml = etree.fromstring(parts[0].get_payload(decode=True))
    assert etree.QName(gml).localname == "RectifiedGridCoverage"
    assert gml.findtext(".//gml:axisLabels", namespaces=NS) == "E N"
    assert gml.findtext(".//gml:high", namespaces=NS) == "19 39"
    assert gml.findtext(".//gml:origin/gml:Point/gml:pos", namespaces=NS) == "500105 4999995"
    assert gml.findtext(".//gml:fileReference", namespaces=NS) == "cid:S2.tif"
    assert gml.xpath("//swe:field/@name", namespaces=NS) == ["B02", "B03", "B04"]
    with rasterio.MemoryFile(parts[1].get_payload(decode=True)) as mem, mem.open() as ds:
        np.testing.assert_array_equal(ds.read(), wcs.s2[1, :, :, 10:30])


def test_netcdf_3d(wcs, tmp_path):
    import xarray as xr

    resp = handle_wcs(request(request="GetCoverage", coverageId="S2", format="application/netcdf",
                              subset=["E(500000,500020)", "N(4999980,5000000)"]), wcs.cube)
    assert resp.media_type == "application/netcdf"
    (tmp_path / "r.nc").write_bytes(resp.body)
    ds = xr.open_dataset(tmp_path / "r.nc", engine="netcdf4")
    assert ds["B04"].shape == (3, 2, 2)
    np.testing.assert_array_equal(ds["B04"].fillna(0).values, wcs.s2[:, 2, 0:2, 0:2])


def test_get_coverage_xml_post(wcs):
    body = """<wcs:GetCoverage xmlns:wcs="http://www.opengis.net/wcs/2.0" xmlns:rsub="http://www.opengis.net/wcs/range-subsetting/1.0"
       xmlns:scal="http://www.opengis.net/wcs/scaling/1.0" service="WCS" version="2.0.1">
      <wcs:CoverageId>S2</wcs:CoverageId>
      <wcs:DimensionSlice><wcs:Dimension>ansi</wcs:Dimension><wcs:SlicePoint>"2021-05-20"</wcs:SlicePoint></wcs:DimensionSlice>
      <wcs:DimensionTrim><wcs:Dimension>E</wcs:Dimension><wcs:TrimLow>500200</wcs:TrimLow><wcs:TrimHigh>500400</wcs:TrimHigh></wcs:DimensionTrim>
      <wcs:format>image/tiff</wcs:format>
      <wcs:Extension>
        <rsub:RangeSubset><rsub:RangeItem><rsub:RangeComponent>B04</rsub:RangeComponent></rsub:RangeItem>
          <rsub:RangeItem><rsub:RangeInterval><rsub:startComponent>B02</rsub:startComponent>
          <rsub:endComponent>B03</rsub:endComponent></rsub:RangeInterval></rsub:RangeItem></rsub:RangeSubset>
      </wcs:Extension>
    </wcs:GetCoverage>"""
    data, *_ = _tiff(handle_wcs(xml_request(body), wcs.cube))
    np.testing.assert_array_equal(data, wcs.s2[2][[2, 0, 1], :, 20:40])
