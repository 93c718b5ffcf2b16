"""Condensers (count avg min max add some all) computed in the task that computes the cells.

Each dask task takes one block of every leaf (the tile reads), runs the fused cell-wise
tree (`petacube.engine.fusion`) strip by strip and keeps only a partial (a count, a sum
and a count, a minimum ...); one final task combines the partials. No block of the
condensed expression is ever stored, so memory is bounded by the blocks in flight.

Semantics are those of the xarray path in `Evaluator._eval_Aggregate` (null cells, and
NaN cells of float values, are skipped; ``count`` counts valid non-zero cells; the result
has the dtype that path gives). Sums are accumulated exactly for integers and in float64
for floats, so float results may differ from the xarray path in the last bits (they are
closer to the exact value); all other results are identical.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from dask.base import tokenize

from petacube.engine.fusion import Fuser, Program, _is_dask
from petacube.engine.nulls import mask_of, nulls_of

NUMERIC = ("avg", "add", "min", "max")


def aggregate(fuser: Fuser, probe, op: str, band: xr.DataArray):
    """``probe`` (the lazy xarray result of condenser ``op`` over ``band``) computed by
    fused per-block partials instead; ``probe`` itself when that is not possible."""
    import dask.array as da
    from dask.array.core import unify_chunks

    if not fuser.enabled or not isinstance(probe, xr.DataArray) or probe.ndim != 0 or not _is_dask(band.data) or band.ndim == 0:
        return probe
    if op in NUMERIC and band.dtype.kind not in "iuf":
        return probe
    if op not in NUMERIC + ("count", "some", "all"):
        return probe
    expr = fuser.expr_of(band)
    program, leaves = fuser.compile(expr, band.dtype)
    if program is None:
        return probe
    index = tuple(range(band.ndim))
    _, leaves = unify_chunks(*[x for leaf in leaves for x in (leaf, index)])
    nils = tuple(nulls_of(band))
    token = tokenize(repr(expr.key), op, nils, band.dtype.str)
    partials = da.map_blocks(
        _partial, *leaves, program=program, op=op, nils=nils, dtype=object,
        chunks=tuple((1,) * len(c) for c in leaves[0].chunks), meta=np.empty((0,) * band.ndim, dtype=object),
        name=f"petacube-partial-{token}",
    )
    result = da.blockwise(
        _finish, (), partials, index, op=op, dtype=probe.dtype, out_dtype=probe.dtype.str,
        concatenate=False, meta=np.empty((), dtype=probe.dtype), name=f"petacube-condense-{token}",
    )
    return probe.copy(data=result)


def _partial(*blocks, program: Program, op: str, nils: tuple) -> np.ndarray:
    """One block's partial of ``op``, as a one-cell object array."""
    nils = list(nils)
    count, total, found = 0, None, None
    with np.errstate(all="ignore"):
        for v, cells in program.strips(blocks):
            v = np.asarray(v).reshape(-1)
            weight = cells if v.size == 1 and cells > 1 else 1  # a missing tile: one value for all
            mask = mask_of(v, nils)
            valid = None if mask is None else ~mask
            if op in ("count", "some", "all"):
                b = v.astype(bool)
                if op == "count":
                    count += int(np.count_nonzero(b if valid is None else b & valid)) * weight
                elif op == "some":
                    found = bool(found) or bool(np.any(b if valid is None else b & valid))
                else:
                    found = (True if found is None else found) and bool(np.all(b if valid is None else b | ~valid))
                continue
            if v.dtype.kind == "f":
                nan = np.isnan(v)
                valid = ~nan if valid is None else valid & ~nan
            n = v.size if valid is None else int(np.count_nonzero(valid))
            if n == 0:
                continue
            count += n * weight
            if op in ("avg", "add"):
                if v.dtype.kind == "f":
                    s = float(np.sum(v, dtype=np.float64, where=True if valid is None else valid)) * weight
                else:
                    acc = np.uint64 if v.dtype.kind == "u" else np.int64
                    s = int(np.sum(v, dtype=acc, where=True if valid is None else valid)) * weight
                total = s if total is None else total + s
            else:
                picked = v if valid is None else v[valid]
                m = picked.min() if op == "min" else picked.max()
                found = m if found is None else (min(found, m) if op == "min" else max(found, m))
    out = np.empty((1,) * len(blocks[0].shape), dtype=object)
    out[(0,) * out.ndim] = (count, total, found)
    return out


def _flatten(nested) -> list:
    if isinstance(nested, list):
        return [x for item in nested for x in _flatten(item)]
    return [nested.reshape(-1)[0]]


def _finish(nested, op: str, out_dtype: str) -> np.ndarray:
    """The condenser's value from every block's partial, in the xarray path's dtype."""
    parts = _flatten(nested)
    dtype = np.dtype(out_dtype)
    count = sum(p[0] for p in parts)
    with np.errstate(all="ignore"):
        if op == "count":
            value = count
        elif op == "some":
            value = any(bool(p[2]) for p in parts)
        elif op == "all":
            value = all(p[2] is None or bool(p[2]) for p in parts)
        elif op in ("avg", "add"):
            totals = [p[1] for p in parts if p[1] is not None]
            total = sum(totals) if totals else 0
            if op == "add":
                value = total
            else:
                value = np.nan if count == 0 else (total / count if isinstance(total, int) else float(total) / count)
        else:
            found = [p[2] for p in parts if p[2] is not None]
            value = np.nan if not found else (min(found) if op == "min" else max(found))
        return np.asarray(value).astype(dtype)
