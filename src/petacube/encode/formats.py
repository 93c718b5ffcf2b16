"""Format names as WCPS/WCS clients write them, mapped to one encoder each."""

from __future__ import annotations

from dataclasses import dataclass

from petacube.errors import InvalidParameterValue


@dataclass(frozen=True)
class Format:
    kind: str  # geotiff, png, jpeg, netcdf, json, csv, gml
    mime: str
    cog: bool = False


_FORMATS = {
    "geotiff": Format("geotiff", "image/tiff"),
    "png": Format("png", "image/png"),
    "jpeg": Format("jpeg", "image/jpeg"),
    "netcdf": Format("netcdf", "application/netcdf"),
    "json": Format("json", "application/json"),
    "csv": Format("csv", "text/csv"),
    "gml": Format("gml", "application/gml+xml"),
}

_ALIASES = {
    "image/tiff": "geotiff", "image/geotiff": "geotiff", "tiff": "geotiff", "tif": "geotiff",
    "gtiff": "geotiff", "geotiff": "geotiff", "image/tiff;application=geotiff": "geotiff",
    "image/png": "png", "png": "png",
    "image/jpeg": "jpeg", "image/jpg": "jpeg", "jpeg": "jpeg", "jpg": "jpeg",
    "application/netcdf": "netcdf", "application/x-netcdf": "netcdf", "application/x-netcdf4": "netcdf",
    "netcdf": "netcdf", "netcdf4": "netcdf", "nc": "netcdf",
    "application/json": "json", "json": "json",
    "text/csv": "csv", "csv": "csv",
    "application/gml+xml": "gml", "gml": "gml", "text/xml": "gml", "application/xml": "gml",
}

SUPPORTED = (
    "image/tiff (tiff, GTiff; COG via image/tiff;application=geotiff;profile=cloud-optimized), "
    "image/png (png), image/jpeg (jpeg, jpg), application/netcdf (netcdf), application/json (json), "
    "text/csv (csv), application/gml+xml (gml)"
)

_COG_MIME = "image/tiff;application=geotiff;profile=cloud-optimized"


def resolve_format(name: str) -> Format:
    """The encoder for a format name (MIME type or short name, case-insensitive)."""
    if not isinstance(name, str) or not name.strip():
        raise InvalidParameterValue(f"no output format given; supported: {SUPPORTED}", locator="format")
    key = name.strip().strip('"').lower().replace(" ", "")
    if "profile=cloud-optimized" in key and key.startswith("image/tiff"):
        return Format("geotiff", _COG_MIME, cog=True)
    if key in ("cog", "image/tiff;profile=cloud-optimized"):
        return Format("geotiff", _COG_MIME, cog=True)
    kind = _ALIASES.get(key)
    if kind is None:
        raise InvalidParameterValue(
            f"unsupported output format '{name}'; supported: {SUPPORTED}", locator="format"
        )
    return _FORMATS[kind]
