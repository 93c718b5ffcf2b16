"""`make demo`: build a sample datacube from generated Sentinel-2-like scenes and show it.

The scenes are synthetic (smooth fields + noise, 4 bands, 10 m, UTM 33N) so the demo
needs no download. They are imported with a rasdaman-style ingredients file, exactly as
a user would import their own files.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import from_origin

import petacube
from petacube.cli import describe_text
from petacube.ingest.importer import run_import

HOME = Path("petacube-data")
SOURCES = HOME / "demo-sources"
DATES = ["20210415", "20210501", "20210519", "20210603", "20210620", "20210712"]
BANDS = ["B02", "B03", "B04", "B08"]
SIZE = 1024


def make_scene(path: Path, day: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE] / SIZE
    vegetation = 0.5 + 0.5 * np.sin(6 * xx + 3 * yy) * np.cos(4 * yy)  # fields
    water = (xx - 0.7) ** 2 + (yy - 0.3) ** 2 < 0.02  # a lake
    season = 0.3 + 0.7 * np.sin(np.pi * (day - 60) / 200)  # greener towards summer (days 90..190)
    refl = {
        "B02": 600 + 200 * (1 - vegetation),
        "B03": 800 + 300 * vegetation * season,
        "B04": 900 + 600 * (1 - vegetation * season),
        "B08": 1500 + 2500 * vegetation * season,
    }
    data = []
    for b in BANDS:
        band = refl[b] + rng.normal(0, 40, (SIZE, SIZE))
        band[water] = {"B02": 500, "B03": 450, "B04": 300, "B08": 150}[b]
        data.append(np.clip(band, 1, 10000).astype("uint16"))
    profile = dict(driver="GTiff", width=SIZE, height=SIZE, count=4, dtype="uint16", crs="EPSG:32633",
                   transform=from_origin(500000, 5000000 + 0, 10, 10), nodata=0, tiled=True,
                   blockxsize=512, blockysize=512, compress="deflate")
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(np.stack(data))
        for i, b in enumerate(BANDS, 1):
            dst.set_band_description(i, b)


def main() -> int:
    SOURCES.mkdir(parents=True, exist_ok=True)
    for k, date in enumerate(DATES):
        path = SOURCES / f"S2_T33UUP_{date}_L2A.tif"
        if not path.exists():
            make_scene(path, 90 + 20 * k, seed=k)
    ingredients = {
        "config": {"service_url": "http://localhost:8080/rasdaman/ows", "automated": True, "track_files": True},
        "input": {"coverage_id": "S2_DEMO", "paths": ["demo-sources/S2_*_L2A.tif"]},
        "recipe": {
            "name": "time_series_irregular",
            "options": {
                "time_parameter": {"filename": {"regex": "S2_T33UUP_(\\d{8})_L2A", "group": "1"}, "datetime_format": "YYYYMMDD"},
                "time_crs": "http://localhost:8080/def/crs/OGC/0/AnsiDate",
                "tiling": "ALIGNED [0:0, 0:511, 0:511] TILE SIZE 1048576",
                "scale_levels": [2, 4],
                "wms_import": True,
            },
        },
    }
    ing_path = HOME / "demo-ingredients.json"
    ing_path.write_text(json.dumps(ingredients, indent=2))
    cube = petacube.open(HOME)
    report = run_import(ing_path, cube)
    print(f"imported {len(report.imported)} scene(s), {len(report.already_done)} already there, in {report.seconds:.1f} s\n")
    print(describe_text(cube.summary("S2_DEMO")))
    ds = cube.read("S2_DEMO", {"E": (502000, 504000), "N": (4996000, 4998000), "ansi": "2021-06-03"})
    red, nir = ds["B04"].astype("float32"), ds["B08"].astype("float32")
    ndvi = float(((nir - red) / (nir + red)).mean())
    print(f"\nmean NDVI of a 2 km × 2 km window on 2021-06-03: {ndvi:.3f}")
    print("\nServing it now at http://127.0.0.1:8080/ (Ctrl-C stops). Try, in another terminal:")
    print("  curl 'http://127.0.0.1:8080/rasdaman/ows?service=WCS&version=2.0.1&request=GetCapabilities'")
    print("  curl 'http://127.0.0.1:8080/rasdaman/ows?service=WCS&version=2.0.1&request=GetCoverage&coverageId=S2_DEMO"
          "&subset=ansi(\"2021-06-03\")&rangesubset=B04,B03,B02&format=image/tiff' -o rgb.tif")
    print("  .venv/bin/petacube --home petacube-data query 'for $c in (S2_DEMO) return avg($c.B08)'")
    return 0


if __name__ == "__main__":
    sys.exit(main())
