"""Evaluating IR expressions into lazy coverage values (xarray over dask).

The plan is implicit in how values are built: a subset of a stored coverage becomes a
dask array over exactly the tiles of its region (the subset is pushed down to the read),
band access is pushed down to the read too, so only the bands a query uses are planned
(`petacube.engine.band_pruning`), chains of cell-wise operations become one kernel per
block (`petacube.engine.fusion`), and condensers reduce each block in the task that
computes it (`petacube.engine.fused_aggregate`), so memory stays bounded by a few
blocks per core.

Common sub-expressions are evaluated once per query: IR nodes are frozen dataclasses,
so equal nodes share one value (`Evaluator.eval`). A node that holds an iterator variable
is shared only while the iterators keep their values (one condenser point, one
vectorised constructor), since its value depends on them.

Null semantics (as rasql): a cell is null when it matches a null value of its band;
nulls propagate through cell operations, condensers skip them
(`petacube.engine.cellwise`).
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any

import numpy as np
import xarray as xr

from petacube.engine import geometry, ir, iterate, udf
from petacube.engine.band_pruning import push_field, stored_band
from petacube.engine.cell_functions import Astype, IsNull
from petacube.engine.cellwise import (
    ARITH,
    CAST_TYPES,
    COMPARE,
    FLOAT_UNARY,
    LOGIC,
    UNARY,
    aggregate_cells,
    aligned,
    arith,
    as_float,
    combine,
    map_cells,
    overlay,
    value_preserving,
    where,
)
from petacube.engine.common_subexpressions import holds_iterator, node_key
from petacube.engine.fused_aggregate import aggregate as fused_aggregate
from petacube.engine.fusion import Fuser
from petacube.engine.metadata import describe_value, metadata
from petacube.engine.nulls import combine_nulls, null_mask, nulls_of, set_nulls
from petacube.engine.subsets import region_of, subset_value
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

_NOT_MEMOISED = (ir.Scalar, ir.IteratorVar)  # cheaper to evaluate than to look up


class Evaluator:
    """Evaluates IR against a `Datacube` (and uploaded files for ``decode($n)``)."""

    def __init__(self, cube, uploads: list[bytes] | None = None, *, fuse: bool = True, memoise: bool = True):
        self.cube = cube
        self.uploads = uploads or []
        self.bindings: dict[str, Any] = {}  # iterator variables -> grid coordinate(s)
        self.fuser = Fuser(enabled=fuse)  # cell-wise chains evaluated as one kernel per block
        self.memoise = memoise
        self._memo: dict[tuple, Any] = {}  # node key -> value, for nodes without iterator variables
        self._local: dict[tuple, Any] = {}  # the same for nodes with some, under the current bindings
        self._iterated: dict[tuple, bool] = {}  # node key -> whether it holds an iterator variable

    @contextmanager
    def bound(self, values: dict[str, Any]):
        """Bind iterator variables while evaluating a condenser/constructor body."""
        saved, saved_local = dict(self.bindings), self._local
        self.bindings.update(values)
        self._local = {}  # values that depend on iterators hold for these bindings only
        try:
            yield
        finally:
            self.bindings, self._local = saved, saved_local

    # ---- dispatch -------------------------------------------------------------------
    def eval(self, e: ir.Expr) -> Any:
        """The value of ``e``; equal nodes are evaluated once per query (and bindings)."""
        if not self.memoise or isinstance(e, _NOT_MEMOISED):
            return self._dispatch(e)
        try:
            key = node_key(e)
            memo = self._local if holds_iterator(e, self._iterated, key) else self._memo
        except TypeError:  # a node with a part that cannot be compared: not shared
            return self._dispatch(e)
        if key in memo:
            return memo[key]
        value = memo[key] = self._dispatch(e)
        return value

    def _dispatch(self, e: ir.Expr) -> Any:
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

    def _load(self, region, bands: list[str] | None = None) -> CoverageValue:
        """The lazy read of ``region`` (only ``bands`` when given: each planned band is
        counted by the server's read guard)."""
        ds = self.cube.lazy(region, bands)
        for name in ds.data_vars:
            set_nulls(ds[name], region.coverage.band(name).nil_values)
        return CoverageValue(ds, region.coverage, region.sliced)

    # ---- subsets ----------------------------------------------------------------------------
    def _eval_Subset(self, e: ir.Subset) -> CoverageValue:
        src = e.source
        if isinstance(src, ir.CoverageRef):  # push the subset down to the tile reads
            cov = self.cube.describe(src.name)
            return self._load(region_of(self, cov, e.axes))
        if isinstance(src, ir.Field) and isinstance(src.source, ir.CoverageRef):  # and the band too
            cov = self.cube.describe(src.source.name)
            band = stored_band(cov, src.name)
            return self._load(region_of(self, cov, e.axes), [band])
        return subset_value(self, self._coverage(self.eval(src), "a subset"), e.axes)

    def _bound(self, e: ir.Expr | None):
        """A subset bound's value (None for ``*``)."""
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
        pushed = push_field(e)
        if pushed != e:  # the band access moved towards the read: evaluate that form
            return self.eval(pushed)
        src = e.source
        if isinstance(src, ir.CoverageRef):
            cov = self.cube.describe(src.name)
            return self._load(self.cube.region(cov), [stored_band(cov, e.name)])
        value = self._coverage(self.eval(src), "band access")
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
                da = aligned(template, v.single(), f"band {name}")
                # sliced parts keep scalar coordinates of their own: take the base's
                da = da.drop_vars([c for c in da.coords if c not in da.dims], errors="ignore")
            else:
                da = xr.full_like(template, scalar_of(v), dtype=np.asarray(scalar_of(v)).dtype)
                da.attrs = {}
            arrays[name] = da.rename(name)
        return base.with_data(xr.Dataset(arrays, attrs=base.data.attrs))

    # ---- cell-wise (petacube.engine.cellwise) ---------------------------------------------
    def _eval_Unary(self, e: ir.Unary):
        v = self.eval(e.operand)
        sig = ("unary", e.op)
        if e.op == "not":
            return map_cells(v, np.logical_not, self.fuser, sig)
        if e.op == "bit_not":
            return map_cells(v, np.invert, self.fuser, sig)
        fn = UNARY.get(e.op)
        if fn is None:
            raise WcpsError(f"unknown unary operation {e.op}")
        if e.op in FLOAT_UNARY:
            return map_cells(v, lambda a: fn(as_float(a)), self.fuser, sig)
        return map_cells(v, fn, self.fuser, sig)

    def _eval_Binary(self, e: ir.Binary):
        a, b = self.eval(e.left), self.eval(e.right)
        op = e.op
        if op in COMPARE:
            fn = COMPARE[op]
        elif op in LOGIC:
            fn = LOGIC[op]
        elif op == "bit":
            fn = lambda x, n: np.bitwise_and(np.right_shift(x.astype("int64"), int(n)), 1)
        elif op == "overlay":
            return overlay(a, b, self.fuser)
        elif op in ARITH:
            fn = arith(op)
        else:
            raise WcpsError(f"unknown binary operation {op}")
        return combine(a, b, fn, op, self.fuser)

    def _eval_Cast(self, e: ir.Cast):
        dtype = CAST_TYPES.get(e.type.lower())
        if dtype is None:
            raise WcpsError(f"unknown cast type '{e.type}'; use one of {', '.join(CAST_TYPES)}")
        v = self.eval(e.operand)
        if isinstance(v, xr.DataArray):  # iterator coordinates in a constructor (``(char) $x``), lazy scalars
            return v.astype(dtype)
        if not is_coverage(v):
            return np.dtype(dtype).type(scalar_of(v))
        out = {}
        sig = ("cast", dtype)
        fn = Astype(dtype)
        for n in v.band_names:
            src = v.data[n]
            cast = src.astype(dtype)
            if value_preserving(src.dtype, np.dtype(dtype)):
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
        """Conditions over coverages choose cell by cell; over iterator coordinates (a
        constructor's ``$x``) element by element; plain truth values choose a branch."""
        conds = [self.eval(c) for c, _ in e.cases]
        if any(is_coverage(c) for c in conds):
            result = self.eval(e.default)
            for c, (_, value) in reversed(list(zip(conds, e.cases))):
                result = where(self._coverage(c, "a switch condition"), self.eval(value), result, self.fuser)
            return result
        if any(isinstance(c, xr.DataArray) for c in conds):
            result = _plain_operand(self.eval(e.default))
            for c, (_, value) in reversed(list(zip(conds, e.cases))):
                result = xr.where(c, _plain_operand(self.eval(value)), result)
            return result
        for c, (_, value) in zip(conds, e.cases):
            if bool(scalar_of(c)):
                return self.eval(value)
        return self.eval(e.default)

    # ---- aggregation ------------------------------------------------------------------------------
    def _eval_Aggregate(self, e: ir.Aggregate):
        v = self.eval(e.operand)
        if not is_coverage(v):
            return v
        da = v.single()
        op = "add" if e.op == "sum" else e.op
        return fused_aggregate(self.fuser, aggregate_cells(da, op, e.op), op, da)

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

    # ---- metadata (petacube.engine.metadata) ------------------------------------------------
    def _eval_Metadata(self, e: ir.Metadata):
        return metadata(self, e)

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


def _plain_operand(v):
    """A switch branch next to iterator coordinates: a one-band coverage as its array."""
    return v.single() if is_coverage(v) else v


def _describe(e: ir.Expr) -> str:
    names = {"Condense": "condense", "CoverageConstructor": "coverage constructors", "Scale": "scale",
             "Extend": "extend", "CrsTransform": "crsTransform", "Clip": "clip", "Flip": "flip", "Sort": "sort",
             "FunctionCall": "user-defined functions", "Decoded": "decode()", "IteratorVar": "iterator variables"}
    return names.get(type(e).__name__, type(e).__name__)


__all__ = ["CAST_TYPES", "Evaluator", "InvalidAxisLabel", "InvalidParameterValue", "describe_value"]
