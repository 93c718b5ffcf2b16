"""`petacube import`: run an ingredients file against a datacube.

Flow: validate the ingredients, resolve paths, run before-hooks, plan every file (metadata
only), check the plan, then per file: read pixels, write + commit (or register), run
after-hooks. Files already imported with the same size and mtime are skipped
(`track_files`), so re-running a killed import resumes where it stopped.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import filelock

from petacube.datacube import coordinate_number
from petacube.errors import IngredientsError, PetacubeError, SourceFileError
from petacube.ingest.hooks import HookRunner
from petacube.ingest.ingredients import Ingredients, load_ingredients
from petacube.ingest.local_sink import LocalSink
from petacube.ingest.plan import ImportPlan, PlannedSlice, grid_window
from petacube.ingest.progress import ImportProgress
from petacube.ingest.recipes import build_plan, read_slice

log = logging.getLogger("petacube.ingest")

LOCAL_HOSTS = {"", "localhost", "127.0.0.1", "::1", "0.0.0.0"}


@dataclass
class ImportReport:
    coverage_id: str
    imported: list[str] = field(default_factory=list)
    already_done: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    mock_plan: str | None = None
    seconds: float = 0.0


def fingerprint(path: Path) -> str:
    st = path.stat()
    return f"{st.st_size}:{st.st_mtime_ns}"


def is_remote(ing: Ingredients) -> bool:
    """True when the ingredients name another server than this machine's."""
    url = ing.config.service_url
    if not url:
        return False
    return (urlparse(url).hostname or "") not in LOCAL_HOSTS


def run_import(
    ingredients: str | Path | Ingredients,
    cube,
    *,
    mock: bool | None = None,
    show_progress: bool = True,
    echo: Callable[[str], None] = print,
    force_remote: bool = False,
) -> ImportReport:
    """Import (or, with mock, plan) what an ingredients file describes into ``cube``."""
    ing = ingredients if isinstance(ingredients, Ingredients) else load_ingredients(ingredients)
    remote = is_remote(ing) or bool(force_remote)
    if remote and getattr(ing.config, "insitu", False):
        raise IngredientsError("config.insitu: files cannot be registered in place on a remote server "
                               f"({ing.config.service_url}); import them as tiles or run the import there")
    mock = ing.config.mock if mock is None else mock
    cov_id = ing.input.coverage_id
    report = ImportReport(cov_id)
    started = time.monotonic()
    paths, warnings = ing.resolve_paths()
    report.warnings.extend(warnings)

    lock_dir = cube.settings.home / "locks"
    lock_dir.mkdir(parents=True, exist_ok=True)
    # One import per coverage at a time; imports into different coverages run side by side.
    with filelock.FileLock(lock_dir / f"{cov_id}.lock"):
        # remote (WCS-T) imports plan as for a new coverage; the server checks the fit
        existing = cube.catalog.get(cov_id) if not remote and cube.catalog.exists(cov_id) else None
        done = cube.catalog.imported(cov_id) if existing is not None else {}
        if ing.config.track_files and done and not mock:
            todo = []
            for p in paths:
                rec = done.get(str(p))
                if rec is not None and p.exists() and rec.fingerprint == fingerprint(p):
                    report.already_done.append(str(p))
                else:
                    todo.append(p)
            paths = todo
        hooks = HookRunner(ing.hooks, run=not mock, echo=echo)
        plan = build_plan(ing, paths, existing, hooks)
        report.skipped.extend((str(p), why) for p, why in plan.skipped)
        _restrict_slices(plan, ing, report)
        _check_overlaps(plan, ing, report)
        if mock:
            report.mock_plan = describe_plan(plan, existing)
            echo(report.mock_plan)
            return report
        if not plan.slices:
            report.seconds = time.monotonic() - started
            return report
        _execute(plan, ing, cube, existing, hooks, report, show_progress, remote=remote)
    _write_resume_file(ing, cube, cov_id)
    report.seconds = time.monotonic() - started
    return report


