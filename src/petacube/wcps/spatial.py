"""extend, scale (all its forms), crsTransform and clip: parse tree -> IR."""

from __future__ import annotations

import re

from lark import Token, Tree

from petacube.engine import ir
from petacube.errors import InvalidParameterValue
from petacube.wcps.scope import Scope, error_at, resolve, unquote

_GRID_CRS = re.compile(r"^(CRS:1|.*/CRS/1|.*/Index[0-9]+D)$", re.IGNORECASE)


def is_grid_crs(crs: str | None) -> bool:
    """``CRS:1`` and OGC Index CRSs address grid cells rather than geo coordinates."""
    return crs is not None and bool(_GRID_CRS.match(crs.strip()))


def extend(translator, tree: Tree, scope: Scope) -> ir.Extend:
    source, axes_tree = tree.children
    axes = translator.axis_list(axes_tree, scope)
    for axis, item in zip(axes, axes_tree.children):
        if axis.is_slice:
            raise error_at(item, f"extend() needs an interval lo:hi on axis {axis.axis}")
    return ir.Extend(translator.expr(source, scope), axes)


def _cells(axis: ir.AxisSubset) -> ir.Expr:
    """Number of cells of a grid interval lo:hi (both ends included)."""
    lo, hi = axis.lo, axis.hi
    if isinstance(lo, ir.Scalar) and isinstance(hi, ir.Scalar) and isinstance(lo.value, int) and isinstance(hi.value, int):
        return ir.Scalar(hi.value - lo.value + 1)
    return ir.Binary("+", ir.Binary("-", hi, lo), ir.Scalar(1))


def _like_domain(source: ir.Expr, domain: ir.Metadata) -> ir.Scale:
    """scale(e, imageCrsDomain($d)) / domain($d): the target domain is $d's (``like``);
    with an axis, that axis only: grid sizes from imageCrsDomain, a geo extent from domain."""
    if domain.axis is None:
        return ir.Scale(source, like=domain.source)
    lo = ir.Metadata(domain.function, domain.source, domain.axis, domain.crs, "lo")
    hi = ir.Metadata(domain.function, domain.source, domain.axis, domain.crs, "hi")
    if domain.function == "imageCrsDomain":
        return ir.Scale(source, sizes=((domain.axis, _cells(ir.AxisSubset(domain.axis, lo=lo, hi=hi))),))
    return ir.Scale(source, extents=((domain.axis, lo, hi),))


def _is_domain(expr: ir.Expr) -> bool:
    return isinstance(expr, ir.Metadata) and expr.part is None and expr.function in ("domain", "imageCrsDomain")


def scale_by_expression(translator, tree: Tree, scope: Scope) -> ir.Scale:
    """``scale(e, 2)`` (one factor for all axes) or ``scale(e, imageCrsDomain($d))``."""
    source_tree, spec_tree = tree.children
    source, spec = translator.expr(source_tree, scope), translator.expr(spec_tree, scope)
    if _is_domain(spec):
        return _like_domain(source, spec)
    if isinstance(spec, (ir.RangeConstructor, ir.Encode)):
        raise error_at(spec_tree, "scale() needs a factor, {axis(...)} list or imageCrsDomain(...)")
    return ir.Scale(source, factor=spec)


def scale_by_axes(translator, tree: Tree, scope: Scope) -> ir.Scale:
    """``scale(e, {...})``: per-axis factors E(0.5), grid sizes E:"CRS:1"(0:99) or geo extents E(a:b)."""
    source_tree, axes_tree = tree.children
    source = translator.expr(source_tree, scope)
    items = axes_tree.children
    if len(items) == 1 and items[0].data == "axis_slice" and str(items[0].children[0]).lower() in ("imagecrsdomain", "domain"):
        # scale(e, {imageCrsDomain($d)}) reads as an axis named imageCrsDomain sliced at $d
        name = str(items[0].children[0])
        target = translator.expr(items[0].children[-1], scope)
        return _like_domain(source, ir.Metadata("imageCrsDomain" if name.lower() == "imagecrsdomain" else "domain", target))
    axes = translator.axis_list(axes_tree, scope)
    if all(a.is_slice for a in axes):
        for axis, item in zip(axes, items):
            if axis.crs is not None:
                raise error_at(item, f"a scale factor takes no CRS (axis {axis.axis})")
        return ir.Scale(source, axis_factors=tuple((a.axis, a.at) for a in axes))
    if any(a.is_slice for a in axes):
        raise error_at(axes_tree, "scale() takes either factors E(f) or intervals E(lo:hi) on all axes, not both")
    grid = [is_grid_crs(a.crs) for a in axes]
    if all(grid):
        return ir.Scale(source, sizes=tuple((a.axis, _cells(a)) for a in axes))
    if any(grid):
        raise error_at(axes_tree, 'scale() takes either grid intervals (CRS:1) or geo intervals on all axes, not both')
    for axis, item in zip(axes, items):
        if axis.crs is not None:
            raise error_at(item, f"scale() to a geo extent in CRS {axis.crs!r} is not supported; "
                           "give the extent in the coverage's CRS", InvalidParameterValue)
    return ir.Scale(source, extents=tuple((a.axis, a.lo, a.hi) for a in axes))


