"""Recipes: how an ingredients file becomes an import plan, and reading planned slices."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from petacube.errors import IngredientsError, SourceFileError
from petacube.ingest.plan import ImportPlan, PlannedSlice, union_extent
from petacube.ingest.recipes.common import growing_tile_shape
from petacube.ingest.recipes.gdal_recipes import plan_gdal_recipe
from petacube.ingest.recipes.general_coverage import plan_general_coverage
from petacube.ingest.slicers import open_source
from petacube.model import Coverage
from petacube.storage import parse_tiling

RECIPES = {
    "map_mosaic": plan_gdal_recipe,
    "time_series_irregular": plan_gdal_recipe,
    "time_series_regular": plan_gdal_recipe,
    "general_coverage": plan_general_coverage,
}


def build_plan(ing, paths: list[Path], existing: Coverage | None, hooks) -> ImportPlan:
    """The plan for ``paths`` (metadata only; no pixels are read)."""
    try:
        planner = RECIPES[ing.recipe.name]
    except KeyError:
        raise IngredientsError(f"recipe.name: '{ing.recipe.name}' is not supported; use one of {', '.join(RECIPES)}") from None
    if not paths and existing is None:
        raise IngredientsError(f"input.paths: no file to import for the new coverage {ing.input.coverage_id}")
    if not paths:
        return ImportPlan(existing, [])
    plan = planner(ing, paths, existing, hooks)
    if plan.slices:
        plan.coverage = union_extent(plan.coverage, plan.slices, [sl.shape for sl in plan.slices])
        if existing is None:  # `*` tile extents stand for the domain, known only now
            tiling = getattr(ing.recipe.options, "tiling", None)
            tiles = parse_tiling(tiling, plan.coverage) if tiling else growing_tile_shape(plan.coverage)
            plan.coverage = replace(plan.coverage, tile_shape=tuple(int(n) for n in tiles))
    return plan


def read_slice(sl: PlannedSlice, cov: Coverage) -> dict[str, np.ndarray]:
    """The pixels of a planned slice, one array per band in the coverage's grid order."""
    out = {}
    with open_source(sl.path, sl.slicer) as src:
        unit = src.units()[sl.unit]
        for band, source in zip(cov.bands, sl.bands):
            raw = np.asarray(unit.read(source.identifier))
            if raw.ndim != len(sl.data_dims):
                raise SourceFileError(f"{sl.label}: band {band.name} has {raw.ndim} dimensions, expected {len(sl.data_dims)} ({', '.join(sl.data_dims)})")
            arr = raw
            for label in sl.flips:
                arr = np.flip(arr, axis=sl.data_dims.index(label))
            # to grid order, with length-1 axes where the slice is one cell thick
            present = [cov.dims.index(d) for d in sl.data_dims]
            arr = np.transpose(arr, np.argsort(present))
            want = tuple(sl.shape.get(d, 1) for d in cov.dims if d in sl.data_dims)
            if arr.shape != want:
                raise SourceFileError(f"{sl.label}: band {band.name} holds {arr.shape} cells but its metadata say {want}")
            arr = arr.reshape([sl.shape.get(d, 1) if d in sl.data_dims else 1 for d in cov.dims])
            if arr.dtype != np.dtype(band.dtype):
                if not np.can_cast(arr.dtype, band.dtype, casting="same_kind"):
                    raise SourceFileError(f"{sl.label}: band {band.name} is {arr.dtype}, the coverage stores {band.dtype}")
                arr = arr.astype(band.dtype)
            out[band.name] = np.ascontiguousarray(arr)
    return out


__all__ = ["build_plan", "read_slice", "RECIPES"]
