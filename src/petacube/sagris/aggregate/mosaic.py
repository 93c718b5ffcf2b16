"""Mosaic the granules of one pass onto one output grid, block by block.

The rule, per output pixel (every band of a pixel comes from the same granule):

1. only *valid* source pixels count: cloud mask not 255 and at least one band not 0;
2. a clear pixel (cloud mask 0) beats a cloudy one (1 cloud, 2 shadow, 3 cirrus);
3. among equals, the granule whose MGRS tile id sorts first wins (T33UUP before T33UVP);
   duplicates of one tile were already reduced to the newest processing.

So every output pixel equals exactly one source pixel, and a pixel no granule covers
stays nodata (0 in the bands, 255 in the cloud mask). Memory is bounded by the block
size: one block of every granule overlapping it is read at a time.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from petacube.sagris.aggregate.granules import GranuleInfo
from petacube.sagris.aggregate.tiles import OutputGrid

CLOUD_NODATA = 255
BLOCK = 1024  # output pixels per block side: 9 bands × 1024² × 2 B ≈ 19 MB per granule read


@dataclass
class MosaicStats:
    """What went into one output: valid pixels and how many each granule gave."""

    valid_pixels: int = 0
    cloudy_pixels: int = 0
    total_pixels: int = 0
    per_source: dict[str, int] = field(default_factory=dict)


def write_mosaic(sources: list[GranuleInfo], grid: OutputGrid, bands: tuple[str, ...], data_path: Path,
                 cloud_path: Path, tags: dict[str, str], block: int = BLOCK) -> MosaicStats:
    """Mosaic ``sources`` (in priority order) onto ``grid``; write the bands and the cloud mask GeoTIFFs."""
    import rasterio

    stats = MosaicStats(total_pixels=grid.width * grid.height, per_source={s.granule.name: 0 for s in sources})
    profile = _profile(grid, len(bands), "uint16", 0)
    with contextlib.ExitStack() as stack:
        stack.enter_context(bounded_gdal_cache())
        out = stack.enter_context(rasterio.open(data_path, "w", **profile))
        cm_out = stack.enter_context(rasterio.open(cloud_path, "w", **_profile(grid, 1, "uint8", CLOUD_NODATA)))
        readers = [stack.enter_context(_SourceReader(s, grid)) for s in sources]
        for win in _blocks(grid, block):
            wbounds = _window_bounds(grid, win)
            data = np.zeros((len(bands), win.height, win.width), np.uint16)
            cloud = np.full((win.height, win.width), CLOUD_NODATA, np.uint8)
            rank = np.full((win.height, win.width), 255, np.uint8)  # 0 clear, 1 cloudy, 255 empty
            owner = np.full((win.height, win.width), -1, np.int32)  # which reader gave the pixel
            inside = _polygon_mask(grid, win) if grid.polygon is not None else None
            touched = False
            for k, reader in enumerate(readers):
                if not reader.overlaps(wbounds):
                    continue
                got = reader.read(win)
                if got is None:
                    continue
                src, src_cloud = got
                valid = (src_cloud != CLOUD_NODATA) & (src != 0).any(axis=0)
                if inside is not None:
                    valid &= inside
                cand = np.where(valid, (src_cloud != 0).astype(np.uint8), 255)
                take = cand < rank  # strict: an earlier (higher-priority) granule keeps ties
                if not take.any():
                    continue
                touched = True
                data[:, take] = src[:, take]
                cloud[take] = src_cloud[take]
                rank[take] = cand[take]
                owner[take] = k
            if touched:
                counts = np.bincount(owner[owner >= 0], minlength=len(readers))
                for k, reader in enumerate(readers):
                    stats.per_source[reader.info.granule.name] += int(counts[k])
                out.write(data, window=win)
                cm_out.write(cloud[np.newaxis], window=win)
                stats.valid_pixels += int((rank != 255).sum())
                stats.cloudy_pixels += int((rank == 1).sum())
        for i, name in enumerate(bands, start=1):
            out.set_band_description(i, name)
        cm_out.set_band_description(1, "CLOUDMASK")
        # the granules that gave at least one pixel: the provenance readers of the file see
        tags = dict(tags, SOURCE_GRANULES=",".join(n for n, k in stats.per_source.items() if k))
        out.update_tags(**tags)
        cm_out.update_tags(**tags, CLOUDMASK_VALUES="0 clear, 1 cloud, 2 cloud shadow, 3 cirrus, 255 nodata")
    return stats


def bounded_gdal_cache():
    """GDAL's block cache capped (256 MB unless GDAL_CACHEMAX says otherwise): its default,
    5 % of RAM, is what dominated peak memory on big mosaics."""
    import rasterio

    if os.environ.get("GDAL_CACHEMAX"):  # GDAL reads the operator's own setting itself
        return contextlib.nullcontext()
    return rasterio.Env(GDAL_CACHEMAX=256)


def _profile(grid: OutputGrid, count: int, dtype: str, nodata: int) -> dict:
    from rasterio.crs import CRS

    p = {"driver": "GTiff", "width": grid.width, "height": grid.height, "count": count, "dtype": dtype,
         "crs": CRS.from_epsg(grid.epsg), "transform": grid.transform, "nodata": nodata,
         "compress": "deflate", "zlevel": 1, "BIGTIFF": "IF_SAFER", "SPARSE_OK": "TRUE"}
    if grid.width >= 256 and grid.height >= 256:
        p.update(tiled=True, blockxsize=256, blockysize=256)
    if dtype == "uint16":
        p["predictor"] = 2
    return p


def _blocks(grid: OutputGrid, block: int) -> Iterator:
    from rasterio.windows import Window

    for r in range(0, grid.height, block):
        for c in range(0, grid.width, block):
            yield Window(c, r, min(block, grid.width - c), min(block, grid.height - r))


def _window_bounds(grid: OutputGrid, win) -> tuple[float, float, float, float]:
    res = grid.resolution
    left = grid.transform.c + win.col_off * res
    top = grid.transform.f - win.row_off * res
    return (left, top - win.height * res, left + win.width * res, top)


def _polygon_mask(grid: OutputGrid, win) -> np.ndarray:
    """True for pixels of the window whose centre lies inside the tile polygon."""
    from rasterio.features import geometry_mask
    from rasterio.windows import transform as window_transform

    return geometry_mask([grid.polygon], out_shape=(win.height, win.width),
                         transform=window_transform(win, grid.transform), invert=True)


class _SourceReader:
    """A granule's bands and cloud mask read on the output grid's lattice.

    Granules already on the lattice are read by integer window (exact copy); others go
    through a nearest-neighbour WarpedVRT onto the output grid (no new values either)."""

    def __init__(self, info: GranuleInfo, grid: OutputGrid):
        self.info = info
        self.grid = grid
        self._stack = contextlib.ExitStack()

    def __enter__(self):
        import rasterio
        from rasterio.enums import Resampling
        from rasterio.vrt import WarpedVRT

        g = self.info.granule
        self.ds = self._stack.enter_context(rasterio.open(g.vsi()))
        self.cm = self._stack.enter_context(rasterio.open(g.vsi("_CLOUDMASK")))
        res = self.grid.resolution
        dx = (self.ds.transform.c - self.grid.transform.c) / res
        dy = (self.grid.transform.f - self.ds.transform.f) / res
        self.aligned = abs(dx - round(dx)) < 1e-6 and abs(dy - round(dy)) < 1e-6
        if self.aligned:
            self.col0, self.row0 = round(dx), round(dy)
        else:
            kw = {"crs": self.ds.crs, "transform": self.grid.transform, "width": self.grid.width,
                  "height": self.grid.height, "resampling": Resampling.nearest}
            self.ds = self._stack.enter_context(WarpedVRT(self.ds, nodata=0, **kw))
            self.cm = self._stack.enter_context(WarpedVRT(self.cm, nodata=CLOUD_NODATA, **kw))
        return self

    def __exit__(self, *exc):
        self._stack.close()

    def overlaps(self, b: tuple[float, float, float, float]) -> bool:
        s = self.info.bounds
        return s[0] < b[2] and b[0] < s[2] and s[1] < b[3] and b[1] < s[3]

    def read(self, win):
        """(bands, cloud) arrays of the window's shape; pixels the granule lacks are nodata."""
        from rasterio.windows import Window

        if not self.aligned:
            return self.ds.read(window=win), self.cm.read(1, window=win)
        # the window in the source's pixel coordinates, cut to the source
        r0, c0 = win.row_off - self.row0, win.col_off - self.col0
        rr0, cc0 = max(r0, 0), max(c0, 0)
        rr1, cc1 = min(r0 + win.height, self.ds.height), min(c0 + win.width, self.ds.width)
        if rr1 <= rr0 or cc1 <= cc0:
            return None
        src_win = Window(cc0, rr0, cc1 - cc0, rr1 - rr0)
        data = np.zeros((self.ds.count, win.height, win.width), np.uint16)
        cloud = np.full((win.height, win.width), CLOUD_NODATA, np.uint8)
        ys, xs = slice(rr0 - r0, rr1 - r0), slice(cc0 - c0, cc1 - c0)
        data[:, ys, xs] = self.ds.read(window=src_win)
        cloud[ys, xs] = self.cm.read(1, window=src_win)
        return data, cloud


__all__ = ["BLOCK", "CLOUD_NODATA", "MosaicStats", "bounded_gdal_cache", "write_mosaic"]
