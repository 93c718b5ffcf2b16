"""The general_coverage recipe: any axes, described by ``${...}`` sentences evaluated on
each file (gdal, netcdf) or GRIB message.

Grid order: axes by ``gridOrder`` (as listed when absent). For the gdal and grib slicers
the raster is (y, x) and the other axes get one cell per file/message; for netcdf the
data-bound axes follow the variable's dimensions in ``gridOrder``.
"""

from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from petacube.errors import IngredientsError, PetacubeError, SourceFileError
from petacube.ingest.plan import BandSource, ImportPlan, Placement, PlannedSlice
from petacube.ingest.recipes.common import (
    apply_storage_options,
    check_compatible,
    nil_values,
    opened_units,
    sort_slices,
)
from petacube.ingest.sentences import evaluate
from petacube.model import (
    Band,
    Coverage,
    Crs,
    IrregularAxis,
    RegularAxis,
    datetime_to_number,
    parse_time,
)
from petacube.model.crs import time_crs_of


def plan_general_coverage(ing, paths: list[Path], existing: Coverage | None, hooks) -> ImportPlan:
    options = ing.recipe.options
    spec = options.coverage
    slicer = spec.slicer
    config = ing.config
    crs = _coverage_crs(spec.crs)
    axes_spec = dict(slicer.axes)
    unknown = [lab for lab in axes_spec if lab not in crs.labels]
    if unknown:
        raise IngredientsError(
            f"recipe.options.coverage.slicer.axes: {', '.join(unknown)} not an axis of {crs.identifier} "
            f"(its axes: {', '.join(crs.labels)})"
        )
    missing = [lab for lab in crs.labels if lab not in axes_spec]
    if missing:
        raise IngredientsError(f"recipe.options.coverage.slicer.axes: no entry for axis {', '.join(missing)} of {crs.identifier}")
    order = _grid_order(crs, axes_spec, slicer.type)
    plan = ImportPlan(existing, [])
    template = existing
    entries: list[PlannedSlice] = []
    sort_key: dict[int, Any] = {}
    for original, path, unit_index, unit in opened_units(paths, slicer.type, hooks, plan, config.skip, config.default_crs):
        try:
            sl, bands, axes = _plan_unit(ing, crs, order, axes_spec, unit, path, unit_index)
            if template is None:
                template = Coverage(ing.input.coverage_id, crs, axes, bands, metadata=_global_metadata(spec, unit))
                template = apply_storage_options(template, options, config)
                if template.insitu and slicer.type != "gdal":
                    raise IngredientsError("config.insitu: registration needs the gdal slicer (netcdf and grib data are imported as tiles)")
            resolutions = {a.label: a.resolution for a in axes if isinstance(a, RegularAxis) and a.label in sl.data_dims}
            check_compatible(template, crs, bands, path, resolutions)
        except SourceFileError as exc:
            if config.skip:
                plan.skipped.append((original, exc.message))
                continue
            raise
        sl.original_path = original if original != path else None
        sort_key[id(sl)] = tuple(
            (p.coefficients[0] if p.coefficients else p.lower) for p in (sl.placements[lab] for lab in order)
        )
        entries.append(sl)
    if template is None:
        raise IngredientsError(f"no readable input for coverage {ing.input.coverage_id}")
    plan.coverage = template
    plan.slices = sort_slices(entries, getattr(options, "import_order", None), key=lambda s: sort_key[id(s)])
    return plan


def _coverage_crs(text: str) -> Crs:
    # wcst_import accepts "EPSG/0/4326@OGC/0/AnsiDate" and resolver-prefixed forms
    return Crs.parse(text)


def _grid_order(crs: Crs, axes_spec: dict, slicer_type: str) -> tuple[str, ...]:
    labels = list(crs.labels)
    orders = {lab: getattr(axes_spec[lab], "gridOrder", None) for lab in labels}
    if slicer_type in ("gdal", "grib"):
        kinds = {a.label: a.kind for a in crs.axes}
        others = [lab for lab in labels if kinds[lab] not in ("x", "y")]
        others.sort(key=lambda lab: (orders[lab] is None, orders[lab] if orders[lab] is not None else labels.index(lab)))
        y = [lab for lab in labels if kinds[lab] == "y"]
        x = [lab for lab in labels if kinds[lab] == "x"]
        return tuple(others + y + x)
    return tuple(sorted(labels, key=lambda lab: (orders[lab] is None, orders[lab] if orders[lab] is not None else labels.index(lab))))


