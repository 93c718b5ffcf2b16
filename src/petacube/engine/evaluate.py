"""Evaluating IR expressions into lazy coverage values (xarray over dask).

The plan is implicit in how values are built: a subset of a stored coverage becomes a
dask array over exactly the tiles of its region (the subset is pushed down to the read),
chains of cell-wise operations become one kernel per block (`petacube.engine.fusion`),
and condensers reduce each block in the task that computes it
(`petacube.engine.fused_aggregate`), so memory stays bounded by a few blocks per core.

Null semantics (as rasql): a cell is null when it matches a null value of its band;
nulls propagate through cell operations, condensers skip them.
"""

from __future__ import annotations

import operator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import numpy as np
import pyproj
import xarray as xr

from petacube.engine import geometry, ir, iterate, udf
from petacube.engine.cell_functions import Astype, IsNull, OverlayCells, where_cells
from petacube.engine.fused_aggregate import aggregate as fused_aggregate
from petacube.engine.fusion import Fuser
from petacube.engine.nulls import combine_nulls, null_mask, nulls_of, set_nulls
from petacube.engine.values import (
    CoverageValue,
    EncodeRequest,
    coverage_from_dataset,
    is_coverage,
    scalar_of,
)
from petacube.errors import (
    InvalidAxisLabel,
    InvalidParameterValue,
    InvalidSubsetting,
    NoSuchField,
    WcpsError,
)
from petacube.model import Crs

CAST_TYPES = {
    "char": "int8", "unsigned char": "uint8", "short": "int16", "unsigned short": "uint16",
    "int": "int32", "unsigned int": "uint32", "long": "int64", "unsigned long": "uint64",
    "float": "float32", "double": "float64", "boolean": "bool", "bool": "bool",
    "complex": "complex64", "complex2": "complex128",
}

_UNARY = {
    "neg": operator.neg, "pos": operator.pos, "abs": np.abs, "sqrt": np.sqrt, "exp": np.exp,
    "log": np.log10, "ln": np.log, "sin": np.sin, "cos": np.cos, "tan": np.tan, "sinh": np.sinh,
    "cosh": np.cosh, "tanh": np.tanh, "arcsin": np.arcsin, "arccos": np.arccos, "arctan": np.arctan,
    "round": np.round, "floor": np.floor, "ceil": np.ceil, "sign": np.sign, "re": np.real, "im": np.imag,
}
_FLOAT_UNARY = {"sqrt", "exp", "log", "ln", "sin", "cos", "tan", "sinh", "cosh", "tanh", "arcsin", "arccos", "arctan"}
_COMPARE = {"=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
_ARITH = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv, "pow": np.power,
          "min": np.minimum, "max": np.maximum, "mod": np.fmod, "div": np.floor_divide, "arctan2": np.arctan2}
_LOGIC = {"and": np.logical_and, "or": np.logical_or, "xor": np.logical_xor}


