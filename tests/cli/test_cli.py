"""The `petacube` command end to end, as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import rasterio
from datagen import write_geotiff
from rasterio.transform import from_origin


def petacube(home: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "petacube.cli", "--home", str(home), *args], capture_output=True, text=True)


def test_import_list_describe_export_delete(tmp_path):
    src = tmp_path / "in"
    data = {}
    for date in ("20200105", "20200101"):
        data[date] = np.random.default_rng(int(date)).integers(1, 1000, size=(2, 40, 50)).astype("int16")
        write_geotiff(src / f"img_{date}.tif", data[date], crs="EPSG:32633", transform=from_origin(300000, 4500000, 20, 20), nodata=-1,
                      band_descriptions=["red", "nir"])
    ing = tmp_path / "ing.json"
    ing.write_text(json.dumps({
        "config": {"service_url": "http://localhost:8080/rasdaman/ows", "automated": True},
        "input": {"coverage_id": "CLI_TS", "paths": ["in/img_*.tif"]},
        "recipe": {"name": "time_series_irregular", "options": {
            "time_parameter": {"filename": {"regex": "img_(\\d+)", "group": "1"}, "datetime_format": "YYYYMMDD"},
            "time_crs": "OGC/0/AnsiDate"}},
    }))
    home = tmp_path / "home"

    mock = petacube(home, "import", str(ing), "--mock")
    assert mock.returncode == 0, mock.stderr
    assert "create coverage CLI_TS" in mock.stdout
    assert "CLI_TS" not in petacube(home, "list").stdout

    done = petacube(home, "import", str(ing))
    assert done.returncode == 0, done.stderr
    assert "2 file(s) imported" in done.stdout
    again = petacube(home, "import", str(ing))
    assert "0 file(s) imported, 2 already there" in again.stdout

    listing = petacube(home, "list").stdout
    assert "CLI_TS" in listing and "2×40×50" in listing

    desc = petacube(home, "describe", "CLI_TS")
    assert desc.returncode == 0, desc.stderr
    for word in ("ansi", "irregular", "2020-01-01", "2020-01-05", "red", "nir", "int16", "-1", "on disk", "2 file(s)"):
        assert word in desc.stdout, word

    out = tmp_path / "slice.tif"
    exp = petacube(home, "export", "CLI_TS", "-s", 'ansi("2020-01-05")', "-s", "E(300100:300500)", "-o", str(out))
    assert exp.returncode == 0, exp.stderr
    with rasterio.open(out) as f:
        assert f.crs.to_epsg() == 32633
        assert f.transform.c == 300100 and f.transform.f == 4500000
        assert np.array_equal(f.read(2), data["20200105"][1][:, 5:25])
        assert f.descriptions == ("red", "nir")

    nc = tmp_path / "all.nc"
    assert petacube(home, "export", "CLI_TS", "-o", str(nc)).returncode == 0
    import xarray as xr

    with xr.open_dataset(nc) as ds:
        assert ds["red"].shape == (2, 40, 50)
        assert np.array_equal(ds["nir"].values[0], data["20200101"][1])

    assert petacube(home, "delete", "CLI_TS").returncode == 0
    assert "CLI_TS" not in petacube(home, "list").stdout


def test_user_errors_are_one_line_with_code(tmp_path):
    home = tmp_path / "home"
    r = petacube(home, "describe", "NOPE")
    assert r.returncode == 2
    assert r.stderr.startswith("error [NoSuchCoverage]") and "Traceback" not in r.stderr
    bad = tmp_path / "bad.json"
    bad.write_text('{"config": {"mock": tru}}')
    r = petacube(home, "import", str(bad))
    assert r.returncode == 2 and "line 1" in r.stderr and "Traceback" not in r.stderr
    r = petacube(home, "export", "NOPE", "-s", "E(1:2:3)", "-o", str(tmp_path / "x.tif"))
    assert r.returncode == 2 and "Traceback" not in r.stderr