def _plan_unit(ing, crs: Crs, order, axes_spec, unit, path: Path, unit_index: int):
    spec = ing.recipe.options.coverage
    slicer = spec.slicer

    def ev(expr):
        try:
            return evaluate(expr, unit.resolve)
        except PetacubeError as exc:
            raise SourceFileError(f"{path}: {exc.message}") from None

    bands, sources, data_var = _bands(ing, unit, path)
    if slicer.type == "netcdf":
        dims = tuple(unit.dims_of(data_var)) if hasattr(unit, "dims_of") else tuple(unit.dims)
        bound = [lab for lab in order if _data_bound(axes_spec[lab])]
        if len(bound) != len(dims):
            raise SourceFileError(
                f"{path}: variable {data_var} has {len(dims)} dimensions ({', '.join(dims)}) but "
                f"{len(bound)} axes are data-bound ({', '.join(bound)}); set \"dataBound\": false on the others"
            )
        data_dims = tuple(bound)
        dim_of = dict(zip(bound, dims))
        data_shape = dict(zip(bound, unit.shape_of(data_var) if hasattr(unit, "shape_of") else unit.shape))
    else:
        kinds = {a.label: a.kind for a in crs.axes}
        ylab = next(lab for lab in order if kinds[lab] == "y")
        xlab = next(lab for lab in order if kinds[lab] == "x")
        data_dims = (ylab, xlab)
        dim_of = {}
        h, w = unit.shape[-2:]
        data_shape = {ylab: h, xlab: w}
    pixel_is_point = bool(getattr(slicer, "pixelIsPoint", False))
    placements: dict[str, Placement] = {}
    axes = []
    flips = set()
    for label in order:
        a = axes_spec[label]
        crs_axis = crs.axis(label)
        n = data_shape.get(label, 1)
        is_time = crs_axis.is_time
        tcrs = time_crs_of(crs_axis, crs) if is_time else None

        def num(v):
            return _number(v, tcrs, label, path)

        irregular = bool(getattr(a, "irregular", False))
        res_raw = getattr(a, "resolution", None)
        res = num(ev(res_raw)) if res_raw not in (None, "") else None
        lo = num(ev(a.min)) if getattr(a, "min", None) not in (None, "") else None
        hi = num(ev(a.max)) if getattr(a, "max", None) not in (None, "") else None
        if irregular:
            direct = getattr(a, "directPositions", None)
            if direct not in (None, ""):
                coeffs = ev(direct)
                coeffs = coeffs if isinstance(coeffs, (list, tuple, np.ndarray)) else [coeffs]
                coeffs = [num(c) for c in coeffs]
            elif lo is not None:
                coeffs = [lo] if n == 1 else None
            else:
                coeffs = None
            if coeffs is None or len(coeffs) != n:
                raise SourceFileError(f"{path}: irregular axis {label} needs {n} coordinate(s) (directPositions or min); got {coeffs}")
            placements[label] = Placement(coefficients=tuple(float(c) for c in coeffs))
            axes.append(IrregularAxis(label, crs_axis, resolution=res or 1.0))
            if label in dim_of:
                flips.update(_direction_flip(unit, dim_of[label], label, True))
            continue
        if lo is None or res is None:
            raise SourceFileError(f"{path}: axis {label} needs min and resolution (regular axis)")
        points = is_time or not _data_bound(a) and crs_axis.kind not in ("x", "y")
        step = abs(res)
        if pixel_is_point and not points:
            lo -= step / 2
            if hi is not None:
                hi += step / 2
        if points:
            placements[label] = Placement(lo, lo + (n - 1) * step)
        else:
            if hi is None:
                hi = lo + n * step
            placements[label] = Placement(min(lo, hi), max(lo, hi))
        axes.append(RegularAxis(label, crs_axis, 0.0, res if not points else step, 0, points=points))
        if label in dim_of:
            flips.update(_direction_flip(unit, dim_of[label], label, res > 0))
        elif slicer.type == "gdal" and crs_axis.kind == "y" and getattr(unit, "transform", None) is not None:
            if (unit.transform.e > 0) == (res < 0):
                flips.add(label)
    metadata = {k: _plain(ev(v)) for k, v in (getattr(spec.metadata, "local", None) or {}).items()} if getattr(spec, "metadata", None) else {}
    sl = PlannedSlice(
        path=path,
        unit=unit_index,
        placements=placements,
        bands=sources,
        data_dims=data_dims,
        shape={lab: data_shape.get(lab, 1) for lab in order},
        flips=frozenset(flips),
        metadata=metadata,
        slicer=slicer.type,
    )
    return sl, bands, tuple(axes)


