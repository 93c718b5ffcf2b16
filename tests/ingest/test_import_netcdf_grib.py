"""general_coverage imports of NetCDF (with a time variable) and GRIB, with ingredients
written the way rasdaman's documentation writes them. Expected values come from
netCDF4 / ecCodes reads of the files."""

from __future__ import annotations

import eccodes
import netCDF4
import numpy as np
from datagen import write_grib, write_netcdf

from petacube.ingest.importer import run_import


def nc_file(path, days, seed):
    rng = np.random.default_rng(seed)
    lat = np.arange(40.25, 45.0, 0.5)  # ascending (south first): 10 rows, cell centres
    lon = np.arange(10.25, 16.0, 0.5)  # 12 columns
    chl = rng.uniform(0, 10, size=(len(days), len(lat), len(lon))).astype("float32")
    chl[:, 0, 0] = -999.0
    return write_netcdf(
        path,
        {"chl": (("time", "lat", "lon"), chl, {"_FillValue": np.float32(-999.0), "units": "mg m-3"})},
        {
            "time": (np.asarray(days, "float64"), {"units": "days since 1970-01-01", "standard_name": "time"}),
            "lat": (lat, {"units": "degrees_north"}),
            "lon": (lon, {"units": "degrees_east"}),
        },
        {"title": "synthetic chlorophyll", "geospatial_lat_resolution": 0.5, "geospatial_lon_resolution": 0.5},
    )


NETCDF_INGREDIENTS = {
    "config": {"service_url": "http://localhost:8080/rasdaman/ows", "tmp_directory": "/tmp/", "crs_resolver": "http://localhost:8080/def/",
               "default_crs": "http://localhost:8080/def/OGC/0/Index2D", "mock": False, "automated": True, "track_files": True},
    "input": {"coverage_id": "CHL", "paths": ["nc/*.nc"]},
    "recipe": {
        "name": "general_coverage",
        "options": {
            "coverage": {
                "crs": "OGC/0/AnsiDate@EPSG/0/4326",
                "metadata": {"type": "json", "global": {"Title": "'${netcdf:metadata:title}'"}},
                "slicer": {
                    "type": "netcdf",
                    "pixelIsPoint": True,
                    "bands": [{"name": "chlorophyll", "identifier": "chl", "description": "chlorophyll-a", "nilReason": "no data"}],
                    "axes": {
                        "ansi": {
                            "min": "datetime(${netcdf:variable:time:min} * 24 * 3600)",
                            "max": "datetime(${netcdf:variable:time:max} * 24 * 3600)",
                            "directPositions": "[datetime(x * 24 * 3600) for x in ${netcdf:variable:time}]",
                            "irregular": True, "resolution": 1, "gridOrder": 0,
                        },
                        "Lat": {"min": "${netcdf:variable:lat:min}", "max": "${netcdf:variable:lat:max}",
                                "resolution": "-${netcdf:metadata:geospatial_lat_resolution}", "gridOrder": 1},
                        "Long": {"min": "${netcdf:variable:lon:min}", "max": "${netcdf:variable:lon:max}",
                                 "resolution": "${netcdf:metadata:geospatial_lon_resolution}", "gridOrder": 2},
                    },
                },
            },
            "tiling": "REGULAR [0:0, 0:4, 0:5]",
        },
    },
}


def test_netcdf_time_series(cube, write_ingredients, tmp_path):
    a = nc_file(tmp_path / "nc" / "chl_a.nc", [18628.0, 18629.0], seed=1)  # 2021-01-01, 02
    b = nc_file(tmp_path / "nc" / "chl_b.nc", [18627.0, 18631.0], seed=2)  # 2020-12-31, 2021-01-04
    run_import(write_ingredients(NETCDF_INGREDIENTS), cube, show_progress=False)
    cov = cube.describe("CHL")
    assert cov.dims == ("ansi", "Lat", "Long")
    assert cov.shape == (4, 10, 12)
    assert cov.axis("Lat").resolution == -0.5 and cov.axis("Lat").upper == 45.0 and cov.axis("Lat").lower == 40.0
    assert cov.metadata.get("Title") == "synthetic chlorophyll"
    assert cov.band("chlorophyll").nil_values[0].low == -999.0
    ds = cube.read("CHL")
    assert [str(t)[:10] for t in ds["ansi"].values] == ["2020-12-31", "2021-01-01", "2021-01-02", "2021-01-04"]
    with netCDF4.Dataset(a) as fa, netCDF4.Dataset(b) as fb:
        fa["chl"].set_auto_mask(False)
        fb["chl"].set_auto_mask(False)
        want = np.stack([fb["chl"][0], fa["chl"][0], fa["chl"][1], fb["chl"][1]])
    # the file runs south to north; the coverage is north-up: rows flipped
    assert np.array_equal(ds["chlorophyll"].values, want[:, ::-1, :])
    # a point near 44.9 N is in the first (northernmost) row
    pt = cube.read("CHL", {"Lat": 44.9, "Long": 10.3, "ansi": "2021-01-02"})
    assert pt["chlorophyll"].values.item() == want[2, -1, 0]


