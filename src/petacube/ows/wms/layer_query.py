"""One layer of a map as an engine query, built the way petascope builds its rasql:

``encode(style($c), "png", {"nodata": ..., "colorMap": ...})`` where ``$c`` is
``crsTransform(scale?(L[x(..), y(..), dims]), CRS, {bbox}, {resolution})``:

1. the request box is carried into the layer's CRS and the layer is trimmed to it (with two
   cells of margin for the resampling kernel), so only the tiles under the map are read;
2. the other axes are sliced at the requested values; several values (a range or list) are
   combined with ``overlay``, the latest on top where it is not null (or 0), as rasdaman does;
3. when the trimmed region has more than twice the map's cells, ``scale`` brings it down
   first (the engine reads the coarsest pyramid level that suffices);
4. ``crsTransform`` puts it on exactly the map's grid (any EPSG CRS; cells outside the
   layer are null);
5. the style's WCPS fragment is applied on that grid (other layers it names are built the
   same way, so they line up); an axis the fragment names itself (a condenser over time)
   is left whole in ``$c`` and the request's value applied to the fragment's result;
6. the encoder makes a pixel transparent where every band holds the layer's null value and
   applies the style's colour map (see `_picture`).
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass

from petacube.engine import ir
from petacube.engine.run import run_query
from petacube.errors import PetacubeError
from petacube.model import Crs
from petacube.ows.wms.dimensions import MAX_SLICES, selections
from petacube.ows.wms.errors import InvalidDimensionValue, StyleNotDefined
from petacube.ows.wms.kvp import RequestCrs
from petacube.ows.wms.layers import Layer, transform_bounds
from petacube.ows.wms.styles import Style, translate_fragment

MARGIN_CELLS = 2
OVERSAMPLE = 2  # scale() down to this many cells per map pixel before reprojecting


@dataclass(frozen=True)
class MapGrid:
    """The picture asked for: CRS, box (x/y order in that CRS), size, resampling."""

    crs: RequestCrs
    bbox: tuple[float, float, float, float]
    width: int
    height: int
    method: str = "near"

    @property
    def target_labels(self) -> tuple[str, str]:
        comp = Crs.parse(self.crs.ir_name).components[0]
        kinds = {a.kind: a.label for a in comp.axes}
        return kinds["x"], kinds["y"]


@dataclass
class LayerQuery:
    """A layer's encoded picture as an IR query, or None when the map misses the layer."""

    expr: ir.Expr | None
    inside: bool  # the map lies within the layer's extent (no cells outside it)
    has_nulls: bool  # the layer's bands declare null values (so outside cells come out null)


def layer_source(layer: Layer, grid: MapGrid, dims: dict[str, str],
                 keep_whole: set[str] = frozenset()) -> tuple[list[ir.Expr], bool]:
    """``$c`` for ``layer`` on the map grid (steps 1-4) as one part per selected slice
    (ascending, so the last is the latest; none when the map misses the layer), and
    whether the map lies inside the layer."""
    native = transform_bounds(grid.crs.code, layer.epsg, grid.bbox)
    lx0, ly0, lx1, ly1 = layer.bounds
    x0, y0, x1, y1 = max(native[0], lx0), max(native[1], ly0), min(native[2], lx1), min(native[3], ly1)
    if not (x0 < x1 and y0 < y1):
        return [], False
    inside = native[0] >= lx0 and native[1] >= ly0 and native[2] <= lx1 and native[3] <= ly1
    rx, ry = abs(layer.x.resolution), abs(layer.y.resolution)
    x0, x1 = max(lx0, x0 - MARGIN_CELLS * rx), min(lx1, x1 + MARGIN_CELLS * rx)
    y0, y1 = max(ly0, y0 - MARGIN_CELLS * ry), min(ly1, y1 + MARGIN_CELLS * ry)
    trims = (ir.AxisSubset(layer.x.label, lo=ir.Scalar(x0), hi=ir.Scalar(x1)),
             ir.AxisSubset(layer.y.label, lo=ir.Scalar(y0), hi=ir.Scalar(y1)))
    scale = _prescale(layer, grid, native, (x0, y0, x1, y1))

    chosen = selections(layer, dims)
    sliced = {label: values for label, values in chosen.items() if label not in keep_whole}
    combos = list(itertools.product(*[[(label, v) for v in values] for label, values in sliced.items()]))
    if len(combos) > MAX_SLICES:
        raise InvalidDimensionValue(f"the dimension values select {len(combos)} slices of layer {layer.name}, "
                                    f"over the limit of {MAX_SLICES}")
    xl, yl = grid.target_labels
    minx, miny, maxx, maxy = grid.bbox
    parts = []
    for combo in combos:
        slices = tuple(ir.AxisSubset(label, at=ir.Scalar(v)) for label, v in combo)
        part: ir.Expr = ir.Subset(ir.CoverageRef(layer.name), trims + slices)
        if scale:
            part = ir.Scale(part, sizes=scale)
        # each slice is put on the map grid on its own: cells outside the layer stay null
        # in every part, so the union of their nulls tells where nothing is drawn
        parts.append(ir.CrsTransform(
            part, grid.crs.ir_name, method=grid.method,
            resolutions=((xl, ir.Scalar((maxx - minx) / grid.width)), (yl, ir.Scalar((maxy - miny) / grid.height))),
            bbox=(ir.AxisSubset(xl, lo=ir.Scalar(minx), hi=ir.Scalar(maxx)),
                  ir.AxisSubset(yl, lo=ir.Scalar(miny), hi=ir.Scalar(maxy)))))
    return parts, inside