class Evaluator:
    """Evaluates IR against a `Datacube` (and uploaded files for ``decode($n)``)."""

    def __init__(self, cube, uploads: list[bytes] | None = None, *, fuse: bool = True):
        self.cube = cube
        self.uploads = uploads or []
        self.bindings: dict[str, Any] = {}  # iterator variables -> grid coordinate(s)
        self.fuser = Fuser(enabled=fuse)  # cell-wise chains evaluated as one kernel per block

    @contextmanager
    def bound(self, values: dict[str, Any]):
        """Bind iterator variables while evaluating a condenser/constructor body."""
        saved = dict(self.bindings)
        self.bindings.update(values)
        try:
            yield
        finally:
            self.bindings = saved

    # ---- dispatch -------------------------------------------------------------------
    def eval(self, e: ir.Expr) -> Any:
        method = getattr(self, f"_eval_{type(e).__name__}", None)
        if method is None:
            raise WcpsError(f"{_describe(e)} is not supported by this version of petacube yet")
        return method(e)

    # ---- leaves ---------------------------------------------------------------------------
    def _eval_Scalar(self, e: ir.Scalar):
        if e.type:
            return np.dtype(CAST_TYPES.get(e.type, e.type)).type(e.value)
        return e.value

    def _eval_CoverageRef(self, e: ir.CoverageRef) -> CoverageValue:
        cov = self.cube.describe(e.name)
        return self._load(self.cube.region(cov))

    def _eval_Decoded(self, e: ir.Decoded) -> CoverageValue:
        from petacube.encode import decode

        if not 1 <= e.position <= len(self.uploads):
            raise WcpsError(f"decode(${e.position}): {len(self.uploads)} file(s) were given with the query; pass them in order")
        return coverage_from_dataset(decode(self.uploads[e.position - 1], e.options), f"decoded_{e.position}")

    def _load(self, region) -> CoverageValue:
        ds = self.cube.lazy(region)
        for name in ds.data_vars:
            set_nulls(ds[name], region.coverage.band(name).nil_values)
        return CoverageValue(ds, region.coverage, region.sliced)

    # ---- subsets ----------------------------------------------------------------------------
    def _eval_Subset(self, e: ir.Subset) -> CoverageValue:
        if isinstance(e.source, ir.CoverageRef):  # push the subset down to the tile reads
            cov = self.cube.describe(e.source.name)
            geo, grid = self._subset_bounds(cov, frozenset(), e.axes)
            region = self.cube.region(cov, geo)
            region = _apply_grid_subsets(region, grid)
            return self._load(region)
        value = self._coverage(self.eval(e.source), "a subset")
        geo, grid = self._subset_bounds(value.coverage, value.sliced, e.axes)
        region = self.cube.region(value.coverage, geo)
        region = _apply_grid_subsets(region, grid)
        data = value.data
        index = {}
        for axis, (a, b) in zip(value.coverage.axes, region.grid):
            if axis.label in value.sliced:
                continue
            index[axis.label] = a if axis.label in region.sliced else slice(a, b + 1)
        data = data.isel(index)
        return CoverageValue(data, region.coverage, value.sliced | region.sliced)

    def _subset_bounds(self, cov, sliced, axes: tuple[ir.AxisSubset, ...]):
        axes = self._reproject_subsets(cov, axes)
        geo: dict[str, Any] = {}
        grid: dict[str, tuple[int, int, bool]] = {}
        for s in axes:
            if s.axis in sliced:
                raise InvalidSubsetting(f"axis {s.axis} was already sliced away; it cannot be subset again")
            axis = cov.axis(s.axis)  # InvalidAxisLabel with the axes listed
            crs = (s.crs or "").upper()
            if crs == "CRS:1" or "INDEX" in crs or _at_iterator(s):
                if s.is_slice:
                    k = int(self._bound(s.at))
                    grid[s.axis] = (k, k, True)
                else:
                    lo, hi = self._bound(s.lo), self._bound(s.hi)
                    grid[s.axis] = (0 if lo is None else int(lo), axis.size - 1 if hi is None else int(hi), False)
                continue
            if s.is_slice:
                geo[s.axis] = self._bound(s.at)
            else:
                lo, hi = self._bound(s.lo), self._bound(s.hi)
                geo[s.axis] = (axis.lower if lo is None else lo, axis.upper if hi is None else hi)
        return geo, grid

    def _reproject_subsets(self, cov, axes: tuple[ir.AxisSubset, ...]) -> tuple[ir.AxisSubset, ...]:
        """Subsets of the horizontal axes written in another CRS (``E:"EPSG:4326"(..)``):
        transform their bounding box into the coverage's CRS (densified edges, so a
        lon/lat box becomes the projected box that contains it)."""
        foreign = [s for s in axes if s.crs and (s.crs or "").upper() != "CRS:1" and "INDEX" not in s.crs.upper()
                   and s.crs.upper().replace("EPSG/0/", "EPSG:") not in _crs_names(cov, s.axis)]
        if not foreign:
            return axes
        kinds = {s.axis: cov.axis(s.axis).crs_axis.kind for s in foreign}
        by_kind = {kinds[s.axis]: s for s in foreign}
        if set(by_kind) != {"x", "y"} or len(foreign) != 2 or foreign[0].crs != foreign[1].crs:
            raise WcpsError(
                "a subset in another CRS needs both horizontal axes in that same CRS, e.g. "
                'E:"EPSG:4326"(12.1:12.3), N:"EPSG:4326"(41.9:42.0)'
            )
        src = Crs.parse(foreign[0].crs).horizontal
        dst = cov.crs.horizontal
        if src is None or dst is None:
            raise WcpsError(f"subset CRS {foreign[0].crs}: both it and the coverage need a horizontal CRS")
        sx, sy = by_kind["x"], by_kind["y"]
        if sx.is_slice != sy.is_slice:
            raise WcpsError("a subset in another CRS must slice both horizontal axes or trim both")
        transformer = pyproj.Transformer.from_crs(src, dst, always_xy=True)
        if sx.is_slice:
            x, y = transformer.transform(float(self._bound(sx.at)), float(self._bound(sy.at)))
            new = {sx.axis: ir.AxisSubset(sx.axis, at=ir.Scalar(x)), sy.axis: ir.AxisSubset(sy.axis, at=ir.Scalar(y))}
        else:
            bx = [self._bound(sx.lo), self._bound(sx.hi)]
            by = [self._bound(sy.lo), self._bound(sy.hi)]
            if None in bx + by:
                raise WcpsError("a subset in another CRS needs explicit bounds (no *)")
            x0, y0, x1, y1 = transformer.transform_bounds(float(bx[0]), float(by[0]), float(bx[1]), float(by[1]), densify_pts=21)
            new = {sx.axis: ir.AxisSubset(sx.axis, lo=ir.Scalar(x0), hi=ir.Scalar(x1)),
                   sy.axis: ir.AxisSubset(sy.axis, lo=ir.Scalar(y0), hi=ir.Scalar(y1))}
        return tuple(new.get(s.axis, s) for s in axes)

    def _bound(self, e: ir.Expr | None):
        if e is None:
            return None
        if isinstance(e, ir.Scalar) and e.value == ir.STAR:
            return None
        v = scalar_of(self.eval(e))
        if is_coverage(v):
            raise InvalidSubsetting("a subset bound must be a number or a time, not a coverage")
        return v

    # ---- bands --------------------------------------------------------------------------------
    def _eval_Field(self, e: ir.Field) -> CoverageValue:
        value = self._coverage(self.eval(e.source), "band access")
        names = value.band_names
        name = e.name
        if isinstance(name, int) or (isinstance(name, str) and name.isdigit()):
            k = int(name)
            if not 0 <= k < len(names):
                raise NoSuchField(f"band index {k} is out of range: the value has {len(names)} band(s) ({', '.join(names)})")
            name = names[k]
        if name not in names:
            raise NoSuchField(f"no band '{name}'; the bands are {', '.join(names)}")
        return value.with_data(value.data[[name]])

    def _eval_RangeConstructor(self, e: ir.RangeConstructor):
        """Bands from expressions; scalar parts are broadcast over the coverage parts'
        domain, and an all-scalar constructor is a struct value (e.g. a switch colour)."""
        parts = [(name, self.eval(x)) for name, x in e.fields]
        coverages = [v for _, v in parts if is_coverage(v)]
        if not coverages:
            return {name: scalar_of(v) for name, v in parts}
        base = coverages[0]
        template = base.single()
        arrays = {}
        for name, v in parts:
            if is_coverage(v):
                da = _aligned(template, v.single(), f"band {name}")
                # sliced parts keep scalar coordinates of their own: take the base's
                da = da.drop_vars([c for c in da.coords if c not in da.dims], errors="ignore")
            else:
                da = xr.full_like(template, scalar_of(v), dtype=np.asarray(scalar_of(v)).dtype)
                da.attrs = {}
            arrays[name] = da.rename(name)
        return base.with_data(xr.Dataset(arrays, attrs=base.data.attrs))

    # ---- cell-wise ----------------------------------------------------------------------------
    def _eval_Unary(self, e: ir.Unary):
        v = self.eval(e.operand)
        sig = ("unary", e.op)
        if e.op == "not":
            return _map(v, np.logical_not, self.fuser, sig)
        if e.op == "bit_not":
            return _map(v, np.invert, self.fuser, sig)
        fn = _UNARY.get(e.op)
        if fn is None:
            raise WcpsError(f"unknown unary operation {e.op}")
        if e.op in _FLOAT_UNARY:
            return _map(v, lambda a: fn(_as_float(a)), self.fuser, sig)
        return _map(v, fn, self.fuser, sig)

    def _eval_Binary(self, e: ir.Binary):
        a, b = self.eval(e.left), self.eval(e.right)
        op = e.op
        if op in _COMPARE:
            fn = _COMPARE[op]
        elif op in _LOGIC:
            fn = _LOGIC[op]
        elif op == "bit":
            fn = lambda x, n: np.bitwise_and(np.right_shift(x.astype("int64"), int(n)), 1)  # noqa: E731
        elif op == "overlay":
            return _overlay(a, b, self.fuser)
        elif op in _ARITH:
            fn = _arith(op)
        else:
            raise WcpsError(f"unknown binary operation {op}")
        return _combine(a, b, fn, op, self.fuser)

    def _eval_Cast(self, e: ir.Cast):
        dtype = CAST_TYPES.get(e.type.lower())
        if dtype is None:
            raise WcpsError(f"unknown cast type '{e.type}'; use one of {', '.join(CAST_TYPES)}")
        v = self.eval(e.operand)
        if not is_coverage(v):
            return np.dtype(dtype).type(scalar_of(v))
        out = {}
        sig = ("cast", dtype)
        fn = Astype(dtype)
        for n in v.band_names:
            src = v.data[n]
            cast = src.astype(dtype)
            if _value_preserving(src.dtype, np.dtype(dtype)):
                # null cells keep their null value: no masking pass needed
                cast.attrs = {k: val for k, val in src.attrs.items() if k == "nil_values"}
                out[n] = self.fuser.apply(cast, sig, fn, [src])
            else:
                out[n] = self.fuser.apply(combine_nulls(cast, [src]), sig, fn, [src], masked=(0,))
        return v.with_data(xr.Dataset(out, attrs=v.data.attrs))

    def _eval_IsNull(self, e: ir.IsNull):
        v = self._coverage(self.eval(e.operand), "is null")
        out = {}
        for name in v.band_names:
            src = v.data[name]
            m = null_mask(src)
            probe = ~m if e.negated else m
            nils = tuple(nulls_of(src))
            out[name] = self.fuser.apply(probe, ("isnull", e.negated, nils), IsNull(nils, e.negated), [src])
        return v.with_data(xr.Dataset(out))

    def _eval_Switch(self, e: ir.Switch):
        default = self.eval(e.default)
        result = default
        for cond, value in reversed(e.cases):
            c = self._coverage(self.eval(cond), "a switch condition")
            v = self.eval(value)
            result = _where(c, v, result, self.fuser)
        return result

    # ---- aggregation ------------------------------------------------------------------------------
    def _eval_Aggregate(self, e: ir.Aggregate):
        v = self.eval(e.operand)
        if not is_coverage(v):
            return v
        da = v.single()
        op = "add" if e.op == "sum" else e.op
        return fused_aggregate(self.fuser, _aggregate(da, op, e.op), op, da)

    # ---- geometry (petacube.engine.geometry) ---------------------------------------------------
    def _eval_Scale(self, e: ir.Scale) -> CoverageValue:
        return geometry.scale(self, e)

    def _eval_Extend(self, e: ir.Extend) -> CoverageValue:
        return geometry.extend(self, e)

    def _eval_CrsTransform(self, e: ir.CrsTransform) -> CoverageValue:
        return geometry.crs_transform(self, e)

    def _eval_Clip(self, e: ir.Clip) -> CoverageValue:
        return geometry.clip(self, e)

    def _eval_Flip(self, e: ir.Flip) -> CoverageValue:
        return geometry.flip(self, e)

    def _eval_Sort(self, e: ir.Sort) -> CoverageValue:
        return geometry.sort(self, e)

    # ---- metadata -------------------------------------------------------------------------------
    def _eval_Metadata(self, e: ir.Metadata):
        v = self._coverage(self.eval(e.source), e.function)
        cov = v.coverage
        f = e.function
        if f == "identifier":
            return cov.id
        if f in ("crsSet", "imageCrs"):
            return v.result_crs() if f == "crsSet" else "CRS:1"
        if f == "cellCount":
            return int(np.prod([cov.axis(d).size for d in v.dims]))
        if f == "describe":
            return describe_value(v)
        if f == "nullSet":
            return sorted({str(n) for b in cov.bands for n in b.nil_values})
        if f in ("domain", "imageCrsDomain"):
            labels = [e.axis] if e.axis else list(v.dims)
            out = []
            for label in labels:
                axis = cov.axis(label)
                if f == "imageCrsDomain":
                    lo, hi, res = 0, axis.size - 1, 1
                else:
                    lo, hi, res = axis.lower, axis.upper, axis.resolution
                out.append({"lo": lo, "hi": hi, "resolution": res})
            if e.part:
                if len(out) != 1:
                    raise WcpsError(f"{f}(...).{e.part} needs one axis; name it: {f}($c, {labels[0]}).{e.part}")
                return out[0][e.part]
            return out[0] if len(out) == 1 else out
        raise WcpsError(f"{f}() is not supported yet")

    # ---- iterators ------------------------------------------------------------------------------
    def _eval_IteratorVar(self, e: ir.IteratorVar):
        if e.name not in self.bindings:
            raise WcpsError(f"${e.name} is not an iterator in scope here")
        return self.bindings[e.name]

    def _eval_Condense(self, e: ir.Condense):
        return iterate.condense(self, e)

    def _eval_CoverageConstructor(self, e: ir.CoverageConstructor):
        return iterate.construct(self, e)

    def _eval_FunctionCall(self, e: ir.FunctionCall):
        return udf.call(self, e)

    # ---- output ---------------------------------------------------------------------------------
    def _eval_Encode(self, e: ir.Encode):
        return EncodeRequest(self.eval(e.source), e.format, dict(e.options))

    # ---- helpers ----------------------------------------------------------------------------------
    def _coverage(self, v, what: str) -> CoverageValue:
        if not is_coverage(v):
            raise WcpsError(f"{what} needs a coverage, got the scalar {scalar_of(v)!r}")
        return v


