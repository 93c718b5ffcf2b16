"""GetFeatureInfo values against the source arrays, and GetLegendGraphic."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image
from wms_server import BANDS, DATES, FULL_BBOX, SIZE, get

INFO = dict(request="GetFeatureInfo", layers="S2,DEM", query_layers="S2", styles="", crs="EPSG:32633",
            bbox=FULL_BBOX, width=SIZE, height=SIZE)


def test_values_of_every_band_at_the_pixel(wms):
    i, j = 37, 21  # column, row: on the native grid, the source cell (21, 37)
    r = get(wms, **INFO, i=i, j=j, info_format="application/json")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    layer = r.json()["layers"][0]
    assert layer["layer"] == "S2" and len(layer["values"]) == 1
    entry = layer["values"][0]
    assert entry["coordinates"]["time"].startswith(DATES[-1])
    assert entry["bands"] == {b: int(wms.s2[-1, k, j, i]) for k, b in enumerate(BANDS)}


def test_time_series_for_a_range(wms):
    i, j = 5, 60
    r = get(wms, **INFO, i=i, j=j, info_format="application/json", time=f"{DATES[0]}/{DATES[-1]}")
    values = r.json()["layers"][0]["values"]
    assert [v["coordinates"]["time"][:10] for v in values] == DATES
    for t, v in enumerate(values):
        assert v["bands"] == {b: int(wms.s2[t, k, j, i]) for k, b in enumerate(BANDS)}


def test_nodata_is_null_and_text_and_html_answers(wms):
    r = get(wms, **INFO, i=1, j=1, info_format="application/json", time=DATES[0])
    assert r.json()["layers"][0]["values"][0]["bands"] == {b: None for b in BANDS}
    i, j = 10, 12
    text = get(wms, **INFO, i=i, j=j, info_format="text/plain").text
    assert f"B03={wms.s2[-1, 1, j, i]}" in text
    html = get(wms, **INFO, i=i, j=j, info_format="text/html")
    assert html.headers["content-type"].startswith("text/html") and f"<td>{wms.s2[-1, 2, j, i]}</td>" in html.text


def test_point_outside_the_map_is_invalid_point(wms):
    r = get(wms, **INFO, i=SIZE, j=0, info_format="text/plain")
    assert r.status_code == 400 and 'code="InvalidPoint"' in r.text


def test_legend_from_the_colour_map(wms):
    r = get(wms, request="GetLegendGraphic", layer="S2", style="classes", format="image/png")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    legend = np.asarray(Image.open(io.BytesIO(r.content)).convert("RGBA"))
    colours = {tuple(p) for p in legend.reshape(-1, 4)}
    assert (0, 0, 255, 255) in colours and (255, 0, 0, 255) in colours  # one swatch per class
    missing = get(wms, request="GetLegendGraphic", layer="S2", style="nope", format="image/png")
    assert missing.status_code == 404 and 'code="StyleNotDefined"' in missing.text
