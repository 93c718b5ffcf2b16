"""GetMap: each layer is one engine query (see `layer_query`); the layers' pictures are
drawn bottom-up (the first of LAYERS lowest, WMS 1.3.0 §7.3.3.3) over the background.

A single transparent PNG layer is returned as the engine encoded it; otherwise the
pictures are composited here (Pillow) and encoded as PNG, JPEG or GeoTIFF. A map that
misses every layer is blank, as WMS 1.3.0 §7.3.3.6 asks for a box outside a layer."""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image

from petacube.engine import ir
from petacube.engine.run import run_query
from petacube.errors import PetacubeError
from petacube.ows.protocol import OwsRequest, OwsResponse
from petacube.ows.wms import kvp
from petacube.ows.wms.layer_query import MapGrid, layer_query
from petacube.ows.wms.layers import Layer, get_layer, transformer
from petacube.ows.wms.styles import Style, style_for

DEFAULT_MAX_SIZE = 4096


@dataclass
class MapRequest:
    layers: list[Layer]
    styles: list[Style]
    grid: MapGrid
    fmt: str  # png, jpeg, tiff
    transparent: bool
    bgcolor: tuple[int, int, int]
    dims: dict[str, str]
    others: dict[str, Layer]  # layers named by styles ($Name)

    def coverage_ids(self) -> list[str]:
        return sorted({layer.name for layer in self.layers} | set(self.others))

    def stamps(self, cube) -> tuple:
        """What the picture depends on: the layers' catalog stamps and the styles' versions."""
        ids = sorted({layer.name for layer in self.layers} | set(self.others))
        return tuple((i, cube.catalog.stamp(i)) for i in ids) + tuple(s.stamp for s in self.styles)


def max_size(cube) -> int:
    return int(getattr(cube.settings, "wms_max_size", DEFAULT_MAX_SIZE) or DEFAULT_MAX_SIZE)


def parse_get_map(req: OwsRequest, cube) -> MapRequest:
    """Check every parameter (before anything is read)."""
    names = kvp.layer_names(req)
    style_names = kvp.style_names(req, names)
    layers = [get_layer(cube, n) for n in names]
    crs = kvp.map_crs(req)
    bbox = kvp.parse_bbox(req, crs)
    width, height = kvp.parse_size(req, max_size(cube))
    fmt = kvp.parse_format(req)
    grid = MapGrid(crs, bbox, width, height, kvp.parse_interpolation(req))
    styles = [style_for(cube, layer.name, s) for layer, s in zip(layers, style_names)]
    others = {}
    for style in styles:
        for name in style.other_layers():
            try:
                others[name] = get_layer(cube, name, "STYLES")
            except PetacubeError:  # not a layer: one of the fragment's own variables (an iterator)
                continue
    dims = kvp.dimension_params(req)
    from petacube.ows.wms.dimensions import selections

    for layer in layers + list(others.values()):
        selections(layer, dims)  # InvalidDimensionValue before any reading
    return MapRequest(layers, styles, grid, fmt, kvp.parse_bool(req, "transparent"), kvp.parse_bgcolor(req),
                      dims, others)


def render(m: MapRequest, cube) -> OwsResponse:
    """The map as an HTTP response body."""
    pictures: list[tuple[bytes, np.ndarray | None]] = []
    for layer, style in zip(m.layers, m.styles):
        q = layer_query(cube, layer, style, m.grid, m.dims, m.others)
        if q.expr is None:
            continue
        data = run_query(ir.Query((q.expr,)), cube, scheduler=cube.settings.scheduler)[0].data
        outside = None if q.inside or q.has_nulls else footprint_outside(layer, m.grid)
        pictures.append((data, outside))
    if len(m.layers) == 1 and len(pictures) == 1 and m.fmt == "png" and m.transparent and pictures[0][1] is None:
        return OwsResponse(200, "image/png", pictures[0][0], coverage=m.layers[0].name,
                           cells=m.grid.width * m.grid.height)
    canvas = background(m.grid.width, m.grid.height, m.transparent, m.bgcolor)
    for data, outside in pictures:
        image = Image.open(io.BytesIO(data)).convert("RGBA")
        if outside is not None:
            rgba = np.asarray(image).copy()
            rgba[outside, 3] = 0
            image = Image.fromarray(rgba, "RGBA")
        canvas.alpha_composite(image)
    body = encode_picture(canvas, m.fmt, m.transparent, m.bgcolor, m.grid)
    return OwsResponse(200, kvp.MEDIA_TYPES[m.fmt], body, coverage=m.layers[0].name,
                       cells=m.grid.width * m.grid.height * len(m.layers))


def background(width: int, height: int, transparent: bool, bgcolor: tuple[int, int, int]) -> Image.Image:
    return Image.new("RGBA", (width, height), (*bgcolor, 0 if transparent else 255))


def footprint_outside(layer: Layer, grid: MapGrid) -> np.ndarray:
    """Pixels of the map whose centre falls outside the layer (for layers without null
    values, whose outside cells cannot come out of the engine as null)."""
    minx, miny, maxx, maxy = grid.bbox
    xs = minx + (np.arange(grid.width) + 0.5) * (maxx - minx) / grid.width
    ys = maxy - (np.arange(grid.height) + 0.5) * (maxy - miny) / grid.height
    gx, gy = np.meshgrid(xs, ys)
    if grid.crs.code != layer.epsg:
        gx, gy = transformer(grid.crs.code, layer.epsg).transform(gx, gy)
    lx0, ly0, lx1, ly1 = layer.bounds
    return ~((gx >= lx0) & (gx <= lx1) & (gy >= ly0) & (gy <= ly1))


def encode_picture(canvas: Image.Image, fmt: str, transparent: bool, bgcolor, grid: MapGrid | None) -> bytes:
    """PNG (RGBA when transparent), JPEG (on the background colour) or a GeoTIFF."""
    buf = io.BytesIO()
    if fmt == "png":
        image = canvas if transparent else canvas.convert("RGB")
        image.save(buf, format="PNG", compress_level=2)
        return buf.getvalue()
    if fmt == "jpeg":
        flat = Image.new("RGB", canvas.size, bgcolor)
        flat.paste(canvas, mask=canvas.getchannel("A"))
        flat.save(buf, format="JPEG", quality=85)
        return buf.getvalue()
    return _geotiff(np.asarray(canvas if transparent else canvas.convert("RGB")), grid)


def _geotiff(pixels: np.ndarray, grid: MapGrid | None) -> bytes:
    from rasterio.io import MemoryFile
    from rasterio.transform import from_bounds

    height, width, bands = pixels.shape
    profile = {"driver": "GTiff", "width": width, "height": height, "count": bands, "dtype": "uint8",
               "compress": "deflate"}
    if grid is not None:
        profile["crs"] = f"EPSG:{grid.crs.code}"
        profile["transform"] = from_bounds(*grid.bbox, width, height)
    if bands == 4:
        profile["photometric"] = "RGB"
    with MemoryFile() as mem:
        with mem.open(**profile) as dst:
            dst.write(np.moveaxis(pixels, -1, 0))
            if bands == 4:
                from rasterio.enums import ColorInterp

                dst.colorinterp = [ColorInterp.red, ColorInterp.green, ColorInterp.blue, ColorInterp.alpha]
        return mem.read()