def describe_value(v: CoverageValue) -> dict:
    """``describe()``: the coverage description of a value, as rasdaman's JSON form lists it."""
    cov = v.coverage
    axes = []
    for a in cov.axes:
        if a.label in v.sliced:
            continue
        entry = {"axisLabel": a.label, "lowerBound": a.lower, "upperBound": a.upper, "size": a.size}
        if a.irregular:
            entry["coefficients"] = list(a.coefficients)
        else:
            entry["resolution"] = a.resolution
        axes.append(entry)
    return {
        "coverageId": cov.id,
        "crs": Crs.parse(v.result_crs()).uri() if "Index0D" not in v.result_crs() else v.result_crs(),
        "axes": axes,
        "rangeType": [
            {"name": n, "dataType": str(v.data[n].dtype), "nilValues": [list(x) for x in v.data[n].attrs.get("nil_values", [])]}
            for n in v.band_names
        ],
        "metadata": cov.metadata,
    }


def _aggregate(da: xr.DataArray, op: str, name: str):
    """Condenser ``op`` over ``da`` with xarray (lazy): nulls skipped, as rasql does."""
    valid = ~null_mask(da)
    if op == "count":
        return (da.astype(bool) & valid).sum()
    if op in ("some", "all"):
        b = da.astype(bool)
        return (b & valid).any() if op == "some" else (b | ~valid).all()
    data = da.where(valid)
    if op == "avg":
        return data.mean()
    if op == "add":
        return data.sum() if np.issubdtype(da.dtype, np.floating) else data.sum().astype(_sum_type(da.dtype))
    if op in ("min", "max"):
        out = data.min() if op == "min" else data.max()
        return out if np.issubdtype(da.dtype, np.floating) else out.astype(da.dtype)
    raise WcpsError(f"unknown condenser {name}")


