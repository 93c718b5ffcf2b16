"""Ingredients files: rasdaman-style examples parse; mistakes give one message naming each
JSON path and what is accepted there; input globs resolve against the file's directory."""

import json
from datetime import timedelta
from pathlib import Path

import pytest

from petacube.errors import IngredientsError
from petacube.ingest.ingredients import (
    GeneralCoverageRecipe,
    Ingredients,
    MapMosaicRecipe,
    TimeSeriesIrregularRecipe,
    TimeSeriesRegularRecipe,
    load_ingredients,
    parse_ingredients,
    parse_tiling,
    parse_time_step,
)

CONFIG = {
    "service_url": "http://localhost:8080/rasdaman/ows",
    "tmp_directory": "/tmp/",
    "crs_resolver": "http://localhost:8080/def/",
    "default_crs": "http://localhost:8080/def/crs/EPSG/0/4326",
    "mock": False,
    "automated": True,
    "track_files": False,
}

# Written in the style of rasdaman's documentation (wcst_import recipes).
MAP_MOSAIC = {
    "config": {**CONFIG, "subset_correction": False, "__comment__": "mosaic of orthophotos"},
    "input": {"coverage_id": "mosaic", "paths": ["*.tif"]},
    "recipe": {
        "name": "map_mosaic",
        "options": {
            "wms_import": True,
            "tiling": "ALIGNED [0:1023, 0:1023] TILE SIZE 4194304",
            "scale_levels": [2, 4],
            "import_order": "ascending",
        },
    },
}

TIME_SERIES_IRREGULAR = {
    "config": CONFIG,
    "input": {"coverage_id": "S2_NDVI", "paths": ["ndvi/*.tif"]},
    "recipe": {
        "name": "time_series_irregular",
        "options": {
            "time_parameter": {
                "filename": {"__comment__": "S2_NDVI_20210315.tif", "regex": "(.*)_(.*)_(.+?)\\.(.*)", "group": "3"},
                "datetime_format": "YYYYMMDD",
            },
            "time_crs": "http://localhost:8080/def/crs/OGC/0/AnsiDate",
            "tiling": "ALIGNED [0:0, 0:1023, 0:1023] TILE SIZE 4194304",
            "wms_import": "true",
            "import_order": "descending",
        },
    },
    "hooks": [
        {
            "description": "reproject to EPSG:4326",
            "when": "before_ingestion",
            "cmd": "gdalwarp -t_srs EPSG:4326 \"${file:path}\" /tmp/${file:name}",
            "abort_on_error": True,
            "replace_path": ["/tmp/${file:name}"],
        }
    ],
}

TIME_SERIES_REGULAR = {
    "config": CONFIG,
    "input": {"coverage_id": "daily", "paths": ["*.tif"]},
    "recipe": {
        "name": "time_series_regular",
        "options": {
            "time_start": "2012-12-02T20:12:02",
            "time_format": "auto",
            "time_crs": "http://localhost:8080/def/crs/OGC/0/AnsiDate",
            "time_step": "2 days 10 minutes 3 seconds",
            "tiling": "ALIGNED [0:1000, 0:1000, 0:2]",
        },
    },
}

GDAL_3D = {
    "config": CONFIG,
    "input": {"coverage_id": "AverageTemperature", "paths": ["*.tif"]},
    "recipe": {
        "name": "general_coverage",
        "options": {
            "coverage": {
                "crs": "EPSG/0/4326@OGC/0/AnsiDate",
                "metadata": {"type": "json", "global": {"resolution": "'${gdal:metadata:TIFFTAG_XRESOLUTION}'"}},
                "slicer": {
                    "type": "gdal",
                    "bands": [
                        {
                            "name": "Temperature",
                            "definition": "The temperature at 2 meters.",
                            "description": "Measured by sensors.",
                            "nilReason": "The nil value represents an error in the sensor.",
                            "identifier": "1",
                            "nilValue": 9999,
                            "uomCode": "degrees C",
                        }
                    ],
                    "axes": {
                        "Lat": {"min": "${gdal:minY}", "max": "${gdal:maxY}", "resolution": "${gdal:resolutionY}"},
                        "Long": {"min": "${gdal:minX}", "max": "${gdal:maxX}", "resolution": "${gdal:resolutionX}"},
                        "ansi": {
                            "min": "datetime(regex_extract('${file:name}', '(.*)_(.*)_(.*)_(\\d\\d\\d\\d-\\d\\d)(.*)', 4), 'YYYY-MM')",
                            "resolution": "1",
                            "type": "ansidate",
                            "irregular": True,
                            "dataBound": False,
                            "gridOrder": 0,
                        },
                    },
                },
            },
            "tiling": "ALIGNED [0:0, 0:1023, 0:1023] TILE SIZE 4194304",
        },
    },
}

