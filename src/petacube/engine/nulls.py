"""Null values on lazy arrays: which cells are null, and carrying nulls through operations.

The rules are written once as functions of dtypes and null lists (`mask_of`, `null_fill`)
so the xarray path here and the fused per-block kernels (`petacube.engine.fusion`) apply
exactly the same semantics.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

NIL_ATTR = "nil_values"  # list of (low, high|None): single values and closed intervals

Nils = list[tuple[float, float | None]]


def set_nulls(da: xr.DataArray, nil_values) -> None:
    """Record a band's null values on its array."""
    da.attrs[NIL_ATTR] = [(float(n.low), None if n.high is None else float(n.high)) for n in nil_values]


def nulls_of(da) -> Nils:
    """The null values recorded on ``da`` (none for plain numbers)."""
    attrs = getattr(da, "attrs", None)
    return list((attrs or {}).get(NIL_ATTR) or [])


def mask_of(values, nils: Nils):
    """True where ``values`` (numpy or xarray) holds one of ``nils``; None when ``nils`` is empty."""
    mask = None
    for low, high in nils:
        if high is None:
            if not np.isnan(low):
                m = values == _native(low, values)
            elif isinstance(values, xr.DataArray):
                m = values.isnull()
            elif values.dtype.kind in "fc":
                m = np.isnan(values)
            else:  # integers hold no NaN (as xarray's isnull says)
                m = np.zeros(values.shape, dtype=bool)
        else:
            m = (values >= low) & (values <= high)
        mask = m if mask is None else (mask | m)
    return mask


def _native(low: float, values):
    """``low`` in the integer dtype of ``values`` when it is exactly one of its values: the
    comparison is the same, without converting every cell to float64 first."""
    dtype = getattr(values, "dtype", None)
    if dtype is not None and dtype.kind in "iu" and float(low).is_integer():
        info = np.iinfo(dtype)
        if info.min <= low <= info.max:
            return dtype.type(int(low))
    return low


def null_mask(da: xr.DataArray) -> xr.DataArray:
    """True where ``da`` holds one of its null values (lazy, like ``da``)."""
    mask = mask_of(da, nulls_of(da))
    if mask is None:
        return xr.zeros_like(da, dtype=bool)
    return mask


def null_fill(result_dtype: np.dtype, source_nils: list[Nils]):
    """The value null cells of a result get (rasql: the first single null value of the
    sources, NaN for float results without one), or None when the result carries no
    nulls (no source has any, or the result is boolean)."""
    with_nulls = [n for n in source_nils if n]
    if not with_nulls or result_dtype == bool:
        return None
    singles = [low for nils in with_nulls for low, high in nils if high is None]
    if np.issubdtype(result_dtype, np.floating):
        return singles[0] if singles else np.nan
    if singles and np.can_cast(np.min_scalar_type(singles[0]), result_dtype):
        return singles[0]
    return 0


def combine_nulls(result: xr.DataArray, sources: list[xr.DataArray]) -> xr.DataArray:
    """``result`` made null wherever any source is null (the union, as rasql does).

    The result's null value is the first single null value of the sources (NaN for float
    results without one); boolean results carry no nulls."""
    sources = [s for s in sources if isinstance(s, xr.DataArray)]
    fill = null_fill(result.dtype, [nulls_of(s) for s in sources])
    if fill is None:
        result.attrs.pop(NIL_ATTR, None)
        return result
    mask = None
    for s in sources:
        m = mask_of(s, nulls_of(s))
        if m is not None:
            mask = m if mask is None else (mask | m)
    out = result.where(~mask, fill)
    if out.dtype != result.dtype:  # where() promotes ints to float for NaN-free fills too
        out = out.astype(result.dtype)
    out.attrs[NIL_ATTR] = [(float(fill), None)]
    return out
