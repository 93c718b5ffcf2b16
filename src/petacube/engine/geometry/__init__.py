"""Geometric operations of the engine: scale, extend, crsTransform, clip, flip, sort.

Each function takes the `Evaluator` and its IR node and returns a `CoverageValue` whose
`Coverage` describes the new domain, so later subsets keep the rasdaman arithmetic.

Semantics (rasdaman's, with the choices petacube makes where its documentation is silent):

* **flip(e, a)**: cell values mirrored along axis ``a``; the domain is unchanged. Lazy.
* **sort e along a [asc|desc] by k**: the slices along ``a`` are reordered by one key per
  slice; the domain (coordinates of ``a``) is unchanged, the values move. The key is
  computed in one of two ways:

  - ``k`` holds a free iterator variable (rasdaman's ``sort $c along ansi as $t by
    avg($c[ansi($t)])``): ``k`` is evaluated once per slice with the variable bound to
    the slice's grid coordinate (0-based in the sorted value; as in condensers, a subset
    at an iterator is a grid subset). A coverage result is averaged over its non-null
    cells.
  - otherwise ``k`` is evaluated once and must be a coverage having axis ``a`` with the
    same number of slices: its non-null cells are averaged over all other axes, giving
    one key per slice (``sort $c along ansi by $c.B08`` sorts dates by mean NIR).

  The sort is stable; slices whose key is null (no valid cell) go last in both orders.
  Keys are computed when the sort is built; the reordering itself stays lazy.
* **extend(e, {a(lo:hi), ...})**: the value on the grid interval ``lo:hi`` of each named
  axis, cells outside the source's domain set to the band's null value (its first single
  null value, else 0). Geo bounds use the trim arithmetic of `petacube.model.axis`
  without clipping to the extent (first cell: the one holding the near bound; count:
  ``floor((hi - lo) / |res| + 0.5)``); ``CRS:1`` bounds are grid indices of the value
  (negative below its first cell). An interval inside the domain trims. Resolution and
  cell alignment are kept; irregular axes cannot be extended. Lazy.
* **scale(e, spec)**: a target cell count per axis, same geo extent (resolution adjusted):

  - ``factor f``: every regular area axis (not sliced, not time points, not irregular)
    gets ``round(n·f)`` cells, at least 1 (``scale($c, 2)`` doubles the cells per
    axis, ``0.5`` halves them);
  - ``axis_factors {a: f}``: the same per named axis;
  - ``sizes {a: n}``: ``n`` cells (the translator turns ``a:"CRS:1"(0:99)`` into 100);
  - ``extents {a: (lo, hi)}``: as many cells as the geo interval ``lo:hi`` covers on the
    source grid (the trim count ``floor((hi - lo) / |res| + 0.5)``, at least 1);
  - ``like e2``: the cell counts of the axes ``e2`` shares with the source.

  Method ``near`` (default): target cell ``i`` takes source cell
  ``floor((i + 0.5) · n_src / n_dst)`` (time-point axes: ``round(i · (n_src-1) /
  (n_dst-1))``), lazily (index arrays, only the needed tiles are read). When the source
  is a read of a stored coverage with pyramid levels, the coarsest level that still has
  at least as many cells as the target on every axis is read instead (level factors of
  sliced and unscaled axes must be 1) and cell ``i`` takes the level cell holding that
  same source cell. Other methods (bilinear, cubic, average, mode, ...) resample the
  horizontal plane with ``rasterio.warp.reproject`` (only x/y axes may change size),
  from the coarsest pyramid level that still has at least as many cells as the target
  on both horizontal axes (`petacube.engine.geometry.pyramid_read`); the level's cells
  are block means, so ``average`` from a level equals ``average`` from full resolution.
* **crsTransform(e, {crs}, method, {resolutions}, {bbox})**: the horizontal plane
  reprojected with ``rasterio.warp.reproject`` onto a north-up grid of the target CRS;
  other axes (time) kept. Target grid: GDAL's default (``calculate_default_transform``)
  unless resolutions (by target axis label, e.g. ``Lat``/``Long``) and/or a bbox (target
  axis labels, in target coordinates) are given; with a bbox the grid starts at its
  west/north corner with ``round(extent / res)`` cells. Cells the source does not cover
  are null. When the target grid is coarser than the source (the source extent measured
  in target cells is below the source's cell count), the coarsest pyramid level with at
  least that many cells is reprojected instead of full resolution.
  The result's CRS has the target's axis labels; grid order stays (..., y, x),
  e.g. (Lat, Long) for EPSG:4326. Computed when the result is computed (one dask task).
* **clip(e, WKT [, crs])**: WKT coordinates are written in the axis order of the
  coverage's horizontal CRS (E N for EPSG:32633, Lat Long for EPSG:4326), or of ``crs``
  when given (then transformed with pyproj). 2-D geometries only.

  - POLYGON / MULTIPOLYGON: the domain is trimmed to the cells intersecting the
    geometry's bounding box (within the coverage); cells whose centre lies outside the
    geometry get the band's null value (else 0). Every slice of other axes is clipped
    alike. Lazy.
  - LINESTRING: the cells along the line (Bresenham between the cells holding
    consecutive vertices, joints not repeated) become a new axis ``i`` (CRS
    ``OGC/0/Index1D``, 0..n-1) replacing the horizontal pair: a 2-D source gives a 1-D
    coverage, (time, y, x) gives (time, i). ``with_coordinates`` adds, before the
    bands, one float64 band per horizontal axis in CRS order (e.g. ``E``, ``N``)
    holding the cell-centre coordinates. Vertices outside the coverage are an error.
"""

from petacube.engine.geometry.clip import clip
from petacube.engine.geometry.reorder import extend, flip, sort
from petacube.engine.geometry.reproject import crs_transform
from petacube.engine.geometry.scale import scale

__all__ = ["clip", "crs_transform", "extend", "flip", "scale", "sort"]