NETCDF = {
    "config": {**CONFIG, "default_null_values": ["-9999", -1, "nan"]},
    "input": {"coverage_id": "ChlorA", "paths": ["ESACCI-OC-*.nc"]},
    "recipe": {
        "name": "general_coverage",
        "options": {
            "coverage": {
                "crs": "EPSG/0/4326@OGC/0/AnsiDate",
                "metadata": {
                    "type": "xml",
                    "global": {"Title": "'${netcdf:metadata:title}'", "Project": "'${netcdf:metadata:project}'"},
                    "local": {"LocalAttribute": "'${netcdf:metadata:id}'"},
                    "bands": {"Chlor": "auto"},
                    "axes": "auto",
                },
                "slicer": {
                    "type": "netcdf",
                    "pixelIsPoint": True,
                    "bands": [
                        {"name": "Chlor", "identifier": "chlor_a", "description": "Chlorophyll-a", "nilValue": "-9999,nan"},
                        {"name": "NobsSum", "variable": "MODISA_nobs_sum", "identifier": "MERIS_nobs_sum", "nilValues": [0, "-1"]},
                    ],
                    "axes": {
                        "ansi": {
                            "min": "datetime(${netcdf:variable:time:min} * 24 * 3600)",
                            "max": "datetime(${netcdf:variable:time:max} * 24 * 3600)",
                            "directPositions": "[datetime(x * 24 * 3600) for x in ${netcdf:variable:time}]",
                            "resolution": 1,
                            "gridOrder": 0,
                            "type": "ansidate",
                            "irregular": True,
                        },
                        "Long": {
                            "min": "${netcdf:metadata:geospatial_lon_min}",
                            "max": "${netcdf:metadata:geospatial_lon_max}",
                            "gridOrder": 2,
                            "resolution": "${netcdf:metadata:geospatial_lon_resolution}",
                        },
                        "Lat": {
                            "min": "${netcdf:metadata:geospatial_lat_min}",
                            "max": "${netcdf:metadata:geospatial_lat_max}",
                            "gridOrder": 1,
                            "resolution": "-${netcdf:metadata:geospatial_lat_resolution}",
                        },
                    },
                },
            },
            "tiling": "REGULAR [0:0, 0:1023, 0:1023]",
        },
    },
}

GRIB = {
    "config": {**CONFIG, "insitu": "false"},
    "input": {"coverage_id": "temperature", "paths": ["mars2.grib"]},
    "recipe": {
        "name": "general_coverage",
        "options": {
            "__comment__": "You need to provide the coverage description and the method of building it.",
            "coverage": {
                "crs": "EPSG/0/4326@OGC/0/AnsiDate@OGC/0/Index1D?axis-label=\"ensemble\"",
                "metadata": {"type": "json", "global": {"MarsType": "'${grib:marsType}'"}, "local": {"level": "${grib:level}"}},
                "slicer": {
                    "type": "grib",
                    "pixelIsPoint": "true",
                    "bands": [
                        {
                            "name": "temp2m",
                            "identifier": "2t",
                            "definition": "The temperature at 2 meters.",
                            "nilReason": "The nil value represents an error in the sensor.",
                            "filterMessagesMatching": {"shortName": "2t"},
                        }
                    ],
                    "axes": {
                        "Lat": {
                            "min": "${grib:latitudeOfLastGridPointInDegrees} + (${grib:jDirectionIncrementInDegrees} if bool(${grib:jScansPositively}) else -${grib:jDirectionIncrementInDegrees})",
                            "max": "${grib:latitudeOfFirstGridPointInDegrees}",
                            "resolution": "${grib:jDirectionIncrementInDegrees} if bool(${grib:jScansPositively}) else -${grib:jDirectionIncrementInDegrees}",
                            "gridOrder": 3,
                        },
                        "Long": {
                            "min": "${grib:longitudeOfFirstGridPointInDegrees}",
                            "max": "${grib:longitudeOfLastGridPointInDegrees}",
                            "resolution": "${grib:iDirectionIncrementInDegrees}",
                            "gridOrder": 2,
                        },
                        "ansi": {
                            "min": "grib_datetime(${grib:dataDate}, ${grib:dataTime})",
                            "resolution": "1.0 / 4.0",
                            "type": "ansidate",
                            "gridOrder": 1,
                        },
                        "ensemble": {"min": "${grib:localDefinitionNumber}", "resolution": 1, "gridOrder": 0},
                    },
                },
            },
            "tiling": "REGULAR [0:0, 0:20, 0:1023, 0:1023]",
        },
    },
}


