"""L1C → L2A: ESA Sen2Cor when available, else a built-in dark-object subtraction and classification.

Built-in correction (recorded as ``"correction": "builtin-dos"``): DOS1 after Chavez (1988,
1996). Per band, the dark object is the lowest TOA reflectance reached by at least
``DARK_OBJECT_PIXELS`` valid pixels (histogram over the whole band, read window by window);
a dark object is assumed to reflect 1 % under the scene's mean sun zenith θz from
MTD_TL.xml, so the haze is ``dark − 0.01·cos θz`` and BOA = TOA − haze, no transmittance term.

Built-in scene classification (SCL codes, at 20 m, on BOA reflectance unless noted), first
match wins: 0 nodata (no B02 data) · 10 cirrus (B10 TOA > 0.012, Sen2Cor's thin-cirrus
threshold) · 11 snow (NDSI = (B03−B11)/(B03+B11) > 0.4 and B03 > 0.15 and B8A > 0.11, as
Sen2Cor/Fmask) · 9 cloud high (B02 > 0.30 and B04 > 0.25) · 8 cloud medium (B02 > 0.18 and
B04 > 0.15 and NDVI < 0.4) · 6 water ((B03−B8A)/(B03+B8A) > 0 and B8A < 0.15) · 4 vegetation
(NDVI = (B8A−B04)/(B8A+B04) > 0.4) · 2 dark (B8A < 0.05) · 5 not vegetated. Shadows (3)
come from the cloud mask's sun projection, not from this classification.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import rasterio
from rasterio.windows import Window

from petacube.sagris.batch.errors import BadProduct
from petacube.sagris.s2.bands import (
    NATIVE_RES,
    block_mean,
    read_window,
    scale_to_reflectance,
)
from petacube.sagris.s2.metadata import ProductMetadata
from petacube.sagris.s2.product import SafeProduct

DARK_OBJECT_PIXELS = 1000
SEN2COR_ENV = "PETACUBE_SEN2COR"


def find_sen2cor(configured: str | None = None) -> str | None:
    """Path of Sen2Cor's ``L2A_Process``: the configured one, $PETACUBE_SEN2COR, or on PATH."""
    for cand in (configured, os.environ.get(SEN2COR_ENV)):
        if cand:
            return cand
    return shutil.which("L2A_Process")


def run_sen2cor(product: SafeProduct, work: Path, exe: str, timeout_s: float = 4 * 3600) -> SafeProduct:
    """Run Sen2Cor on an L1C in ``work``; return the L2A SAFE it made (BadProduct with its log on failure)."""
    src = product.path
    if product.is_zip:
        unpack = work / "l1c"
        with zipfile.ZipFile(product.path) as zf:
            zf.extractall(unpack)
        src = next(unpack.glob("*.SAFE"), None)
        if src is None:
            raise BadProduct(f"{product.path.name}: the zip holds no .SAFE folder for Sen2Cor")
    out = work / "sen2cor"
    out.mkdir(parents=True, exist_ok=True)
    log = work / "sen2cor.log"
    with open(log, "wb") as fh:
        try:
            rc = subprocess.run([exe, "--output_dir", str(out), str(src)], stdout=fh, stderr=subprocess.STDOUT,
                                timeout=timeout_s, check=False).returncode
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise BadProduct(f"{product.path.name}: Sen2Cor ({exe}) could not run: {exc}") from exc
    made = sorted(out.glob("S2?_MSIL2A_*.SAFE"))
    if rc != 0 or not made:
        tail = log.read_text(errors="replace")[-500:]
        raise BadProduct(f"{product.path.name}: Sen2Cor failed (exit {rc}); log {log}: ...{tail}")
    return SafeProduct(made[0])


