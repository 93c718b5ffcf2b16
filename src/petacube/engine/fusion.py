"""Fused cell-wise kernels: a chain of cell operations evaluated in one pass per block.

Why: evaluated one xarray operation at a time, ``(nir - red) / (nir + red)`` with the
rasql null rules costs some twenty full passes over every block (each operation, each
null mask, each ``where``), each allocating a block-sized temporary that does not fit in
cache. Here the evaluator still builds each operation with xarray (that lazy value, the
*probe*, is the source of truth for dims, coordinates, attributes and dtype, and the
fallback), but also records the operation in an expression tree over the *leaves* (the
dask arrays the chain starts from: tile reads, or anything not fused). The probe's data
is then replaced by one ``map_blocks`` over the leaves whose task runs the whole tree on
strips of a few hundred kilobytes, so intermediates stay in cache and each tile is
decoded and computed once. `petacube.engine.fused_aggregate` reduces such a tree in the
same task.

Exactness: every operation calls the same numpy function the xarray path calls, on
strips instead of whole blocks (cell-wise functions do not care); null masks and fills
follow `petacube.engine.nulls` and xarray's own ``where`` promotion, so cell values are
bit-identical. A tree whose dtype differs from the probe's on a one-cell sample, or
whose operands are not dask arrays with the probe's dims and shape, is not fused.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr
from dask.base import tokenize
from xarray.core import duck_array_ops

from petacube.engine.nulls import Nils, mask_of, null_fill, nulls_of

STRIP = 1 << 17  # cells per strip: temporaries of ~0.5 MiB stay in L2 (measured best of 64k..1M)


# ---- expression trees (built while evaluating; they hold dask names, not data) -------------
@dataclass(frozen=True)
class Leaf:
    name: str  # the dask array's name

    @property
    def key(self):
        return ("leaf", self.name)


@dataclass(frozen=True)
class Const:
    value: Any

    @property
    def key(self):
        return ("const", type(self.value).__name__, repr(self.value))


@dataclass(frozen=True)
class Apply:
    """``fn(*args)``, then null where any of ``args[i] for i in masked`` is null (rasql)."""

    sig: tuple  # what fn computes, for common-subexpression elimination (None: never shared)
    fn: Callable
    args: tuple
    masked: tuple[int, ...] = ()
    nils: tuple[tuple, ...] = ()  # the null values of each masked argument
    key: tuple = field(init=False, compare=False)

    def __post_init__(self):
        sig = self.sig if self.sig is not None else ("fn", id(self.fn))
        object.__setattr__(self, "key", (sig, tuple(a.key for a in self.args), self.masked, self.nils))


Expr = Leaf | Const | Apply


# ---- programs (what a dask task runs) ------------------------------------------------------
@dataclass
class _Step:
    fn: Callable
    args: tuple  # ("slot", i) | ("const", value)
    masks: tuple  # (slot, nils) per masked argument


class Program:
    """A compiled tree: slots 0..n_leaves-1 are the leaf blocks, then one slot per step."""

    def __init__(self, expr: Expr, leaf_names: list[str], dtype: np.dtype):
        self.n_leaves = len(leaf_names)
        self.dtype = np.dtype(dtype)
        self.steps: list[_Step] = []
        self._fills: dict[tuple[int, str], tuple[Any, bool]] = {}
        slots: dict[tuple, int] = {("leaf", n): i for i, n in enumerate(leaf_names)}
        self.out = self._compile(expr, slots)

    def _compile(self, e: Expr, slots: dict) -> int | tuple:
        if e.key in slots:
            return slots[e.key]
        if isinstance(e, Const):
            return ("const", e.value)
        args = tuple(self._compile(a, slots) for a in e.args)
        args = tuple(("slot", a) if isinstance(a, int) else a for a in args)
        masks = tuple((args[i][1], nils) for i, nils in zip(e.masked, e.nils) if args[i][0] == "slot")
        self.steps.append(_Step(e.fn, args, masks))
        slot = self.n_leaves + len(self.steps) - 1
        slots[e.key] = slot
        return slot

    # -- evaluation --
    def strips(self, blocks):
        """(values, cells) per strip of the blocks; a strip of constant blocks (missing
        tiles read as a broadcast fill) gives a single value standing for ``cells``."""
        shape = blocks[0].shape
        n = math.prod(shape)
        flats = [_flat(b) for b in blocks]
        with np.errstate(all="ignore"):  # masked cells may divide by zero etc.
            if n and all(const for _, const in flats):  # all constant: one value for the block
                yield self._strip([f for f, _ in flats]), n
                return
            for start in range(0, n, STRIP):
                stop = min(n, start + STRIP)
                values = [f if const else f[start:stop] for f, const in flats]
                yield self._strip(values), stop - start

    def run(self, *blocks) -> np.ndarray:
        """The tree's values on one block of each leaf."""
        shape = blocks[0].shape
        out = np.empty(math.prod(shape), dtype=self.dtype)
        start = 0
        for values, cells in self.strips(blocks):
            out[start:start + cells] = values
            start += cells
        return out.reshape(shape)

    def _strip(self, values: list):
        masks: dict[tuple, np.ndarray | None] = {}
        for k, step in enumerate(self.steps):
            args = [values[a[1]] if a[0] == "slot" else a[1] for a in step.args]
            raw = np.asarray(step.fn(*args))
            if step.masks:
                if step.masks not in masks:  # steps on the same operands share their null union
                    masks[step.masks] = self._union(step.masks, values, masks)
                mask = masks[step.masks]
                fill = null_fill(raw.dtype, [list(n) for _, n in step.masks])
                if mask is not None and fill is not None:
                    raw = self._fill(k, raw, mask, fill)
            values.append(raw)
        return values[self.out] if isinstance(self.out, int) else np.asarray(self.out[1])

    @staticmethod
    def _union(specs: tuple, values: list, masks: dict):
        """True where any of the (slot, nils) operands is null; None when none can be."""
        mask = None
        for slot, nils in specs:
            if (slot, nils) not in masks:
                masks[(slot, nils)] = mask_of(values[slot], list(nils))
            m = masks[(slot, nils)]
            if m is not None:
                mask = m if mask is None else (mask | m)
        return mask

    def _fill(self, k: int, raw: np.ndarray, mask: np.ndarray, fill) -> np.ndarray:
        """``raw`` with ``fill`` where ``mask``, exactly as xarray's ``where`` + ``astype`` do."""
        got = self._fills.get((k, raw.dtype.str))
        if got is None:
            one = np.zeros(1, dtype=raw.dtype)
            promoted = duck_array_ops.where(np.array([True]), one, fill).dtype
            value = duck_array_ops.where(np.array([False]), one, fill).astype(raw.dtype)[0]
            exact = promoted == raw.dtype or np.can_cast(raw.dtype, promoted, "safe")
            got = self._fills[(k, raw.dtype.str)] = (value, exact)
        value, exact = got
        if exact:
            if raw.flags.owndata and raw.flags.writeable and raw.shape == mask.shape:
                np.copyto(raw, value, where=mask)  # a fresh result of fn: fill in place
                return raw
            return np.where(mask, value, raw)
        out = duck_array_ops.where(~mask, raw, fill)
        return out if out.dtype == raw.dtype else out.astype(raw.dtype)