def _at_iterator(s: ir.AxisSubset) -> bool:
    """``$c[ansi($t)]`` with an iterator: the iterator is a grid coordinate."""
    return any(isinstance(b, ir.IteratorVar) for b in (s.at, s.lo, s.hi))


def _crs_names(cov, label: str) -> set[str]:
    comp = cov.crs.component_of(label)
    return {f"{comp.authority}:{comp.code}".upper(), comp.identifier.upper(), comp.uri().upper()}


def _apply_grid_subsets(region, grid: dict[str, tuple[int, int, bool]]):
    """CRS:1 subsets: grid indices of the region's coverage taken directly."""
    if not grid:
        return region
    from petacube.datacube import GridRegion

    cov = region.coverage
    axes, ranges, sliced = [], list(region.grid), set(region.sliced)
    for i, axis in enumerate(cov.axes):
        if axis.label in grid:
            a, b, is_slice = grid[axis.label]
            if not (0 <= a <= b < axis.size):
                raise InvalidSubsetting(f"axis {axis.label}: grid subset {a}:{b} is outside 0:{axis.size - 1}")
            axis = axis.subset(a, b)
            ranges[i] = (ranges[i][0] + a, ranges[i][0] + b)
            if is_slice:
                sliced.add(axis.label)
        axes.append(axis)
    return GridRegion(replace(cov, axes=tuple(axes)), tuple(ranges), frozenset(sliced))