def _execute(plan: ImportPlan, ing: Ingredients, cube, existing, hooks: HookRunner, report, show_progress,
             remote: bool = False) -> None:
    if remote:
        from petacube.ingest.wcst_sink import WcstSink

        sink = WcstSink(ing.config.service_url, plan.coverage)
        try:
            _run_slices(plan, ing, sink, hooks, report, show_progress)
        finally:
            sink.close()
        return
    _run_slices(plan, ing, LocalSink(cube, plan.coverage, existing), hooks, report, show_progress)


def _run_slices(plan: ImportPlan, ing: Ingredients, sink, hooks: HookRunner, report, show_progress) -> None:
    with ImportProgress(len(plan.slices), plan.coverage.id, enabled=show_progress) as progress:
        for sl in plan.slices:
            progress.start(sl.path.name)
            skipped = _import_with_retries(sl, sink, plan.coverage.insitu, ing)
            if skipped is None:
                report.imported.append(str(sl.path))
                hooks.after(sl)
            else:
                report.skipped.append((str(sl.path), skipped))
                log.warning("skipped %s: %s", sl.path, skipped)
            progress.advance()


def _import_with_retries(sl: PlannedSlice, sink, insitu: bool, ing: Ingredients) -> str | None:
    """Import one slice, retrying transient failures; the reason when it is skipped."""
    retries = ing.config.retries if ing.config.retry else 0
    for attempt in range(retries + 1):
        try:
            _import_slice(sl, sink, insitu)
            return None
        except SourceFileError as exc:  # the file's fault: retrying will not help
            if ing.config.skip:
                return exc.message
            raise
        except PetacubeError:
            if attempt < retries:
                time.sleep(ing.config.retry_sleep)
                continue
            raise
        except OSError as exc:
            if attempt < retries:
                time.sleep(ing.config.retry_sleep)
                continue
            err = SourceFileError(f"{sl.path}: {exc.strerror or exc}")
            if ing.config.skip:
                return err.message
            raise err from exc
    raise AssertionError("unreachable: the last attempt returns or raises")


def _import_slice(sl: PlannedSlice, sink: LocalSink, insitu: bool) -> None:
    fp = fingerprint(sl.original_path or sl.path)
    if insitu:
        band_indices = tuple(b.gdal_band for b in sl.bands)
        sink.commit_slice(sl, None, sl.shape, fp, band_indices)
        return
    data = read_slice(sl, sink.template)
    got = dict(zip(sink.template.dims, next(iter(data.values())).shape))
    want = {label: sl.shape.get(label, 1) for label in sink.template.dims}
    if got != want:
        raise SourceFileError(f"{sl.label}: its data have shape {got} but its metadata promise {want}")
    sink.commit_slice(sl, data, sl.shape, fp)


def _restrict_slices(plan: ImportPlan, ing: Ingredients, report: ImportReport) -> None:
    """config.slice_restriction: one {low, high[, type: date]} per axis in CRS order, as
    wcst_import reads it; slices starting outside or ending beyond it are left out."""
    restrictions = ing.config.slice_restriction
    if not restrictions or not plan.slices:
        return
    cov = plan.coverage
    labels = cov.crs.labels
    if len(restrictions) < len(labels):
        raise IngredientsError(
            f"config.slice_restriction: give one interval per axis ({', '.join(labels)}); {len(restrictions)} given"
        )
    bounds = {}
    for i, (label, r) in enumerate(zip(labels, restrictions)):
        if not isinstance(r, dict) or "low" not in r or "high" not in r:
            raise IngredientsError(f"config.slice_restriction[{i}]: write {{\"low\": ..., \"high\": ...}} (axis {label})")
        axis = cov.axis(label)
        try:
            bounds[label] = tuple(coordinate_number(cov, axis, r[k]) for k in ("low", "high"))
        except PetacubeError as exc:
            raise IngredientsError(f"config.slice_restriction[{i}] (axis {label}): {exc.message}") from None
    keep = []
    for sl in plan.slices:
        outside = []
        for label, (lo, hi) in bounds.items():
            p = sl.placements[label]
            first, last = (p.coefficients[0], p.coefficients[-1]) if p.coefficients else (p.lower, p.upper)
            if first < lo or first > hi or last > hi:
                outside.append(label)
        if outside:
            report.skipped.append((str(sl.original_path or sl.path), f"outside config.slice_restriction on {', '.join(outside)}"))
        else:
            keep.append(sl)
    plan.slices = keep


