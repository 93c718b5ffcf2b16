"""Output grids of the aggregator: a whole pass, or processing tiles clipped from it.

Processing tiles split a continental pass into bounded jobs: either a regular grid of
``tile_size`` × ``tile_size`` CRS units anchored at the CRS origin (tile ``x{i}y{j}``
covers ``[i·S, (i+1)·S) × [j·S, (j+1)·S)``), or polygons from a GeoJSON file. A pixel
belongs to the tile that contains its centre, so neighbouring tiles never share a pixel.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

from affine import Affine

from petacube.sagris.batch.errors import SagrisError

ID_PROPERTIES = ("tile_id", "tile", "id", "name")


@dataclass(frozen=True)
class OutputGrid:
    """A north-up pixel grid in EPSG ``epsg``; ``polygon`` (target CRS) masks pixels outside a tile."""

    epsg: int
    transform: Affine
    width: int
    height: int
    tile_id: str | None = None
    polygon: object | None = None  # shapely geometry

    @property
    def resolution(self) -> float:
        return self.transform.a

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        left, top = self.transform.c, self.transform.f
        return (left, top - self.height * self.resolution, left + self.width * self.resolution, top)


@dataclass(frozen=True)
class TileShape:
    """One processing tile from a GeoJSON file: its id and polygon in the file's CRS."""

    tile_id: str
    geometry: object  # shapely geometry
    crs: str


def pass_grid(bounds: list[tuple[float, float, float, float]], origin: tuple[float, float], resolution: float, epsg: int) -> OutputGrid:
    """The grid covering every granule's bounds, on the pixel lattice through ``origin``
    (a granule's upper-left corner), so aligned granules copy without resampling."""
    px, py = origin[0] % resolution, origin[1] % resolution
    left = math.floor(round((min(b[0] for b in bounds) - px) / resolution, 6)) * resolution + px
    right = math.ceil(round((max(b[2] for b in bounds) - px) / resolution, 6)) * resolution + px
    bottom = math.floor(round((min(b[1] for b in bounds) - py) / resolution, 6)) * resolution + py
    top = math.ceil(round((max(b[3] for b in bounds) - py) / resolution, 6)) * resolution + py
    return OutputGrid(epsg, Affine(resolution, 0, left, 0, -resolution, top),
                      round((right - left) / resolution), round((top - bottom) / resolution))


def _sub_grid(grid: OutputGrid, xmin: float, ymin: float, xmax: float, ymax: float, tile_id: str, polygon=None) -> OutputGrid | None:
    """Pixels of ``grid``'s lattice whose centres lie in [xmin, xmax) × [ymin, ymax)."""
    res = grid.resolution
    left0, top0 = grid.transform.c, grid.transform.f
    c0 = math.ceil(round((xmin - left0) / res - 0.5, 6))
    c1 = math.ceil(round((xmax - left0) / res - 0.5, 6))
    r0 = math.floor(round((top0 - ymax) / res - 0.5, 6)) + 1
    r1 = math.floor(round((top0 - ymin) / res - 0.5, 6)) + 1
    if c1 <= c0 or r1 <= r0:
        return None
    t = Affine(res, 0, left0 + c0 * res, 0, -res, top0 - r0 * res)
    return OutputGrid(grid.epsg, t, c1 - c0, r1 - r0, tile_id, polygon)


def regular_tiles(grid: OutputGrid, footprints: list[tuple[float, float, float, float]], tile_size: float) -> list[OutputGrid]:
    """The regular-grid tiles that intersect any footprint (bounds) of the pass."""
    if not tile_size or tile_size <= 0:
        raise SagrisError(f"--tile-size {tile_size}: must be a positive length in the target CRS units (e.g. 20000)")
    if tile_size < grid.resolution:
        raise SagrisError(f"--tile-size {tile_size:g} is smaller than one {grid.resolution:g} m pixel")
    keys: set[tuple[int, int]] = set()
    for left, bottom, right, top in footprints:
        for i in range(math.floor(left / tile_size), math.ceil(right / tile_size)):
            for j in range(math.floor(bottom / tile_size), math.ceil(top / tile_size)):
                keys.add((i, j))
    out = []
    for i, j in sorted(keys, key=lambda k: (-k[1], k[0])):
        sub = _sub_grid(grid, i * tile_size, j * tile_size, (i + 1) * tile_size, (j + 1) * tile_size, f"x{i}y{j}")
        if sub is not None:
            out.append(sub)
    return out