def _as_float(a):
    dtype = getattr(a, "dtype", None)
    if dtype is not None and not np.issubdtype(dtype, np.floating) and not np.issubdtype(dtype, np.complexfloating):
        return a.astype("float32" if dtype.itemsize <= 2 else "float64")
    return a


def _sum_type(dtype) -> str:
    if np.issubdtype(dtype, np.unsignedinteger):
        return "uint64"
    if np.issubdtype(dtype, np.integer) or dtype == bool:
        return "int64"
    return dtype.name


def _arith(op: str):
    fn = _ARITH[op]

    def apply(a, b):
        da, db = _dtype_of(a), _dtype_of(b)
        if op == "/":
            return fn(_as_float(a), _as_float(b)) if _is_int(da) and _is_int(db) else fn(a, b)
        if op in ("+", "-", "*") and _is_int(da) and _is_int(db):
            # rasql widens integer arithmetic instead of wrapping around (uint16 - uint16 < 0)
            return fn(_widen(a), _widen(b))
        return fn(a, b)

    return apply


def _value_preserving(src: np.dtype, dst: np.dtype) -> bool:
    """Every value of ``src`` is exactly representable in ``dst`` (e.g. uint16 -> float32)."""
    return dst != np.bool_ and np.can_cast(src, dst, casting="safe")


