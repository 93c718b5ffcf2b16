"""Styles and layers administration: the CLI and the HTTP admin endpoint (writers only)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import httpx
import numpy as np
from wms_server import SIZE, get, get_map, grey

READER, WRITER = ("reader1", "readpw"), ("writer1", "writepw")


def cli(wms, *args) -> subprocess.CompletedProcess:
    env = {**os.environ, "PETACUBE_HOME": str(wms.home)}
    env.pop("PETACUBE_CONFIG", None)
    return subprocess.run([sys.executable, "-m", "petacube.cli", *args], env=env, capture_output=True, text=True,
                          timeout=120)


def admin(wms, action: str, auth=None, **params) -> httpx.Response:
    return httpx.post(f"{wms.url}/admin/wms/{action}", data=params, auth=auth, timeout=60)


def test_style_add_update_remove_through_the_cli(wms):
    src = wms.s2[-1, 2]
    done = cli(wms, "style", "add", "S2", "cli_b04", "--wcps", "$c.B04 / 32")
    assert done.returncode == 0, done.stderr
    a = get_map(wms, styles="cli_b04")
    np.testing.assert_array_equal(a[..., 0][src != 0], grey(src / 32.0)[src != 0])
    assert "cli_b04" in cli(wms, "style", "list", "S2").stdout
    # an update changes the picture at once (the response cache is keyed by the style's version)
    assert cli(wms, "style", "update", "S2", "cli_b04", "--wcps", "$c.B04 / 64").returncode == 0
    b = get_map(wms, styles="cli_b04")
    np.testing.assert_array_equal(b[..., 0][src != 0], grey(src / 64.0)[src != 0])
    assert cli(wms, "style", "remove", "S2", "cli_b04").returncode == 0
    r = get(wms, request="GetMap", layers="S2", styles="cli_b04", crs="EPSG:32633", bbox="500000,4999360,500640,5000000",
            width=8, height=8, format="image/png")
    assert r.status_code == 404 and 'code="StyleNotDefined"' in r.text


def test_cli_refuses_a_bad_fragment_and_a_bad_colour_table(wms):
    bad = cli(wms, "style", "add", "S2", "broken", "--wcps", "$c.B04 +")
    assert bad.returncode == 2 and "wcpsQueryFragment" not in bad.stdout and "does not translate" in bad.stderr
    bad = cli(wms, "style", "add", "S2", "broken", "--color-table", '{"type": "ramp"}')
    assert bad.returncode == 2 and "colorTable" in bad.stderr


def test_http_admin_needs_a_writer(wms):
    params = {"layer": "S2", "name": "http_sld", "colorTableType": "SLD", "wcpsQueryFragment": "$c.B02",
              "colorTableDefinition": (
                  '<StyledLayerDescriptor xmlns="http://www.opengis.net/sld"><ColorMap type="intervals">'
                  '<ColorMapEntry color="#00FF00" quantity="0" opacity="1" label="low"/>'
                  '<ColorMapEntry color="#FF00FF" quantity="2000" opacity="0.5" label="high"/>'
                  "</ColorMap></StyledLayerDescriptor>")}
    assert admin(wms, "style/add", **params).status_code == 401
    assert admin(wms, "style/add", auth=READER, **params).status_code == 403
    r = admin(wms, "style/add", auth=WRITER, **params)
    assert r.status_code == 201, r.text
    assert r.json()["style"]["colorTableType"] == "SLD"
    a = get_map(wms, styles="http_sld")
    src = wms.s2[-1, 0]
    expected = np.where((src >= 2000)[..., None], [255, 0, 255, 128], [0, 255, 0, 255])
    np.testing.assert_array_equal(a[src != 0], expected[src != 0])
    listed = httpx.get(f"{wms.url}/admin/wms/style/list", params={"layer": "S2"}, timeout=30).json()["styles"]
    assert "http_sld" in [s["name"] for s in listed]
    assert admin(wms, "style/remove", auth=READER, layer="S2", name="http_sld").status_code == 403
    assert admin(wms, "style/remove", auth=WRITER, layer="S2", name="http_sld").status_code == 200
    gone = admin(wms, "style/remove", auth=WRITER, layer="S2", name="http_sld")
    assert gone.status_code == 404 and 'code="StyleNotDefined"' in gone.text


def test_uploaded_legend_is_returned(wms):
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(40))
    r = httpx.post(f"{wms.url}/admin/wms/style/add", auth=WRITER, timeout=30,
                   data={"layer": "S2", "name": "with_legend", "wcpsQueryFragment": "$c.B03 / 16"},
                   files={"legendGraphic": ("legend.png", png, "image/png")})
    assert r.status_code == 201, r.text
    legend = get(wms, request="GetLegendGraphic", layer="S2", style="with_legend", format="image/png")
    assert legend.status_code == 200 and legend.content == png


def test_layers_enable_and_disable(wms):
    def layers():
        return get(wms, request="GetCapabilities").text

    assert "<Name>HIDDEN</Name>" not in layers()
    assert cli(wms, "wms", "enable", "HIDDEN").returncode == 0
    assert "<Name>HIDDEN</Name>" in layers()
    a = get_map(wms, layers="HIDDEN", styles="", bbox="500000,4999520,500800,5000000", width=40, height=24)
    np.testing.assert_array_equal(a[..., 0], grey(wms.dem))
    assert admin(wms, "layer/disable", auth=READER, layer="HIDDEN").status_code == 403
    assert admin(wms, "layer/disable", auth=WRITER, layer="HIDDEN").status_code == 200
    r = get(wms, request="GetMap", layers="HIDDEN", styles="", crs="EPSG:32633", bbox="500000,4999520,500800,5000000",
            width=8, height=8, format="image/png")
    assert r.status_code == 404 and 'code="LayerNotDefined"' in r.text
    missing = cli(wms, "wms", "enable", "NOPE")
    assert missing.returncode == 2 and "NOPE" in missing.stderr
    assert json.loads(httpx.get(f"{wms.url}/admin/wms/layer/list", timeout=30).text)["layers"] == ["DEM", "S2"]
    assert SIZE