def polygon_tiles(grid: OutputGrid, footprints: list[tuple[float, float, float, float]], shapes: list[TileShape]) -> list[OutputGrid]:
    """The GeoJSON tiles (moved into the grid's CRS) that intersect any footprint of the pass."""
    from shapely.geometry import box
    from shapely.ops import unary_union

    area = unary_union([box(*b) for b in footprints])
    out = []
    for shape in shapes:
        poly = _to_epsg(shape, grid.epsg)
        if poly.is_empty or not poly.intersects(area):
            continue
        sub = _sub_grid(grid, *poly.bounds, shape.tile_id, poly)
        if sub is not None:
            out.append(sub)
    return out


def load_tile_shapes(path: Path) -> list[TileShape]:
    """Polygons of a GeoJSON file (a FeatureCollection, a Feature or a bare geometry).

    Coordinates are longitude/latitude (RFC 7946) unless the file has an old-style
    ``"crs": {"type": "name", "properties": {"name": "EPSG:3035"}}`` member. A tile's id
    comes from its ``tile_id``/``tile``/``id``/``name`` property or the feature id, else its
    position in the file."""
    from shapely.geometry import shape as to_shape

    path = Path(path)
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise SagrisError(f"--tiles {path}: cannot read it as GeoJSON ({exc})") from None
    crs = "EPSG:4326"
    if isinstance(doc, dict) and isinstance(doc.get("crs"), dict):
        crs = str((doc["crs"].get("properties") or {}).get("name") or crs)
    if isinstance(doc, dict) and doc.get("type") == "FeatureCollection":
        features = doc.get("features") or []
    elif isinstance(doc, dict) and doc.get("type") == "Feature":
        features = [doc]
    elif isinstance(doc, dict) and "coordinates" in doc:
        features = [{"type": "Feature", "geometry": doc, "properties": {}}]
    else:
        raise SagrisError(f"--tiles {path}: not a GeoJSON FeatureCollection, Feature or geometry")
    shapes, seen = [], set()
    for k, f in enumerate(features, start=1):
        geom = (f or {}).get("geometry")
        if not geom or geom.get("type") not in ("Polygon", "MultiPolygon"):
            raise SagrisError(f"--tiles {path}: feature {k} is not a Polygon or MultiPolygon")
        try:
            poly = to_shape(geom)
        except Exception as exc:  # noqa: BLE001 - shapely raises several types for bad coordinates
            raise SagrisError(f"--tiles {path}: feature {k} has bad coordinates ({exc})") from None
        props = f.get("properties") or {}
        raw = next((props[p] for p in ID_PROPERTIES if props.get(p) not in (None, "")), None)
        raw = raw if raw is not None else f.get("id", k)
        tile_id = re.sub(r"[^A-Za-z0-9-]", "-", str(raw)).strip("-") or str(k)
        if tile_id in seen:
            raise SagrisError(f"--tiles {path}: two tiles are named {tile_id!r}; tile ids must be unique")
        seen.add(tile_id)
        shapes.append(TileShape(tile_id, poly, crs))
    if not shapes:
        raise SagrisError(f"--tiles {path}: it holds no polygon")
    return shapes


def _to_epsg(shape: TileShape, epsg: int):
    import pyproj
    import shapely

    try:
        src = pyproj.CRS.from_user_input(shape.crs)
    except pyproj.exceptions.CRSError as exc:
        raise SagrisError(f"--tiles: unknown CRS {shape.crs!r} ({exc})") from None
    dst = pyproj.CRS.from_epsg(epsg)
    if src == dst:
        return shape.geometry
    # densify first: a straight edge in lon/lat is a curve in a projected CRS
    minx, miny, maxx, maxy = shape.geometry.bounds
    dense = shape.geometry.segmentize(max(maxx - minx, maxy - miny, 1e-9) / 64)
    tr = pyproj.Transformer.from_crs(src, dst, always_xy=True)
    return shapely.transform(dense, lambda x, y: tr.transform(x, y), interleaved=False)


__all__ = ["OutputGrid", "TileShape", "load_tile_shapes", "pass_grid", "polygon_tiles", "regular_tiles"]
