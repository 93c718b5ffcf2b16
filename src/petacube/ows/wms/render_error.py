"""EXCEPTIONS=INIMAGE and BLANK (WMS 1.3.0 §7.3.3.11): a GetMap error answered with an image
of the requested size and format — the message drawn on it, or nothing."""

from __future__ import annotations

import textwrap

from PIL import ImageDraw

from petacube.errors import PetacubeError
from petacube.ows.protocol import OwsRequest, OwsResponse
from petacube.ows.wms import kvp
from petacube.ows.wms.errors import wms_code
from petacube.ows.wms.get_map import background, encode_picture

FALLBACK_SIZE = 256
LIMIT = 4096


def error_image(req: OwsRequest, err: PetacubeError, mode: str) -> OwsResponse:
    width, height = _size(req, "width"), _size(req, "height")
    try:
        fmt = kvp.parse_format(req)
    except PetacubeError:
        fmt = "png"
    try:
        transparent = kvp.parse_bool(req, "transparent")
        bgcolor = kvp.parse_bgcolor(req)
    except PetacubeError:
        transparent, bgcolor = False, (255, 255, 255)
    canvas = background(width, height, transparent, bgcolor)
    if mode == "INIMAGE":
        draw = ImageDraw.Draw(canvas)
        text = f"{wms_code(err)}: {err.message}"
        lines = textwrap.wrap(text, width=max(10, width // 7))
        for i, line in enumerate(lines[: max(1, height // 12)]):
            draw.text((4, 4 + 12 * i), line, fill=(200, 0, 0, 255))
    return OwsResponse(200, kvp.MEDIA_TYPES[fmt], encode_picture(canvas, fmt, transparent, bgcolor, None))


def _size(req: OwsRequest, name: str) -> int:
    try:
        n = int(req.param(name) or FALLBACK_SIZE)
    except ValueError:
        return FALLBACK_SIZE
    return n if 1 <= n <= LIMIT else FALLBACK_SIZE
