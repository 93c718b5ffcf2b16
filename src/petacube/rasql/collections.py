"""Collections: rasql's named sets of arrays, kept as coverages with an Index CRS.

A petacube collection holds at most one array (as petascope's collections do): the
coverage of the same name. The rasql type registry remembers each collection's set type,
so an empty collection exists before its first insert and after a delete. Writes go
through WCS-T's functions (`petacube.ows.wcst.transact`): tiles in one tile-store commit,
then the description in one catalog transaction, so a failed insert/update leaves nothing
half-written; nulls of the source do not overwrite (WCS-T's update rule)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from petacube.catalog.rasql_types import RasqlTypes
from petacube.datacube import axis_coordinates
from petacube.engine.arrays import ArrayResult
from petacube.engine.nulls import NIL_ATTR
from petacube.errors import PetacubeError
from petacube.model import Coverage
from petacube.model.crs import INDEX_LABELS
from petacube.rasql.errors import RasqlError, rasql_error
from petacube.rasql.typesys import CollectionType, TypeSystem, type_of_coverage

SYSTEM_COLLECTIONS = ("RAS_COLLECTIONNAMES",)


@dataclass(frozen=True)
class Collection:
    name: str
    type: CollectionType
    coverage: Coverage | None  # None: empty


class Collections:
    """The collections of one datacube."""

    def __init__(self, cube):
        self.cube = cube
        self.registry = RasqlTypes(cube.catalog)
        self.types = TypeSystem(self.registry)

    def names(self) -> list[str]:
        """RAS_COLLECTIONNAMES: declared collections and every coverage."""
        return sorted(set(self.registry.names("collection")) | set(self.cube.coverage_ids()))

    def find(self, name: str) -> Collection | None:
        declared = self.registry.get("collection", name)
        cov = self.cube.describe(name) if self.cube.catalog.exists(name) else None
        if declared is None and cov is None:
            return None
        ctype = self.types.collection_type(declared["set"]) if declared else None
        if ctype is None:
            ctype = type_of_coverage(cov)
        return Collection(name, ctype, cov)

    def require(self, name: str, node, number: int = 355) -> Collection:
        found = self.find(name)
        if found is None:
            known = ", ".join(self.names()[:20]) or "none yet"
            raise rasql_error(number, node, hint=f"Collections: {known}.")
        return found

    # ---- DDL ----------------------------------------------------------------------------
    def create(self, name: str, set_name: str, node, type_node) -> None:
        if self.find(name) is not None or name in SYSTEM_COLLECTIONS:
            raise rasql_error(955, node, hint=f"Drop collection {name} first, or pick another name.")
        if self.types.collection_type(set_name) is None:
            raise rasql_error(956, type_node, hint=f"'{set_name}' is not a set type; use e.g. GreySet, RGBSet, "
                                                   "FloatSet3, or create one with create type ... as set (...).")
        if not self.registry.add("collection", name, {"set": set_name}):
            raise rasql_error(955, node)

    def drop(self, name: str, node) -> None:
        self.require(name, node, 957)
        if self.cube.catalog.exists(name):
            self.cube.delete(name)
        self.registry.remove("collection", name)

    # ---- DML ------------------------------------------------------------------------------
    def insert(self, coll: Collection, value: ArrayResult, tiling: str | None, node) -> None:
        from petacube.ows.wcst import transact

        if coll.coverage is not None:
            raise rasql_error(959, node, hint=f"Collection {coll.name} already holds an array; a petacube "
                                              "collection holds one: change it with update, or delete from it first.")
        ds = self._index_dataset(coll.type, value, node)
        try:
            transact.insert(self.cube, ds, coll.name, tiling=tiling, source="rasql:insert")
        except PetacubeError as exc:
            raise RasqlError(f"Update error 959: {exc.message}", number=959) from None
        if self.registry.get("collection", coll.name) is None:
            self.registry.add("collection", coll.name, {"set": coll.type.set_name})

    def update(self, coll: Collection, value: ArrayResult, target: list[tuple[int, int, bool]] | None, node) -> None:
        """Write ``value`` over ``target`` (absolute (lo, hi, sliced) per axis in rasdaman's
        order; None: at the value's own domain)."""
        from petacube.ows.wcst import transact

        cov = coll.coverage
        order = cov.rasdaman_grid_order()
        if target is None:
            if len(value.dims) != len(order):
                raise rasql_error(963, node, hint=f"The source has {len(value.dims)} axes, the collection {len(order)}.")
            target = [(lo, hi, False) for lo, hi in value.domain.bounds]
        kept = [(lo, hi) for lo, hi, sliced in target if not sliced]
        shape = tuple(value.data.sizes[d] for d in value.dims)
        if len(kept) != len(shape) or any(hi - lo + 1 != n for (lo, hi), n in zip(kept, shape)):
            want = "[" + ",".join(f"{lo}:{hi}" if not s else str(lo) for lo, hi, s in target) + "]"
            raise rasql_error(963 if len(kept) != len(shape) else 953, node,
                              hint=f"The target {want} needs an array of extent {[hi - lo + 1 for lo, hi in kept]}, "
                                   f"the source has {list(shape)}.")
        ds = self._positioned(cov, coll.type, value, dict(zip(order, target)), node)
        try:
            transact.update(self.cube, ds, coll.name, source="rasql:update")
        except PetacubeError as exc:
            raise RasqlError(f"Update error 953: {exc.message}", number=953) from None

    def delete(self, coll: Collection) -> None:
        if coll.coverage is None:
            return
        if self.registry.get("collection", coll.name) is None:
            self.registry.add("collection", coll.name, {"set": coll.type.set_name})
        self.cube.delete(coll.name)

    # ---- datasets for WCS-T -------------------------------------------------------------------
    def _bands(self, ctype: CollectionType, value: ArrayResult, node) -> list[tuple[str, np.ndarray, list]]:
        names = list(value.data.data_vars)
        if len(names) != len(ctype.bands):
            raise rasql_error(959, node, hint=f"The array's cells have {len(names)} component(s), the collection's "
                                              f"type {ctype.describe()} has {len(ctype.bands)}.")
        out = []
        for (band, dtype), src in zip(ctype.bands, names):
            da = value.data[src]
            nils = list(da.attrs.get(NIL_ATTR) or [])
            out.append((band, np.asarray(da.transpose(*value.dims).values).astype(dtype, copy=False), nils))
        return out

    def _index_dataset(self, ctype: CollectionType, value: ArrayResult, node) -> xr.Dataset:
        n = len(value.dims)
        if ctype.dims is not None and n != ctype.dims:
            raise rasql_error(959, node, hint=f"The array has {n} axes; {ctype.describe()} takes {ctype.dims}.")
        if not 1 <= n <= len(INDEX_LABELS):
            raise rasql_error(972, node, hint=f"Arrays of 1 to {len(INDEX_LABELS)} axes can be stored, not {n}.")
        labels = INDEX_LABELS[:n]
        coords = {lab: np.arange(lo, hi + 1, dtype=np.float64) for lab, (lo, hi) in zip(labels, value.domain.bounds)}
        variables = {}
        fill = next((n.low for n in ctype.nulls if not n.is_interval), None)
        for band, arr, _ in self._bands(ctype, value, node):
            attrs = {"_FillValue": np.asarray(fill).astype(arr.dtype)[()]} if fill is not None else {}
            variables[band] = xr.Variable(labels, arr, attrs)
        return xr.Dataset(variables, coords=coords, attrs={"crs": f"OGC/0/Index{n}D"})

    def _positioned(self, cov: Coverage, ctype: CollectionType, value: ArrayResult,
                    target: dict[str, tuple[int, int, bool]], node) -> xr.Dataset:
        """The source as a dataset at the target cells of ``cov`` (its axes, CRS and order)."""
        coords = {}
        for axis in cov.axes:
            lo, hi, _ = target[axis.label]
            if axis.crs_axis.kind == "index":
                coords[axis.label] = np.arange(lo, hi + 1, dtype=np.float64)
            else:
                if not (0 <= lo <= hi < axis.size):
                    raise rasql_error(953, node, hint=f"Axis {axis.label}: {lo}:{hi} is outside 0:{axis.size - 1}.")
                coords[axis.label] = axis_coordinates(cov, axis.subset(lo, hi))
        variables = {}
        kept = [d for d in cov.rasdaman_grid_order() if not target[d][2]]
        rename = dict(zip(value.dims, kept))
        for band, arr, nils in self._bands(ctype, value, node):
            da = xr.DataArray(arr, dims=[rename[d] for d in value.dims])
            for label in cov.dims:
                if label not in da.dims:
                    da = da.expand_dims(label)
            da = da.transpose(*cov.dims)
            single = next((low for low, high in nils if high is None), None)
            attrs = {"_FillValue": np.asarray(single).astype(arr.dtype)[()]} if single is not None else {}
            variables[band] = xr.Variable(cov.dims, da.values, attrs)
        return xr.Dataset(variables, coords=coords, attrs={"crs": cov.crs.identifier})
