"""Cell-wise operations on coverage values with rasql's null rules: arithmetic,
comparisons, logic, casts' helpers, ``switch`` (where), ``overlay`` and the condensers'
xarray form.

Each operation builds its xarray result (the *probe*: dims, coordinates, attributes,
dtype) and hands it to the `Fuser`, which computes chains of them as one kernel per
block (`petacube.engine.fusion`). Nulls: a result cell is null where an operand cell is
null (`petacube.engine.nulls.combine_nulls`); ``overlay`` is null only where both are.
"""

from __future__ import annotations

import operator

import numpy as np
import xarray as xr

from petacube.engine.cell_functions import OverlayCells, where_cells
from petacube.engine.fusion import Fuser
from petacube.engine.nulls import (
    NIL_ATTR,
    combine_nulls,
    null_fill,
    null_mask,
    nulls_of,
)
from petacube.engine.values import CoverageValue, is_coverage, scalar_of
from petacube.errors import WcpsError

CAST_TYPES = {
    "char": "int8", "unsigned char": "uint8", "short": "int16", "unsigned short": "uint16",
    "int": "int32", "unsigned int": "uint32", "long": "int64", "unsigned long": "uint64",
    "float": "float32", "double": "float64", "boolean": "bool", "bool": "bool",
    "complex": "complex64", "complex2": "complex128",
}

UNARY = {
    "neg": operator.neg, "pos": operator.pos, "abs": np.abs, "sqrt": np.sqrt, "exp": np.exp,
    "log": np.log10, "ln": np.log, "sin": np.sin, "cos": np.cos, "tan": np.tan, "sinh": np.sinh,
    "cosh": np.cosh, "tanh": np.tanh, "arcsin": np.arcsin, "arccos": np.arccos, "arctan": np.arctan,
    "round": np.round, "floor": np.floor, "ceil": np.ceil, "sign": np.sign, "re": np.real, "im": np.imag,
}
FLOAT_UNARY = {"sqrt", "exp", "log", "ln", "sin", "cos", "tan", "sinh", "cosh", "tanh", "arcsin", "arccos", "arctan"}
COMPARE = {"=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
ARITH = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv, "pow": np.power,
        "min": np.minimum, "max": np.maximum, "mod": np.fmod, "div": np.floor_divide, "arctan2": np.arctan2}
LOGIC = {"and": np.logical_and, "or": np.logical_or, "xor": np.logical_xor}


def aggregate_cells(da: xr.DataArray, op: str, name: str):
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



def as_float(a):
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


def arith(op: str):
    fn = ARITH[op]

    def apply(a, b):
        da, db = _dtype_of(a), _dtype_of(b)
        if op == "/":
            return fn(as_float(a), as_float(b)) if _is_int(da) and _is_int(db) else fn(a, b)
        if op in ("+", "-", "*") and _is_int(da) and _is_int(db):
            # rasql widens integer arithmetic instead of wrapping around (uint16 - uint16 < 0)
            return fn(_widen(a), _widen(b))
        return fn(a, b)

    return apply


def value_preserving(src: np.dtype, dst: np.dtype) -> bool:
    """Every value of ``src`` is exactly representable in ``dst`` (e.g. uint16 -> float32)."""
    return dst != np.bool_ and np.can_cast(src, dst, casting="safe")


def _dtype_of(x) -> np.dtype:
    # never np.asarray() a lazy array here: that would compute it while building the graph
    return x.dtype if hasattr(x, "dtype") else np.asarray(x).dtype


def _is_int(dtype) -> bool:
    return np.issubdtype(dtype, np.integer) or dtype == np.bool_


def _widen(a):
    return a.astype("int64") if hasattr(a, "astype") else np.int64(a)


def map_cells(v, fn, fuser: Fuser | None = None, sig: tuple | None = None):
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


def aligned(a: xr.DataArray, b: xr.DataArray, what: str) -> xr.DataArray:
    try:
        xr.align(a, b, join="exact")
    except ValueError:
        raise WcpsError(
            f"{what}: the domains differ ({dict(a.sizes)} vs {dict(b.sizes)}); subset both operands to the same region"
        ) from None
    return b


def combine(a, b, fn, op: str, fuser: Fuser | None = None):
    if not is_coverage(a) and not is_coverage(b):
        return fn(a, b)
    if is_coverage(a) and is_coverage(b):
        na, nb = a.band_names, b.band_names
        if len(na) != len(nb) and 1 not in (len(na), len(nb)):
            raise WcpsError(f"'{op}' between {len(na)} and {len(nb)} bands: give both sides the same bands")
        pairs = list(zip(na, nb)) if len(na) == len(nb) else ([(n, nb[0]) for n in na] if len(nb) == 1 else [(na[0], n) for n in nb])
        out = {}
        for x, y in pairs:
            left, right = a.data[x], aligned(a.data[x], b.data[y], f"'{op}'")
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


def where(cond_value: CoverageValue, then, otherwise, fuser: Fuser | None = None):
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


def overlay(a, b, fuser: Fuser | None = None):
    """``a overlay b`` (rasdaman): a's cell where it is non-zero and not null, else b's.

    A result cell is null only where b's cell is taken and is null (a null or zero there
    too): it gets the first single null value of a's bands, then b's (`null_fill`), and
    the result records that null value, so WMS time slices overlaid keep their gaps."""
    if not is_coverage(a):
        return a
    out = {}
    for i, name in enumerate(a.band_names):
        x = a.data[name]
        y = b.data[b.band_names[min(i, len(b.band_names) - 1)]] if is_coverage(b) else scalar_of(b)
        if isinstance(y, xr.DataArray):
            y = aligned(x, y, "'overlay'")
        keep = (x != 0) & ~null_mask(x)
        probe = xr.where(keep, x, y)
        y_nils = tuple(nulls_of(y)) if isinstance(y, xr.DataArray) else ()
        fill = null_fill(probe.dtype, [nulls_of(x), list(y_nils)]) if y_nils else None
        if fill is not None:
            probe = xr.where(keep | ~null_mask(y), probe, fill).astype(probe.dtype)
            probe.attrs[NIL_ATTR] = [(float(fill), None)]
        if fuser is not None:
            fn = OverlayCells(tuple(nulls_of(x)), y_nils, fill)
            probe = fuser.apply(probe, ("overlay", fn.key), fn, [x, y])
        out[name] = probe
    return a.with_data(xr.Dataset(out, attrs=a.data.attrs))
