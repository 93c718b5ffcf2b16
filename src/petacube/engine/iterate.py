"""Iterator constructs: the general condenser and coverage constructors.

Iterator variables range over whole numbers (grid coordinates), as in WCPS. A constructor
whose ``values`` only does cell arithmetic on its iterators is evaluated in one vectorised
pass (the iterators become coordinate arrays); anything else (aggregates, subsets at the
iterator position, condensers inside) is evaluated once per iteration point and combined
lazily, which suits the typical "condense over time" query.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import numpy as np
import xarray as xr

from petacube.engine import ir
from petacube.engine.common_subexpressions import children
from petacube.engine.values import CoverageValue, is_coverage, scalar_of
from petacube.errors import WcpsError
from petacube.model import Band, Coverage, Crs, RegularAxis

MAX_ITERATIONS = 100_000  # per-point evaluation beyond this is refused (vectorise or subset)

_CONDENSE_OPS = {
    "+": np.add, "add": np.add, "*": np.multiply, "mult": np.multiply, "min": np.minimum, "max": np.maximum,
    "and": np.logical_and, "or": np.logical_or,
}


def iterator_ranges(ev, iterators: tuple[ir.AxisIterator, ...]) -> list[tuple[str, str, int, int]]:
    """(variable, axis label, lo, hi) with the bounds evaluated to whole numbers."""
    out = []
    for it in iterators:
        if it.domain_of is not None:
            dom = ev.eval(it.domain_of)
            if isinstance(dom, list):
                if len(dom) != 1:
                    raise WcpsError(f"iterator ${it.variable}: the domain expression gives {len(dom)} axes; name one axis")
                dom = dom[0]
            if not isinstance(dom, dict):
                raise WcpsError(f"iterator ${it.variable}: the domain expression does not give an interval")
            lo, hi = dom["lo"], dom["hi"]
        else:
            lo, hi = scalar_of(ev.eval(it.lo)), scalar_of(ev.eval(it.hi))
        try:
            a, b = int(round(float(lo))), int(round(float(hi)))
        except (TypeError, ValueError):
            raise WcpsError(f"iterator ${it.variable} over {it.axis}: bounds {lo!r}:{hi!r} are not numbers") from None
        if b < a:
            raise WcpsError(f"iterator ${it.variable} over {it.axis}: the upper bound {b} is below the lower {a}")
        out.append((it.variable, it.axis, a, b))
    return out


def points(ranges) -> Iterator[dict[str, int]]:
    total = int(np.prod([hi - lo + 1 for _, _, lo, hi in ranges]))
    if total > MAX_ITERATIONS:
        raise WcpsError(
            f"the iterators span {total} points; at most {MAX_ITERATIONS} are evaluated one by one. "
            "Use cell-wise arithmetic on the iterators (evaluated at once) or a smaller domain"
        )
    for combo in itertools.product(*(range(lo, hi + 1) for _, _, lo, hi in ranges)):
        yield {var: k for (var, _, _, _), k in zip(ranges, combo)}


def condense(ev, e: ir.Condense):
    """``condense op over ... [where ...] using ...``: combine the using-values of all points."""
    fn = _CONDENSE_OPS.get(e.op.lower() if isinstance(e.op, str) else e.op)
    if fn is None:
        raise WcpsError(f"condense: unknown operation '{e.op}'; use one of + * min max and or")
    ranges = iterator_ranges(ev, e.iterators)
    acc = None
    for point in points(ranges):
        with ev.bound(point):
            if e.where is not None and not bool(scalar_of(_computed(ev.eval(e.where)))):
                continue
            value = ev.eval(e.using)
        acc = value if acc is None else _reduce(fn, acc, value)
    if acc is None:
        raise WcpsError("condense: no iteration point satisfies the where clause")
    return acc


def construct(ev, e: ir.CoverageConstructor) -> CoverageValue:
    """``coverage name over $x x(a:b), ... values expr | value list <...>``."""
    ranges = iterator_ranges(ev, e.iterators)
    shape = tuple(hi - lo + 1 for _, _, lo, hi in ranges)
    labels = tuple(axis for _, axis, _, _ in ranges)
    if e.value_list is not None:
        values = [scalar_of(ev.eval(v)) for v in e.value_list]
        if len(values) != int(np.prod(shape)):
            raise WcpsError(f"coverage {e.name}: the value list has {len(values)} values but the domain has {int(np.prod(shape))} cells")
        data = xr.DataArray(np.asarray(values).reshape(shape), dims=labels)
    elif _vectorisable(e.values, {var for var, *_ in ranges}):
        arrays = {var: xr.DataArray(np.arange(lo, hi + 1), dims=[axis]) for var, axis, lo, hi in ranges}
        with ev.bound(arrays):
            out = ev.eval(e.values)
        data = out.single() if is_coverage(out) else out
        if not isinstance(data, xr.DataArray):
            data = xr.DataArray(np.full(shape, data), dims=labels)
        data = data.broadcast_like(xr.DataArray(np.zeros(shape), dims=labels)).transpose(*labels)
    else:
        cells = []
        for point in points(ranges):
            with ev.bound(point):
                v = _computed(ev.eval(e.values))
            if is_coverage(v):
                raise WcpsError(f"coverage {e.name}: values must be a scalar per cell; this expression gives a coverage")
            cells.append(scalar_of(v))
        data = xr.DataArray(np.asarray(cells).reshape(shape), dims=labels)
    return index_coverage(e.name, data, [(axis, lo) for _, axis, lo, _ in ranges])


def index_coverage(name: str, data: xr.DataArray, axes: list[tuple[str, int]]) -> CoverageValue:
    """A grid-only coverage (Index CRS with the iterators' axis names)."""
    labels = [a for a, _ in axes]
    crs = Crs.parse(f"OGC/0/Index{len(labels)}D?axis-label=" + ",".join(f'"{a}"' for a in labels))
    model_axes = tuple(RegularAxis(a, crs.axis(a), float(lo), 1.0, int(data.sizes[a])) for a, lo in axes)
    coords = {a: np.arange(lo, lo + data.sizes[a]) for a, lo in axes}
    data = data.assign_coords(coords)
    dtype = data.dtype if data.dtype != bool else np.dtype("uint8")
    cov = Coverage(name, crs, model_axes, (Band(name, dtype.name),))
    return CoverageValue(xr.Dataset({name: data.astype(dtype)}), cov)


def _vectorisable(e: ir.Expr, variables: set[str]) -> bool:
    """True when ``e`` uses the iterators only in cell-wise arithmetic."""
    if isinstance(e, (ir.Aggregate, ir.Condense, ir.CoverageConstructor, ir.Subset, ir.FunctionCall)):
        return not _mentions(e, variables)
    if isinstance(e, (ir.Scalar, ir.IteratorVar, ir.CoverageRef)):
        return True
    return all(_vectorisable(c, variables) for c in children(e))


def _mentions(e, variables: set[str]) -> bool:
    if isinstance(e, ir.IteratorVar):
        return e.name in variables
    return any(_mentions(c, variables) for c in children(e))


def _reduce(fn, acc, value):
    if is_coverage(acc) or is_coverage(value):
        from petacube.engine.cellwise import combine

        return combine(acc, value, fn, "condense")
    return fn(acc, value)


def _computed(v):
    return v.compute() if hasattr(v, "compute") and not is_coverage(v) else v
