"""The masks batch: L2C scenes of ``in_dir`` → ``<scene>_<res>m_<EPSG>_MASKS.tif`` (+ .json) in ``out_dir``.

One uint8 GeoTIFF per scene, one band per mask (``WATER_NDWI``, ``WATER_MNDWI``,
``WET_NDMI``, ``WET_TCW``: see `petacube.sagris.masks.indices`), each 1 / 0 / 255 with
clouds, shadows, cirrus and nodata as 255. A mask whose bands the scene lacks at every
resolution is left out and the json says why. Written block by block, published
atomically, claimed per output; re-runs skip published outputs.
"""

from __future__ import annotations

import json
import shutil
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from petacube.errors import PetacubeError
from petacube.sagris.aggregate.mosaic import bounded_gdal_cache
from petacube.sagris.batch.errors import OutputExists, SagrisError
from petacube.sagris.batch.publish import claim, publish
from petacube.sagris.batch.runner import BatchResult, Outcome, run_in_work_folder
from petacube.sagris.masks.indices import MASK_NODATA, MASKS, Thresholds, classify
from petacube.sagris.masks.scenes import BandReader, Scene, scan_l2c

BLOCK = 1024


@dataclass
class MaskOptions:
    """Which masks, on which resolution's grid, with which thresholds."""

    resolution: int = 20
    thresholds: Thresholds = field(default_factory=Thresholds)
    masks: tuple[str, ...] = tuple(m.name for m in MASKS)
    work_dir: Path | None = None
    block: int = BLOCK