class L1CDosReader:
    """Reads L1C bands as built-in DOS1 surface reflectance × 10000 (0 nodata)."""

    correction = "builtin-dos"

    def __init__(self, product: SafeProduct, meta: ProductMetadata):
        self.product, self.meta = product, meta
        self._open: dict[str, rasterio.DatasetReader] = {}
        self._haze: dict[str, float] = {}
        self._scl: np.ndarray | None = None

    def _file(self, band: str) -> str | None:
        hits = self.product.find(rf"^{self.meta.granule_dir}IMG_DATA/[^/]*_{band}\.(jp2|tif)$")
        return hits[0] if hits else None

    def has_band(self, band: str, res: int) -> bool:
        return self._file(band) is not None and NATIVE_RES[band] <= res

    def _ds(self, band: str) -> rasterio.DatasetReader:
        rel = self._file(band)
        if rel is None:
            raise BadProduct(f"{self.product.path.name}: band {band} is missing from the L1C product")
        if rel not in self._open:
            try:
                self._open[rel] = rasterio.open(self.product.gdal_path(rel))
            except rasterio.RasterioIOError as exc:
                raise BadProduct(f"{self.product.path.name}: cannot read {rel} ({exc})") from exc
        return self._open[rel]

    def toa(self, band: str, res: int, window: Window) -> np.ndarray:
        """TOA reflectance × 10000 (uint16, 0 nodata) at ``res``."""
        src = NATIVE_RES[band]
        dn = read_window(self._ds(band), src, res, window)
        refl = scale_to_reflectance(dn, self.meta.offset(band), self.meta.quantification)
        return block_mean(refl, res // src)

    def haze(self, band: str) -> float:
        """Haze (× 10000) of ``band``: dark object minus a 1 % reflector under the sun zenith."""
        if band not in self._haze:
            ds = self._ds(band)
            hist = np.zeros(65536, np.int64)
            res = NATIVE_RES[band]
            for row in range(0, ds.height, 1024):
                w = Window(0, row, ds.width, min(1024, ds.height - row))
                a = self.toa(band, res, w)
                hist += np.bincount(a[(a > 0) & (a < 65535)].ravel(), minlength=65536)[:65536]
            total = int(hist.sum())
            if total == 0:
                raise BadProduct(f"{self.product.path.name}: band {band} has no valid pixel")
            need = min(DARK_OBJECT_PIXELS, max(1, total // 1000))
            dark = int(np.searchsorted(np.cumsum(hist), need))
            self._haze[band] = max(0.0, dark - 100.0 * math.cos(math.radians(self.meta.sun_zenith)))
        return self._haze[band]

    def read(self, band: str, res: int, window: Window) -> np.ndarray:
        """Built-in BOA reflectance × 10000 (uint16, 0 nodata) of ``band`` at ``res``."""
        toa = self.toa(band, res, window)
        boa = np.clip(toa.astype(np.float32) - np.float32(self.haze(band)), 1, 65534).astype(np.uint16)
        boa[toa == 0] = 0
        boa[toa == 65535] = 65535
        return boa

    def read_scl(self, res: int) -> np.ndarray:
        """The built-in classification at ``res`` (computed once at 20 m)."""
        if self._scl is None:
            self._scl = self._classify()
        if res == 20:
            return self._scl
        if res < 20:
            f = 20 // res
            return np.repeat(np.repeat(self._scl, f, axis=0), f, axis=1)
        f = res // 20
        return self._scl[f // 2:: f, f // 2:: f]

    def read_cloud_probability(self) -> None:
        return None  # L1C products carry no cloud-probability raster

    def _classify(self) -> np.ndarray:
        rows, cols = self.meta.sizes[20]
        whole = Window(0, 0, cols, rows)
        r = {b: self.read(b, 20, whole).astype(np.float32) / 10000.0 for b in ("B02", "B03", "B04", "B8A", "B11")}
        cirrus_toa = None
        if self._file("B10") is not None:
            b10 = self.toa("B10", 60, Window(0, 0, *self.meta.sizes[60][::-1])).astype(np.float32) / 10000.0
            cirrus_toa = np.repeat(np.repeat(b10, 3, axis=0), 3, axis=1)[:rows, :cols]
        with np.errstate(invalid="ignore", divide="ignore"):
            ndsi = (r["B03"] - r["B11"]) / (r["B03"] + r["B11"])
            ndvi = (r["B8A"] - r["B04"]) / (r["B8A"] + r["B04"])
            ndwi = (r["B03"] - r["B8A"]) / (r["B03"] + r["B8A"])
        scl = np.full((rows, cols), 5, np.uint8)
        rules = [
            (2, r["B8A"] < 0.05),
            (4, ndvi > 0.4),
            (6, (ndwi > 0) & (r["B8A"] < 0.15)),
            (8, (r["B02"] > 0.18) & (r["B04"] > 0.15) & (ndvi < 0.4)),
            (9, (r["B02"] > 0.30) & (r["B04"] > 0.25)),
            (11, (ndsi > 0.4) & (r["B03"] > 0.15) & (r["B8A"] > 0.11)),
        ]
        if cirrus_toa is not None:
            rules.append((10, cirrus_toa > 0.012))
        for code, cond in rules:  # later rules override earlier ones: the docstring's order reversed
            scl[cond] = code
        scl[r["B02"] == 0] = 0
        return scl

    def close(self) -> None:
        for ds in self._open.values():
            ds.close()
        self._open.clear()
