"""`make demo`: build a sample datacube from generated Sentinel-2-like scenes and show it.

The scenes are synthetic (fields that green up over the season, bare soil, a lake with a
sandy beach, haze and noise; 7 bands B02 B03 B04 B05 B06 B08 B11; 10 m; UTM 33N) so the
demo needs no download. They are imported with a rasdaman-style ingredients file, exactly as
a user would import their own files.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
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
# Sentinel-2 bands the demo page's WCPS examples use: visible, red edge (MTCI), NIR, SWIR.
BANDS = ["B02", "B03", "B04", "B05", "B06", "B08", "B11"]
SIZE = 1024
ORIGIN = (500000.0, 5000000.0)  # upper-left corner, UTM 33N (about 15.0 E, 45.1 N)
RESOLUTION = 10.0

# Typical surface reflectances (x 10000) of the land covers the scenes mix.
VEGETATION = {"B02": 350, "B03": 700, "B04": 400, "B05": 1100, "B06": 2600, "B08": 3600, "B11": 1800}
SOIL = {"B02": 900, "B03": 1100, "B04": 1400, "B05": 1700, "B06": 1950, "B08": 2300, "B11": 2500}
SAND = {"B02": 1800, "B03": 2200, "B04": 2500, "B05": 2700, "B06": 2850, "B08": 3000, "B11": 4200}
WATER = {"B02": 550, "B03": 480, "B04": 300, "B05": 250, "B06": 200, "B08": 150, "B11": 60}
# Path radiance of a hazy atmosphere, strongest in blue: what "dark object subtraction" removes.
HAZE = {"B02": 450, "B03": 300, "B04": 200, "B05": 150, "B06": 100, "B08": 60, "B11": 20}


def scene_bands(day: int, seed: int, size: int = SIZE) -> dict[str, np.ndarray]:
    """Reflectances (uint16) of one synthetic Sentinel-2 L2A scene of ``size`` x ``size`` pixels.

    Fields whose greenness follows the season (day of year), bare soil between them, a lake
    with a sandy beach, haze added on top, Gaussian noise; the same geography on every date.
    """
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    fields = 0.5 + 0.5 * np.sin(6 * xx + 3 * yy) * np.cos(4 * yy)
    season = 0.3 + 0.7 * np.sin(np.pi * (day - 60) / 200)  # greener towards summer (days 90..190)
    green = np.clip(fields * season, 0, 1)
    lake = (xx - 0.7) ** 2 + (yy - 0.3) ** 2
    water = lake < 0.02
    sand = (lake >= 0.02) & (lake < 0.032)  # a beach ring around the lake
    haze = 0.5 + 0.5 * rng.uniform()  # a different atmosphere on each date
    out = {}
    for b in BANDS:
        band = VEGETATION[b] * green + SOIL[b] * (1 - green)
        band[sand] = SAND[b]
        band[water] = WATER[b]
        band = band + HAZE[b] * haze + rng.normal(0, 30, (size, size))
        out[b] = np.clip(band, 1, 10000).astype("uint16")
    return out


def make_scene(path: Path, day: int, seed: int, size: int = SIZE) -> None:
    """Write one scene as a tiled, compressed 7-band GeoTIFF with band descriptions."""
    bands = scene_bands(day, seed, size)
    profile = {"driver": "GTiff", "width": size, "height": size, "count": len(BANDS), "dtype": "uint16",
               "crs": "EPSG:32633", "transform": from_origin(*ORIGIN, RESOLUTION, RESOLUTION), "nodata": 0,
               "tiled": True, "blockxsize": min(512, size), "blockysize": min(512, size), "compress": "deflate"}
    path.parent.mkdir(parents=True, exist_ok=True)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(np.stack([bands[b] for b in BANDS]))
        for i, b in enumerate(BANDS, 1):
            dst.set_band_description(i, b)


def day_of_year(date: str) -> int:
    """Day of year of a YYYYMMDD date."""
    return datetime.strptime(date, "%Y%m%d").timetuple().tm_yday


def demo_ingredients(coverage_id: str, paths: list[str], scale_levels: list[int]) -> dict:
    """The rasdaman-style ingredients file that imports the scenes as a WMS-visible time series."""
    return {
        "config": {"service_url": "http://localhost:8080/rasdaman/ows", "automated": True, "track_files": True},
        "input": {"coverage_id": coverage_id, "paths": paths},
        "recipe": {
            "name": "time_series_irregular",
            "options": {
                "time_parameter": {"filename": {"regex": "S2_T33UUP_(\\d{8})_L2A", "group": "1"},
                                   "datetime_format": "YYYYMMDD"},
                "time_crs": "http://localhost:8080/def/crs/OGC/0/AnsiDate",
                "tiling": "ALIGNED [0:0, 0:511, 0:511] TILE SIZE 1048576",
                "scale_levels": scale_levels,
                "wms_import": True,
            },
        },
    }


# WMS styles of the sample cube (WCPS fragments over $c, the layer; NDVI through a colour ramp).
STYLES = [
    {"name": "truecolour", "title": "True colour (B04, B03, B02)", "default": True,
     "fragment": "{red: $c.B04 / 10; green: $c.B03 / 10; blue: $c.B02 / 10}"},
    {"name": "falsecolour", "title": "False colour infrared (B08, B04, B03)",
     "fragment": "{red: $c.B08 / 16; green: $c.B04 / 10; blue: $c.B03 / 10}"},
    {"name": "ndvi", "title": "NDVI", "fragment": "((float) $c.B08 - $c.B04) / ((float) $c.B08 + $c.B04)",
     "color_table": json.dumps({"type": "ramp", "colorTable": {
         "-1": [0, 40, 160, 255], "0": [200, 180, 140, 255], "0.3": [230, 230, 90, 255],
         "0.6": [60, 170, 50, 255], "1": [0, 90, 20, 255]}})},
]


def add_demo_styles(cube, coverage_id: str) -> None:
    """Give the WMS layer the demo's styles (true colour the default); re-running updates them."""
    from petacube.catalog.styles import WmsCatalog
    from petacube.ows.wms.styles import save_style

    existing = {s.name for s in WmsCatalog(cube.catalog).styles(coverage_id)}
    for style in STYLES:
        save_style(cube, coverage_id, style["name"], title=style["title"], fragment=style["fragment"],
                   color_table_type="ColorMap" if "color_table" in style else None,
                   color_table=style.get("color_table"), default=style.get("default", False),
                   update=style["name"] in existing)