def scale_by_list(translator, tree: Tree, scope: Scope) -> ir.Scale:
    """rasdaman's ``scaleaxes(e, [E(2)])``, ``scalesize(e, [E(100)])``, ``scaleextent(e, [E(a:b)])``."""
    keyword, source_tree, axes_tree = tree.children
    kind = str(keyword).lower()
    source = translator.expr(source_tree, scope)
    axes = translator.axis_list(axes_tree, scope)
    for axis, item in zip(axes, axes_tree.children):
        if axis.crs is not None:
            raise error_at(item, f"{kind}() takes no CRS (axis {axis.axis})")
        if (kind == "scaleextent") == axis.is_slice:
            form = "an interval E(lo:hi)" if kind == "scaleextent" else "a single value E(v)"
            raise error_at(item, f"{kind}() needs {form} on axis {axis.axis}")
    if kind == "scaleaxes":
        # factors as written, as for scale(e, {E(f)}): the same operation in rasdaman
        return ir.Scale(source, axis_factors=tuple((a.axis, a.at) for a in axes))
    if kind == "scalesize":
        return ir.Scale(source, sizes=tuple((a.axis, a.at) for a in axes))
    return ir.Scale(source, extents=tuple((a.axis, a.lo, a.hi) for a in axes))


def crs_transform(translator, tree: Tree, scope: Scope) -> ir.CrsTransform:
    """``crsTransform(e, {E:"crs", N:"crs"} | "crs" [, {method}] [, {E:res, ...}] [, {E(a:b), ...}])``."""
    source_tree, target_tree, *options = tree.children
    source = translator.expr(source_tree, scope)
    if target_tree.data == "crs_single":
        target = unquote(target_tree.children[0])
    else:
        crss = {}
        for pair in target_tree.children:
            axis, crs = pair.children
            crss.setdefault(unquote(crs), axis)
        if len(crss) > 1:
            listed = ", ".join(f"{axis}:{crs!r}" for crs, axis in crss.items())
            raise error_at(target_tree, f"crsTransform() needs one target CRS for all axes, got {listed}",
                           InvalidParameterValue)
        target = next(iter(crss))
    method, resolutions, bbox = "near", (), ()
    seen: set[str] = set()
    for option in options:
        kind = {"ct_empty": "method", "ct_method": "method", "ct_resolutions": "resolutions", "ct_bbox": "bbox"}[option.data]
        if kind in seen:
            raise error_at(option, f"crsTransform() got a second {kind} list")
        seen.add(kind)
        if option.data == "ct_method":
            method = str(option.children[0]).lower()
        elif option.data == "ct_resolutions":
            resolutions = tuple((str(r.children[0]), translator.expr(r.children[1], scope)) for r in option.children)
        elif option.data == "ct_bbox":
            bbox = translator.axis_list(option.children[0], scope)
            for axis, item in zip(bbox, option.children[0].children):
                if axis.is_slice:
                    raise error_at(item, f"the crsTransform() bounding box needs lo:hi on axis {axis.axis}")
    return ir.CrsTransform(source, target, method, resolutions, bbox)


def clip(translator, tree: Tree, scope: Scope) -> ir.Clip:
    """``clip(e, WKT [, "crs"]) [with coordinates]``; the WKT may be a let alias."""
    source_tree, shape, *rest = tree.children
    crs, with_coordinates = None, False
    for item in rest:
        if isinstance(item, Token):
            crs = unquote(item)
        else:
            with_coordinates = True
    if shape.data == "var":
        wkt = _wkt_alias(scope, shape)
    elif shape.data == "wkt_string":
        wkt = unquote(shape.children[0]).strip()
    else:
        wkt = translator.wkt(shape)
    return ir.Clip(translator.expr(source_tree, scope), wkt, crs, with_coordinates)


def _wkt_alias(scope: Scope, var: Tree) -> str:
    """A let alias naming a geometry: ``let $p := POLYGON(...)`` or ``let $p := "POLYGON(...)"``."""
    binding = scope.lookup(var.children[0].lstrip("$"))
    if binding is not None and binding.kind == "expr" and isinstance(binding.value, ir.Scalar) \
            and isinstance(binding.value.value, str):
        return binding.value.value.strip()
    return resolve(scope, var, "wkt")
