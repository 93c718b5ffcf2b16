"""What the catalog records besides coverage descriptions: slices and finished imports."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from petacube.errors import InvalidParameterValue, PetacubeError

Region = tuple[tuple[int, int], ...]


class CatalogConflict(PetacubeError):
    """Another writer changed the coverage since it was read (optimistic lock failed)."""

    code = "NoApplicableCode"
    status = 409


@dataclass(frozen=True)
class SliceRecord:
    """One source contribution to a coverage.

    ``region`` is one half-open ``(lo, hi)`` storage-index pair per axis, in grid order.
    Registered (in-situ) slices are read from ``path`` (``subdataset`` if set), with
    ``band_indices`` giving the GDAL 1-based band of each coverage band."""

    path: str
    region: Region
    registered: bool = False
    band_indices: tuple[int, ...] = ()
    subdataset: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    id: int | None = None

    def __post_init__(self):
        region = normalise_region(self.region, f"slice {self.path}", allow_empty=False)
        object.__setattr__(self, "region", region)
        object.__setattr__(self, "band_indices", tuple(int(b) for b in self.band_indices))

    def intersects(self, region: Sequence[Sequence[int]]) -> bool:
        return all(max(lo, a) < min(hi, b) for (lo, hi), (a, b) in zip(self.region, region))


@dataclass(frozen=True)
class ImportRecord:
    """A source file whose import finished; ``fingerprint`` is ``"<size>:<mtime>"``."""

    path: str
    fingerprint: str
    status: str = "done"


def normalise_region(region: Sequence[Sequence[int]], what: str, *, allow_empty: bool = True) -> Region:
    """``region`` as a tuple of ``(lo, hi)`` int pairs with ``lo <= hi`` (``lo < hi`` unless
    ``allow_empty``)."""
    try:
        pairs = tuple((int(lo), int(hi)) for lo, hi in region)
    except (TypeError, ValueError):
        raise InvalidParameterValue(
            f"{what}: region {region!r} is not a list of (lo, hi) storage-index pairs"
        ) from None
    for lo, hi in pairs:
        if lo > hi or (lo == hi and not allow_empty):
            raise InvalidParameterValue(
                f"{what}: region {list(pairs)} has a pair with lo {lo} "
                f"{'above' if lo > hi else 'equal to'} hi {hi} (pairs are half-open [lo, hi))"
            )
    return pairs