def forget_old_demo(cube) -> None:
    """Drop a sample cube (and its scenes) made by an older demo with other bands."""
    if "S2_DEMO" in cube.coverage_ids() and [b.name for b in cube.describe("S2_DEMO").bands] != BANDS:
        print("the existing S2_DEMO has other bands than this demo's; rebuilding it")
        cube.delete("S2_DEMO")
        for old in SOURCES.glob("S2_*_L2A.tif"):
            old.unlink()


def main() -> int:
    SOURCES.mkdir(parents=True, exist_ok=True)
    cube = petacube.open(HOME)
    forget_old_demo(cube)
    for k, date in enumerate(DATES):
        path = SOURCES / f"S2_T33UUP_{date}_L2A.tif"
        if not path.exists():
            make_scene(path, day_of_year(date), seed=k)
    ingredients = demo_ingredients("S2_DEMO", ["demo-sources/S2_*_L2A.tif"], [2, 4])
    ing_path = HOME / "demo-ingredients.json"
    ing_path.write_text(json.dumps(ingredients, indent=2))
    report = run_import(ing_path, cube)
    add_demo_styles(cube, "S2_DEMO")
    print(f"imported {len(report.imported)} scene(s), {len(report.already_done)} already there, in {report.seconds:.1f} s\n")
    print(describe_text(cube.summary("S2_DEMO")))
    ds = cube.read("S2_DEMO", {"E": (502000, 504000), "N": (4996000, 4998000), "ansi": "2021-06-03"})
    red, nir = ds["B04"].astype("float32"), ds["B08"].astype("float32")
    ndvi = float(((nir - red) / (nir + red)).mean())
    print(f"\nmean NDVI of a 2 km × 2 km window on 2021-06-03: {ndvi:.3f}")
    print("\nServing it now: open http://127.0.0.1:8080/ in a browser for the demo page (map, time slider,")
    print("WCPS console); Ctrl-C stops. Or try, in another terminal:")
    print("  curl 'http://127.0.0.1:8080/rasdaman/ows?service=WCS&version=2.0.1&request=GetCapabilities'")
    print("  curl 'http://127.0.0.1:8080/rasdaman/ows?service=WCS&version=2.0.1&request=GetCoverage&coverageId=S2_DEMO"
          "&subset=ansi(\"2021-06-03\")&rangesubset=B04,B03,B02&format=image/tiff' -o rgb.tif")
    print("  .venv/bin/petacube --home petacube-data query 'for $c in (S2_DEMO) return avg($c.B08)'")
    return 0


if __name__ == "__main__":
    sys.exit(main())