def overlay_latest_on_top(parts: list[ir.Expr]) -> ir.Expr:
    """``p_n overlay (p_n-1 overlay (... p_1))``: the latest part wins where it is not null/0."""
    expr = parts[0]
    for part in parts[1:]:
        expr = ir.Binary("overlay", part, expr)
    return expr


def _prescale(layer: Layer, grid: MapGrid, native, region) -> tuple:
    """scale() sizes for x/y when the region has over OVERSAMPLE cells per map pixel."""
    nx = layer.x.trim_indices(region[0], region[2])
    ny = layer.y.trim_indices(region[1], region[3])
    cells_x, cells_y = nx[1] - nx[0] + 1, ny[1] - ny[0] + 1
    # map pixels across the region, measured in the layer's CRS
    px = grid.width * (region[2] - region[0]) / max(native[2] - native[0], 1e-300)
    py = grid.height * (region[3] - region[1]) / max(native[3] - native[1], 1e-300)
    if cells_x <= OVERSAMPLE * px + 2 and cells_y <= OVERSAMPLE * py + 2:
        return ()
    tx = min(cells_x, max(1, math.ceil(OVERSAMPLE * px)))
    ty = min(cells_y, max(1, math.ceil(OVERSAMPLE * py)))
    return ((layer.x.label, ir.Scalar(tx)), (layer.y.label, ir.Scalar(ty)))


def layer_query(cube, layer: Layer, style: Style, grid: MapGrid, dims: dict[str, str], others) -> LayerQuery:
    """The encoded picture of one layer under ``style`` (``others``: name -> Layer for ``$Name``)."""
    has_nulls = any(b.nil_values for b in layer.coverage.bands)
    deferred = {d.label for d in layer.dimensions if style.names_axis(d.label)}
    parts, inside = layer_source(layer, grid, dims, deferred)
    if not parts:
        return LayerQuery(None, False, has_nulls)
    c = overlay_latest_on_top(parts)
    band_names = [b.name for b in layer.coverage.bands]
    if style.fragment:
        bindings = {"c": c}
        for name in style.other_layers():
            other = others.get(name)
            if other is not None:
                other_parts, _ = layer_source(other, grid, dims)
                if not other_parts:  # that layer misses the map: nothing of it to combine with
                    return LayerQuery(None, False, has_nulls)
                bindings[name] = overlay_latest_on_top(other_parts)
        try:
            styled = translate_fragment(style.fragment, bindings)
        except PetacubeError as exc:
            raise StyleNotDefined(f"style {style.name} of layer {layer.name} cannot be applied: {exc.message}",
                                  locator=style.name) from None
    elif style.color_map:
        styled = ir.Field(c, band_names[0])
    else:
        styled = _default_bands(band_names, c)
    if deferred:
        styled = _apply_deferred(cube, layer, styled, dims, deferred)
    return LayerQuery(_picture(layer, style, styled), inside, has_nulls)


def _default_bands(names: list[str], c: ir.Expr) -> ir.Expr:
    if len(names) < 3:
        return ir.Field(c, names[0])
    return ir.RangeConstructor(tuple((n, ir.Field(c, n)) for n in names[:3]))


def _describe(cube, expr: ir.Expr) -> dict:
    """The engine's description of a value (built lazily: nothing is read)."""
    value = run_query(ir.Query((ir.Metadata("describe", expr),)), cube)[0].value
    return json.loads(value) if isinstance(value, str) else dict(value or {})


def _apply_deferred(cube, layer: Layer, styled: ir.Expr, dims, deferred: set[str]) -> ir.Expr:
    """Slice the fragment's result on the axes it kept whole, if it still has them."""
    remaining = {a["axisLabel"] for a in _describe(cube, styled).get("axes", [])}
    chosen = selections(layer, dims)
    keep = sorted(label for label in deferred if label in remaining)
    if not keep:
        return styled
    combos = list(itertools.product(*[[(label, v) for v in chosen[label]] for label in keep]))
    parts = [ir.Subset(styled, tuple(ir.AxisSubset(label, at=ir.Scalar(v)) for label, v in combo)) for combo in combos]
    return overlay_latest_on_top(parts)


def _picture(layer: Layer, style: Style, styled: ir.Expr) -> ir.Expr:
    """Step 6: encode as PNG; a pixel is transparent where every band holds the layer's null
    value (the engine writes it into null cells, crsTransform into cells outside the layer),
    as rasdaman's WMS encodes with the layer's nodata. The mask is not a second expression
    over ``$c``: the engine would evaluate ``$c`` (its reprojection) once more for it."""
    options: dict = {"nodata": _null_value(layer)}
    color_map = style.encode_color_map()
    if color_map is not None:
        options["colorMap"] = color_map
    return ir.Encode(styled, "image/png", options)


def _null_value(layer: Layer):
    for band in layer.coverage.bands:
        for nv in band.nil_values:
            if not nv.is_interval:
                return "NaN" if math.isnan(nv.low) else nv.low
    return "NaN"  # matches no integer, so nothing is transparent by value