def _check_overlaps(plan: ImportPlan, ing: Ingredients, report: ImportReport) -> None:
    """Two files of one run covering the same cells is an error (or a skip)."""
    cov = plan.coverage
    seen: list[tuple[PlannedSlice, dict, dict]] = []
    keep: list[PlannedSlice] = []
    for sl in plan.slices:
        try:
            window = grid_window(cov, sl, sl.shape)
        except SourceFileError as exc:
            if not ing.config.skip:
                raise
            report.skipped.append((str(sl.original_path or sl.path), exc.message))
            continue
        coords = {
            a.label: set(sl.placements[a.label].coefficients or ())
            for a in cov.axes
            if a.irregular
        }
        clash = None
        for other, ow, oc in seen:
            if all(coords[k] & oc[k] for k in coords) and all(
                window[k][0] < ow[k][1] and ow[k][0] < window[k][1] for k in window
            ):
                clash = other
                break
        if clash is not None:
            msg = f"{sl.path} overlaps {clash.path}: both cover the same cells of {cov.id}"
            if ing.config.skip:
                report.skipped.append((str(sl.path), msg))
                continue
            raise SourceFileError(msg + "; remove one of them or set config.skip to skip the later one")
        seen.append((sl, window, coords))
        keep.append(sl)
    plan.slices = keep


def describe_plan(plan: ImportPlan, existing) -> str:
    """What mock mode prints: the coverage and where each file goes."""
    cov = plan.coverage
    lines = [
        f"{'update' if existing else 'create'} coverage {cov.id} ({'registered in place' if cov.insitu else 'tiles'})",
        f"  CRS   {cov.crs.uri()}",
    ]
    for a in cov.axes:
        if a.irregular:
            lines.append(f"  axis  {a.label}: irregular, {a.size} coordinates {a.lower:g} .. {a.upper:g}")
        else:
            lines.append(f"  axis  {a.label}: {a.lower:g} .. {a.upper:g}, resolution {a.resolution:g}, {a.size} cells")
    for b in cov.bands:
        nil = ", ".join(str(n) for n in b.nil_values) or "none"
        lines.append(f"  band  {b.name}: {b.dtype}, nulls {nil}")
    lines.append(f"  tiles {cov.tile_shape}")
    if cov.pyramid:
        lines.append(f"  pyramid levels {list(cov.pyramid)}")
    lines.append(f"{len(plan.slices)} slice(s):")
    for sl in plan.slices:
        where = ", ".join(
            f"{k}={v.coefficients[0]:g}" if v.coefficients else f"{k}={v.lower:g}:{v.upper:g}"
            for k, v in sl.placements.items()
        )
        lines.append(f"  {sl.label} -> {where}")
    for path, why in plan.skipped:
        lines.append(f"  skip {path}: {why}")
    return "\n".join(lines)


def _write_resume_file(ing: Ingredients, cube, cov_id: str) -> None:
    """Mirror the import tracking into resumer_dir_path, as wcst_import keeps it there."""
    folder = ing.config.resumer_dir_path
    if not folder or not ing.config.track_files:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    done = sorted(cube.catalog.imported(cov_id)) if cube.catalog.exists(cov_id) else []
    target = Path(folder) / f"{cov_id}.resume.json"
    tmp = target.with_suffix(".tmp")
    tmp.write_text(json.dumps(done, indent=1))
    tmp.replace(target)


__all__ = ["ImportReport", "describe_plan", "run_import"]
