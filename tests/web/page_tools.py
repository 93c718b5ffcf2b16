"""Helpers of the demo-page tests: waiting for the map, reading its pixels, recording WMS
requests, running console examples, saving screenshots as test artefacts."""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
N_EXAMPLES = 11  # the nine classic scripts, a number, a table
NUMBER_EXAMPLE, TABLE_EXAMPLE = 9, 10


def wait_for_map(page, render_count_before: int) -> None:
    """Wait until the map has rendered again and no WMS tile is loading."""
    page.wait_for_function(
        "([n]) => petacube.mapView.renderCount > n && petacube.mapView.pendingTiles === 0",
        arg=[render_count_before], timeout=20_000)


def map_pixels(page) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(page.locator("#map").screenshot())).convert("RGB")).astype(int)


def changed_fraction(a: np.ndarray, b: np.ndarray) -> float:
    return float((np.abs(a - b).sum(axis=-1) > 12).mean())


def getmap_requests(page) -> list[dict]:
    page.getmaps = []

    def record(response):
        query = {k.upper(): v[0] for k, v in parse_qs(urlparse(response.url).query).items()}
        if query.get("REQUEST", "").lower() == "getmap":
            page.getmaps.append({**query, "status": response.status, "type": response.headers.get("content-type", "")})

    page.on("response", record)
    return page.getmaps


def run_example(page, index: int) -> str:
    page.select_option("#wcps-examples", str(index))
    page.click("#wcps-run")
    page.wait_for_function("document.querySelector('#wcps-result').dataset.kind !== 'running'", timeout=30_000)
    return page.locator("#wcps-result").get_attribute("data-kind")


def query_date(query: str) -> str:
    return re.search(r'ansi\("([0-9-]+)"\)', query).group(1)


def save_screenshot(page, tmp_path: Path, name: str) -> Path:
    shot = tmp_path / name
    page.screenshot(path=str(shot), full_page=True)
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(shot, ARTIFACTS / name)
    return shot


def ndvi(scene: dict[str, np.ndarray]) -> np.ndarray:
    nir, red = scene["B08"].astype("float64"), scene["B04"].astype("float64")
    return (nir - red) / (nir + red)