GRIB_INGREDIENTS = {
    "config": {"service_url": "http://localhost:8080/rasdaman/ows", "automated": True},
    "input": {"coverage_id": "T2M", "paths": ["t2m.grib"]},
    "recipe": {
        "name": "general_coverage",
        "options": {
            "coverage": {
                "crs": "EPSG/0/4326@OGC/0/AnsiDate",
                "metadata": {"type": "json", "global": {"Parameter": "'${grib:shortName}'"}, "local": {"date": "${grib:dataDate}"}},
                "slicer": {
                    "type": "grib",
                    "bands": [{"name": "temp2m", "definition": "2 m temperature", "nilReason": "none"}],
                    "axes": {
                        "Lat": {
                            "min": "${grib:latitudeOfLastGridPointInDegrees} + (${grib:jDirectionIncrementInDegrees} if bool(${grib:jScansPositively}) else -${grib:jDirectionIncrementInDegrees})",
                            "max": "${grib:latitudeOfFirstGridPointInDegrees}",
                            "resolution": "${grib:jDirectionIncrementInDegrees} if bool(${grib:jScansPositively}) else -${grib:jDirectionIncrementInDegrees}",
                            "gridOrder": 2,
                        },
                        "Long": {
                            "min": "${grib:longitudeOfFirstGridPointInDegrees}",
                            "max": "${grib:longitudeOfLastGridPointInDegrees} + (-${grib:iDirectionIncrementInDegrees} if bool(${grib:iScansNegatively}) else ${grib:iDirectionIncrementInDegrees})",
                            "resolution": "-${grib:iDirectionIncrementInDegrees} if bool(${grib:iScansNegatively}) else ${grib:iDirectionIncrementInDegrees}",
                            "gridOrder": 1,
                        },
                        "ansi": {"min": "grib_datetime(${grib:dataDate}, ${grib:dataTime})", "resolution": "1.0 / 4.0", "type": "ansidate", "gridOrder": 0, "irregular": True},
                    },
                },
            },
            "tiling": "ALIGNED [0:0, 0:9, 0:9]",
        },
    },
}


def test_grib_messages_become_time_slices(cube, write_ingredients, tmp_path):
    rng = np.random.default_rng(3)
    fields = [
        {"values": rng.uniform(250, 300, (6, 8)).round(2), "lat_first": 50.0, "lon_first": 5.0, "dlat": 1.0, "dlon": 1.0, "date": 20210102, "time": 1200},
        {"values": rng.uniform(250, 300, (6, 8)).round(2), "lat_first": 50.0, "lon_first": 5.0, "dlat": 1.0, "dlon": 1.0, "date": 20210101, "time": 0},
    ]
    path = write_grib(tmp_path / "t2m.grib", fields)
    run_import(write_ingredients(GRIB_INGREDIENTS), cube, show_progress=False)
    cov = cube.describe("T2M")
    assert cov.dims == ("ansi", "Lat", "Long") and cov.shape == (2, 6, 8)
    assert cov.metadata.get("Parameter") == "2t"
    want = []
    with open(path, "rb") as fh:
        while (h := eccodes.codes_grib_new_from_file(fh)) is not None:
            want.append(eccodes.codes_get_values(h).reshape(eccodes.codes_get(h, "Nj"), eccodes.codes_get(h, "Ni")))
            eccodes.codes_release(h)
    ds = cube.read("T2M")
    assert [str(t)[:16] for t in ds["ansi"].values] == ["2021-01-01T00:00", "2021-01-02T12:00"]
    # message 2 is the earlier date; rows run north to south in the file and in the coverage
    assert np.allclose(ds["temp2m"].values[0], want[1])
    assert np.allclose(ds["temp2m"].values[1], want[0])
