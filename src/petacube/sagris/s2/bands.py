"""Band sets, band files inside a SAFE, and DN → reflectance × 10000 read window by window.

Every read returns uint16 "reflectance × 10000" with 0 for nodata, whatever the baseline:
``out = round((DN + ADD_OFFSET) * 10000 / QUANTIFICATION)``, clipped to 1..65534 for
valid pixels so a dark pixel is never mistaken for nodata; DN 0 stays 0 (nodata) and
DN 65535 stays 65535 (saturated), as the product's Special_Values say.
"""

from __future__ import annotations

import numpy as np
import rasterio
from rasterio.windows import Window

from petacube.sagris.batch.errors import BadProduct
from petacube.sagris.s2.metadata import ProductMetadata
from petacube.sagris.s2.product import SafeProduct

# The L2B band sets per resolution (issue 6).
BAND_SETS: dict[int, list[str]] = {
    10: ["B02", "B03", "B04", "B08"],
    20: ["B02", "B03", "B04", "B05", "B06", "B07", "B8A", "B11", "B12"],
    60: ["B01", "B02", "B03", "B04", "B05", "B06", "B07", "B8A", "B09", "B11", "B12"],
}
RESOLUTIONS = (10, 20, 60)
# Native resolution of each band in L1C products (and the finest one in L2A products).
NATIVE_RES = {"B01": 60, "B02": 10, "B03": 10, "B04": 10, "B05": 20, "B06": 20, "B07": 20, "B08": 10,
              "B8A": 20, "B09": 60, "B10": 60, "B11": 20, "B12": 20}
SATURATED = 65535


def scale_to_reflectance(dn: np.ndarray, offset: float, quantification: float) -> np.ndarray:
    """DN → uint16 reflectance × 10000 (0 nodata, 65535 saturated), per the product's own metadata."""
    dn = np.asarray(dn)
    refl = (dn.astype(np.float32) + np.float32(offset)) * np.float32(10000.0 / quantification)
    out = np.clip(np.rint(refl), 1, 65534).astype(np.uint16)
    out[dn == 0] = 0
    out[dn == SATURATED] = SATURATED
    return out


def block_mean(a: np.ndarray, f: int) -> np.ndarray:
    """Average f×f blocks of a uint16 array ignoring 0 (nodata); a block with no valid pixel stays 0."""
    if f == 1:
        return a
    h, w = a.shape[0] // f, a.shape[1] // f
    b = a[: h * f, : w * f].reshape(h, f, w, f)
    valid = (b != 0).sum(axis=(1, 3))
    total = b.sum(axis=(1, 3), dtype=np.uint64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(valid > 0, np.rint(total / np.maximum(valid, 1)), 0)
    return mean.astype(np.uint16)


def block_nearest(a: np.ndarray, f: int) -> np.ndarray:
    """Subsample a class raster by f, taking each block's centre pixel (nearest neighbour)."""
    return a[f // 2:: f, f // 2:: f] if f > 1 else a


def band_file(product: SafeProduct, meta: ProductMetadata, band: str, res: int) -> tuple[str, int] | None:
    """(SAFE path, resolution) of the finest file of ``band`` at ``res`` or finer, or None."""
    if meta.level == "L1C":
        hits = product.find(rf"^{meta.granule_dir}IMG_DATA/[^/]*_{band}\.(jp2|tif)$")
        return (hits[0], NATIVE_RES[band]) if hits and NATIVE_RES[band] <= res else None
    for r in sorted((r for r in RESOLUTIONS if r <= res), reverse=True):
        hits = product.find(rf"^{meta.granule_dir}IMG_DATA/R{r}m/[^/]*_{band}_{r}m\.(jp2|tif)$")
        if hits:
            return hits[0], r
    return None


def scl_file(product: SafeProduct, meta: ProductMetadata, res: int) -> tuple[str, int] | None:
    """The SCL file at ``res`` if the product has one, else the 20 m one, else None."""
    for r in (res, 20, 60):
        hits = product.find(rf"^{meta.granule_dir}IMG_DATA/R{r}m/[^/]*_SCL_{r}m\.(jp2|tif)$")
        if hits:
            return hits[0], r
    return None


def cldprb_file(product: SafeProduct, meta: ProductMetadata) -> str | None:
    """The L2A cloud-probability raster at 20 m (QI_DATA/MSK_CLDPRB_20m), if the product has it."""
    hits = product.find(rf"^{meta.granule_dir}QI_DATA/MSK_CLDPRB_20m\.(jp2|tif)$")
    return hits[0] if hits else None


def read_window(ds: rasterio.DatasetReader, src_res: int, dst_res: int, window: Window) -> np.ndarray:
    """Read the part of ``ds`` (pixel size src_res) covering ``window`` of the dst_res grid, raw DN."""
    f = dst_res // src_res
    if dst_res % src_res:
        raise BadProduct(f"cannot derive {dst_res} m from a {src_res} m band")
    w = Window(window.col_off * f, window.row_off * f, window.width * f, window.height * f)
    a = ds.read(1, window=w, boundless=False)
    return a


class L2ABandReader:
    """Reads L2A band windows as harmonised reflectance × 10000 at any of 10/20/60 m."""

    correction = "l2a-input"

    def __init__(self, product: SafeProduct, meta: ProductMetadata):
        self.product, self.meta = product, meta
        self._open: dict[str, rasterio.DatasetReader] = {}

    def has_band(self, band: str, res: int) -> bool:
        return band_file(self.product, self.meta, band, res) is not None

    def _ds(self, rel: str) -> rasterio.DatasetReader:
        if rel not in self._open:
            try:
                self._open[rel] = rasterio.open(self.product.gdal_path(rel))
            except rasterio.RasterioIOError as exc:
                raise BadProduct(f"{self.product.path.name}: cannot read {rel} ({exc})") from exc
        return self._open[rel]

    def read(self, band: str, res: int, window: Window) -> np.ndarray:
        """Reflectance × 10000 (uint16, 0 nodata) of ``band`` for ``window`` of the ``res`` grid."""
        found = band_file(self.product, self.meta, band, res)
        if found is None:
            raise BadProduct(f"{self.product.path.name}: band {band} is missing (needed for the {res} m output)")
        rel, src_res = found
        dn = read_window(self._ds(rel), src_res, res, window)
        refl = scale_to_reflectance(dn, self.meta.offset(band), self.meta.quantification)
        return block_mean(refl, res // src_res)

    def read_scl(self, res: int) -> np.ndarray | None:
        """The whole scene classification at ``res`` (uint8), or None if the product has none."""
        found = scl_file(self.product, self.meta, res)
        if found is None:
            return None
        rel, src = found
        a = self._ds(rel).read(1)
        if src > res:
            f = src // res
            return np.repeat(np.repeat(a, f, axis=0), f, axis=1)
        return block_nearest(a, res // src)

    def read_cloud_probability(self) -> np.ndarray | None:
        """L2A cloud probability (0..100 %) at 20 m, or None."""
        rel = cldprb_file(self.product, self.meta)
        return None if rel is None else self._ds(rel).read(1)

    def close(self) -> None:
        for ds in self._open.values():
            ds.close()
        self._open.clear()
