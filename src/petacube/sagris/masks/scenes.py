"""L2C scenes in a folder: the aggregator's files grouped by scene, and band reads on one grid.

A scene is one pass (and tile) in one EPSG; it may have L2C files at 10, 20 and 60 m.
Masks are computed on the grid of the chosen resolution's file; a band that file lacks
is taken from another resolution of the same scene: averaged from a finer file (10 m →
20 m), nearest neighbour from a coarser one (60 m → 20 m).
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

# S2A_MSIL2C_20210415T101021_R022[_x12y34]_20m_3035.tif
L2C_RE = re.compile(r"^(?P<scene>S2[A-D]_MSIL2C_\d{8}T\d{6}_R\d{3}(?:_[A-Za-z0-9-]+)?)_(?P<res>10|20|60)m_(?P<epsg>\d{4,5})\.tif$")


@dataclass
class Scene:
    """The L2C files of one scene in one EPSG, by resolution."""

    scene: str
    epsg: int
    files: dict[int, Path] = field(default_factory=dict)

    def stem(self, resolution: int) -> str:
        return f"{self.scene}_{resolution}m_{self.epsg}"

    def cloudmask(self, resolution: int) -> Path:
        return self.files[resolution].with_name(f"{self.stem(resolution)}_CLOUDMASK.tif")


def scan_l2c(folder: Path) -> list[Scene]:
    """The L2C scenes in ``folder``, sorted by name."""
    scenes: dict[tuple[str, int], Scene] = {}
    for p in sorted(Path(folder).iterdir()):
        m = L2C_RE.match(p.name)
        if m and p.is_file():
            key = (m["scene"], int(m["epsg"]))
            scenes.setdefault(key, Scene(*key)).files[int(m["res"])] = p
    return [scenes[k] for k in sorted(scenes)]


class BandReader:
    """Named bands of a scene read block by block on the grid of one of its files."""

    def __init__(self, scene: Scene, resolution: int):
        self.scene = scene
        self.resolution = resolution
        self._stack = contextlib.ExitStack()
        self.where: dict[str, tuple[object, int]] = {}  # band -> (dataset on the target grid, 1-based index)

    def __enter__(self):
        import rasterio
        from rasterio.enums import Resampling
        from rasterio.vrt import WarpedVRT

        target = self._stack.enter_context(rasterio.open(self.scene.files[self.resolution]))
        self.profile = target.profile
        self.width, self.height, self.transform, self.crs = target.width, target.height, target.transform, target.crs
        self._add(target)
        self.cloud = self._stack.enter_context(rasterio.open(self.scene.cloudmask(self.resolution)))
        # other resolutions, finest first, fill in the bands the target file lacks
        for res in sorted(r for r in self.scene.files if r != self.resolution):
            src = self._stack.enter_context(rasterio.open(self.scene.files[res]))
            if not any(d and d not in self.where for d in src.descriptions):
                continue
            how = Resampling.average if res < self.resolution else Resampling.nearest
            vrt = self._stack.enter_context(WarpedVRT(src, crs=self.crs, transform=self.transform, width=self.width,
                                                      height=self.height, resampling=how, nodata=0))
            self._add(vrt)
        return self

    def _add(self, ds) -> None:
        for i, name in enumerate(ds.descriptions, start=1):
            if name and name not in self.where:
                self.where[name] = (ds, i)

    def __exit__(self, *exc):
        self._stack.close()

    def has(self, names) -> bool:
        return all(n in self.where for n in names)

    def read(self, names, window) -> dict[str, np.ndarray]:
        """The named bands over ``window`` of the target grid, uint16."""
        return {n: self.where[n][0].read(self.where[n][1], window=window) for n in names}

    def read_cloud(self, window) -> np.ndarray:
        return self.cloud.read(1, window=window)


__all__ = ["BandReader", "Scene", "scan_l2c"]
