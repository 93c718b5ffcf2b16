"""WMS 1.3.0 KVP parameters: LAYERS, STYLES, CRS + BBOX (in the CRS's axis order),
WIDTH/HEIGHT, FORMAT, TRANSPARENT, BGCOLOR, EXCEPTIONS, dimensions.

WMS 1.3.0 writes BBOX in the axis order of the CRS: EPSG:4326 is latitude first, CRS:84
longitude first, projected CRSs usually easting first. ``version=1.1.1`` requests (SRS,
always x/y order) are accepted too, as many clients still send them."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

import pyproj

from petacube.errors import InvalidParameterValue, MissingParameterValue
from petacube.ows.protocol import OwsRequest
from petacube.ows.wms.errors import InvalidCRS, InvalidFormat

IMAGE_FORMATS = {
    "image/png": "png", "png": "png", "image/png; mode=8bit": "png", "image/png8": "png",
    "image/jpeg": "jpeg", "image/jpg": "jpeg", "jpeg": "jpeg", "jpg": "jpeg",
    "image/tiff": "tiff", "image/geotiff": "tiff", "tiff": "tiff", "image/tiff; application=geotiff": "tiff",
}
MEDIA_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "tiff": "image/tiff"}
INTERPOLATIONS = ("nearest", "near", "bilinear", "cubic", "cubicspline", "lanczos", "average", "mode",
                  "min", "max", "med", "q1", "q3")


def required(req: OwsRequest, name: str) -> str:
    value = req.param(name)
    if value is None or not value.strip():
        raise MissingParameterValue(f"{name.upper()}=... is missing", locator=name.upper())
    return value.strip()


def split_list(text: str | None) -> list[str]:
    """A comma-separated list (empty items kept: ``STYLES=,b`` is default, b)."""
    if text is None:
        return []
    return [p.strip() for p in text.split(",")]


def layer_names(req: OwsRequest, name: str = "layers") -> list[str]:
    names = [n for n in split_list(required(req, name)) if n]
    if not names:
        raise MissingParameterValue(f"{name.upper()}=... names no layer", locator=name.upper())
    return names


def style_names(req: OwsRequest, layers: list[str]) -> list[str]:
    """One style name per layer ('' = the layer's default style)."""
    raw = req.param("styles")
    if raw is None or not raw.strip():
        return [""] * len(layers)
    names = split_list(raw)
    if len(names) != len(layers):
        raise InvalidParameterValue(
            f"STYLES={raw} gives {len(names)} style(s) for {len(layers)} layer(s); give one per layer "
            "(empty for the default) or leave STYLES empty", locator="STYLES")
    return names


# ---- CRS -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class RequestCrs:
    """A map CRS: its EPSG code, whether BBOX is written north first, and pyproj's CRS."""

    code: int
    name: str  # as the client wrote it, normalised (EPSG:4326, CRS:84)
    north_first: bool

    @property
    def pyproj(self) -> pyproj.CRS:
        return _pyproj(self.code)

    @property
    def ir_name(self) -> str:
        return f"EPSG:{self.code}"


@lru_cache(maxsize=512)
def _pyproj(code: int) -> pyproj.CRS:
    return pyproj.CRS.from_epsg(code)


_CRS_RE = re.compile(r"(?:https?://[^?]*/(?:def/crs/)?)?(EPSG|CRS)[:/](?:0/)?(\d+)$", re.IGNORECASE)


def parse_crs(text: str, version: str = "1.3.0", locator: str = "CRS") -> RequestCrs:
    """EPSG:<code>, CRS:84 or an OGC resolver URL; InvalidCRS otherwise."""
    t = text.strip()
    m = _CRS_RE.fullmatch(t) or _CRS_RE.fullmatch(t.replace("EPSG/0/", "EPSG:"))
    if not m:
        raise InvalidCRS(f"{locator}={text} is not a CRS this server knows: use EPSG:<code> (e.g. EPSG:4326, "
                         "EPSG:3857) or CRS:84", locator=locator)
    auth, number = m.group(1).upper(), int(m.group(2))
    if auth == "CRS":
        if number != 84:
            raise InvalidCRS(f"{locator}={text}: of the CRS: codes only CRS:84 is supported", locator=locator)
        return RequestCrs(4326, "CRS:84", north_first=False)
    try:
        crs = _pyproj(number)
    except pyproj.exceptions.CRSError:
        raise InvalidCRS(f"{locator}={text}: EPSG:{number} is not a known CRS code", locator=locator) from None
    axes = crs.axis_info
    if len(axes) != 2 or not {a.direction.lower() for a in axes} <= {"north", "south", "east", "west"}:
        raise InvalidCRS(f"{locator}={text}: EPSG:{number} is not a 2-D geographic or projected CRS",
                         locator=locator)
    north = axes[0].direction.lower() in ("north", "south") and version.startswith("1.3")
    return RequestCrs(number, f"EPSG:{number}", north_first=north)


def map_crs(req: OwsRequest) -> RequestCrs:
    version = (req.param("version") or "1.3.0").strip()
    name = "crs" if req.param("crs") is not None or not version.startswith("1.1") else "srs"
    text = req.param(name) or req.param("srs" if name == "crs" else "crs")
    if text is None or not text.strip():
        raise MissingParameterValue("CRS=... is missing (e.g. CRS=EPSG:4326)", locator="CRS")
    return parse_crs(text, version, name.upper())


# ---- BBOX, size ------------------------------------------------------------------------------
def parse_bbox(req: OwsRequest, crs: RequestCrs) -> tuple[float, float, float, float]:
    """BBOX as (minx, miny, maxx, maxy) in x/y (east, north) order."""
    raw = required(req, "bbox")
    parts = raw.split(",")
    if len(parts) != 4:
        raise InvalidParameterValue(f"BBOX={raw}: give four numbers minx,miny,maxx,maxy in the CRS's axis order",
                                    locator="BBOX")
    try:
        nums = [float(p) for p in parts]
    except ValueError:
        raise InvalidParameterValue(f"BBOX={raw}: not four numbers", locator="BBOX") from None
    if not all(math.isfinite(n) for n in nums):
        raise InvalidParameterValue(f"BBOX={raw}: the bounds must be finite numbers", locator="BBOX")
    a0, b0, a1, b1 = nums
    if a0 >= a1 or b0 >= b1:
        raise InvalidParameterValue(f"BBOX={raw}: each minimum must be below its maximum", locator="BBOX")
    if crs.north_first:  # lat/lon: BBOX=minlat,minlon,maxlat,maxlon
        return b0, a0, b1, a1
    return a0, b0, a1, b1


def parse_size(req: OwsRequest, max_size: int) -> tuple[int, int]:
    sizes = []
    for name in ("width", "height"):
        raw = required(req, name)
        try:
            n = int(raw)
        except ValueError:
            raise InvalidParameterValue(f"{name.upper()}={raw} is not a whole number", locator=name.upper()) from None
        if n < 1:
            raise InvalidParameterValue(f"{name.upper()}={raw}: must be at least 1", locator=name.upper())
        if n > max_size:
            raise InvalidParameterValue(
                f"{name.upper()}={raw} is over this server's limit of {max_size} pixels (setting wms_max_size); "
                "ask for a smaller map", locator=name.upper())
        sizes.append(n)
    return sizes[0], sizes[1]


def parse_format(req: OwsRequest, name: str = "format", default: str | None = None) -> str:
    raw = req.param(name) or default
    if raw is None or not raw.strip():
        raise MissingParameterValue(f"{name.upper()}=... is missing (e.g. image/png)", locator=name.upper())
    key = re.sub(r"\s*;\s*", "; ", raw.strip().lower())
    kind = IMAGE_FORMATS.get(key) or IMAGE_FORMATS.get(key.split(";")[0].strip())
    if kind is None:
        raise InvalidFormat(f"{name.upper()}={raw} is not offered; use image/png, image/jpeg or image/tiff",
                            locator=name.upper())
    return kind


def parse_bool(req: OwsRequest, name: str, default: bool = False) -> bool:
    raw = req.param(name)
    if raw is None or not raw.strip():
        return default
    value = raw.strip().upper()
    if value in ("TRUE", "1", "YES"):
        return True
    if value in ("FALSE", "0", "NO"):
        return False
    raise InvalidParameterValue(f"{name.upper()}={raw}: use TRUE or FALSE", locator=name.upper())


def parse_bgcolor(req: OwsRequest) -> tuple[int, int, int]:
    raw = req.param("bgcolor")
    if raw is None or not raw.strip():
        return 255, 255, 255
    m = re.fullmatch(r"(?:0x|#)?([0-9a-fA-F]{6})", raw.strip())
    if not m:
        raise InvalidParameterValue(f"BGCOLOR={raw}: write it as 0xRRGGBB, e.g. 0xFFFFFF", locator="BGCOLOR")
    v = int(m.group(1), 16)
    return (v >> 16) & 255, (v >> 8) & 255, v & 255


def parse_exceptions(req: OwsRequest) -> str:
    """XML (default), INIMAGE or BLANK."""
    raw = (req.param("exceptions") or "XML").strip()
    key = raw.upper().rsplit("_", 1)[-1].rsplit("/", 1)[-1]  # application/vnd.ogc.se_inimage, XML
    if key in ("XML", "SE_XML"):
        return "XML"
    if key in ("INIMAGE", "BLANK"):
        return key
    raise InvalidParameterValue(f"EXCEPTIONS={raw}: use XML, INIMAGE or BLANK", locator="EXCEPTIONS")


def parse_interpolation(req: OwsRequest) -> str:
    raw = (req.param("interpolation") or "nearest").strip().lower()
    if raw not in INTERPOLATIONS:
        raise InvalidParameterValue(f"INTERPOLATION={raw}: use one of {', '.join(INTERPOLATIONS)}",
                                    locator="INTERPOLATION")
    return "near" if raw == "nearest" else raw


def dimension_params(req: OwsRequest) -> dict[str, str]:
    """TIME, ELEVATION and DIM_<name> values by lower-case parameter name."""
    out = {}
    for key, values in req.params.items():
        if key in ("time", "elevation") or key.startswith("dim_"):
            if values and values[-1].strip():
                out[key] = values[-1].strip()
    return out
