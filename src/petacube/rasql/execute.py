"""Running one rasql statement against a `Datacube`: select through the engine
(`petacube.engine.arrays.run_arrays`), writes and definitions through `Collections` and
the type registry. Rights are asked of ``authorize(collections, write)`` before any data
is read or written."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from lark import Token, Tree

from petacube.engine import ir
from petacube.engine.arrays import ArrayResult, Interval, Sdom, run_arrays
from petacube.engine.iterate import index_coverage
from petacube.errors import PetacubeError
from petacube.rasql import typedefs
from petacube.rasql.collections import SYSTEM_COLLECTIONS, Collection, Collections
from petacube.rasql.errors import RasqlError, rasql_error
from petacube.rasql.parser import parse_tree
from petacube.rasql.results import Element, element_of
from petacube.rasql.translate import Translator
from petacube.rasql.typesys import base_dtype

Authorize = Callable[[tuple[str, ...], bool], None]


@dataclass
class Upload:
    """A file for ``$n``: encoded (decode($1)) or raw cells with ``--mddtype``/``--mdddomain``."""

    data: bytes
    mdd_type: str | None = None
    mdd_domain: str | None = None


@dataclass
class Outcome:
    statement: str  # select | insert | update | delete | create | drop
    elements: list[Element] = field(default_factory=list)
    collections: tuple[str, ...] = ()

    @property
    def is_update(self) -> bool:
        return self.statement != "select"


def statement_kind(text: str) -> str:
    """The statement's verb (for rights before anything else is done)."""
    tree = parse_tree(text)
    node = tree.children[0]
    return node.data.split("_")[0]


