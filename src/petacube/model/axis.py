"""Coverage axes and the geo <-> grid arithmetic rasdaman documents.

Regular axes have cells of equal size: ``lower`` and ``upper`` are the outer cell edges,
``resolution`` is signed (negative for northing/latitude, counted from ``upper``).
For them:

* slice at ``g``: ``floor((g - lower) / res)`` (from ``upper`` when ``res < 0``);
* trim ``lo:hi``: first cell as for a slice at the near bound, count
  ``floor((hi - lo) / |res| + 0.5)``, at least 1 (a trim under half a pixel gives 1 pixel).

Point axes (irregular axes with sorted coefficients such as timestamps, and regular time
axes) select the coordinates that fall inside a trim; a slice picks the coordinate at the
value (irregular: exact, regular: the step containing it).

Index axes (Index CRSs, CRS:1) take grid indices directly.

Grid indices are *storage* indices, ``0 .. size-1``.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field, replace

import numpy as np

from petacube.errors import InvalidSubsetting
from petacube.model.crs import CrsAxis

# Coordinates within this fraction of a cell of an edge count as on it: float noise in
# geo bounds (0.1 + 0.2) must not move a subset by a whole pixel.
_EPS = 1e-9


def _floor(x: float) -> int:
    return math.floor(x + _EPS)


@dataclass(frozen=True)
class RegularAxis:
    """An axis with equally spaced cells."""

    label: str
    crs_axis: CrsAxis
    lower: float
    resolution: float
    size: int
    points: bool = False  # cells are instants (regular time series), not areas
    # Storage index of grid index 0. An import allocates the storage frame for all its
    # files up front while the visible extent grows file by file, so a mosaic growing
    # west or north never rewrites tiles already stored.
    storage_offset: int = 0

    @property
    def upper(self) -> float:
        if self.points:
            return self.lower + (self.size - 1) * abs(self.resolution)
        return self.lower + self.size * abs(self.resolution)

    @property
    def is_index(self) -> bool:
        return self.crs_axis.kind == "index"

    @property
    def is_time(self) -> bool:
        return self.crs_axis.is_time

    @property
    def irregular(self) -> bool:
        return False

    @property
    def origin(self) -> float:
        """The edge grid index 0 starts from."""
        return self.lower if self.resolution > 0 else self.upper

    def coordinates(self) -> np.ndarray:
        """Cell centres (areas) or instants (points), in grid order."""
        i = np.arange(self.size, dtype=np.float64)
        if self.points or self.is_index:
            return self.origin + i * self.resolution
        return self.origin + (i + 0.5) * self.resolution

    def cell_bounds(self, index: int) -> tuple[float, float]:
        a = self.origin + index * self.resolution
        b = a + self.resolution
        return (min(a, b), max(a, b))

    def slice_index(self, value: float) -> int:
        """Grid index of the cell holding ``value``."""
        self._check_inside(value, value)
        if self.is_index:
            return int(round(value - self.lower))
        if self.points:
            idx = _floor((value - self.lower) / abs(self.resolution))
        elif self.resolution > 0:
            idx = _floor((value - self.lower) / self.resolution)
        else:
            idx = _floor((self.upper - value) / -self.resolution)
        return min(max(idx, 0), self.size - 1)

    def trim_indices(self, lo: float, hi: float) -> tuple[int, int]:
        """Inclusive grid index range covered by the trim ``lo:hi`` (clipped to the axis)."""
        if lo > hi:
            raise InvalidSubsetting(
                f"axis {self.label}: the trim's lower bound {lo} is above its upper bound {hi}"
            )
        self._check_inside(lo, hi)
        if self.is_index:
            a, b = math.ceil(lo - self.lower - _EPS), _floor(hi - self.lower)
        elif self.points:
            step = abs(self.resolution)
            a = math.ceil((lo - self.lower) / step - _EPS)
            b = _floor((hi - self.lower) / step)
            if a > b:
                raise InvalidSubsetting(
                    f"axis {self.label}: no slice lies within {lo}:{hi} (slices every {step} from {self.lower})"
                )
        else:
            res = abs(self.resolution)
            lo_c, hi_c = max(lo, self.lower), min(hi, self.upper)
            if self.resolution > 0:
                a = _floor((lo_c - self.lower) / res)
            else:
                a = _floor((self.upper - hi_c) / res)
            count = max(1, _floor((hi_c - lo_c) / res + 0.5))
            b = a + count - 1
        return max(a, 0), min(b, self.size - 1)

    def _check_inside(self, lo: float, hi: float) -> None:
        lower, upper = self.lower, self.upper
        if self.is_index:
            upper = self.lower + self.size - 1
        if hi < lower - _EPS * max(1.0, abs(lower)) or lo > upper + _EPS * max(1.0, abs(upper)):
            raise InvalidSubsetting(
                f"axis {self.label}: subset {lo}:{hi} is outside the coverage's extent {lower}:{upper}"
            )

    def subset(self, a: int, b: int) -> "RegularAxis":
        """The axis restricted to grid indices a..b (inclusive)."""
        if self.resolution > 0 or self.points or self.is_index:
            new_lower = self.lower + a * abs(self.resolution)
        else:
            new_lower = self.upper - (b + 1) * abs(self.resolution)
        return replace(self, lower=new_lower, size=b - a + 1, storage_offset=self.storage_offset + a)


@dataclass(frozen=True)
class IrregularAxis:
    """An axis whose slices sit at sorted coordinates (e.g. timestamps in days)."""

    label: str
    crs_axis: CrsAxis
    coefficients: tuple[float, ...] = field(default_factory=tuple)
    # Storage slot of each coefficient: slices are stored in arrival order, so inserting a
    # date between two others writes one new slot instead of shifting the array.
    slots: tuple[int, ...] = field(default_factory=tuple)
    resolution: float = 1.0  # rasdaman's offset vector; coefficients are absolute here

    def __post_init__(self):
        if not self.slots:
            object.__setattr__(self, "slots", tuple(range(len(self.coefficients))))
        if len(self.slots) != len(self.coefficients):
            raise ValueError("an irregular axis needs one storage slot per coefficient")
        if any(b <= a for a, b in zip(self.coefficients, self.coefficients[1:])):
            raise ValueError(f"axis {self.label}: coefficients must be strictly increasing")

    @property
    def size(self) -> int:
        return len(self.coefficients)

    @property
    def lower(self) -> float:
        return self.coefficients[0]

    @property
    def upper(self) -> float:
        return self.coefficients[-1]

    @property
    def is_index(self) -> bool:
        return False

    @property
    def is_time(self) -> bool:
        return self.crs_axis.is_time

    @property
    def irregular(self) -> bool:
        return True

    @property
    def points(self) -> bool:
        return True

    def coordinates(self) -> np.ndarray:
        return np.asarray(self.coefficients, dtype=np.float64)

    def slice_index(self, value: float) -> int:
        i = bisect.bisect_left(self.coefficients, value - _tol(value))
        if i < self.size and abs(self.coefficients[i] - value) <= _tol(value):
            return i
        raise InvalidSubsetting(
            f"axis {self.label}: there is no slice at {value}; slice at one of the coverage's "
            f"coordinates (between {self.lower} and {self.upper}) or use a trim"
        )

    def trim_indices(self, lo: float, hi: float) -> tuple[int, int]:
        if lo > hi:
            raise InvalidSubsetting(
                f"axis {self.label}: the trim's lower bound {lo} is above its upper bound {hi}"
            )
        a = bisect.bisect_left(self.coefficients, lo - _tol(lo))
        b = bisect.bisect_right(self.coefficients, hi + _tol(hi)) - 1
        if a > b:
            raise InvalidSubsetting(
                f"axis {self.label}: no slice lies within {lo}:{hi}; the coverage has slices from "
                f"{self.lower} to {self.upper}"
            )
        return a, b

    def subset(self, a: int, b: int) -> "IrregularAxis":
        return replace(self, coefficients=self.coefficients[a : b + 1], slots=self.slots[a : b + 1])

    @property
    def storage_size(self) -> int:
        """Length of the stored array along this axis (highest slot + 1)."""
        return max(self.slots) + 1 if self.slots else 0

    def find(self, value: float) -> int | None:
        """Sorted position of the coefficient equal to ``value``, if there is one."""
        i = bisect.bisect_left(self.coefficients, value - _tol(value))
        if i < self.size and abs(self.coefficients[i] - value) <= _tol(value):
            return i
        return None

    def with_coefficient(self, value: float) -> tuple["IrregularAxis", int]:
        """A copy with ``value`` inserted in order (on a new storage slot), and its storage slot.

        An existing coefficient is returned unchanged with its slot (an update)."""
        found = self.find(value)
        if found is not None:
            return self, self.slots[found]
        i = bisect.bisect_left(self.coefficients, value)
        slot = self.storage_size
        coeffs = self.coefficients[:i] + (float(value),) + self.coefficients[i:]
        slots = self.slots[:i] + (slot,) + self.slots[i:]
        return replace(self, coefficients=coeffs, slots=slots), slot


def _tol(value: float) -> float:
    return 1e-9 * max(1.0, abs(value))


Axis = RegularAxis | IrregularAxis


def storage_size(axis: Axis) -> int:
    """Minimum length of the stored array along ``axis``."""
    return axis.storage_size if isinstance(axis, IrregularAxis) else axis.storage_offset + axis.size
