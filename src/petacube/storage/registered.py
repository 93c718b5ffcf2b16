"""Registered (in-situ) coverages: slices are source files read through rasterio windows.

Nothing is copied into the tile store: each slice is a :class:`FileReference` placing a
file's raster in the coverage's storage grid, and reads cut the needed window out of
every file the region touches.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import rasterio
import rasterio.errors
from rasterio.windows import Window

from petacube.errors import InvalidSubsetting, SourceFileError


@dataclass(frozen=True)
class FileReference:
    """A file's band placed in a coverage's storage grid.

    ``offset`` and ``shape`` are in grid order; the file's 2-D raster is the last two
    dimensions (y, x) and every leading dimension has extent 1 (e.g. one time slot)."""

    path: str
    band_index: int  # 1-based, as GDAL counts bands
    offset: tuple[int, ...]
    shape: tuple[int, ...]
    subdataset: str | None = None  # GDAL subdataset name, opened instead of ``path``

    def __post_init__(self):
        if len(self.offset) != len(self.shape) or len(self.shape) < 2:
            raise ValueError("a file reference needs offset and shape of equal length ≥ 2")
        if any(n != 1 for n in self.shape[:-2]):
            raise ValueError("a file reference spans one cell along every axis before (y, x)")

    @property
    def source(self) -> str:
        return self.subdataset or self.path


def read_registered(
    refs: Sequence[FileReference],
    region: tuple[slice, ...],
    dtype: np.dtype | str,
    fill: float | int,
    threads: int = 0,
) -> np.ndarray:
    """Cells of ``region`` (storage indices, slices) assembled from the referenced files.

    Cells no file covers hold ``fill``; where files overlap, the later reference wins.
    Files are read in parallel, each task opening its own dataset (GDAL handles are not
    shared across threads; rasterio releases the GIL while GDAL reads)."""
    box = _check_region(region)
    out = np.full(tuple(s.stop - s.start for s in box), fill, dtype=dtype)
    hits = [(ref, overlap) for ref in refs if (overlap := _overlap(ref, box)) is not None]
    if not hits:
        return out
    workers = min(len(hits), threads or os.cpu_count() or 1)
    with ThreadPoolExecutor(workers, thread_name_prefix="petacube-insitu") as pool:
        futures = [pool.submit(_read_window, ref, overlap, out.dtype) for ref, overlap in hits]
        for (ref, overlap), future in zip(hits, futures):  # paste in reference order
            target = tuple(slice(o.start - b.start, o.stop - b.start) for o, b in zip(overlap, box))
            out[target] = future.result().reshape(out[target].shape)
    return out


def _check_region(region: tuple[slice, ...]) -> tuple[slice, ...]:
    for s in region:
        if not isinstance(s, slice) or s.start is None or s.stop is None or s.step not in (None, 1):
            raise InvalidSubsetting(f"a registered read needs slices with explicit bounds, got {region!r}")
        if s.start < 0 or s.stop < s.start:
            raise InvalidSubsetting(f"region {region!r} has a negative or reversed interval")
    return tuple(slice(int(s.start), int(s.stop)) for s in region)


def _overlap(ref: FileReference, box: tuple[slice, ...]) -> tuple[slice, ...] | None:
    if len(ref.offset) != len(box):
        raise InvalidSubsetting(f"region has {len(box)} axes but {ref.path} is registered with {len(ref.offset)}")
    overlap = []
    for s, o, n in zip(box, ref.offset, ref.shape):
        lo, hi = max(s.start, o), min(s.stop, o + n)
        if lo >= hi:
            return None
        overlap.append(slice(lo, hi))
    return tuple(overlap)


def _read_window(ref: FileReference, overlap: tuple[slice, ...], dtype: np.dtype) -> np.ndarray:
    ys, xs = overlap[-2], overlap[-1]
    oy, ox = ref.offset[-2], ref.offset[-1]
    window = Window(xs.start - ox, ys.start - oy, xs.stop - xs.start, ys.stop - ys.start)
    try:
        with rasterio.open(ref.source) as ds:
            if (ds.height, ds.width) != tuple(ref.shape[-2:]):
                raise SourceFileError(
                    f"{ref.path} is {ds.height}x{ds.width} pixels but was registered as "
                    f"{ref.shape[-2]}x{ref.shape[-1]}; the file changed since it was registered"
                )
            if not 1 <= ref.band_index <= ds.count:
                raise SourceFileError(f"{ref.path} has {ds.count} bands; band {ref.band_index} does not exist")
            return ds.read(ref.band_index, window=window, out_dtype=dtype)
    except (rasterio.errors.RasterioError, OSError) as exc:
        raise SourceFileError(f"cannot read registered file {ref.path}: {exc}") from exc