def _dtype_of(x) -> np.dtype:
    # never np.asarray() a lazy array here: that would compute it while building the graph
    return x.dtype if hasattr(x, "dtype") else np.asarray(x).dtype


def _is_int(dtype) -> bool:
    return np.issubdtype(dtype, np.integer) or dtype == np.bool_


def _widen(a):
    return a.astype("int64") if hasattr(a, "astype") else np.int64(a)


def _map(v, fn, fuser: Fuser | None = None, sig: tuple | None = None):
    if is_coverage(v):
        data = {}
        for n in v.band_names:
            src = v.data[n]
            probe = _keep_nulls(src, fn(src))
            data[n] = fuser.apply(probe, sig, fn, [src], masked=(0,)) if fuser else probe
        return v.with_data(xr.Dataset(data, attrs=v.data.attrs))
    return fn(v)


def _keep_nulls(src: xr.DataArray, out: xr.DataArray) -> xr.DataArray:
    return combine_nulls(out, [src])


def _aligned(a: xr.DataArray, b: xr.DataArray, what: str) -> xr.DataArray:
    try:
        xr.align(a, b, join="exact")
    except ValueError:
        raise WcpsError(
            f"{what}: the domains differ ({dict(a.sizes)} vs {dict(b.sizes)}); subset both operands to the same region"
        ) from None
    return b