class Session:
    """Executes rasql statements on one datacube (the server keeps one per request)."""

    def __init__(self, cube, authorize: Authorize | None = None):
        self.cube = cube
        self.collections = Collections(cube)
        self.authorize = authorize or (lambda names, write: None)

    def execute(self, text: str, uploads: list[Upload] | None = None) -> Outcome:
        tree = parse_tree(text)
        node = tree.children[0]
        uploads = list(uploads or [])
        kind = node.data
        if kind == "select":
            return self._select(node, text, uploads)
        if kind == "insert":
            return self._insert(node, text, uploads)
        if kind == "update":
            return self._update(node, text, uploads)
        if kind == "delete":
            return self._delete(node, text)
        if kind == "create_collection":
            name, set_name = node.children
            self.authorize((str(name),), True)
            self.collections.create(str(name), str(set_name), name, set_name)
            return Outcome("create", collections=(str(name),))
        if kind == "drop_collection":
            name = node.children[0]
            self.authorize((str(name),), True)
            self.collections.drop(str(name), name)
            return Outcome("drop", collections=(str(name),))
        self.authorize((), True)
        if kind == "create_type":
            typedefs.create(self.collections.types, node)
            return Outcome("create")
        typedefs.drop(self.collections.types, node)
        return Outcome("drop")

    # ---- select -----------------------------------------------------------------------
    def _select(self, node: Tree, text: str, uploads: list[Upload]) -> Outcome:
        is_from = [isinstance(c, Tree) and c.data == "from_item" for c in node.children]
        first, last = is_from.index(True), len(is_from) - 1 - is_from[::-1].index(True)
        targets = node.children[:first]
        froms = node.children[first:last + 1]
        where = node.children[last + 1] if last + 1 < len(node.children) else None
        if len(targets) > 1:
            raise rasql_error(361, targets[1], hint="Select one expression; combine values with a struct {a, b}.")
        translator = self._translator(text)
        names, empty = [], False
        for item in froms:
            name_token = item.children[0]
            alias = str(item.children[-1])
            name = str(name_token)
            if name.upper() in SYSTEM_COLLECTIONS:
                return self._collection_names(translator, item, targets[0], alias)
            coll = self.collections.require(name, name_token)
            names.append(name)
            translator.bind(alias, name, coll.coverage)
            empty = empty or coll.coverage is None
        self.authorize(tuple(dict.fromkeys(names)), False)
        expr = translator.value(targets[0])
        cond = translator.value(where) if where is not None else None
        if empty:
            return Outcome("select", [], tuple(names))
        results = self._run(ir.Query((expr,), (cond,), text), uploads)
        return Outcome("select", [element_of(r) for r in results], tuple(names))

    def _collection_names(self, translator, item, target, alias) -> Outcome:
        if not (isinstance(target, Tree) and target.data == "var" and str(target.children[0]) == alias):
            raise rasql_error(499, target, hint=f"From RAS_COLLECTIONNAMES select the names only: select {alias} "
                                                f"from RAS_COLLECTIONNAMES as {alias}.")
        names = self.collections.names()
        return Outcome("select", [Element("string", value=n, data=n.encode(), media_type="text/plain") for n in names])

    # ---- writes -------------------------------------------------------------------------
    def _insert(self, node: Tree, text: str, uploads: list[Upload]) -> Outcome:
        name_token, value_tree, *rest = node.children
        tiling = " ".join(str(rest[0].children[0]).split()) if rest else None
        coll = self.collections.require(str(name_token), name_token, 957)
        self.authorize((coll.name,), True)
        value = self._array(self._translator(text).value(value_tree), text, uploads, value_tree, 960)
        self.collections.insert(coll, value, tiling, name_token)
        return Outcome("insert", collections=(coll.name,))

    def _update(self, node: Tree, text: str, uploads: list[Upload]) -> Outcome:
        children = list(node.children)
        name_token, alias_token, target_token = children[:3]
        rest = children[3:]
        dims = rest.pop(0) if rest and isinstance(rest[0], Tree) and rest[0].data == "dim_list" else None
        source_tree = rest[0]
        where = rest[1] if len(rest) > 1 else None
        coll = self.collections.require(str(name_token), name_token, 957)
        if str(target_token) != str(alias_token):
            raise rasql_error(950, target_token, hint=f"Assign to the iterator: set {alias_token}[...] assign ...")
        self.authorize((coll.name,), True)
        if coll.coverage is None:
            raise rasql_error(951, name_token, hint=f"Collection {coll.name} is empty: insert an array first.")
        translator = self._translator(text)
        translator.bind(str(alias_token), coll.name, coll.coverage)
        if where is not None:
            cond = translator.value(where)
            if not bool(self._run(ir.Query((cond,), (None,), text), uploads)[0].value):
                return Outcome("update", collections=(coll.name,))
        target = None
        if dims is not None:
            ref = ir.CoverageRef(coll.name)
            subset = translator.subset(ref, dims.children, dims)
            domain = self._run(ir.Query((Sdom(subset),), (None,), text), uploads)[0]
            sliced = {a.axis for a in subset.axes if a.is_slice}
            at = {a.axis: int(self._run(ir.Query((a.at,), (None,), text), uploads)[0].value)
                  for a in subset.axes if a.is_slice}
            kept = iter(domain.bounds)
            target = []
            for label in coll.coverage.rasdaman_grid_order():
                if label in sliced:
                    target.append((at[label], at[label], True))
                else:
                    target.append((*next(kept), False))
        value = self._array(translator.value(source_tree), text, uploads, source_tree, 951)
        self.collections.update(coll, value, target, target_token)
        return Outcome("update", collections=(coll.name,))

    def _delete(self, node: Tree, text: str) -> Outcome:
        name_token, *rest = node.children
        alias = str(rest.pop(0)) if rest and isinstance(rest[0], Token) else str(name_token)
        coll = self.collections.require(str(name_token), name_token, 957)
        self.authorize((coll.name,), True)
        if rest and coll.coverage is not None:
            translator = self._translator(text)
            translator.bind(alias, coll.name, coll.coverage)
            cond = translator.value(rest[0])
            if not bool(self._run(ir.Query((cond,), (None,), text), [])[0].value):
                return Outcome("delete", collections=(coll.name,))
        self.collections.delete(coll)
        return Outcome("delete", collections=(coll.name,))

    # ---- helpers ------------------------------------------------------------------------------
    def _translator(self, text: str) -> Translator:
        return Translator(text, self.collections.find, dbinfo=self._dbinfo)

    def _dbinfo(self, name: str) -> str:
        coll = self.collections.find(name)
        cov = coll.coverage
        info = {"collectionName": name, "collectionType": coll.type.set_name, "mddType": coll.type.marray_name,
                "baseType": {b: t for b, t in coll.type.bands}}
        if cov is not None:
            info.update({"domain": "[" + ",".join(f"0:{cov.axis(d).size - 1}" if cov.axis(d).crs_axis.kind != "index"
                                                 else f"{int(cov.axis(d).lower)}:{int(cov.axis(d).lower) + cov.axis(d).size - 1}"
                                                 for d in cov.rasdaman_grid_order()) + "]",
                         "tileShape": list(cov.tile_shape or ()), "cells": int(np.prod(cov.shape)),
                         "sizeOnDisk": self.cube.store.size_on_disk(name) if self.cube.store.has_coverage(name) else 0})
        return json.dumps(info)

    def _run(self, query: ir.Query, uploads: list[Upload]) -> list:
        files = [u.data for u in uploads]
        arrays = {i + 1: _raw_array(u, self.collections.types) for i, u in enumerate(uploads) if u.mdd_domain}
        try:
            return run_arrays(query, self.cube, uploads=files, arrays=arrays,
                              scheduler=self.cube.settings.scheduler, timeout=self.cube.settings.query_timeout)
        except RasqlError:
            raise
        except PetacubeError as exc:
            raise RasqlError(f"Execution error: {exc.message}", number=350, locator=exc.locator) from None

    def _array(self, expr, text: str, uploads: list[Upload], node, number: int) -> ArrayResult:
        value = self._run(ir.Query((expr,), (None,), text), uploads)[0]
        if not isinstance(value, ArrayResult):
            what = "an encoded file" if getattr(value, "data", None) is not None else "a scalar"
            raise rasql_error(number, node, hint=f"The value is {what}, not an array; give an array such as "
                                                 "decode($1) or marray x in [0:9] values 0c.")
        return value


