"""Null values on lazy arrays: which cells are null, and carrying nulls through operations."""

from __future__ import annotations

import numpy as np
import xarray as xr

NIL_ATTR = "nil_values"  # list of (low, high|None): single values and closed intervals


def set_nulls(da: xr.DataArray, nil_values) -> None:
    """Record a band's null values on its array."""
    da.attrs[NIL_ATTR] = [(float(n.low), None if n.high is None else float(n.high)) for n in nil_values]


def nulls_of(da: xr.DataArray) -> list[tuple[float, float | None]]:
    return list(da.attrs.get(NIL_ATTR) or [])


def null_mask(da: xr.DataArray) -> xr.DataArray:
    """True where ``da`` holds one of its null values (lazy, like ``da``)."""
    mask = None
    for low, high in nulls_of(da):
        if high is None:
            m = da.isnull() if np.isnan(low) else (da == low)
        else:
            m = (da >= low) & (da <= high)
        mask = m if mask is None else (mask | m)
    if mask is None:
        return xr.zeros_like(da, dtype=bool)
    return mask


def combine_nulls(result: xr.DataArray, sources: list[xr.DataArray]) -> xr.DataArray:
    """``result`` made null wherever any source is null (the union, as rasql does).

    The result's null value is the first single null value of the sources (NaN for float
    results without one); boolean results carry no nulls."""
    with_nulls = [s for s in sources if isinstance(s, xr.DataArray) and nulls_of(s)]
    if not with_nulls or result.dtype == bool:
        result.attrs.pop(NIL_ATTR, None)
        return result
    mask = null_mask(with_nulls[0])
    for s in with_nulls[1:]:
        mask = mask | null_mask(s)
    singles = [low for s in with_nulls for low, high in nulls_of(s) if high is None]
    if np.issubdtype(result.dtype, np.floating):
        fill = singles[0] if singles else np.nan
    elif singles and np.can_cast(np.min_scalar_type(singles[0]), result.dtype):
        fill = singles[0]
    else:
        fill = 0
    out = result.where(~mask, fill)
    if out.dtype != result.dtype:  # where() promotes ints to float for NaN-free fills too
        out = out.astype(result.dtype)
    out.attrs[NIL_ATTR] = [(float(fill), None)]
    return out
