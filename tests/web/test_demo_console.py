"""The demo page's WCPS console in a real browser (Debian's Chromium through Playwright)
against the real server: each example gives an image placed on the map, a number or a
table, and a broken query points at its line and column.

Expected values come from the generated source scenes (numpy), never from the server.
The tests share one page (module scope): each runs a query and reads what the page shows."""

from __future__ import annotations

import re

import numpy as np
import pytest
from page_tools import (
    N_EXAMPLES,
    NUMBER_EXAMPLE,
    TABLE_EXAMPLE,
    ndvi,
    query_date,
    run_example,
    save_screenshot,
)
from PIL import Image


def test_page_loads_without_errors_and_offers_the_coverage(console_page, web):
    assert console_page.title() == "petacube demo"
    assert console_page.locator("#wcps-coverage option").all_inner_texts() == [web.coverage]
    assert console_page.locator("#wcps-examples option").count() == N_EXAMPLES
    assert f"for $c in ({web.coverage})" in console_page.locator("#wcps-editor").input_value()
    assert console_page.errors == []


@pytest.mark.parametrize("index", range(9))
def test_classic_example_draws_an_image_on_the_map(console_page, web, index):
    kind = run_example(console_page, index)
    status = console_page.locator("#wcps-status").inner_text()
    assert kind == "image", f"{console_page.locator('#wcps-result').inner_text()} / {status}"
    assert console_page.locator("#wcps-result").get_attribute("data-placed") == "yes", status
    size = console_page.locator("#wcps-result img").evaluate("img => [img.naturalWidth, img.naturalHeight]")
    query = console_page.locator("#wcps-editor").input_value()
    extent = [float(v) for v in re.search(r"EPSG:32633 ([-\d., ]+)\)", status).group(1).split(",")]
    if "POLYGON" in query:
        # the clipped image covers the polygon's bounding box, on the pixel grid
        pts = np.array([p.split() for p in re.search(r"POLYGON\(\((.*?)\)\)", query).group(1).split(",")], float)
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        r = web.resolution
        assert extent[0] <= lo[0] < extent[0] + r and extent[2] - r < hi[0] <= extent[2]
        assert extent[1] <= lo[1] < extent[1] + r and extent[3] - r < hi[1] <= extent[3]
        assert size == [round((extent[2] - extent[0]) / r), round((extent[3] - extent[1]) / r)]
    else:
        full = [web.origin[0], web.origin[1] - web.size * web.resolution,
                web.origin[0] + web.size * web.resolution, web.origin[1]]
        assert extent == full
        assert size == [web.size, web.size]
    assert console_page.evaluate("petacube.mapView.resultLayer.getVisible()")
    assert console_page.errors == []


def test_mean_ndvi_example_shows_the_number(console_page, web):
    assert run_example(console_page, NUMBER_EXAMPLE) == "number"
    date = query_date(console_page.locator("#wcps-editor").input_value())
    shown = float(console_page.locator("#wcps-result .wcps-number").inner_text())
    assert shown == pytest.approx(ndvi(web.scenes[date]).mean(), rel=1e-5)


def test_pixel_table_example_shows_the_source_values(console_page, web):
    assert run_example(console_page, TABLE_EXAMPLE) == "table"
    query = console_page.locator("#wcps-editor").input_value()
    date = query_date(query)
    e0, e1 = map(float, re.search(r"E\(([\d.]+):([\d.]+)\)", query).groups())
    n0, n1 = map(float, re.search(r"N\(([\d.]+):([\d.]+)\)", query).groups())
    res = web.resolution
    col0, ncols = int((e0 - web.origin[0]) // res), int((e1 - e0) / res + 0.5)
    row0, nrows = int((web.origin[1] - n1) // res), int((n1 - n0) / res + 0.5)
    expected = web.scenes[date]["B08"][row0:row0 + nrows, col0:col0 + ncols]
    rows = console_page.locator("#wcps-result table tbody tr").evaluate_all(
        "trs => trs.map(tr => [...tr.querySelectorAll('td')].map(td => Number(td.textContent)))")
    assert np.array_equal(np.array(rows), expected)


def test_broken_query_shows_the_line_and_column(console_page, web, tmp_path):
    broken = f'for $c in ({web.coverage})\nreturn encode(\n  $c.B04 + ) 2, "image/png")'
    line, column = 3, broken.split("\n")[2].index(")") + 1
    console_page.fill("#wcps-editor", broken)
    console_page.click("#wcps-run")
    console_page.wait_for_function("document.querySelector('#wcps-result').dataset.kind === 'error'", timeout=20_000)
    error = console_page.locator("#wcps-result .wcps-error")
    assert "WcpsSyntaxError" in error.inner_text()
    assert console_page.locator(".wcps-error-position").inner_text() == f"line {line}, column {column}"
    assert console_page.locator("#wcps-gutter .error-line").inner_text() == str(line)
    caret = console_page.locator("#wcps-editor").evaluate("t => t.selectionStart")
    assert broken[caret] == ")"
    save_screenshot(console_page, tmp_path, "demo-page-wcps-error.png")


def test_screenshot_of_a_result_on_the_map(console_page, web, tmp_path):
    assert run_example(console_page, 0) == "image"
    console_page.wait_for_function("petacube.mapView.pendingTiles === 0", timeout=20_000)
    shot = save_screenshot(console_page, tmp_path, "demo-page.png")
    assert Image.open(shot).size[0] >= 1400
