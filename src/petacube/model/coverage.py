"""The coverage description: axes, CRS, range type (bands), metadata.

Pure data: no I/O. ``Coverage.axes`` are in *grid order*, which is also the order of
the stored arrays' dimensions (for GeoTIFF-like data: time/other axes, then y, then x).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from petacube.errors import InvalidAxisLabel, InvalidParameterValue
from petacube.model.axis import Axis, RegularAxis, storage_size
from petacube.model.crs import Crs

NUMERIC_DTYPES = (
    "uint8", "int8", "uint16", "int16", "uint32", "int32", "uint64", "int64",
    "float32", "float64", "complex64", "complex128",
)


@dataclass(frozen=True)
class NilValue:
    """A null value: a single value or a closed interval ``[low, high]``."""

    low: float
    high: float | None = None  # None: a single value
    reason: str = ""

    @property
    def is_interval(self) -> bool:
        return self.high is not None

    def mask(self, data: np.ndarray) -> np.ndarray:
        """True where ``data`` holds this null value."""
        if self.high is None:
            if np.isnan(self.low):
                return np.isnan(data)
            return data == self.low
        return (data >= self.low) & (data <= self.high)

    def __str__(self) -> str:
        return f"{self.low:g}" if self.high is None else f"{self.low:g}:{self.high:g}"

    @classmethod
    def parse(cls, text: str | float | int, reason: str = "") -> "NilValue":
        """``9999``, ``"-9999"``, ``"nan"`` or an interval ``"-10:0"`` / ``"[-10:0]"``."""
        if isinstance(text, (int, float)):
            return cls(float(text), reason=reason)
        s = str(text).strip().strip("[]")
        try:
            if ":" in s:
                lo, hi = (float(p) if p.strip() not in ("*", "") else np.inf for p in s.split(":", 1))
                lo = -np.inf if s.split(":", 1)[0].strip() in ("*", "") else lo
                if lo > hi:
                    raise ValueError
                return cls(lo, hi, reason)
            return cls(float(s), reason=reason)
        except ValueError:
            raise InvalidParameterValue(
                f"null value '{text}' is neither a number nor an interval low:high"
            ) from None


@dataclass(frozen=True)
class Band:
    """One field of the range type."""

    name: str
    dtype: str = "float32"
    nil_values: tuple[NilValue, ...] = ()
    uom: str = "10^0"
    description: str = ""
    definition: str = ""

    def __post_init__(self):
        if np.dtype(self.dtype).name not in NUMERIC_DTYPES:
            raise InvalidParameterValue(
                f"band {self.name}: data type '{self.dtype}' is not supported; use one of {', '.join(NUMERIC_DTYPES)}"
            )
        object.__setattr__(self, "dtype", np.dtype(self.dtype).name)

    @property
    def fill_value(self):
        """The value unwritten cells hold: the first single null value, else 0."""
        for nv in self.nil_values:
            if not nv.is_interval:
                return np.dtype(self.dtype).type(nv.low)
        return np.dtype(self.dtype).type(0)

    def null_mask(self, data: np.ndarray) -> np.ndarray:
        mask = np.zeros(data.shape, dtype=bool)
        for nv in self.nil_values:
            mask |= nv.mask(data)
        return mask


@dataclass(frozen=True)
class Coverage:
    """A coverage: identifier, CRS, axes in grid order, bands and metadata."""

    id: str
    crs: Crs
    axes: tuple[Axis, ...]
    bands: tuple[Band, ...]
    metadata: dict[str, Any] = field(default_factory=dict)
    tile_shape: tuple[int, ...] | None = None  # chunk shape in grid order
    insitu: bool = False  # slices are registered files, not stored tiles
    pyramid: tuple[tuple[int, ...], ...] = ()  # scale factor per axis, one tuple per level
    wms_import: bool = False

    def __post_init__(self):
        labels = [a.label for a in self.axes]
        if len(set(labels)) != len(labels):
            raise InvalidParameterValue(f"coverage {self.id}: axis labels repeat: {labels}")
        crs_labels = set(self.crs.labels)
        for lab in labels:
            if lab not in crs_labels:
                raise InvalidAxisLabel(
                    f"coverage {self.id}: axis '{lab}' is not an axis of {self.crs} (its axes: {', '.join(self.crs.labels)})"
                )
        if len(labels) != len(crs_labels):
            raise InvalidParameterValue(
                f"coverage {self.id}: {len(labels)} axes given but {self.crs} has {len(crs_labels)} ({', '.join(self.crs.labels)})"
            )
        names = [b.name for b in self.bands]
        if not names or len(set(names)) != len(names):
            raise InvalidParameterValue(f"coverage {self.id}: band names must be present and unique: {names}")

    @property
    def dims(self) -> tuple[str, ...]:
        return tuple(a.label for a in self.axes)

    @property
    def shape(self) -> tuple[int, ...]:
        """Grid extent: number of cells per axis."""
        return tuple(a.size for a in self.axes)

    @property
    def storage_shape(self) -> tuple[int, ...]:
        """Shape of the stored arrays (irregular axes: number of storage slots)."""
        return tuple(storage_size(a) for a in self.axes)

    def axis(self, label: str) -> Axis:
        for a in self.axes:
            if a.label == label:
                return a
        raise InvalidAxisLabel(
            f"coverage {self.id} has no axis '{label}'; its axes are {', '.join(self.dims)}"
        )

    def axis_index(self, label: str) -> int:
        return self.dims.index(self.axis(label).label)

    def band(self, name: str | int) -> Band:
        if isinstance(name, int) or (isinstance(name, str) and name.isdigit()):
            i = int(name)
            if 0 <= i < len(self.bands):
                return self.bands[i]
        for b in self.bands:
            if b.name == name:
                return b
        raise InvalidParameterValue(
            f"coverage {self.id} has no band '{name}'; its bands are {', '.join(b.name for b in self.bands)}"
        )

    def with_axis(self, axis: Axis) -> "Coverage":
        return replace(self, axes=tuple(axis if a.label == axis.label else a for a in self.axes))

    @property
    def crs_order(self) -> tuple[str, ...]:
        """Axis labels in CRS order (the order geo coordinates are written in)."""
        return self.crs.labels

    @property
    def envelope(self) -> dict[str, tuple[float, float]]:
        """Geo bounds per axis, in CRS order."""
        return {lab: (self.axis(lab).lower, self.axis(lab).upper) for lab in self.crs_order}

    @property
    def nbytes(self) -> int:
        cells = int(np.prod(self.shape, dtype=np.int64))
        return cells * sum(np.dtype(b.dtype).itemsize for b in self.bands)

    def rasdaman_grid_order(self) -> tuple[str, ...]:
        """rasdaman's grid order: ours with the trailing (y, x) pair written x first.

        Used to map rasdaman tiling strings onto our chunk shapes."""
        dims = list(self.dims)
        kinds = [a.crs_axis.kind for a in self.axes]
        if len(dims) >= 2 and kinds[-2:] == ["y", "x"]:
            dims[-2], dims[-1] = dims[-1], dims[-2]
        return tuple(dims)


def regular_axes_from_transform(
    crs: Crs, transform, width: int, height: int
) -> tuple[RegularAxis, RegularAxis]:
    """The (y, x) axes of a north-up raster given its affine transform."""
    ax = {a.kind: a for a in crs.axes if a.kind in ("x", "y")}
    if set(ax) != {"x", "y"}:
        raise InvalidParameterValue(f"{crs} has no horizontal x/y axes")
    if transform.b != 0 or transform.d != 0:
        raise InvalidParameterValue("rotated or sheared rasters are not supported; warp to a north-up grid first")
    xres, yres = transform.a, transform.e
    x0, y0 = transform.c, transform.f
    xa = RegularAxis(ax["x"].label, ax["x"], min(x0, x0 + xres * width), xres if xres > 0 else -xres, width)
    ymin = min(y0, y0 + yres * height)
    # north-up rasters (yres < 0) keep a negative resolution, as rasdaman does
    ya = RegularAxis(ax["y"].label, ax["y"], ymin, yres, height)
    return ya, xa
