"""Pieces every recipe uses: opening files (with hooks and skip), tiling and pyramid
options, band descriptions from files, compatibility checks against the coverage."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np

from petacube.errors import IngredientsError, PetacubeError, SourceFileError
from petacube.ingest.plan import ImportPlan, Placement, PlannedSlice
from petacube.ingest.slicers import open_source
from petacube.model import Band, Coverage, Crs, NilValue, RegularAxis
from petacube.storage.tiling import DEFAULT_TILE_EDGE


def opened_units(paths: list[Path], slicer: str, hooks, plan: ImportPlan, skip: bool, default_crs: str | None = None) -> Iterator:
    """(original path, effective path, unit index, unit) for every unit of every file.

    Before-hooks run first (they may replace the file); unreadable files raise, or are
    listed in ``plan.skipped`` when ``skip`` is true."""
    for original in paths:
        try:
            effective = hooks.before(original)
        except PetacubeError as exc:
            if skip:
                plan.skipped.append((original, exc.message))
                continue
            raise
        for path in effective:
            try:
                src = open_source(path, slicer, default_crs=default_crs, original_path=original)
            except SourceFileError as exc:
                if skip:
                    plan.skipped.append((original, exc.message))
                    continue
                raise
            with src:
                for i, unit in enumerate(src.units()):
                    yield original, path, i, unit


def file_crs(unit, path: Path, default_crs: str | None) -> Crs:
    text = unit.crs or default_crs
    if not text:
        raise SourceFileError(f"{path}: the file has no CRS; set config.default_crs in the ingredients")
    try:
        return Crs.parse(text)
    except PetacubeError as exc:
        raise SourceFileError(f"{path}: its CRS {text!r} is not usable: {exc.message}") from None


def gdal_bands(unit, path: Path, default_nulls: list | None, names: list[str] | None = None) -> tuple[Band, ...]:
    """Bands described by a GDAL file: names from band descriptions (else ``field_N``)."""
    bands = []
    descriptions = [unit.band_meta(i).get("description") or "" for i in range(1, unit.band_count + 1)]
    use_desc = all(descriptions) and len(set(descriptions)) == len(descriptions)
    for i in range(1, unit.band_count + 1):
        meta = unit.band_meta(i)
        if names and i <= len(names):
            name = names[i - 1]
        else:
            name = _identifier(descriptions[i - 1]) if use_desc else f"field_{i}"
        bands.append(
            Band(
                name=name,
                dtype=meta["dtype"],
                nil_values=nil_values(meta.get("nodata"), default_nulls),
                uom=meta.get("unit") or "10^0",
                description=meta.get("description") or "",
            )
        )
    return tuple(bands)


def _identifier(text: str) -> str:
    out = "".join(c if c.isalnum() or c == "_" else "_" for c in text.strip())
    return out if out and not out[0].isdigit() else f"b_{out}"


def nil_values(file_nodata, default_nulls, declared=None) -> tuple[NilValue, ...]:
    """Declared nulls win, then the file's nodata, then config.default_null_values."""
    if declared not in (None, [], ""):
        items = declared if isinstance(declared, (list, tuple)) else [declared]
        return tuple(NilValue.parse(v) for v in items)
    if file_nodata is not None:
        return (NilValue(float(file_nodata)),)
    if default_nulls:
        return tuple(NilValue.parse(v) for v in default_nulls)
    return ()


def xy_placements(unit, crs: Crs, path: Path) -> tuple[dict[str, Placement], dict[str, int], frozenset[str], tuple[str, str]]:
    """Placements, cell counts, flips and (y, x) labels of a north-up-able GDAL raster."""
    t = unit.transform
    if t.b != 0 or t.d != 0:
        raise SourceFileError(f"{path}: rotated/sheared rasters are not supported; warp it north-up first")
    h, w = unit.shape
    ylab = next(a.label for a in crs.axes if a.kind == "y")
    xlab = next(a.label for a in crs.axes if a.kind == "x")
    x0, x1 = sorted((t.c, t.c + t.a * w))
    y0, y1 = sorted((t.f, t.f + t.e * h))
    flips = set()
    if t.e > 0:  # south-up file: rows run opposite to our north-up grid
        flips.add(ylab)
    if t.a < 0:
        flips.add(xlab)
    places = {ylab: Placement(y0, y1), xlab: Placement(x0, x1)}
    return places, {ylab: h, xlab: w}, frozenset(flips), (ylab, xlab)


