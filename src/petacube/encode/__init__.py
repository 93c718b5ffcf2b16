"""Output encoders (and input decoders): coverage values to bytes in OGC/rasdaman formats.

``encode(value, format, options)`` takes what the engine computes — an
``xarray.Dataset``/``DataArray`` with CRS attrs, or a scalar — and returns
``(bytes, MIME type)``. ``decode(data)`` turns GeoTIFF/PNG/JPEG/NetCDF bytes into a
Dataset of the same form. Options follow rasdaman's encode parameters (``transpose``,
``nodata``, ``colorMap``, ``formatParameters``, ``metadata``).
"""

from __future__ import annotations

import json as _json
from typing import Any

import xarray as xr

from petacube.encode.decode import decode
from petacube.encode.files import write_dataset, write_geotiff, write_netcdf
from petacube.encode.formats import SUPPORTED, resolve_format
from petacube.encode.value import Cube, is_scalar, scalar_value
from petacube.errors import InvalidParameterValue, PetacubeError


def encode(value: Any, format: str, options: dict | str | None = None) -> tuple[bytes, str]:  # noqa: A002
    """Encode a coverage value or scalar; returns (bytes, MIME type)."""
    fmt = resolve_format(format)
    opts = _options(options)
    try:
        if is_scalar(value):
            if fmt.kind not in ("json", "csv"):
                raise InvalidParameterValue(
                    f"a scalar result can be encoded as JSON or CSV, not {format}; drop encode() or use csv/json"
                )
            from petacube.encode.text import encode_scalar

            return encode_scalar(scalar_value(value), json=fmt.kind == "json"), fmt.mime
        if not isinstance(value, (xr.Dataset, xr.DataArray)):
            raise InvalidParameterValue(
                f"cannot encode a value of type {type(value).__name__}: expected a coverage or a scalar"
            )
        cube = Cube(value)
        return _encode_cube(cube, fmt, opts), fmt.mime
    except PetacubeError:
        raise
    except (ValueError, TypeError, OverflowError, MemoryError) as exc:
        raise InvalidParameterValue(f"cannot encode the result as {format}: {exc}") from exc


def _encode_cube(cube: Cube, fmt, opts: dict) -> bytes:
    if fmt.kind == "geotiff":
        from petacube.encode.geotiff import encode_geotiff

        return encode_geotiff(cube, opts, cog=fmt.cog)
    if fmt.kind in ("png", "jpeg"):
        from petacube.encode.image import encode_image

        return encode_image(cube, opts, fmt.kind)
    if fmt.kind == "netcdf":
        from petacube.encode.netcdf import encode_netcdf

        return encode_netcdf(cube, opts)
    if fmt.kind in ("json", "csv"):
        from petacube.encode.text import encode_text

        return encode_text(cube, opts, json=fmt.kind == "json")
    from petacube.encode.gml import encode_gml

    return encode_gml(cube, opts)


def _options(options) -> dict:
    if options is None or options == "":
        return {}
    if isinstance(options, str):
        try:
            options = _json.loads(options)
        except ValueError as exc:
            raise InvalidParameterValue(f"encode options are not valid JSON: {exc}") from exc
    if not isinstance(options, dict):
        raise InvalidParameterValue("encode options must be a JSON object, e.g. {\"nodata\": 0}")
    return options


__all__ = ["SUPPORTED", "decode", "encode", "write_dataset", "write_geotiff", "write_netcdf"]
