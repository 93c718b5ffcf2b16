"""GetLegendGraphic: the style's uploaded legend image, or one drawn from its colour map
(a swatch per entry for ``values``/``intervals``, a colour bar for ``ramp``), or for a style
without colour map a note of what the bands show."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw

from petacube.encode.colormap import apply_color_map, parse_color_map
from petacube.ows.protocol import OwsRequest, OwsResponse
from petacube.ows.wms import kvp
from petacube.ows.wms.errors import InvalidFormat
from petacube.ows.wms.layers import Layer, get_layer
from petacube.ows.wms.styles import Style, style_for

SWATCH = 16  # pixels per entry row
RAMP_HEIGHT = 160
TEXT_WIDTH = 110


def get_legend_graphic(req: OwsRequest, cube) -> OwsResponse:
    layer = get_layer(cube, kvp.required(req, "layer"), "LAYER")
    style = style_for(cube, layer.name, (req.param("style") or "").strip())
    fmt = kvp.parse_format(req, default="image/png")
    if style.record is not None and style.record.legend:
        wanted = kvp.MEDIA_TYPES[fmt]
        if style.record.legend_type and style.record.legend_type != wanted:
            raise InvalidFormat(f"FORMAT={req.param('format')}: the legend of style {style.name} is an uploaded "
                                f"{style.record.legend_type}; ask for that format", locator="FORMAT")
        return OwsResponse(200, style.record.legend_type or wanted, style.record.legend)
    image = legend_image(layer, style)
    buf = io.BytesIO()
    if fmt == "jpeg":
        flat = Image.new("RGB", image.size, (255, 255, 255))
        flat.paste(image, mask=image.getchannel("A"))
        flat.save(buf, format="JPEG", quality=90)
    elif fmt == "tiff":
        image.save(buf, format="TIFF")
    else:
        image.save(buf, format="PNG")
    return OwsResponse(200, kvp.MEDIA_TYPES[fmt], buf.getvalue())


def legend_size(layer: Layer, style: Style) -> tuple[int, int]:
    if style.record is not None and style.record.legend:
        try:
            return Image.open(io.BytesIO(style.record.legend)).size
        except OSError:
            return 1, 1
    return legend_image(layer, style).size


def legend_image(layer: Layer, style: Style) -> Image.Image:
    cm = style.encode_color_map()
    if cm is None:
        return _note(layer, style)
    kind, keys, colours = parse_color_map(cm)
    labels = (style.color_map or {}).get("labels", {})
    if kind == "ramp" and len(keys) > 1:
        return _ramp(cm, keys, labels)
    image = Image.new("RGBA", (SWATCH + 6 + TEXT_WIDTH, SWATCH * len(keys) + 4), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    for i, (k, c) in enumerate(zip(keys, colours)):
        y = 2 + i * SWATCH
        draw.rectangle([2, y + 1, SWATCH, y + SWATCH - 1], fill=_rgba(c), outline=(0, 0, 0, 255))
        text = labels.get(f"{k:g}") or (f"{k:g}" if kind == "values" else f">= {k:g}")
        draw.text((SWATCH + 6, y + 2), text, fill=(0, 0, 0, 255))
    return image


def _ramp(cm: dict, keys: np.ndarray, labels: dict) -> Image.Image:
    """A vertical bar, highest value on top, coloured by the colour map itself."""
    values = np.linspace(keys[-1], keys[0], RAMP_HEIGHT)[:, None].repeat(SWATCH, axis=1)
    rgba = apply_color_map(values, cm)
    if rgba.shape[-1] == 3:
        rgba = np.concatenate([rgba, np.full(rgba.shape[:-1] + (1,), 255, np.uint8)], axis=-1)
    elif rgba.shape[-1] == 1:
        grey = rgba[..., 0]
        rgba = np.stack([grey, grey, grey, np.full_like(grey, 255)], axis=-1)
    image = Image.new("RGBA", (SWATCH + 6 + TEXT_WIDTH, RAMP_HEIGHT + 12), (255, 255, 255, 0))
    image.paste(Image.fromarray(rgba, "RGBA"), (2, 6))
    draw = ImageDraw.Draw(image)
    span = keys[-1] - keys[0]
    for k in keys:
        y = 6 + int(round((keys[-1] - k) / span * (RAMP_HEIGHT - 1)))
        draw.line([SWATCH + 2, y, SWATCH + 5, y], fill=(0, 0, 0, 255))
        draw.text((SWATCH + 7, max(0, y - 5)), labels.get(f"{k:g}") or f"{k:g}", fill=(0, 0, 0, 255))
    return image


def _note(layer: Layer, style: Style) -> Image.Image:
    bands = [b.name for b in layer.coverage.bands]
    if style.fragment:
        lines = [f"{layer.name}: style {style.name}"]
    elif len(bands) >= 3:
        lines = [f"red {bands[0]}", f"green {bands[1]}", f"blue {bands[2]}"]
    else:
        lines = [f"grey {bands[0]} (0-255)"]
    width = max(60, 7 * max(len(s) for s in lines) + 8)
    image = Image.new("RGBA", (width, 14 * len(lines) + 6), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        draw.text((4, 3 + 14 * i), line, fill=(0, 0, 0, 255))
    return image


def _rgba(c) -> tuple[int, int, int, int]:
    c = [int(v) for v in c]
    if len(c) == 1:
        return c[0], c[0], c[0], 255
    return (c[0], c[1], c[2], c[3] if len(c) == 4 else 255)