def _flat(block: np.ndarray) -> tuple[np.ndarray, bool]:
    """A block as one flat array, or its single value when it is a broadcast constant."""
    block = np.asarray(block)
    if block.size > 1 and all(s == 0 for s in block.strides):
        return block.reshape(-1)[:1].copy(), True
    return np.ascontiguousarray(block).reshape(-1), False


# ---- building fused values -----------------------------------------------------------------
class Fuser:
    """Per-query registry: which dask arrays are fused trees, and their leaves."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled  # False: plain xarray evaluation (the reference the tests compare with)
        self.exprs: dict[str, Expr] = {}
        self.leaves: dict[str, Any] = {}  # dask name -> dask array

    def expr_of(self, operand) -> Expr:
        """The tree behind an operand (a fused value, a leaf array, or a constant)."""
        if isinstance(operand, xr.DataArray):
            name = operand.data.name
            if name in self.exprs:
                return self.exprs[name]
            self.leaves[name] = operand.data
            return Leaf(name)
        return Const(operand)

    def fusable(self, probe, operands) -> bool:
        """Whether ``probe`` can be computed by a tree over ``operands``."""
        if not self.enabled or not isinstance(probe, xr.DataArray) or not _is_dask(probe.data):
            return False
        arrays = [o for o in operands if isinstance(o, xr.DataArray)]
        if not arrays:
            return False
        return all(_is_dask(a.data) and a.dims == probe.dims and a.shape == probe.shape for a in arrays)

    def apply(self, probe: xr.DataArray, sig: tuple | None, fn: Callable, operands: list,
              masked: tuple[int, ...] = ()) -> xr.DataArray:
        """``probe`` (the xarray result of ``fn`` over ``operands`` with the nulls of
        ``operands[masked]`` combined) with its data computed by one fused kernel."""
        if not self.fusable(probe, operands):
            return probe
        nils = tuple(tuple(nulls_of(operands[i])) for i in masked)
        expr = Apply(sig, fn, tuple(self.expr_of(o) for o in operands), tuple(masked), nils)
        return self.attach(probe, expr)

    def attach(self, probe: xr.DataArray, expr: Expr) -> xr.DataArray:
        """``probe`` computed from ``expr`` (unchanged when the tree disagrees on a sample)."""
        import dask.array as da

        program, leaves = self.compile(expr, probe.dtype)
        if program is None:
            return probe
        name = "petacube-fused-" + tokenize(repr(expr.key), probe.dtype.str)
        meta = np.empty((0,) * probe.ndim, dtype=probe.dtype)
        arr = da.map_blocks(program.run, *leaves, dtype=probe.dtype, meta=meta, name=name)
        if arr.shape != probe.shape:
            return probe
        self.exprs[arr.name] = expr
        return probe.copy(data=arr)

    def compile(self, expr: Expr, dtype) -> tuple[Program | None, list]:
        """The program for ``expr`` and its leaf arrays in slot order (None: do not fuse)."""
        names: list[str] = []
        _collect_leaves(expr, names)
        leaves = [self.leaves[n] for n in names]
        program = Program(expr, names, dtype)
        try:
            sample = program.run(*[np.zeros((1,) * a.ndim, dtype=a.dtype) for a in leaves])
        except Exception:  # noqa: BLE001 - the xarray path reports such errors its own way
            return None, leaves
        if sample.dtype != np.dtype(dtype) or program.steps and _raw_dtype(program, leaves) != np.dtype(dtype):
            return None, leaves
        return program, leaves


def _raw_dtype(program: Program, leaves) -> np.dtype:
    """The dtype the tree itself produces (``run`` casts into the probe's dtype)."""
    with np.errstate(all="ignore"):
        values, _ = next(program.strips([np.zeros((1,) * a.ndim, dtype=a.dtype) for a in leaves]))
    return np.asarray(values).dtype


def _collect_leaves(e: Expr, names: list[str]) -> None:
    if isinstance(e, Leaf):
        if e.name not in names:
            names.append(e.name)
    elif isinstance(e, Apply):
        for a in e.args:
            _collect_leaves(a, names)


def _is_dask(data) -> bool:
    return hasattr(data, "dask") and hasattr(data, "chunks")


__all__ = ["Fuser", "Program", "Apply", "Leaf", "Const", "Nils"]
