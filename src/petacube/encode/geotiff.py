"""GeoTIFF and Cloud-Optimized GeoTIFF through GDAL (rasterio)."""

from __future__ import annotations

import math
import warnings

import numpy as np
from rasterio.crs import CRS as RioCrs
from rasterio.errors import NotGeoreferencedWarning, RasterioError
from rasterio.io import MemoryFile
from affine import Affine

from petacube.encode.value import Cube, parse_nodata_option
from petacube.errors import InvalidParameterValue

_GDAL_DTYPES = {"uint8", "int8", "uint16", "int16", "uint32", "int32", "uint64", "int64", "float32", "float64",
                "complex64", "complex128"}


def encode_geotiff(cube: Cube, options: dict, cog: bool = False) -> bytes:
    """A north-up GeoTIFF of the two spatial axes, one band per range field."""
    fmt = "COG" if cog else "GeoTIFF"
    params = options.get("formatParameters") or {}
    if not isinstance(params, dict):
        raise InvalidParameterValue("formatParameters must be a JSON object of GDAL creation options")
    params = dict(params)
    if _truthy(params.pop("COG", params.pop("cog", False))):
        cog = True
    planes, row, col, geo = cube.oriented_planes("GeoTIFF", bool(options.get("transpose")))
    dtype = np.result_type(*[p.dtype for p in planes])
    if dtype == np.bool_:
        dtype = np.dtype("uint8")
    if dtype.name not in _GDAL_DTYPES:
        raise InvalidParameterValue(f"{fmt}: cells of type {dtype} cannot be written; cast them to a number type")
    stack = np.stack([p.astype(dtype) for p in planes])
    height, width = stack.shape[1:]

    profile: dict = {"driver": "COG" if cog else "GTiff", "width": width, "height": height,
                     "count": len(planes), "dtype": dtype.name}
    if geo:
        yres = abs(cube.axes[row].regular_resolution(fmt))
        xres = abs(cube.axes[col].regular_resolution(fmt))
        xs, ys = cube.axes[col].numbers(), cube.axes[row].numbers()
        west = float(xs.min()) - xres / 2
        north = float(ys.max()) + yres / 2
        profile["transform"] = Affine(xres, 0.0, west, 0.0, -yres, north)
        crs = _rio_crs(cube)
        if crs is not None:
            profile["crs"] = crs
    nodata = _nodata(cube, options, dtype)
    if nodata is not None:
        profile["nodata"] = nodata
    if cog:
        profile.update({"compress": "DEFLATE", "level": 1, "blocksize": 256})
    else:
        # ZLEVEL 1: a few times faster than GDAL's default 6 for a few % more bytes, which
        # matters for a server answering GetCoverage; formatParameters can ask for more
        profile.update({"compress": "DEFLATE", "zlevel": 1, "tiled": True, "blockxsize": 256, "blockysize": 256})
    for key, value in params.items():
        k = str(key).lower()
        if cog and k in ("tiled", "blockxsize", "blockysize"):
            continue
        profile[k] = ("YES" if value else "NO") if isinstance(value, bool) else str(value)
    try:
        with warnings.catch_warnings(), MemoryFile() as mem:
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            with mem.open(**profile) as dst:
                dst.write(stack)
                for i, band in enumerate(cube.bands, 1):
                    dst.set_band_description(i, band)
                    units = cube.ds[band].attrs.get("units")
                    if units:
                        dst.set_band_unit(i, str(units))
                tags = {k: str(v) for k, v in cube.ds.attrs.items()
                        if isinstance(v, (str, int, float)) and k not in ("crs_wkt",)}
                metadata = options.get("metadata")
                if isinstance(metadata, dict):
                    tags.update({str(k): str(v) for k, v in metadata.items()})
                elif isinstance(metadata, str):
                    tags["metadata"] = metadata
                if tags:
                    dst.update_tags(**tags)
            return mem.read()
    except (RasterioError, ValueError, TypeError) as exc:
        raise InvalidParameterValue(f"{fmt}: GDAL refused the output ({exc}); check formatParameters") from exc


def _truthy(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "1", "on")
    return bool(value)


def _rio_crs(cube: Cube) -> RioCrs | None:
    horizontal = cube.crs.horizontal if cube.crs is not None else None
    if horizontal is not None:
        epsg = horizontal.to_epsg()
        return RioCrs.from_epsg(epsg) if epsg else RioCrs.from_wkt(horizontal.to_wkt())
    wkt = cube.ds.attrs.get("crs_wkt")
    return RioCrs.from_wkt(wkt) if wkt else None


def _nodata(cube: Cube, options: dict, dtype: np.dtype) -> float | None:
    """GeoTIFF has one nodata value per file: the option's, else the first band's."""
    override = parse_nodata_option(options.get("nodata"), len(cube.bands))
    values = override[0] if override else cube.nodata(cube.bands[0])
    if not values:
        return None
    v = values[0]
    if dtype.kind in "iu":
        if math.isnan(v) or math.isinf(v):
            return None
        info = np.iinfo(dtype)
        if not (info.min <= v <= info.max):
            return None
    return v