def write(tmp_path: Path, doc, name="ingredients.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc, indent=2))
    return path


def problems(doc, tmp_path) -> str:
    with pytest.raises(IngredientsError) as exc:
        load_ingredients(write(tmp_path, doc))
    return str(exc.value)


# ---- examples ---------------------------------------------------------------------------


def test_map_mosaic(tmp_path):
    ing = load_ingredients(write(tmp_path, MAP_MOSAIC))
    assert isinstance(ing.recipe, MapMosaicRecipe)
    opts = ing.recipe.options
    assert opts.wms_import is True and opts.scale_levels == [2, 4] and opts.import_order == "ascending"
    assert opts.tiling == "ALIGNED [0:1023, 0:1023] TILE SIZE 4194304"
    assert ing.input.coverage_id == "mosaic" and ing.slicer_type == "gdal"
    assert ing.config.service_url == "http://localhost:8080/rasdaman/ows"
    assert ing.base_dir == tmp_path and ing.source == tmp_path / "ingredients.json"


def test_map_mosaic_without_options(tmp_path):
    doc = {"config": CONFIG, "input": {"coverage_id": "m", "paths": ["*.tif"]}, "recipe": {"name": "map_mosaic"}}
    ing = load_ingredients(write(tmp_path, doc))
    assert ing.recipe.options.tiling is None and ing.recipe.options.wms_import is False


def test_time_series_irregular_with_filename_regex_and_hook(tmp_path):
    ing = load_ingredients(write(tmp_path, TIME_SERIES_IRREGULAR))
    assert isinstance(ing.recipe, TimeSeriesIrregularRecipe)
    tp = ing.recipe.options.time_parameter
    assert tp.filename.regex == "(.*)_(.*)_(.+?)\\.(.*)" and tp.filename.group == "3"
    assert tp.datetime_format == "YYYYMMDD" and tp.metadata_tag is None
    assert ing.recipe.options.wms_import is True  # "true" as rasdaman writes it
    assert ing.recipe.options.import_order == "descending"
    (hook,) = ing.hooks
    assert hook.when == "before_ingestion" and hook.abort_on_error is True
    assert hook.replace_path == ["/tmp/${file:name}"]
    assert hook.cmd.startswith("gdalwarp")


def test_time_series_irregular_metadata_tag_default(tmp_path):
    doc = json.loads(json.dumps(TIME_SERIES_IRREGULAR))
    doc["recipe"]["options"]["time_parameter"] = {"metadata_tag": {}, "datetime_format": "YYYY:MM:DD HH:mm:ss"}
    ing = load_ingredients(write(tmp_path, doc))
    assert ing.recipe.options.time_parameter.metadata_tag.tag_name == "TIFFTAG_DATETIME"


def test_time_series_regular(tmp_path):
    ing = load_ingredients(write(tmp_path, TIME_SERIES_REGULAR))
    assert isinstance(ing.recipe, TimeSeriesRegularRecipe)
    o = ing.recipe.options
    assert (o.time_start, o.time_format, o.time_step) == ("2012-12-02T20:12:02", "auto", "2 days 10 minutes 3 seconds")
    assert parse_time_step(o.time_step) == timedelta(days=2, minutes=10, seconds=3)


def test_general_coverage_gdal_3d(tmp_path):
    ing = load_ingredients(write(tmp_path, GDAL_3D))
    assert isinstance(ing.recipe, GeneralCoverageRecipe)
    cov = ing.recipe.options.coverage
    assert cov.crs == "EPSG/0/4326@OGC/0/AnsiDate" and ing.slicer_type == "gdal"
    assert cov.metadata.type == "json" and cov.metadata.global_ == {"resolution": "'${gdal:metadata:TIFFTAG_XRESOLUTION}'"}
    (band,) = cov.slicer.bands
    assert (band.name, band.identifier, band.nilValue, band.uomCode) == ("Temperature", "1", 9999, "degrees C")
    ansi = cov.slicer.axes["ansi"]
    assert ansi.type == "date"  # "ansidate" is the old spelling
    assert ansi.irregular is True and ansi.dataBound is False and ansi.gridOrder == 0 and ansi.resolution == "1"
    lat = cov.slicer.axes["Lat"]
    assert (lat.min, lat.max, lat.resolution, lat.gridOrder, lat.irregular, lat.dataBound) == (
        "${gdal:minY}", "${gdal:maxY}", "${gdal:resolutionY}", None, False, True
    )
    assert list(cov.slicer.axes) == ["Lat", "Long", "ansi"]


def test_general_coverage_netcdf(tmp_path):
    ing = load_ingredients(write(tmp_path, NETCDF))
    cov = ing.recipe.options.coverage
    assert ing.slicer_type == "netcdf" and cov.slicer.pixelIsPoint is True
    assert [b.name for b in cov.slicer.bands] == ["Chlor", "NobsSum"]
    assert cov.slicer.bands[1].variable == "MODISA_nobs_sum" and cov.slicer.bands[1].nilValues == [0, "-1"]
    assert cov.metadata.bands == {"Chlor": "auto"} and cov.metadata.axes == "auto"
    assert cov.slicer.axes["ansi"].min == "datetime(${netcdf:variable:time:min} * 24 * 3600)"
    assert cov.slicer.axes["Lat"].resolution == "-${netcdf:metadata:geospatial_lat_resolution}"
    assert ing.config.default_null_values == ["-9999", -1, "nan"]


def test_general_coverage_grib(tmp_path):
    ing = load_ingredients(write(tmp_path, GRIB))
    cov = ing.recipe.options.coverage
    assert ing.slicer_type == "grib" and cov.slicer.pixelIsPoint is True and ing.config.insitu is False
    assert cov.slicer.bands[0].filterMessagesMatching == {"shortName": "2t"}
    assert cov.slicer.axes["ansi"].min == "grib_datetime(${grib:dataDate}, ${grib:dataTime})"
    assert cov.metadata.local == {"level": "${grib:level}"}
    assert cov.slicer.axes["ensemble"].resolution == 1


def test_config_defaults_are_rasdamans(tmp_path):
    doc = {"config": {"service_url": "http://localhost:8080/rasdaman/ows"}, "input": {"coverage_id": "c"}, "recipe": {"name": "map_mosaic"}}
    c = load_ingredients(write(tmp_path, doc)).config
    assert (c.mock, c.automated, c.blocking, c.skip, c.retry, c.retries, c.retry_sleep) == (False, False, True, False, False, 5, 1.0)
    assert (c.track_files, c.insitu, c.subset_correction, c.description_max_no_slices) == (True, False, False, 5)
    assert c.default_null_values == [] and c.default_crs is None and c.tmp_directory == "/tmp/rasdaman_wcst_import/"
    # a file without config at all is fine too (importing locally)
    ing = parse_ingredients({"input": {"coverage_id": "c"}, "recipe": {"name": "map_mosaic"}}, tmp_path)
    assert ing.config.service_url is None


def test_comments_ignored_everywhere(tmp_path):
    doc = json.loads(json.dumps(GDAL_3D))
    doc["__comment__"] = "top"
    doc["__comment_2"] = ["a", "list"]
    doc["recipe"]["options"]["coverage"]["slicer"]["axes"]["__comment__"] = "not an axis"
    doc["recipe"]["options"]["coverage"]["slicer"]["bands"][0]["__comment__"] = "band"
    ing = load_ingredients(write(tmp_path, doc))
    assert list(ing.recipe.options.coverage.slicer.axes) == ["Lat", "Long", "ansi"]


def test_legacy_gdal_bands_sentence(tmp_path):
    doc = json.loads(json.dumps(GDAL_3D))
    doc["recipe"]["options"]["coverage"]["slicer"]["bands"] = "${gdal:bands}"
    ing = load_ingredients(write(tmp_path, doc))
    assert ing.recipe.options.coverage.slicer.bands is None  # bands from the file


# ---- errors -----------------------------------------------------------------------------


def test_unknown_nested_key_names_path_and_suggestion(tmp_path):
    doc = json.loads(json.dumps(GDAL_3D))
    lat = doc["recipe"]["options"]["coverage"]["slicer"]["axes"]["Lat"]
    lat["resolutoin"] = lat.pop("resolution")
    msg = problems(doc, tmp_path)
    assert "recipe.options.coverage.slicer.axes.Lat.resolutoin" in msg
    assert "did you mean 'resolution'?" in msg
    assert "allowed keys: min, max, resolution, gridOrder" in msg
    assert str(tmp_path / "ingredients.json") in msg


def test_unknown_key_in_list_item_and_config(tmp_path):
    doc = json.loads(json.dumps(NETCDF))
    doc["recipe"]["options"]["coverage"]["slicer"]["bands"][1]["nilvalue"] = "0"
    doc["config"]["servce_url"] = "x"
    msg = problems(doc, tmp_path)
    assert "recipe.options.coverage.slicer.bands[1].nilvalue: unknown key; did you mean 'nilValue'?" in msg
    assert "config.servce_url: unknown key; did you mean 'service_url'?" in msg


def test_bad_enum_values(tmp_path):
    doc = json.loads(json.dumps(GDAL_3D))
    doc["recipe"]["options"]["import_order"] = "newest_first"
    doc["recipe"]["options"]["coverage"]["slicer"]["type"] = "hdf5"
    doc["recipe"]["options"]["coverage"]["metadata"]["type"] = "yaml"
    msg = problems(doc, tmp_path)
    assert "recipe.options.import_order: Input should be 'ascending' or 'descending' (got \"newest_first\")" in msg
    assert "recipe.options.coverage.slicer.type: Input should be 'gdal', 'netcdf' or 'grib' (got \"hdf5\")" in msg
    assert "recipe.options.coverage.metadata.type: Input should be 'xml' or 'json' (got \"yaml\")" in msg


def test_several_problems_one_per_line(tmp_path):
    doc = json.loads(json.dumps(GDAL_3D))
    axes = doc["recipe"]["options"]["coverage"]["slicer"]["axes"]
    axes["Lat"]["gridOrder"] = "first"
    axes["Long"]["irregular"] = "maybe"
    del axes["ansi"]["min"]
    doc["hooks"] = [{"when": "before", "cmd": "true"}]
    msg = problems(doc, tmp_path)
    lines = msg.splitlines()
    assert lines[0].endswith("has 4 problems:")
    assert len(lines) == 5
    assert any(line.startswith("  - recipe.options.coverage.slicer.axes.Lat.gridOrder: Input should be a valid integer") for line in lines)
    assert any("axes.Long.irregular: expected true or false, got \"maybe\"" in line for line in lines)
    assert any("axes.ansi.min: required key is missing" in line for line in lines)
    assert any("hooks[0].when: Input should be 'before_ingestion' or 'after_ingestion'" in line for line in lines)


@pytest.mark.parametrize(
    "change, words",
    [
        (lambda d: d["input"].update(paths="*.tif"), ["input.paths: Input should be a valid list"]),
        (lambda d: d["input"].pop("coverage_id"), ["input.coverage_id: required key is missing"]),
        (lambda d: d["input"].update(coverage_id="my coverage"), ["input.coverage_id", "not a valid coverage id"]),
        (lambda d: d["config"].update(retries=-1), ["config.retries", "greater than or equal to 0"]),
        (lambda d: d["config"].update(default_null_values=["none"]), ["config.default_null_values[0]", "not a null value"]),
        (lambda d: d["recipe"]["options"].update(tiling="BIG TILES"), ["recipe.options.tiling", "ALIGNED"]),
        (lambda d: d["recipe"]["options"].update(tiling="ALIGNED [0:a, 0:10]"), ["recipe.options.tiling", "lo:hi"]),
        (lambda d: d["recipe"]["options"].update(scale_levels=[2], scale_factors=[{"coverage_id": "c2", "factors": [1, 2, 2]}]),
         ["recipe.options: give scale_levels or scale_factors, not both"]),
        (lambda d: d["recipe"]["options"].update(time_step="fortnightly"), ["recipe.options.time_step", "2 days 10 minutes 3 seconds"]),
        (lambda d: d["recipe"]["options"].pop("time_crs"), ["recipe.options.time_crs: required key is missing"]),
        (lambda d: d["recipe"]["options"].update(wcs_endpoint="x"), ["recipe.options.wcs_endpoint: unknown key"]),
    ],
)
def test_bad_values(tmp_path, change, words):
    doc = json.loads(json.dumps(TIME_SERIES_REGULAR))
    change(doc)
    msg = problems(doc, tmp_path)
    for w in words:
        assert w in msg, msg


@pytest.mark.parametrize(
    "slicer_change, words",
    [
        ({"type": "netcdf", "bands": None}, ["recipe.options.coverage.slicer", "netcdf slicer needs a \"bands\" list"]),
        ({"bands": {"name": "x"}}, ["recipe.options.coverage.slicer.bands: Input should be a valid list (got an object)"]),
        ({"bands": [{"identifier": "1"}]}, ["slicer.bands[0].name: required key is missing"]),
        ({"bands": [{"name": "a", "nilValue": "n/a"}]}, ["slicer.bands[0].nilValue", "not a null value"]),
        ({"bands": [{"name": "a", "filterMessagesMatching": {"shortName": "2t"}}]}, ["filterMessagesMatching is for the grib slicer only"]),
        ({"axes": {"Lat": {"min": [1, 2]}}}, ["slicer.axes.Lat.min: expected a number or a text"]),
        ({"axes": {"Lat": {"min": 0, "gridOrder": 1}, "Long": {"min": 0, "gridOrder": 1}}}, ["gridOrder values repeat"]),
        ({"axes": {"t": {"min": 0, "irregular": True, "resolution": 2}}}, ["slicer.axes.t", "irregular axis has no resolution other than 1"]),
        ({"axes": {"t": {"min": 0, "sliceGroupSize": 7}}}, ["slicer.axes.t", "sliceGroupSize needs an irregular axis"]),
        ({"axes": {}}, ["recipe.options.coverage.slicer", "at least one axis"]),
    ],
)
def test_bad_general_coverage(tmp_path, slicer_change, words):
    doc = json.loads(json.dumps(GDAL_3D))
    slicer = doc["recipe"]["options"]["coverage"]["slicer"]
    for k, v in slicer_change.items():
        if v is None:
            slicer.pop(k, None)
        else:
            slicer[k] = v
    msg = problems(doc, tmp_path)
    for w in words:
        assert w in msg, msg


def test_unsupported_and_misspelled_recipes(tmp_path):
    doc = json.loads(json.dumps(MAP_MOSAIC))
    doc["recipe"]["name"] = "sentinel2"
    msg = problems(doc, tmp_path)
    assert "recipe.name" in msg and "'sentinel2' recipe is not supported" in msg and "general_coverage" in msg
    doc["recipe"]["name"] = "map_mosiac"
    assert "did you mean 'map_mosaic'?" in problems(doc, tmp_path)


def test_invalid_json_gives_line_and_column(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{\n  "config": {\n    "mock": true,\n  }\n}\n')
    with pytest.raises(IngredientsError) as exc:
        load_ingredients(path)
    msg = str(exc.value)
    assert str(path) in msg and "not valid JSON" in msg and "line 4, column 3" in msg


def test_missing_ingredients_file(tmp_path):
    with pytest.raises(IngredientsError, match="does not exist"):
        load_ingredients(tmp_path / "nope.json")


def test_top_level_not_an_object(tmp_path):
    path = tmp_path / "list.json"
    path.write_text("[1, 2]")
    with pytest.raises(IngredientsError, match="expected a JSON object"):
        load_ingredients(path)


# ---- paths -------------------------------------------------------------------------------


def _touch(*paths: Path) -> None:
    for p in paths:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"x")


def test_paths_relative_to_the_ingredients_file(tmp_path, monkeypatch):
    root = tmp_path / "job"
    _touch(root / "data" / "b.tif", root / "data" / "a.tif", root / "data" / "c.txt", root / "data" / "sub" / "d.tif", root / "single.tif")
    doc = json.loads(json.dumps(MAP_MOSAIC))
    doc["input"]["paths"] = ["data/*.tif", "data/a.tif", "single.tif", "data/**/*.tif"]
    path = write(root, doc)
    monkeypatch.chdir(tmp_path)  # the working directory must not matter
    files, warnings = load_ingredients(path).resolve_paths()
    assert files == [root / "data" / "a.tif", root / "data" / "b.tif", root / "data" / "sub" / "d.tif", root / "single.tif"]
    assert warnings == []


def test_paths_home_and_absolute_and_directory(tmp_path, monkeypatch):
    home = tmp_path / "home"
    _touch(home / "imgs" / "x.tif", tmp_path / "abs" / "y.tif", tmp_path / "dir" / "z1.tif", tmp_path / "dir" / "z2.tif")
    monkeypatch.setenv("HOME", str(home))
    doc = json.loads(json.dumps(MAP_MOSAIC))
    doc["input"]["paths"] = ["~/imgs/*.tif", str(tmp_path / "abs" / "y.tif"), str(tmp_path / "dir")]
    files, _ = load_ingredients(write(tmp_path, doc)).resolve_paths()
    assert files == sorted([home / "imgs" / "x.tif", tmp_path / "abs" / "y.tif", tmp_path / "dir" / "z1.tif", tmp_path / "dir" / "z2.tif"])


def test_unmatched_pattern_is_an_error_unless_skip(tmp_path):
    _touch(tmp_path / "a.tif")
    doc = json.loads(json.dumps(MAP_MOSAIC))
    doc["input"]["paths"] = ["*.tif", "missing/*.tif"]
    with pytest.raises(IngredientsError, match=r"input\.paths: 'missing/\*\.tif' matches no file"):
        load_ingredients(write(tmp_path, doc)).resolve_paths()
    doc["config"]["skip"] = True
    files, warnings = load_ingredients(write(tmp_path, doc)).resolve_paths()
    assert files == [tmp_path / "a.tif"]
    assert len(warnings) == 1 and "missing/*.tif" in warnings[0]


def test_gdal_virtual_paths_pass_through(tmp_path):
    doc = json.loads(json.dumps(MAP_MOSAIC))
    doc["input"]["paths"] = ["/vsizip/data/S2.zip/B04.jp2"]
    files, _ = load_ingredients(write(tmp_path, doc)).resolve_paths()
    assert [str(f) for f in files] == ["/vsizip/data/S2.zip/B04.jp2"]


# ---- helpers -----------------------------------------------------------------------------


def test_parse_tiling():
    t = parse_tiling("ALIGNED [0:0, 0:1023, 0:1023] TILE SIZE 4194304")
    assert (t.scheme, t.extents, t.tile_size) == ("aligned", ((0, 0), (0, 1023), (0, 1023)), 4194304)
    t = parse_tiling("regular [0:*, 0:499]")
    assert (t.scheme, t.extents, t.tile_size) == ("regular", ((0, None), (0, 499)), None)
    assert parse_tiling("AREA OF INTEREST [0:10, 0:10] TILE SIZE 100").scheme == "area of interest"
    with pytest.raises(IngredientsError):
        parse_tiling("ALIGNED TILE SIZE 5")


def test_parse_time_step():
    assert parse_time_step("1 days") == timedelta(days=1)
    assert parse_time_step("1 day 6 hours") == timedelta(days=1, hours=6)
    assert parse_time_step("90 minutes") == timedelta(minutes=90)
    assert parse_time_step("0.5 seconds") == timedelta(seconds=0.5)
    for bad in ("", "1 week", "days", "0 days", "2 days and 3 hours"):
        with pytest.raises(IngredientsError):
            parse_time_step(bad)


def test_model_is_ingredients():
    ing = parse_ingredients(json.loads(json.dumps(GRIB)), Path("/data/job"))
    assert isinstance(ing, Ingredients) and ing.base_dir == Path("/data/job") and ing.source is None


def test_glob_characters_in_the_ingredients_directory_are_literal(tmp_path):
    root = tmp_path / "run[1]"
    _touch(root / "a.tif")
    doc = json.loads(json.dumps(MAP_MOSAIC))
    files, _ = load_ingredients(write(root, doc)).resolve_paths()
    assert files == [root / "a.tif"]
