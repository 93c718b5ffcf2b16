"""Array results and rasql's array operations on the engine.

WCPS must encode a coverage result; rasql hands arrays back as they are (``select c from
mr as c``). `run_arrays` evaluates a `Query` like `run_query` (same evaluator, time limit,
result-size limit, executors) but returns computed arrays for unencoded coverage results.

It also evaluates three IR nodes WCPS does not have, defined here so the core IR stays as
it is: `Sdom` (an array's spatial domain in rasdaman's grid order and absolute indices),
`Shift` (move an array's domain) and `Concat` (join arrays along an axis).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace

import numpy as np
import xarray as xr

from petacube.engine import ir
from petacube.engine.evaluate import Evaluator
from petacube.engine.run import LIMITS, Limits, Result, compute, encode, writable
from petacube.engine.values import CoverageValue, EncodeRequest, is_coverage, scalar_of
from petacube.errors import ResultTooLarge, WcpsError
from petacube.model import IrregularAxis, RegularAxis

RAW = "__raw_array__"  # Decoded.options of a bare $n: an uploaded array, not an encoded file


# ---- IR nodes --------------------------------------------------------------------------
@dataclass(frozen=True)
class Sdom(ir.Expr):
    """``sdom(e)``, ``sdom(e)[k]``, ``sdom(e)[k].lo``: axis ``k`` counts in rasdaman's grid order."""

    source: ir.Expr
    axis: int | None = None
    part: str | None = None  # "lo" | "hi" | None


@dataclass(frozen=True)
class Shift(ir.Expr):
    """``shift(e, [d0, d1, ...])``: the same cells at indices moved by the offsets."""

    source: ir.Expr
    offsets: tuple[ir.Expr, ...]


@dataclass(frozen=True)
class Concat(ir.Expr):
    """``concat a with b ... along k``: the operands side by side along axis ``k``."""

    operands: tuple[ir.Expr, ...]
    axis: int


@dataclass(frozen=True)
class Interval:
    """A computed spatial domain: (lo, hi) per axis, rasdaman's grid order."""

    bounds: tuple[tuple[int, int], ...]

    def __str__(self) -> str:
        return "[" + ",".join(f"{lo}:{hi}" for lo, hi in self.bounds) + "]"


@dataclass
class ArrayResult:
    """An unencoded array result: the computed value (rasdaman's axis order in ``dims``)."""

    data: xr.Dataset
    dims: tuple[str, ...]
    domain: Interval


# ---- evaluation ---------------------------------------------------------------------------
def rasdaman_dims(value: CoverageValue) -> tuple[str, ...]:
    """The value's remaining axes in rasdaman's grid order (x before y for geo data)."""
    return tuple(d for d in value.coverage.rasdaman_grid_order() if d not in value.sliced)


def domain_of(cube, value: CoverageValue) -> Interval:
    """Absolute grid indices of a value: index axes by their coordinates, other axes
    counted from the stored coverage's grid origin (0 for a value not read from storage)."""
    from petacube.errors import NoSuchCoverage

    try:
        full = cube.describe(value.coverage.id)
    except NoSuchCoverage:  # a computed value (marray, decode) has no stored coverage
        full = None
    out = []
    for label in rasdaman_dims(value):
        axis = value.coverage.axis(label)
        if isinstance(axis, RegularAxis) and axis.is_index:
            lo = round(axis.lower)
        elif full is not None and label in full.dims:
            lo = _offset(full.axis(label), axis)
        else:
            lo = 0
        out.append((lo, lo + axis.size - 1))
    return Interval(tuple(out))


def _offset(full, part) -> int:
    if isinstance(full, IrregularAxis):
        return full.coefficients.index(part.coefficients[0]) if part.size else 0
    return round((part.origin - full.origin) / full.resolution) if full.resolution else 0


