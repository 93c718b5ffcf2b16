"""What the SAFE metadata says: scaling per band, sun geometry, grid, times (MTD_MSIL*.xml, MTD_TL.xml).

The DN → reflectance scaling is read from the product's own metadata and never inferred
from its date or baseline number: reflectance = (DN + ADD_OFFSET[band]) / QUANTIFICATION.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

from petacube.sagris.batch.errors import BadProduct
from petacube.sagris.s2.product import SafeProduct

# The band order of the bandId attributes in every baseline's Spectral_Information list.
BAND_IDS = ["B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B10", "B11", "B12"]


@dataclass
class ProductMetadata:
    """The facts of one product the pre-processor needs."""

    product: str
    level: str  # "L1C" or "L2A"
    satellite: str  # "S2A"
    processing_baseline: str  # "05.09"
    datatake_sensing_time: str  # ISO 8601
    relative_orbit: int
    tile: str
    acquisition_time: str  # tile SENSING_TIME, ISO 8601
    quantification: float
    add_offset: dict[str, float]  # band name -> offset in DN (BOA_ADD_OFFSET / RADIO_ADD_OFFSET)
    sun_zenith: float
    sun_azimuth: float
    epsg: int
    ulx: float
    uly: float
    sizes: dict[int, tuple[int, int]]  # resolution -> (rows, cols)
    granule_dir: str  # SAFE-relative path of GRANULE/<id>/
    image_files: list[str] = field(default_factory=list)  # SAFE-relative, without extension
    extra: dict = field(default_factory=dict)

    def offset(self, band: str) -> float:
        return self.add_offset.get(band, 0.0)


def read_metadata(product: SafeProduct) -> ProductMetadata:
    """Parse the product- and tile-level metadata; BadProduct names what is missing."""
    level = product.name.level
    mtd_name = f"MTD_MSI{level}.xml"
    if not product.exists(mtd_name):
        raise BadProduct(f"{product.path.name}: product metadata {mtd_name} is missing")
    mtd = _parse(product, mtd_name)
    tl_path = product.find_one(r"^GRANULE/[^/]+/MTD_TL\.xml$", "tile metadata GRANULE/*/MTD_TL.xml")
    tl = _parse(product, tl_path)
    where = product.path.name

    if level == "L2A":
        quant = _num(mtd, "BOA_QUANTIFICATION_VALUE", where, default=None)
        if quant is None:
            quant = _num(mtd, "QUANTIFICATION_VALUE", where)
        offsets = _band_values(mtd, "BOA_ADD_OFFSET")
    else:
        quant = _num(mtd, "QUANTIFICATION_VALUE", where)
        offsets = _band_values(mtd, "RADIO_ADD_OFFSET")

    sizes, ulx, uly = {}, None, None
    for el in _all(tl, "Size"):
        res = int(float(el.get("resolution")))
        sizes[res] = (int(_text1(el, "NROWS", where)), int(_text1(el, "NCOLS", where)))
    for el in _all(tl, "Geoposition"):
        if ulx is None or int(float(el.get("resolution"))) == 10:
            ulx, uly = float(_text1(el, "ULX", where)), float(_text1(el, "ULY", where))
    if not sizes or ulx is None:
        raise BadProduct(f"{where}: MTD_TL.xml has no Size/Geoposition grid description")
    cs = _text(tl, "HORIZONTAL_CS_CODE", where)
    m = re.search(r"(\d+)$", cs)
    if not m:
        raise BadProduct(f"{where}: MTD_TL.xml HORIZONTAL_CS_CODE {cs!r} is not an EPSG code")
    sun = _first(tl, "Mean_Sun_Angle")
    if sun is None:
        raise BadProduct(f"{where}: MTD_TL.xml has no Mean_Sun_Angle")
    extra = {}
    if level == "L1C":
        u = _first(mtd, "U")
        extra["earth_sun_distance_u"] = float(u.text) if u is not None else None
        extra["solar_irradiance"] = {BAND_IDS[int(e.get("bandId"))]: float(e.text) for e in _all(mtd, "SOLAR_IRRADIANCE")}
    return ProductMetadata(
        product=product.name.name,
        level=level,
        satellite=product.name.satellite,
        processing_baseline=_text(mtd, "PROCESSING_BASELINE", where),
        datatake_sensing_time=_text(mtd, "DATATAKE_SENSING_START", where),
        relative_orbit=int(_text(mtd, "SENSING_ORBIT_NUMBER", where)),
        tile=product.name.tile,
        acquisition_time=_text(tl, "SENSING_TIME", where),
        quantification=quant,
        add_offset=offsets,
        sun_zenith=float(_text1(sun, "ZENITH_ANGLE", where)),
        sun_azimuth=float(_text1(sun, "AZIMUTH_ANGLE", where)),
        epsg=int(m.group(1)),
        ulx=ulx,
        uly=uly,
        sizes=sizes,
        granule_dir=tl_path.rsplit("/", 1)[0] + "/",
        image_files=[e.text.strip() for e in _all(mtd, "IMAGE_FILE") if e.text],
        extra=extra,
    )


def _parse(product: SafeProduct, rel: str):
    try:
        return etree.fromstring(product.read_bytes(rel))
    except etree.XMLSyntaxError as exc:
        raise BadProduct(f"{product.path.name}: {rel} is not well-formed XML ({exc})") from exc


def _all(root, tag: str):
    return root.xpath(f".//*[local-name()='{tag}']")


def _first(root, tag: str):
    hits = _all(root, tag)
    return hits[0] if hits else None


def _text(root, tag: str, where: str) -> str:
    el = _first(root, tag)
    if el is None or not (el.text or "").strip():
        raise BadProduct(f"{where}: metadata element {tag} is missing")
    return el.text.strip()


def _text1(el, tag: str, where: str) -> str:
    return _text(el, tag, where)


_MISSING = object()


def _num(root, tag: str, where: str, default=_MISSING):
    el = _first(root, tag)
    if el is None:
        if default is _MISSING:
            raise BadProduct(f"{where}: metadata element {tag} is missing")
        return default
    return float(el.text)


def _band_values(root, tag: str) -> dict[str, float]:
    """``<TAG band_id="3">-1000</TAG>`` → {"B04": -1000.0}; empty when the baseline has none."""
    return {BAND_IDS[int(e.get("band_id"))]: float(e.text) for e in _all(root, tag)}