def run_masks(in_dir: Path, out_dir: Path, options: MaskOptions | None = None, *,
              progress: Callable[[int], object] | None = None) -> BatchResult:
    """Compute the masks of every L2C scene in ``in_dir`` into ``out_dir``; returns the outcomes."""
    options = options or MaskOptions()
    in_dir, out_dir = Path(in_dir), Path(out_dir)
    if not in_dir.is_dir():
        raise SagrisError(f"input folder {in_dir} does not exist or is not a folder")
    if options.resolution not in (10, 20, 60):
        raise SagrisError(f"--resolution {options.resolution}: give 10, 20 or 60")
    unknown = [m for m in options.masks if m not in {s.name for s in MASKS}]
    if unknown:
        raise SagrisError(f"mask {unknown[0]!r} unknown; choose among {', '.join(s.name for s in MASKS)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    scenes = scan_l2c(in_dir)
    outcomes: list[Outcome] = []
    todo = []
    for sc in scenes:
        if options.resolution in sc.files:
            todo.append(sc)
        else:
            have = ", ".join(f"{r} m" for r in sorted(sc.files))
            outcomes.append(Outcome(sc.stem(options.resolution), "skipped",
                                    f"no {options.resolution} m L2C of this scene (has {have}); use --resolution"))
    work_root = Path(options.work_dir) if options.work_dir else out_dir / ".sagris-work"
    return run_in_work_folder(work_root, "masks", outcomes, len(todo),
                              lambda batch_dir: (mask_scene(sc, out_dir, batch_dir, options) for sc in todo), progress)


def mask_scene(scene: Scene, out_dir: Path, batch_dir: Path, options: MaskOptions) -> Outcome:
    """Claim, compute and publish the masks of one scene; never raises for a problem of its inputs."""
    t0 = time.monotonic()
    stem = f"{scene.stem(options.resolution)}_MASKS"
    files = (f"{stem}.tif", f"{stem}.json")
    if all((out_dir / f).exists() for f in files):
        return Outcome(stem, "skipped", "already in the output folder")
    with claim(stem, out_dir) as mine:
        if not mine:
            return Outcome(stem, "skipped", "another process is producing it")
        if all((out_dir / f).exists() for f in files):
            return Outcome(stem, "skipped", "already in the output folder")
        if not scene.cloudmask(options.resolution).exists():
            return Outcome(stem, "failed", f"{scene.cloudmask(options.resolution).name} is missing; "
                                          "re-run the aggregator for this scene")
        work = batch_dir / stem
        work.mkdir(parents=True, exist_ok=True)
        try:
            meta = write_masks(scene, options, work / files[0])
            if meta is None:
                shutil.rmtree(work, ignore_errors=True)
                return Outcome(stem, "skipped", "no mask can be computed: the scene lacks the bands "
                                                "(see --resolution and the L2C files present)")
            (work / files[1]).write_text(json.dumps(meta, indent=2))
            published = publish([work / f for f in files], out_dir)
        except OutputExists as exc:
            return Outcome(stem, "skipped", str(exc))
        except PetacubeError as exc:
            return Outcome(stem, "failed", str(exc), seconds=time.monotonic() - t0)
        except Exception as exc:  # noqa: BLE001 - an unreadable L2C file: report, go on
            (work / "traceback.txt").write_text(traceback.format_exc())
            return Outcome(stem, "failed", f"{type(exc).__name__}: {exc} (details in {work})",
                           seconds=time.monotonic() - t0)
        shutil.rmtree(work, ignore_errors=True)
        return Outcome(stem, "done", "", [p.name for p in published], time.monotonic() - t0)


def write_masks(scene: Scene, options: MaskOptions, path: Path) -> dict | None:
    """Write the masks GeoTIFF of ``scene``; returns its metadata, or None if no mask is computable."""
    import rasterio
    from rasterio.windows import Window

    wanted = [m for m in MASKS if m.name in options.masks]
    with bounded_gdal_cache(), BandReader(scene, options.resolution) as reader:
        specs = [m for m in wanted if reader.has(m.bands)]
        omitted = {m.name: "needs " + " ".join(b for b in m.bands if not reader.has([b])) for m in wanted if m not in specs}
        if not specs:
            return None
        needed = sorted({b for m in specs for b in m.bands})
        profile = {"driver": "GTiff", "width": reader.width, "height": reader.height, "count": len(specs),
                   "dtype": "uint8", "crs": reader.crs, "transform": reader.transform, "nodata": MASK_NODATA,
                   "compress": "deflate", "BIGTIFF": "IF_SAFER"}
        if reader.width >= 256 and reader.height >= 256:
            profile.update(tiled=True, blockxsize=256, blockysize=256)
        flagged = np.zeros(len(specs), np.int64)
        valid = np.zeros(len(specs), np.int64)
        with rasterio.open(path, "w", **profile) as dst:
            for r in range(0, reader.height, options.block):
                for c in range(0, reader.width, options.block):
                    win = Window(c, r, min(options.block, reader.width - c), min(options.block, reader.height - r))
                    bands = reader.read(needed, win)
                    clear = reader.read_cloud(win) == 0  # cloud, shadow, cirrus and nodata become nodata
                    for k, spec in enumerate(specs):
                        m = classify(spec, bands, clear, options.thresholds)
                        dst.write(m, k + 1, window=win)
                        flagged[k] += int((m == 1).sum())
                        valid[k] += int((m != MASK_NODATA).sum())
            for k, spec in enumerate(specs):
                dst.set_band_description(k + 1, spec.name)
            with rasterio.open(scene.files[options.resolution]) as l2c:
                src_tags = l2c.tags()
            dst.update_tags(TIFFTAG_DATETIME=src_tags.get("TIFFTAG_DATETIME", ""), PRODUCT=path.stem,
                            SOURCE_L2C=",".join(p.name for _, p in sorted(scene.files.items())),
                            MASK_VALUES="1 yes, 0 no, 255 nodata or cloud/shadow/cirrus",
                            THRESHOLDS=json.dumps(asdict(options.thresholds)))
    total = reader.width * reader.height
    return {
        "product": path.stem,
        "scene": scene.scene,
        "epsg": scene.epsg,
        "resolution": options.resolution,
        "datetime": src_tags.get("TIFFTAG_DATETIME", ""),
        "acquisition_time": src_tags.get("ACQUISITION_TIME", ""),
        "bands": [s.name for s in specs],
        "values": {"0": "no", "1": "yes", "255": "nodata, cloud, cloud shadow or cirrus"},
        "thresholds": asdict(options.thresholds),
        "definitions": {s.name: s.source for s in specs},
        "omitted": omitted,
        "source_l2c": [p.name for _, p in sorted(scene.files.items())],
        "valid_fraction": {s.name: valid[k] / total for k, s in enumerate(specs)},
        "flagged_fraction_of_valid": {s.name: (flagged[k] / valid[k] if valid[k] else 0.0) for k, s in enumerate(specs)},
        "created": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
    }


__all__ = ["MaskOptions", "mask_scene", "run_masks", "write_masks"]
