"""The demo page's map in a real browser (Debian's Chromium through Playwright) against the
real server: WMS tiles drawn from the layers of GetCapabilities, the time slider and play
button change TIME, opacity, and a click charts the pixel's time series.

Expected values come from the generated source scenes (numpy), never from the server."""

from __future__ import annotations

from page_tools import (
    changed_fraction,
    getmap_requests,
    map_pixels,
    save_screenshot,
    wait_for_map,
)
from pyproj import Transformer


def test_map_draws_the_wms_layer_from_the_capabilities(page, web, tmp_path):
    # the layer list and the dates come from WMS GetCapabilities
    assert web.coverage in page.locator("#layer option").evaluate_all("os => os.map(o => o.value)")
    assert page.evaluate("petacube.state.times.map(t => t.slice(0, 10))") == web.dates
    wait_for_map(page, 0)
    shown = map_pixels(page)
    save_screenshot(page, tmp_path, "demo-page-map.png")
    # the WMS layer's share of the picture: what disappears at opacity 0
    before = page.evaluate("petacube.mapView.renderCount")
    page.locator("#wms-opacity").fill("0")
    wait_for_map(page, before)
    hidden = map_pixels(page)
    assert changed_fraction(shown, hidden) > 0.2, "the WMS tiles draw nothing visible"
    assert page.errors == []


def test_time_slider_requests_another_time_and_changes_the_map(page, web):
    getmaps = getmap_requests(page)
    wait_for_map(page, 0)
    first_time = page.locator("#time-label").get_attribute("data-time")
    first = map_pixels(page)
    before = page.evaluate("petacube.mapView.renderCount")
    slider = page.locator("#time-slider")
    slider.focus()
    slider.press("Home")  # the earliest date (the page opens on the default or the latest)
    new_time = page.locator("#time-label").get_attribute("data-time")
    assert new_time[:10] == web.dates[0] and new_time != first_time
    wait_for_map(page, before)
    second = map_pixels(page)
    asked = [g for g in getmaps if g.get("TIME") == new_time]
    assert asked and all(g["status"] == 200 and g["type"].startswith("image/png") for g in asked)
    assert all(g.get("CRS") == "EPSG:3857" and g.get("VERSION") == "1.3.0" for g in asked)
    assert changed_fraction(first, second) > 0.2, "the map looks the same at another date"


def test_play_steps_through_the_dates(page, web):
    page.click("#play")
    assert page.locator("#play").get_attribute("aria-pressed") == "true"
    start = page.locator("#time-label").get_attribute("data-time")
    page.wait_for_function("([t]) => document.querySelector('#time-label').dataset.time !== t", arg=[start],
                           timeout=5_000)
    page.click("#play")
    assert page.locator("#play").get_attribute("aria-pressed") == "false"


def test_click_charts_the_time_series_of_the_pixel(page, web):
    wait_for_map(page, 0)
    row, col = 40, 30  # a pixel inside the scene; click its centre
    east = web.origin[0] + (col + 0.5) * web.resolution
    north = web.origin[1] - (row + 0.5) * web.resolution
    x, y = Transformer.from_crs("EPSG:32633", "EPSG:3857", always_xy=True).transform(east, north)
    px, py = page.evaluate("([x, y]) => petacube.mapView.map.getPixelFromCoordinate([x, y])", [x, y])
    page.locator("#map").click(position={"x": px, "y": py})
    page.wait_for_function("document.querySelector('#chart').dataset.points !== undefined", timeout=20_000)
    assert page.locator("#chart-status").get_attribute("class") != "error", page.locator("#chart-status").inner_text()
    # every band on every date is a point of the chart
    assert int(page.locator("#chart").get_attribute("data-points")) == len(web.bands) * len(web.dates)
    date = page.locator("#time-label").get_attribute("data-time")[:10]
    values = dict(r.split("\t") for r in page.locator("#pixel-values tr").all_inner_texts())
    expected = {b: web.scenes[date][b][row, col] for b in web.bands}
    assert {b: float(values[b]) for b in web.bands} == {b: float(v) for b, v in expected.items()}


