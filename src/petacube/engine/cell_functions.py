"""Cell functions of the operations whose xarray form is not a plain numpy call (casts,
``is null``, switch, overlay), as picklable objects: the fused kernels
(`petacube.engine.fusion`) run them on strips of blocks, on any dask worker."""

from __future__ import annotations

import numpy as np

from petacube.engine.nulls import mask_of


class Astype:
    """A cast as a picklable cell function."""

    def __init__(self, dtype: str):
        self.dtype = dtype

    def __call__(self, a):
        return a.astype(self.dtype)


class IsNull:
    """``is [not] null`` as a picklable cell function."""

    def __init__(self, nils: tuple, negated: bool):
        self.nils, self.negated = list(nils), negated

    def __call__(self, a):
        m = mask_of(a, self.nils)
        if m is None:
            m = np.zeros(np.shape(a), dtype=bool)
        return ~m if self.negated else m


def where_cells(cond, then, otherwise):
    """``xr.where``'s cell function (xarray's dtype promotion included)."""
    from xarray.core import duck_array_ops

    return duck_array_ops.where(np.asarray(cond).astype(bool), then, otherwise)


class OverlayCells:
    """``a overlay b``'s cell function: a where non-zero and not null, else b; cells taken
    from b where b is null get ``fill`` (the result's null value; None: b has no nulls)."""

    def __init__(self, nils: tuple, other_nils: tuple = (), fill=None):
        self.nils, self.other_nils, self.fill = list(nils), list(other_nils), fill
        self.key = (tuple(nils), tuple(other_nils), repr(fill))

    def __call__(self, x, y):
        from xarray.core import duck_array_ops

        keep = x != 0
        m = mask_of(x, self.nils)
        if m is not None:
            keep = keep & ~m
        out = duck_array_ops.where(keep, x, y)
        if self.fill is not None:
            y_null = mask_of(y, self.other_nils)
            if y_null is not None:
                out = duck_array_ops.where(keep | ~y_null, out, self.fill).astype(out.dtype)
        return out