def spatial_axes(crs: Crs, unit) -> tuple[RegularAxis, RegularAxis]:
    """Empty (size 0) north-up y and x axes with the file's resolution."""
    t = unit.transform
    ya = next(a for a in crs.axes if a.kind == "y")
    xa = next(a for a in crs.axes if a.kind == "x")
    return (
        RegularAxis(ya.label, ya, 0.0, -abs(t.e), 0),
        RegularAxis(xa.label, xa, 0.0, abs(t.a), 0),
    )


def check_compatible(cov: Coverage, crs: Crs, bands: tuple[Band, ...], path: Path, resolutions: dict[str, float]) -> None:
    """A file must match the coverage's CRS, band count, types and resolution."""
    if crs.identifier not in cov.crs.identifier:
        raise SourceFileError(f"{path}: its CRS is {crs.identifier} but coverage {cov.id} is in {cov.crs.identifier}; reproject it first (e.g. a before_ingestion hook running gdalwarp)")
    if len(bands) != len(cov.bands):
        raise SourceFileError(f"{path}: it has {len(bands)} band(s) but coverage {cov.id} has {len(cov.bands)} ({', '.join(b.name for b in cov.bands)})")
    for b, cb in zip(bands, cov.bands):
        if b.dtype != cb.dtype:
            raise SourceFileError(f"{path}: band {cb.name} is {b.dtype} in this file but {cb.dtype} in coverage {cov.id}")
    for label, res in resolutions.items():
        axis = cov.axis(label)
        if not math.isclose(abs(res), abs(axis.resolution), rel_tol=1e-6):
            raise SourceFileError(f"{path}: resolution along {label} is {abs(res):g} but coverage {cov.id} has {abs(axis.resolution):g}; resample it first")


def apply_storage_options(cov: Coverage, options, config) -> Coverage:
    """Tiling, pyramid levels, registration and WMS flag from the ingredients."""
    # the tile shape is settled in build_plan once the extent is known (for `*` extents)
    pyramid = pyramid_factors(cov, options)
    return replace(
        cov,
        pyramid=pyramid,
        insitu=bool(getattr(config, "insitu", False)),
        wms_import=bool(getattr(options, "wms_import", False)),
    )


def growing_tile_shape(cov: Coverage) -> tuple[int, ...]:
    """Default tiles for a coverage whose extent is not known yet: DEFAULT_TILE_EDGE² over
    the two horizontal (or, without any, the last two) axes, one cell thick elsewhere."""
    kinds = [a.crs_axis.kind for a in cov.axes]
    planar = {i for i, k in enumerate(kinds) if k in ("x", "y")} or set(range(max(0, len(kinds) - 2), len(kinds)))
    return tuple(DEFAULT_TILE_EDGE if i in planar else 1 for i in range(len(kinds)))


def pyramid_factors(cov: Coverage, options) -> tuple[tuple[int, ...], ...]:
    """``scale_levels: [2, 4]`` (x/y only) or ``scale_factors: [{factors: [...]}]`` (rasdaman grid order)."""
    levels = []
    for level in getattr(options, "scale_levels", None) or []:
        f = float(level)
        if f < 1 or not f.is_integer():
            raise IngredientsError(f"recipe.options.scale_levels: {level} is not an integer factor ≥ 1")
        if f == 1:
            continue
        levels.append(tuple(int(f) if a.crs_axis.kind in ("x", "y") else 1 for a in cov.axes))
    for entry in getattr(options, "scale_factors", None) or []:
        factors = entry.factors if hasattr(entry, "factors") else entry["factors"]
        order = cov.rasdaman_grid_order()
        if len(factors) != len(order):
            raise IngredientsError(
                f"recipe.options.scale_factors: {factors} has {len(factors)} factors but the coverage has "
                f"{len(order)} axes ({', '.join(order)})"
            )
        by_label = dict(zip(order, factors))
        levels.append(tuple(max(1, int(round(float(by_label[a.label])))) for a in cov.axes))
    return tuple(sorted(set(levels), key=lambda f: np.prod(f)))


def sort_slices(slices: list[PlannedSlice], order: str | None, key) -> list[PlannedSlice]:
    """``import_order``: ascending (default) or descending by the slice's position."""
    if order in (None, "", "none"):
        return slices
    return sorted(slices, key=key, reverse=str(order).lower() == "descending")
