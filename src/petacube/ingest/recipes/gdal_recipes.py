"""The GDAL recipes: map_mosaic (2-D), time_series_irregular and time_series_regular (3-D).

Coverage grid order is (time, y, x) with y north-up (negative resolution); every file
adds one y/x tile, at one time for the time series.
"""

from __future__ import annotations

import re
from pathlib import Path

from petacube.errors import IngredientsError, SourceFileError
from petacube.ingest.ingredients import parse_time_step
from petacube.ingest.plan import BandSource, ImportPlan, Placement, PlannedSlice
from petacube.ingest.recipes.common import (
    apply_storage_options,
    check_compatible,
    file_crs,
    gdal_bands,
    opened_units,
    sort_slices,
    spatial_axes,
    xy_placements,
)
from petacube.ingest.sentences import parse_datetime
from petacube.model import Coverage, Crs, IrregularAxis, RegularAxis, datetime_to_number


def plan_gdal_recipe(ing, paths: list[Path], existing: Coverage | None, hooks) -> ImportPlan:
    recipe = ing.recipe.name
    options = ing.recipe.options
    config = ing.config
    time_crs = None
    if recipe != "map_mosaic":
        time_crs = Crs.parse(options.time_crs or "OGC/0/AnsiDate")
        if len(time_crs.components) != 1 or not time_crs.components[0].is_time:
            raise IngredientsError(f"recipe.options.time_crs: {options.time_crs} is not a time CRS (use OGC/0/AnsiDate or OGC/0/UnixTime)")
    plan = ImportPlan(existing, [])  # coverage filled in below
    template = existing
    time_step = _time_step(options.time_step) if recipe == "time_series_regular" else None
    entries = []
    for original, path, _, unit in opened_units(paths, "gdal", hooks, plan, config.skip, config.default_crs):
        try:
            crs = file_crs(unit, path, config.default_crs)
            bands = gdal_bands(unit, path, config.default_null_values, getattr(options, "band_names", None))
            places, shape, flips, (ylab, xlab) = xy_placements(unit, crs, path)
            full_crs = Crs(time_crs.components + crs.components) if time_crs else crs
            if template is None:
                ya, xa = spatial_axes(crs, unit)
                axes = (ya, xa)
                if time_crs is not None:
                    tax = time_crs.axes[0]
                    if time_step is not None:
                        step = time_step.total_seconds() / (86400.0 if time_crs.components[0].code == "AnsiDate" else 1.0)
                        tstart = datetime_to_number(parse_datetime(options.time_start, options.time_format), time_crs.components[0].code)
                        axes = (RegularAxis(tax.label, tax, tstart, step, 0, points=True), *axes)
                    else:
                        axes = (IrregularAxis(tax.label, tax), *axes)
                template = Coverage(ing.input.coverage_id, full_crs, axes, bands)
                template = apply_storage_options(template, options, config)
            check_compatible(template, full_crs, bands, path, {ylab: unit.transform.e, xlab: unit.transform.a})
            if time_crs is not None and time_step is None:
                when = _file_time(options, unit, path)
                places[time_crs.axes[0].label] = Placement(coefficients=(datetime_to_number(when, time_crs.components[0].code),))
        except SourceFileError as exc:
            if config.skip:
                plan.skipped.append((original, exc.message))
                continue
            raise
        entries.append(
            PlannedSlice(
                path=path,
                unit=0,
                placements=places,
                bands=tuple(BandSource(i, gdal_band=i) for i in range(1, len(bands) + 1)),
                data_dims=(ylab, xlab),
                shape=shape,
                flips=flips,
                original_path=original if original != path else None,
            )
        )
    if template is None:
        raise IngredientsError(f"no readable input file for coverage {ing.input.coverage_id}" + _skipped_note(plan))
    if time_step is not None:
        entries = sort_slices(entries, "ascending", key=lambda s: str(s.original_path or s.path))
        _place_regular_times(template, entries, existing)
    elif time_crs is not None:
        tlab = time_crs.axes[0].label
        entries = sort_slices(entries, getattr(options, "import_order", None) or "ascending", key=lambda s: s.placements[tlab].coefficients[0])
    plan.coverage = template
    plan.slices = entries
    return plan


def _place_regular_times(cov: Coverage, entries: list[PlannedSlice], existing: Coverage | None) -> None:
    """time_series_regular: the n-th file (by name) sits at time_start + n × time_step;
    an update appends after the last existing slice."""
    tax = next(a for a in cov.axes if a.is_time)
    first = existing.axis(tax.label).size if existing is not None else 0
    for k, sl in enumerate(entries):
        t = tax.lower + (first + k) * tax.resolution
        sl.placements[tax.label] = Placement(t, t)


def _file_time(options, unit, path: Path):
    """time_series_irregular: the time of a file from a metadata tag or its name."""
    tp = options.time_parameter
    fmt = getattr(tp, "datetime_format", None) or "auto"
    if getattr(tp, "filename", None) is not None:
        m = re.search(tp.filename.regex, path.name)
        if not m:
            raise SourceFileError(f"{path}: its name does not match time_parameter.filename.regex {tp.filename.regex!r}")
        try:
            text = m.group(int(tp.filename.group))
        except (IndexError, ValueError):
            raise IngredientsError(f"recipe.options.time_parameter.filename.group: {tp.filename.group} is not a group of {tp.filename.regex!r}") from None
    else:
        tag = (tp.metadata_tag.tag_name if getattr(tp, "metadata_tag", None) is not None else None) or "TIFFTAG_DATETIME"
        text = unit.resolve(f"gdal:metadata:{tag}")
        if text in (None, ""):
            raise SourceFileError(f"{path}: it has no metadata tag {tag} to take the time from")
    try:
        return parse_datetime(str(text), fmt)
    except Exception as exc:  # noqa: BLE001 - any parse failure is the file's fault
        msg = getattr(exc, "message", str(exc))
        raise SourceFileError(f"{path}: time '{text}' does not parse with format {fmt!r}: {msg}") from None


def _time_step(text):
    if not text:
        raise IngredientsError("recipe.options.time_step is required for time_series_regular (e.g. \"1 days\")")
    return parse_time_step(text)


def _skipped_note(plan: ImportPlan) -> str:
    if not plan.skipped:
        return ""
    return "; skipped: " + "; ".join(f"{p}: {why}" for p, why in plan.skipped)


__all__ = ["plan_gdal_recipe"]
