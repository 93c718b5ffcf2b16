"""PNG and JPEG through Pillow, with rasdaman's option semantics.

Bands: 1 → grey, 2 → grey + alpha, 3 → RGB, 4 → RGBA (as GDAL's PNG driver maps them).
Cell values: rasdaman hands the array to GDAL with its own type, and GDAL's PNG/JPEG
drivers hold only 8-bit (PNG also 16-bit) samples; older GDAL converted other types
with GDALCopyWords, which clamps to 0..255 and rounds floats to the nearest integer.
We do the same: booleans → 0/255 (rasdaman's own rule), uint8 as is, a single uint16
band → 16-bit grey PNG, anything else clamped to 0..255 and rounded (NaN → 0).
Rows: north up for georeferenced data; otherwise the first axis runs along the image
width, the second along its height, as in rasdaman (``transpose: [0, 1]`` swaps them).
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from petacube.encode.colormap import apply_color_map
from petacube.encode.value import Cube, parse_nodata_option
from petacube.errors import InvalidParameterValue

_MODES = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}


def to_uint8(data: np.ndarray) -> np.ndarray:
    """GDAL's conversion to Byte: clamp to 0..255, round to nearest, NaN → 0; booleans 0/255."""
    if data.dtype == np.bool_:
        return np.where(data, 255, 0).astype(np.uint8)
    if data.dtype == np.uint8:
        return data
    x = np.asarray(data, dtype=np.float64)
    x = np.where(np.isnan(x), 0.0, x)
    return np.clip(np.floor(x + 0.5), 0, 255).astype(np.uint8)


def encode_image(cube: Cube, options: dict, kind: str) -> bytes:
    fmt = "PNG" if kind == "png" else "JPEG"
    raw, row, col, geo = cube.oriented_planes(fmt, bool(options.get("transpose")))

    nodata = parse_nodata_option(options.get("nodata"), len(raw))
    transparent = None
    if nodata is not None:
        # a pixel is transparent when every band holds its null value
        transparent = np.ones(raw[0].shape, dtype=bool)
        for i, p in enumerate(raw):
            transparent &= cube.null_mask(cube.bands[i], p, override=nodata[i])

    color_map = options.get("colorMap")
    if color_map is not None:
        if len(raw) != 1:
            raise InvalidParameterValue(f"colorMap applies to single-band data; this result has {len(raw)} bands")
        rgba = apply_color_map(raw[0], color_map)
        channels = [rgba[..., i] for i in range(rgba.shape[-1])]
    elif kind == "png" and len(raw) == 1 and raw[0].dtype == np.uint16 and transparent is None:
        return _save(Image.fromarray(np.ascontiguousarray(raw[0])), "PNG", options)
    else:
        if len(raw) not in _MODES:
            raise InvalidParameterValue(
                f"{fmt} holds 1 (grey), 2 (grey+alpha), 3 (RGB) or 4 (RGBA) bands; this result has {len(raw)}: "
                "select bands with {red: ..., green: ..., blue: ...}"
            )
        channels = [to_uint8(p) for p in raw]

    if transparent is not None:
        if len(channels) in (1, 3):
            channels.append(np.full(channels[0].shape, 255, dtype=np.uint8))
        channels[-1] = np.where(transparent, 0, channels[-1]).astype(np.uint8)
    if kind == "jpeg" and len(channels) in (2, 4):
        channels = channels[:-1]  # JPEG has no alpha channel
    stack = np.stack(channels, axis=-1) if len(channels) > 1 else channels[0]
    image = Image.fromarray(np.ascontiguousarray(stack))  # L, LA, RGB or RGBA from the shape
    return _save(image, "PNG" if kind == "png" else "JPEG", options)


def _save(image: Image.Image, pil_format: str, options: dict) -> bytes:
    params = options.get("formatParameters") or {}
    if not isinstance(params, dict):
        raise InvalidParameterValue("formatParameters must be a JSON object")
    upper = {str(k).upper(): v for k, v in params.items()}
    kwargs = {}
    try:
        if pil_format == "PNG":
            # rasdaman sets ZLEVEL 2 unless asked: level 6 costs 3-5x the time for ~10% size
            kwargs["compress_level"] = int(upper.get("ZLEVEL", 2))
        else:
            kwargs["quality"] = int(upper.get("QUALITY", 75))
    except (TypeError, ValueError):
        raise InvalidParameterValue(f"formatParameters {params}: ZLEVEL / QUALITY must be integers") from None
    buf = io.BytesIO()
    image.save(buf, format=pil_format, **kwargs)
    return buf.getvalue()