def _data_bound(a) -> bool:
    v = getattr(a, "dataBound", None)
    return True if v is None else bool(v)


def _direction_flip(unit, dim: str, label: str, want_ascending: bool) -> set[str]:
    """netCDF: flip a dimension whose coordinate variable runs against the axis direction."""
    try:
        values = unit.resolve(f"netcdf:variable:{dim}")
    except PetacubeError:
        return set()
    values = np.asarray(values, dtype=float).ravel()
    if values.size < 2:
        return set()
    ascending = values[-1] > values[0]
    return {label} if ascending != want_ascending else set()


def _number(value, time_crs: str | None, label: str, path: Path) -> float:
    if isinstance(value, datetime):
        if time_crs is None:
            raise SourceFileError(f"{path}: axis {label} got the time {value} but is not a time axis")
        return datetime_to_number(value, time_crs)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            if time_crs is not None:
                return datetime_to_number(parse_time(value), time_crs)
            raise SourceFileError(f"{path}: axis {label}: {value!r} is not a number") from None
    if isinstance(value, (np.generic, int, float)):
        f = float(value)
        if math.isnan(f):
            raise SourceFileError(f"{path}: axis {label}: the value is NaN")
        return f
    raise SourceFileError(f"{path}: axis {label}: {value!r} is not a coordinate")


def _bands(ing, unit, path: Path):
    """Bands of the coverage and where to read them in this unit."""
    slicer = ing.recipe.options.coverage.slicer
    config = ing.config
    bands, sources = [], []
    data_var = None
    for b in slicer.bands:
        ident = getattr(b, "identifier", None) or getattr(b, "variable", None) or b.name
        if slicer.type == "gdal":
            ident = int(ident) if str(ident).isdigit() else ident
        elif slicer.type == "netcdf":
            ident = getattr(b, "variable", None) or getattr(b, "identifier", None) or b.name
            data_var = data_var or ident
        try:
            meta = unit.band_meta(ident)
        except PetacubeError as exc:
            raise SourceFileError(f"{path}: band {b.name}: {exc.message}") from None
        declared = _declared_nulls(b)
        bands.append(
            Band(
                name=b.name,
                dtype=meta["dtype"],
                nil_values=nil_values(meta.get("nodata"), config.default_null_values, declared),
                uom=getattr(b, "uomCode", None) or meta.get("unit") or "10^0",
                description=getattr(b, "description", None) or meta.get("description") or "",
                definition=getattr(b, "definition", None) or "",
            )
        )
        gdal_band = ident if isinstance(ident, int) else meta.get("index")
        sources.append(BandSource(ident, gdal_band=gdal_band))
    return tuple(bands), tuple(sources), data_var


def _declared_nulls(b):
    for key in ("nilValues", "nilValue"):
        v = getattr(b, key, None)
        if v not in (None, "", []):
            return v
    return None


def _global_metadata(spec, unit) -> dict:
    meta = getattr(spec, "metadata", None)
    if meta is None:
        return {}
    glob = getattr(meta, "global", None) if not hasattr(meta, "global_") else meta.global_
    if glob in (None, ""):
        return {}
    if glob == "auto":
        return {k: _plain(v) for k, v in unit.resolve("netcdf:metadata:*").items()} if spec.slicer.type == "netcdf" else {}
    return {k: _plain(evaluate(v, unit.resolve)) for k, v in glob.items()}


def _plain(v):
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, datetime):
        return v.isoformat()
    return v