def _combine(a, b, fn, op: str, fuser: Fuser | None = None):
    if not is_coverage(a) and not is_coverage(b):
        return fn(a, b)
    if is_coverage(a) and is_coverage(b):
        na, nb = a.band_names, b.band_names
        if len(na) != len(nb) and 1 not in (len(na), len(nb)):
            raise WcpsError(f"'{op}' between {len(na)} and {len(nb)} bands: give both sides the same bands")
        pairs = list(zip(na, nb)) if len(na) == len(nb) else ([(n, nb[0]) for n in na] if len(nb) == 1 else [(na[0], n) for n in nb])
        out = {}
        for x, y in pairs:
            left, right = a.data[x], _aligned(a.data[x], b.data[y], f"'{op}'")
            res = combine_nulls(fn(left, right), [left, right])
            if fuser is not None:
                res = fuser.apply(res, ("binary", op), fn, [left, right], masked=(0, 1))
            out[x if len(na) >= len(nb) else y] = res
        base = a if len(na) >= len(nb) else b
        return base.with_data(xr.Dataset(out, attrs=base.data.attrs))
    cov, s, cov_first = (a, b, True) if is_coverage(a) else (b, a, False)
    s = scalar_of(s)
    out = {}
    for n in cov.band_names:
        src = cov.data[n]
        res = combine_nulls(fn(src, s) if cov_first else fn(s, src), [src])
        if fuser is not None:
            res = fuser.apply(res, ("binary", op), fn, [src, s] if cov_first else [s, src], masked=(0,) if cov_first else (1,))
        out[n] = res
    return cov.with_data(xr.Dataset(out, attrs=cov.data.attrs))


def _where(cond_value: CoverageValue, then, otherwise, fuser: Fuser | None = None):
    """switch: take ``then`` where cond holds (band-wise for multi-band values); with scalar
    branches the result has the condition's domain."""
    cond = cond_value.single()
    base = then if is_coverage(then) else otherwise if is_coverage(otherwise) else cond_value
    if not is_coverage(then) and not is_coverage(otherwise):
        width = max(len(x) if isinstance(x, dict) else 1 for x in (then, otherwise))
        names = list(then.keys()) if isinstance(then, dict) else list(otherwise.keys()) if isinstance(otherwise, dict) else base.band_names
        out = {names[i]: _where_band(cond, _component(then, i), _component(otherwise, i), fuser) for i in range(width)}
        return base.with_data(xr.Dataset(out, attrs=base.data.attrs))
    out = {}
    for i, name in enumerate(base.band_names):
        out[name] = _where_band(cond, _component(then, i), _component(otherwise, i), fuser)
    return base.with_data(xr.Dataset(out, attrs=base.data.attrs))


def _where_band(cond: xr.DataArray, then, otherwise, fuser: Fuser | None):
    probe = xr.where(cond.astype(bool), then, otherwise)
    if fuser is None:
        return probe
    return fuser.apply(probe, ("where",), where_cells, [cond, then, otherwise])


def _component(v, i: int):
    """The i-th band of a coverage or struct value (the last one repeats), or a scalar."""
    if is_coverage(v):
        return v.data[v.band_names[min(i, len(v.band_names) - 1)]]
    if isinstance(v, dict):
        values = list(v.values())
        return values[min(i, len(values) - 1)]
    return scalar_of(v)


def _overlay(a, b, fuser: Fuser | None = None):
    """``a overlay b``: a where a is non-zero (and not null), else b."""
    if not is_coverage(a):
        return a
    out = {}
    for i, name in enumerate(a.band_names):
        x = a.data[name]
        y = b.data[b.band_names[min(i, len(b.band_names) - 1)]] if is_coverage(b) else scalar_of(b)
        keep = (x != 0) & ~null_mask(x)
        probe = xr.where(keep, x, y)
        if fuser is not None:
            nils = tuple(nulls_of(x))
            probe = fuser.apply(probe, ("overlay", nils), OverlayCells(nils), [x, y])
        out[name] = probe
    return a.with_data(xr.Dataset(out, attrs=a.data.attrs))


def _describe(e: ir.Expr) -> str:
    names = {"Condense": "condense", "CoverageConstructor": "coverage constructors", "Scale": "scale",
             "Extend": "extend", "CrsTransform": "crsTransform", "Clip": "clip", "Flip": "flip", "Sort": "sort",
             "FunctionCall": "user-defined functions", "Decoded": "decode()", "IteratorVar": "iterator variables"}
    return names.get(type(e).__name__, type(e).__name__)


__all__ = ["Evaluator", "CAST_TYPES", "InvalidAxisLabel", "InvalidParameterValue"]
