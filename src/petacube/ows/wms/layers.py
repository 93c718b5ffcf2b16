"""WMS layers: a coverage seen as a map layer — its horizontal axes and native CRS, its
extent in that CRS and in WGS 84, and its other axes as WMS dimensions (``time``,
``elevation``, ``dim_<name>``)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyproj

from petacube.catalog.styles import WmsCatalog
from petacube.errors import NoSuchCoverage
from petacube.model import Coverage, number_to_datetime64
from petacube.model.crs import time_crs_of
from petacube.ows.wms.errors import LayerNotDefined


@dataclass(frozen=True)
class Dimension:
    """A non-horizontal axis offered as a WMS dimension."""

    name: str  # capabilities name: time, elevation, or the axis label
    param: str  # request parameter (lower case): time, elevation, dim_<label>
    axis: object  # the model axis
    time_crs: str | None  # AnsiDate / UnixTime for time axes

    @property
    def label(self) -> str:
        return self.axis.label

    @property
    def is_time(self) -> bool:
        return self.time_crs is not None

    def coordinates(self) -> np.ndarray:
        """Selectable values (numbers in the axis' unit), ascending."""
        return np.sort(np.asarray(self.axis.coordinates(), dtype=np.float64))

    def format(self, value: float) -> str:
        if self.is_time:
            return format_time(value, self.time_crs)
        return f"{value:.12g}"

    @property
    def default(self) -> float:
        """The latest (highest) value, as rasdaman's WMS defaults to the last slice."""
        return float(self.coordinates()[-1])

    @property
    def units(self) -> str:
        return "ISO8601" if self.is_time else (self.axis.crs_axis.unit or "")


def format_time(value: float, time_crs: str) -> str:
    t = number_to_datetime64(np.array([value]), time_crs)[0]
    text = np.datetime_as_string(t, unit="ms")
    return text + "Z"


@dataclass(frozen=True)
class Layer:
    """A coverage as a WMS layer."""

    coverage: Coverage
    x: object  # model axes
    y: object
    epsg: int  # the native horizontal CRS
    dimensions: tuple[Dimension, ...]

    @property
    def name(self) -> str:
        return self.coverage.id

    @property
    def native(self) -> pyproj.CRS:
        return _crs(self.epsg)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(minx, miny, maxx, maxy) in the native CRS."""
        return self.x.lower, self.y.lower, self.x.upper, self.y.upper

    def bounds_in(self, epsg: int) -> tuple[float, float, float, float]:
        """The extent in another CRS, x/y order (densified edges)."""
        if epsg == self.epsg:
            return self.bounds
        return transform_bounds(self.epsg, epsg, self.bounds)

    @property
    def wgs84(self) -> tuple[float, float, float, float]:
        """(west, south, east, north) in degrees."""
        w, s, e, n = self.bounds_in(4326)
        return max(w, -180.0), max(s, -90.0), min(e, 180.0), min(n, 90.0)

    def dimension(self, param: str) -> Dimension | None:
        return next((d for d in self.dimensions if d.param == param), None)


@lru_cache(maxsize=256)
def _crs(epsg: int) -> pyproj.CRS:
    return pyproj.CRS.from_epsg(epsg)


@lru_cache(maxsize=1024)
def _transformer(src: int, dst: int) -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(_crs(src), _crs(dst), always_xy=True)


def transform_bounds(src: int, dst: int, bounds: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    """Bounds from one EPSG CRS to another, x/y order, with densified edges; infinite when
    the box cannot be projected (e.g. beyond Web Mercator's latitude limit)."""
    if src == dst:
        return bounds
    try:
        out = _transformer(src, dst).transform_bounds(*bounds, densify_pts=21)
    except pyproj.exceptions.ProjError:
        return (np.inf, np.inf, -np.inf, -np.inf)
    return tuple(float(v) for v in out)


def transformer(src: int, dst: int) -> pyproj.Transformer:
    return _transformer(src, dst)


def layer_of(cov: Coverage) -> Layer:
    """The layer view of a coverage; LayerNotDefined when it has no EPSG x/y plane."""
    xs = [a for a in cov.axes if a.crs_axis.kind == "x"]
    ys = [a for a in cov.axes if a.crs_axis.kind == "y"]
    if len(xs) != 1 or len(ys) != 1 or xs[0].irregular or ys[0].irregular:
        raise LayerNotDefined(f"coverage {cov.id} has no regular x/y axes in a map CRS, so it cannot be a WMS layer",
                              locator=cov.id)
    comp = cov.crs.component_of(xs[0].label)
    if comp.authority != "EPSG":
        raise LayerNotDefined(f"coverage {cov.id}: its horizontal CRS {comp.identifier} is not an EPSG CRS",
                              locator=cov.id)
    dims, used = [], set()
    for axis in cov.axes:
        if axis in (xs[0], ys[0]):
            continue
        kind = axis.crs_axis.kind
        time_crs = time_crs_of(axis.crs_axis, cov.crs) if axis.is_time else None
        if kind == "time" and "time" not in used:
            name, param = "time", "time"
        elif kind == "height" and "elevation" not in used:
            name, param = "elevation", "elevation"
        else:
            name, param = axis.label, f"dim_{axis.label.lower()}"
        used.add(name)
        dims.append(Dimension(name, param, axis, time_crs))
    return Layer(cov, xs[0], ys[0], int(comp.code), tuple(dims))


def active_layer_ids(cube) -> list[str]:
    return WmsCatalog(cube.catalog).layer_ids()


def get_layer(cube, name: str, locator: str = "LAYERS") -> Layer:
    """The active layer ``name``; LayerNotDefined when there is none (or it is not activated)."""
    wms = WmsCatalog(cube.catalog)
    try:
        active = wms.is_layer(name)
        cov = cube.describe(name) if active else None
    except NoSuchCoverage:
        cov = None
    if cov is None:
        raise LayerNotDefined(f"{locator}: there is no layer '{name}'; GetCapabilities lists the layers "
                              "(a coverage becomes one with `petacube wms enable COVERAGE`)", locator=name)
    return layer_of(cov)
