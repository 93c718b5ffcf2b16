"""Bad input: every case gets a message naming the file, nothing half-written stays,
and `skip: true` skips and lists."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from datagen import corrupt_file, ingredients, truncate_file, write_geotiff
from rasterio.transform import from_origin

from petacube.errors import IngredientsError, PetacubeError, SourceFileError
from petacube.ingest.importer import run_import

OPTS = {
    "time_parameter": {"filename": {"regex": "scene_(\\d{8})", "group": "1"}, "datetime_format": "YYYYMMDD"},
    "time_crs": "OGC/0/AnsiDate",
}


def scene(d, date, bands=2, crs="EPSG:32633", res=10.0, x0=500000.0, value=None):
    data = np.full((bands, 20, 30), value if value is not None else int(date[-2:]), "uint16")
    return write_geotiff(d / f"scene_{date}.tif", data, crs=crs, transform=from_origin(x0, 5000000, res, res), nodata=0)


@pytest.fixture
def good(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    return [scene(d, "20210101"), scene(d, "20210102")]


def run(cube, write_ingredients, **config):
    ing = write_ingredients(ingredients("BAD", ["in/*"], "time_series_irregular", OPTS, **config))
    return run_import(ing, cube, show_progress=False)


@pytest.mark.parametrize(
    "make_bad, words",
    [
        (lambda d: corrupt_file(scene(d, "20210103")), ["scene_20210103.tif"]),
        (lambda d: truncate_file(scene(d, "20210103"), 600), ["scene_20210103.tif"]),
        (lambda d: scene(d, "20210103", crs="EPSG:32632"), ["scene_20210103.tif", "CRS"]),
        (lambda d: scene(d, "20210103", bands=3), ["scene_20210103.tif", "3 band"]),
        (lambda d: scene(d, "20210103", res=20.0), ["scene_20210103.tif", "resolution"]),
        (lambda d: scene(d, "20210103", x0=500005.0), ["scene_20210103.tif", "off the coverage grid"]),
        (lambda d: (d / "scene_2021XX03.tif").write_bytes((d / "scene_20210101.tif").read_bytes()), ["scene_2021XX03.tif"]),
    ],
    ids=["corrupt", "truncated", "other-crs", "band-count", "resolution", "misaligned", "bad-time"],
)
def test_bad_file_stops_with_its_name_and_skip_skips_it(cube, write_ingredients, good, tmp_path, make_bad, words):
    make_bad(tmp_path / "in")
    with pytest.raises(PetacubeError) as err:
        run(cube, write_ingredients)
    for w in words:
        assert w in err.value.message
    # files are checked (metadata) before any pixel is written; a file whose pixels turn
    # out unreadable later fails alone: in no case is any of the bad file visible
    if "BAD" in cube.coverage_ids():
        assert cube.describe("BAD").axis("ansi").size <= 2
    report = run(cube, write_ingredients, skip=True)
    assert len(report.imported) + len(report.already_done) == 2
    assert len(report.skipped) == 1 and words[0] in report.skipped[0][0]
    ds = cube.read("BAD")
    assert ds["field_1"].shape == (2, 20, 30)
    assert ds["field_1"].values[1, 0, 0] == 2


def test_overlapping_files(cube, write_ingredients, good, tmp_path):
    d = tmp_path / "in"
    # same date, same place, another file name matching the regex
    (d / "x_scene_20210101.tif").write_bytes((d / "scene_20210101.tif").read_bytes())
    with pytest.raises(SourceFileError, match="overlaps"):
        run(cube, write_ingredients)
    assert "BAD" not in cube.coverage_ids()


def test_missing_path(cube, write_ingredients, tmp_path):
    ing = write_ingredients(ingredients("BAD", ["nowhere/*.tif"], "time_series_irregular", OPTS))
    with pytest.raises(IngredientsError, match="nowhere"):
        run_import(ing, cube, show_progress=False)


def test_unknown_key_names_its_json_path(cube, write_ingredients, good):
    data = ingredients("BAD", ["in/*"], "time_series_irregular", dict(OPTS, tilling="ALIGNED [0:0, 0:9, 0:9]"))
    with pytest.raises(IngredientsError) as err:
        run_import(write_ingredients(data), cube, show_progress=False)
    assert "recipe.options" in err.value.message and "tilling" in err.value.message


def test_failed_write_leaves_previous_state(cube, write_ingredients, good, tmp_path, monkeypatch):
    run(cube, write_ingredients)
    before = cube.read("BAD")["field_1"].values.copy()
    scene(tmp_path / "in", "20210105", value=77)
    from petacube.storage import tile_store

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(tile_store.Transaction, "write_bands", boom, raising=True)
    with pytest.raises(PetacubeError, match="disk full"):
        run(cube, write_ingredients)
    monkeypatch.undo()
    cov = cube.describe("BAD")
    assert cov.shape == (2, 20, 30)
    assert np.array_equal(cube.read("BAD")["field_1"].values, before)
    report = run(cube, write_ingredients)  # resumes: only the new file
    assert [p.endswith("scene_20210105.tif") for p in report.imported] == [True]
    assert cube.read("BAD", {"ansi": "2021-01-05"})["field_2"].values.max() == 77


def test_hook_replace_path_and_abort(cube, write_ingredients, good, tmp_path):
    out = tmp_path / "hooked"
    out.mkdir()
    data = ingredients("HOOKED", ["in/*.tif"], "time_series_irregular", OPTS)
    data["hooks"] = [{
        "description": "copy before import",
        "when": "before_ingestion",
        "cmd": f"cp '${{file:path}}' '{out}/${{file:name}}'",
        "abort_on_error": True,
        "replace_path": [f"{out}/${{file:name}}"],
    }]
    report = run_import(write_ingredients(data), cube, show_progress=False)
    assert sorted(p.split("/")[-1] for p in report.imported) == ["scene_20210101.tif", "scene_20210102.tif"]
    assert all(str(out) in p for p in report.imported)
    data["input"]["coverage_id"] = "HOOKED2"
    data["hooks"][0]["cmd"] = "false"
    with pytest.raises(IngredientsError, match="abort_on_error"):
        run_import(write_ingredients(data, "h2.json"), cube, show_progress=False)
    with rasterio.open(good[0]) as src:
        assert src.count == 2
