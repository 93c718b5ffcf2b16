"""The aggregator's batch: L2B granules of ``in_dir`` → L2C pass scenes in ``out_dir``.

Plan (names and headers only), then per output: skip it when it is already published,
claim it (parallel runs never produce one output twice), mosaic it into the batch's work
folder, publish its three files together. A bad granule fails the outputs of its pass
(a scene silently missing a granule would never be redone, since re-runs skip existing
outputs); everything else goes on. Output names::

    S2A_MSIL2C_20210415T101021_R022[_<tile>]_<res>m_<EPSG>.tif           bands (uint16)
    S2A_MSIL2C_20210415T101021_R022[_<tile>]_<res>m_<EPSG>_CLOUDMASK.tif  (uint8)
    S2A_MSIL2C_20210415T101021_R022[_<tile>]_<res>m_<EPSG>.json

Every L2C band file's name ends in ``_<res>m_<EPSG>.tif`` (as the L2B zips' do), so one
glob picks the scenes of one resolution and leaves the masks out.
"""

from __future__ import annotations

import json
import shutil
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from petacube.errors import PetacubeError
from petacube.sagris.aggregate.granules import (
    RESOLUTIONS,
    GranuleInfo,
    PassKey,
    group_passes,
    newest_per_tile,
    read_granule,
    scan_l2b,
)
from petacube.sagris.aggregate.mosaic import BLOCK, write_mosaic
from petacube.sagris.aggregate.tiles import (
    OutputGrid,
    load_tile_shapes,
    pass_grid,
    polygon_tiles,
    regular_tiles,
)
from petacube.sagris.batch.errors import BadProduct, OutputExists, SagrisError
from petacube.sagris.batch.publish import claim, publish
from petacube.sagris.batch.runner import BatchResult, Outcome, run_in_work_folder

MOSAIC_RULE = ("per pixel one granule: valid (cloud mask != 255 and a band != 0) beats nodata, "
               "clear (cloud mask 0) beats cloud/shadow/cirrus, then the lowest MGRS tile id; "
               "duplicate granules of one tile: highest baseline, then latest discriminator")


@dataclass
class AggregateOptions:
    """What to aggregate and how to cut it."""

    resolutions: tuple[int, ...] = RESOLUTIONS
    tile_size: float | None = None
    tiles: Path | None = None
    work_dir: Path | None = None
    workers: int = 1
    block: int = BLOCK


@dataclass
class OutputJob:
    """One L2C scene to write: a pass at one resolution and EPSG, on one grid (whole pass or a tile)."""

    stem: str
    pass_key: PassKey
    resolution: int
    epsg: int
    grid: OutputGrid
    sources: list[GranuleInfo]
    bands: tuple[str, ...]
    candidates: list[str]
    superseded: list[str]

    @property
    def files(self) -> tuple[str, str, str]:
        return (f"{self.stem}.tif", f"{self.stem}_CLOUDMASK.tif", f"{self.stem}.json")


def output_stem(pass_key: PassKey, resolution: int, epsg: int, tile_id: str | None) -> str:
    """The L2C name of a pass (and tile) at one resolution and EPSG."""
    tile = f"_{tile_id}" if tile_id else ""
    return f"{pass_key.label}{tile}_{resolution}m_{epsg}"