class ArrayEvaluator(Evaluator):
    """The engine's evaluator with rasql's sdom, shift and concat, and positional
    parameters given as ready arrays (``raw_arrays``: position -> CoverageValue)."""

    def __init__(self, cube, uploads=None, raw_arrays: dict | None = None):
        super().__init__(cube, uploads)
        self.raw_arrays = dict(raw_arrays or {})

    def _eval_Decoded(self, e: ir.Decoded):
        if e.position in self.raw_arrays and e.options == RAW:
            return self.raw_arrays[e.position]
        if e.options == RAW:
            raise WcpsError(f"${e.position} is not a raw array upload; wrap an encoded file in decode(${e.position})")
        return super()._eval_Decoded(e)

    def _eval_Sdom(self, e: Sdom):
        v = self._coverage(self.eval(e.source), "sdom()")
        dom = domain_of(self.cube, v)
        if e.axis is None:
            return dom
        if not 0 <= e.axis < len(dom.bounds):
            raise WcpsError(f"sdom(...)[{e.axis}]: the array has {len(dom.bounds)} axes (0..{len(dom.bounds) - 1})")
        lo, hi = dom.bounds[e.axis]
        if e.part == "lo":
            return lo
        if e.part == "hi":
            return hi
        return Interval(((lo, hi),))

    def _eval_Shift(self, e: Shift) -> CoverageValue:
        v = self._coverage(self.eval(e.source), "shift()")
        dims = rasdaman_dims(v)
        if len(e.offsets) != len(dims):
            raise WcpsError(f"shift: the point has {len(e.offsets)} coordinates but the array has {len(dims)} axes")
        cov = v.coverage
        data = v.data
        for label, off in zip(dims, e.offsets):
            k = scalar_of(self.eval(off))
            if not isinstance(k, (int, np.integer)) or isinstance(k, bool):
                raise WcpsError(f"shift: offset {k!r} along axis {label} is not a whole number")
            axis = cov.axis(label)
            if not (isinstance(axis, RegularAxis) and axis.is_index):
                raise WcpsError(f"shift: axis {label} is a geo axis; only arrays on index (grid) axes can be shifted")
            cov = cov.with_axis(replace(axis, lower=axis.lower + int(k)))
            if label in data.coords:
                data = data.assign_coords({label: data[label].values + int(k)})
        return CoverageValue(data, cov, v.sliced)

    def _eval_Concat(self, e: Concat) -> CoverageValue:
        values = [self._coverage(self.eval(x), "concat") for x in e.operands]
        first = values[0]
        dims = rasdaman_dims(first)
        if not 0 <= e.axis < len(dims):
            raise WcpsError(f"concat along {e.axis}: the arrays have {len(dims)} axes (0..{len(dims) - 1})")
        label = dims[e.axis]
        parts = [first.data]
        for v in values[1:]:
            if rasdaman_dims(v) != dims or v.band_names != first.band_names:
                raise WcpsError("concat: every operand needs the same axes and cell type as the first")
            other = {d: first.data.sizes[d] for d in dims if d != label}
            if any(v.data.sizes[d] != n for d, n in other.items()):
                raise WcpsError(f"concat: the operands' extents differ on axes other than {label}: "
                                f"{dict(first.data.sizes)} vs {dict(v.data.sizes)}")
            prev = parts[-1]
            start = prev[label].values[-1] + 1 if label in prev.coords else sum(p.sizes[label] for p in parts)
            shifted = v.data.drop_vars([label], errors="ignore")
            shifted = shifted.assign_coords({label: np.arange(start, start + v.data.sizes[label])})
            keep = {d: prev[d] for d in prev.dims if d != label and d in prev.coords}
            parts.append(shifted.assign_coords(keep))
        data = xr.concat(parts, dim=label, combine_attrs="override")
        axis = first.coverage.axis(label)
        if not (isinstance(axis, RegularAxis) and axis.is_index):
            raise WcpsError(f"concat: axis {label} is a geo axis; concatenate arrays on index (grid) axes")
        cov = first.coverage.with_axis(replace(axis, size=int(data.sizes[label])))
        for name in data.data_vars:
            data[name].attrs = dict(first.data[name].attrs)
        return CoverageValue(data, cov, first.sliced)


def run_arrays(query: ir.Query, cube, *, uploads: list[bytes] | None = None, arrays: dict | None = None,
               max_result_bytes: int | None = None, scheduler: str | None = None, timeout: float | None = None,
               cancel: threading.Event | None = None) -> list:
    """Evaluate ``query``: each result is a `Result` (encoded bytes or a scalar), an
    `ArrayResult` or an `Interval`. ``arrays`` gives ready values for positional
    parameters (rasql's raw uploads with --mddtype/--mdddomain)."""
    evaluator = ArrayEvaluator(cube, uploads, arrays)
    limit = max_result_bytes if max_result_bytes is not None else cube.settings.max_result_bytes
    seconds = timeout if timeout is not None else cube.settings.query_timeout
    token = LIMITS.set(Limits(time.monotonic() + seconds, cancel))
    try:
        out = []
        wheres = query.where or (None,) * len(query.results)
        for expr, where in zip(query.results, wheres):
            if where is not None and not bool(compute(scalar_of(evaluator.eval(where)), scheduler)):
                continue
            value = evaluator.eval(expr)
            if isinstance(value, EncodeRequest):
                out.append(encode(value.value, value.format, value.options, limit, scheduler))
            elif is_coverage(value):
                out.append(_array(cube, value, limit, scheduler))
            elif isinstance(value, Interval):
                out.append(value)
            elif isinstance(value, dict):
                out.append(Result(value={k: _scalar(compute(v, scheduler)) for k, v in value.items()}))
            else:
                out.append(Result(value=_scalar(compute(value, scheduler))))
        return out
    finally:
        LIMITS.reset(token)


def _array(cube, value: CoverageValue, limit: int, scheduler: str | None):
    if not rasdaman_dims(value):  # every axis sliced away: a cell, i.e. a scalar (or struct)
        ds = compute(value.data, scheduler)
        cells = {n: _scalar(ds[n].values) for n in ds.data_vars}
        return Result(value=next(iter(cells.values())) if len(cells) == 1 else cells)
    size = sum(int(np.prod(v.shape)) * v.dtype.itemsize for v in value.data.data_vars.values())
    if limit and size > limit:
        raise ResultTooLarge(f"the result would be {size / 2**20:.1f} MiB, over the limit of {limit / 2**20:.0f} MiB; "
                             "subset or scale it down")
    dims = rasdaman_dims(value)
    ds = writable(compute(value.data, scheduler))
    ds = ds.transpose(*dims)
    return ArrayResult(ds, dims, domain_of(cube, value))


def _scalar(value):
    """A computed 0-d value as a numpy scalar (its type decides how rasql prints it)."""
    if isinstance(value, xr.DataArray):
        value = value.values
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return value[()]
    return value