def _raw_array(upload: Upload, types) -> object:
    """--mddtype/--mdddomain: the file's bytes are the cells (row-major, rasdaman's order)."""
    domain = _parse_domain(upload.mdd_domain)
    name = upload.mdd_type or "GreyString"
    marray = types.marray(name)
    if marray is None:
        raise rasql_error(965, token=name, hint="Give an MDD type such as GreyImage, RGBImage or FloatCube.")
    bands = types.cell_bands(marray["cell"])
    shape = tuple(hi - lo + 1 for lo, hi in domain)
    dtype = np.dtype([(n, d) for n, d in bands]) if len(bands) > 1 else np.dtype(bands[0][1])
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(upload.data) != expected:
        raise RasqlError(f"rasql: file size {len(upload.data)} does not match the domain {upload.mdd_domain} of "
                         f"{name} ({expected} bytes expected).", number=350)
    cells = np.frombuffer(upload.data, dtype=dtype).reshape(shape)
    import xarray as xr

    from petacube.model.crs import INDEX_LABELS

    labels = INDEX_LABELS[: len(shape)]
    first = bands[0][0]
    data = xr.DataArray(cells[first] if len(bands) > 1 else cells, dims=labels)
    value = index_coverage(first, data, [(lab, lo) for lab, (lo, _) in zip(labels, domain)])
    if len(bands) > 1:
        ds = xr.Dataset({n: xr.DataArray(cells[n], dims=labels, coords=value.data.coords) for n, _ in bands})
        from dataclasses import replace as _replace

        from petacube.model import Band

        value = _replace(value, data=ds, coverage=_replace(value.coverage, bands=tuple(Band(n, d) for n, d in bands)))
    return value


def _parse_domain(text: str) -> list[tuple[int, int]]:
    inner = text.strip()
    if not (inner.startswith("[") and inner.endswith("]")):
        raise RasqlError(f"rasql: --mdddomain {text!r}: write it as [x0:x1,y0:y1].", number=350)
    out = []
    for part in inner[1:-1].split(","):
        try:
            lo, hi = (int(p) for p in part.split(":"))
        except ValueError:
            raise RasqlError(f"rasql: --mdddomain {text!r}: '{part}' is not lo:hi with whole numbers.",
                             number=350) from None
        if hi < lo:
            raise RasqlError(f"rasql: --mdddomain {text!r}: {hi} is below {lo}.", number=350)
        out.append((lo, hi))
    return out


__all__ = ["Collection", "Interval", "Outcome", "Session", "Upload", "base_dtype"]