def plan_outputs(in_dir: Path, options: AggregateOptions, out_dir: Path | None = None) -> tuple[list[OutputJob], list[Outcome]]:
    """Every output the input folder calls for, and the outcomes already known (bad granules...).

    Untiled passes whose outputs are already in ``out_dir`` are skipped before any of their
    granules is opened, so re-running over a large archive stays cheap."""
    if options.tiles is not None and options.tile_size is not None:
        raise SagrisError("give either --tiles or --tile-size, not both")
    bad_res = [r for r in options.resolutions if r not in RESOLUTIONS]
    if bad_res:
        raise SagrisError(f"--resolution {bad_res[0]}: Sentinel-2 L2B resolutions are 10, 20 and 60")
    shapes = load_tile_shapes(options.tiles) if options.tiles is not None else None
    kept, superseded = newest_per_tile(scan_l2b(in_dir, options.resolutions))
    outcomes = [Outcome(g.name, "skipped", "superseded by a newer processing of the same tile") for g in superseded]
    jobs: list[OutputJob] = []
    for (pk, res, epsg), granules in group_passes(kept).items():
        label = output_stem(pk, res, epsg, None)
        if shapes is None and options.tile_size is None and out_dir is not None and \
                all((Path(out_dir) / f"{label}{suffix}").exists() for suffix in (".tif", "_CLOUDMASK.tif", ".json")):
            outcomes.append(Outcome(label, "skipped", "already in the output folder"))
            continue
        infos, bad = [], []
        for g in granules:
            try:
                infos.append(read_granule(g))
            except BadProduct as exc:
                bad.append(g.name)
                outcomes.append(Outcome(g.name, "failed", str(exc)))
        if bad:
            outcomes.append(Outcome(label, "failed", f"not aggregated: bad granule(s) {', '.join(bad)}; "
                                    "fix or remove them and re-run"))
            continue
        band_sets = {i.bands for i in infos}
        if len(band_sets) > 1:
            detail = "; ".join(f"{i.granule.tile}: {' '.join(i.bands)}" for i in infos)
            outcomes.append(Outcome(label, "failed", f"granules of the pass have different bands ({detail})"))
            continue
        first = infos[0]
        origin = first.origin
        footprints = [i.bounds for i in infos]
        whole = pass_grid(footprints, origin, float(res), epsg)
        if shapes is not None:
            grids = polygon_tiles(whole, footprints, shapes)
        elif options.tile_size is not None:
            grids = regular_tiles(whole, footprints, options.tile_size)
        else:
            grids = [whole]
        sup = [g.name for g in superseded if (g.pass_key, g.resolution, g.epsg) == (pk, res, epsg)]
        for grid in grids:
            stem = output_stem(pk, res, epsg, grid.tile_id)
            jobs.append(OutputJob(stem, pk, res, epsg, grid, infos, first.bands, [i.granule.name for i in infos], sup))
    return jobs, outcomes


def run_output(job: OutputJob, out_dir: Path, batch_dir: Path, block: int = BLOCK) -> Outcome:
    """Claim, mosaic and publish one output; never raises for a problem of its inputs."""
    t0 = time.monotonic()
    if _published(job, out_dir):
        return Outcome(job.stem, "skipped", "already in the output folder")
    with claim(job.stem, out_dir) as mine:
        if not mine:
            return Outcome(job.stem, "skipped", "another process is producing it")
        if _published(job, out_dir):  # the previous owner finished meanwhile
            return Outcome(job.stem, "skipped", "already in the output folder")
        work = batch_dir / job.stem
        work.mkdir(parents=True, exist_ok=True)
        tif, cm, js = (work / f for f in job.files)
        try:
            stats = write_mosaic(job.sources, job.grid, job.bands, tif, cm, _tags(job), block=block)
            if stats.valid_pixels == 0:
                shutil.rmtree(work, ignore_errors=True)
                return Outcome(job.stem, "skipped", "no valid pixel of the pass falls in this tile",
                               seconds=time.monotonic() - t0)
            js.write_text(json.dumps(_metadata(job, stats), indent=2))
            published = publish([tif, cm, js], out_dir)
        except OutputExists as exc:
            return Outcome(job.stem, "skipped", str(exc))
        except PetacubeError as exc:
            return Outcome(job.stem, "failed", str(exc), seconds=time.monotonic() - t0)
        except Exception as exc:  # noqa: BLE001 - e.g. a granule's pixels corrupt inside its zip: report, go on
            import rasterio

            (work / "traceback.txt").write_text(traceback.format_exc())
            kind = "unreadable input" if isinstance(exc, rasterio.errors.RasterioError) else "internal error"
            return Outcome(job.stem, "failed", f"{kind} {type(exc).__name__}: {exc} (details in {work})",
                           seconds=time.monotonic() - t0)
        shutil.rmtree(work, ignore_errors=True)
        return Outcome(job.stem, "done", "", [p.name for p in published], time.monotonic() - t0)


