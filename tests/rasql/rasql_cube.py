"""A small datacube for the rasql tests: collections mr (GreySet), rgb (RGBSet) and a
geo coverage geo (EPSG:32633, written as a GeoTIFF and inserted over WCS-T), with the
numpy arrays they hold (rasdaman's axis order: the first axis runs along x)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from datagen import write_geotiff
from rasterio.transform import from_origin

import petacube
from petacube.rasql import Session, Upload

MR_SHAPE = (40, 30)
RGB_SHAPE = (20, 15)


@dataclass
class RasqlCube:
    home: Path
    mr: np.ndarray  # uint8, (x, y)
    rgb: np.ndarray  # uint8, (x, y, 3)
    geo: np.ndarray  # int16, (y, x) as the GeoTIFF rows
    upload: Path  # a PNG file for decode($1)

    def open(self):
        return petacube.open(self.home)


def build(root: Path) -> RasqlCube:
    rng = np.random.default_rng(8)
    mr = rng.integers(0, 256, MR_SHAPE, dtype=np.uint8)
    rgb = rng.integers(0, 256, RGB_SHAPE + (3,), dtype=np.uint8)
    geo = rng.integers(-50, 500, (12, 16), dtype=np.int16)
    home = root / "home"
    with petacube.open(home) as cube:
        s = Session(cube)
        s.execute("create collection mr GreySet")
        s.execute("insert into mr values $1", [Upload(mr.tobytes(), "GreyImage", "[0:39,0:29]")])
        s.execute("create collection rgb RGBSet")
        s.execute("insert into rgb values $1", [Upload(rgb.tobytes(), "RGBImage", "[0:19,0:14]")])
        tif = write_geotiff(root / "geo.tif", geo[None], transform=from_origin(500000, 5000000, 10, 10))
        from petacube.encode import decode
        from petacube.ows.wcst import transact

        transact.insert(cube, decode(tif.read_bytes()), "geo")
    from PIL import Image

    png = root / "upload.png"
    Image.fromarray(mr.T.copy()).save(png)  # rows = y: the PNG's width runs along x
    return RasqlCube(home, mr, rgb, geo, png)
