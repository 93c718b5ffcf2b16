"""Killing an import at any moment and re-running it gives the same coverage as one
uninterrupted run (a real SIGKILL of a real `petacube import` process)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
from datagen import ingredients, write_geotiff
from rasterio.transform import from_origin

import petacube
from petacube.catalog import Catalog

DATES = [f"202103{d:02d}" for d in (9, 2, 5, 1, 7, 3, 8, 4)]


def make_inputs(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    rng = np.random.default_rng(7)
    for date in DATES:
        data = rng.integers(1, 60000, size=(2, 300, 300)).astype("uint16")
        write_geotiff(d / f"scene_{date}.tif", data, transform=from_origin(500000, 5000000, 10, 10), nodata=0)
    return d


def import_cmd(home, ing):
    return [sys.executable, "-m", "petacube.cli", "--home", str(home), "import", str(ing), "--no-progress"]


def imported_count(home) -> int:
    db = home / "catalog.db"
    if not db.exists():
        return 0
    cat = Catalog(f"sqlite:///{db}")
    try:
        return len(cat.imported("RESUME")) if cat.exists("RESUME") else 0
    finally:
        cat.close()


def test_killed_import_resumes_to_the_same_coverage(tmp_path, write_ingredients):
    make_inputs(tmp_path)
    opts = {
        "time_parameter": {"filename": {"regex": "scene_(\\d{8})", "group": "1"}, "datetime_format": "YYYYMMDD"},
        "time_crs": "OGC/0/AnsiDate",
        "tiling": "ALIGNED [0:0, 0:127, 0:127]",
        "scale_levels": [2],
    }
    data = ingredients("RESUME", ["in/*.tif"], "time_series_irregular", opts, track_files=True)
    # a slow before-hook gives the kills room to land between and inside files
    data["hooks"] = [{"description": "slow", "when": "before_ingestion", "cmd": "sleep 0.15", "abort_on_error": True}]
    ing = write_ingredients(data)
    env = dict(os.environ, PYTHONUNBUFFERED="1")

    reference = tmp_path / "reference"
    subprocess.run(import_cmd(reference, ing), check=True, env=env, capture_output=True)

    home = tmp_path / "killed"
    counts = []
    for delay in (2.2, 0.9, 1.7):
        proc = subprocess.Popen(import_cmd(home, ing), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        counts.append(imported_count(home))
    assert counts[-1] < len(DATES), "the kills came too late to interrupt anything"
    done = subprocess.run(import_cmd(home, ing), env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr

    a, b = petacube.open(reference), petacube.open(home)
    ca, cb = a.describe("RESUME"), b.describe("RESUME")
    assert ca.shape == cb.shape == (len(DATES), 300, 300)
    assert ca.axis("ansi").coefficients == cb.axis("ansi").coefficients
    da, db = a.read("RESUME"), b.read("RESUME")
    for band in ("field_1", "field_2"):
        assert np.array_equal(da[band].values, db[band].values)
    # pyramid levels agree too
    lvl_a = a.store.read(ca, "field_1", (list(ca.axis("ansi").slots), slice(0, 150), slice(0, 150)), level=1)
    lvl_b = b.store.read(cb, "field_1", (list(cb.axis("ansi").slots), slice(0, 150), slice(0, 150)), level=1)
    assert np.array_equal(lvl_a, lvl_b)