def run_aggregate(in_dir: Path, out_dir: Path, options: AggregateOptions | None = None, *,
                  progress: Callable[[int], object] | None = None) -> BatchResult:
    """Aggregate every pass found in ``in_dir`` into ``out_dir``; returns the outcomes.

    ``progress(total)`` may return an object with ``advance(outcome)`` and ``close()``."""
    options = options or AggregateOptions()
    in_dir, out_dir = Path(in_dir), Path(out_dir)
    if not in_dir.is_dir():
        raise SagrisError(f"input folder {in_dir} does not exist or is not a folder")
    if options.workers < 1:
        raise SagrisError(f"--workers {options.workers}: give 1 or more")
    out_dir.mkdir(parents=True, exist_ok=True)
    jobs, outcomes = plan_outputs(in_dir, options, out_dir)
    work_root = Path(options.work_dir) if options.work_dir else out_dir / ".sagris-work"
    return run_in_work_folder(work_root, "aggregate", outcomes, len(jobs),
                              lambda batch_dir: _execute(jobs, out_dir, batch_dir, options), progress)


def _execute(jobs: list[OutputJob], out_dir: Path, batch_dir: Path, options: AggregateOptions):
    if options.workers <= 1 or len(jobs) <= 1:
        for j in jobs:
            yield run_output(j, out_dir, batch_dir, options.block)
        return
    with ProcessPoolExecutor(max_workers=options.workers) as pool:
        futures = [pool.submit(run_output, j, out_dir, batch_dir, options.block) for j in jobs]
        for fut in as_completed(futures):
            yield fut.result()


def _published(job: OutputJob, out_dir: Path) -> bool:
    # publish moves the three files together under the folder lock; the json is listed last
    return all((out_dir / f).exists() for f in job.files)


def _iso(sensing: str) -> str:
    return datetime.strptime(sensing, "%Y%m%dT%H%M%S").replace(tzinfo=UTC).isoformat().replace("+00:00", "Z")


def _tags(job: OutputJob) -> dict[str, str]:
    when = datetime.strptime(job.pass_key.sensing, "%Y%m%dT%H%M%S")
    return {
        # the datatake start, identical for every tile and resolution of the pass, so an
        # import by TIFFTAG_DATETIME puts one pass on one time slice
        "TIFFTAG_DATETIME": when.strftime("%Y:%m:%d %H:%M:%S"),
        "PRODUCT": job.stem,
        "SATELLITE": job.pass_key.satellite,
        "DATATAKE_SENSING_TIME": _iso(job.pass_key.sensing),
        "RELATIVE_ORBIT": str(job.pass_key.relative_orbit),
        "ACQUISITION_TIME": _first_acquisition(job.sources),
        "TILE_ID": job.grid.tile_id or "",
        "BANDS": " ".join(job.bands),
        "REFLECTANCE_SCALE": "10000",
        "MOSAIC_RULE": MOSAIC_RULE,
    }


def _first_acquisition(sources: list[GranuleInfo]) -> str:
    times = []
    for s in sources:
        try:
            times.append((datetime.fromisoformat(s.acquisition_time), s.acquisition_time))
        except ValueError:
            continue
    return min(times)[1] if times else ""


def _metadata(job: OutputJob, stats) -> dict:
    used = [s for s in job.sources if stats.per_source.get(s.granule.name)]
    return {
        "product": job.stem,
        "level": "L2C",
        "satellite": job.pass_key.satellite,
        "datatake_sensing_time": _iso(job.pass_key.sensing),
        "relative_orbit": job.pass_key.relative_orbit,
        "acquisition_time": _first_acquisition(used),
        "acquisition_times": {s.granule.name: s.acquisition_time for s in used},
        "epsg": job.epsg,
        "resolution": job.resolution,
        "bands": list(job.bands),
        "reflectance_scale": 10000,
        "nodata": 0,
        "cloudmask": {"file": job.files[1], "values": {"0": "clear", "1": "cloud", "2": "cloud shadow",
                                                      "3": "cirrus", "255": "nodata"}},
        "tile_id": job.grid.tile_id,
        "bounds": list(job.grid.bounds),
        "width": job.grid.width,
        "height": job.grid.height,
        "source_granules": [s.granule.name for s in used],
        "pixels_per_granule": {k: v for k, v in stats.per_source.items() if v},
        "candidate_granules": job.candidates,
        "superseded_granules": job.superseded,
        "valid_fraction": stats.valid_pixels / stats.total_pixels if stats.total_pixels else 0.0,
        "cloudy_fraction_of_valid": stats.cloudy_pixels / stats.valid_pixels if stats.valid_pixels else 0.0,
        "mosaic_rule": MOSAIC_RULE,
        "created": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
    }


__all__ = ["AggregateOptions", "OutputJob", "output_stem", "plan_outputs", "run_aggregate", "run_output"]
