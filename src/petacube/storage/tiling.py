"""Tile (chunk) shapes: the default, and rasdaman tiling strings.

rasdaman ingredients and rasql name a tiling such as
``ALIGNED [0:0, 0:1023, 0:1023] TILE SIZE 4194304``; petacube stores one zarr chunk per
tile, so the string becomes a chunk shape. The intervals are written in rasdaman's grid
order, which differs from ours in the trailing (y, x) pair (rasdaman writes x first).

How the extents are computed (rasdaman's aligned tiling, ``r_Aligned_Tiling``):

* ``*`` extents span the coverage's current extent along that axis, capped, from the last
  such axis to the first, so that the tile's bytes stay within TILE SIZE; the fixed
  extents are then capped the same way.
* Fully fixed configurations larger than TILE SIZE shrink by the same factor on every
  axis. Unlike rasdaman, petacube spreads the factor over the axes that can shrink (extent
  above 1), so a ``[0:0, 0:1023, 0:1023]`` tile really fits TILE SIZE, and it does not
  *grow* configurations smaller than TILE SIZE (rasdaman does below 90 % of it): the user
  wrote those extents on purpose and zarr chunks need not fill a database page.

Cell size: rasdaman uses the size of the whole cell struct; petacube stores one array per
band, so the largest band's item size is what a tile must fit.
"""

from __future__ import annotations

import logging
import math
import re
from typing import NoReturn

import numpy as np

from petacube.errors import InvalidParameterValue
from petacube.model import Coverage, storage_size

log = logging.getLogger(__name__)

# 1024 x 1024: Icechunk's local store costs about as much CPU per object fetched as zstd
# needs to decode a 512 x 512 uint16 tile, so cold reads of 512-tiles reached only ~0.5 of
# the decode rate; 1024-tiles (2 MiB for uint16, under rasdaman's 4 MiB default) reach
# ~0.63 (bench/bench_storage_read.py --tile 512|1024).
DEFAULT_TILE_EDGE = 1024
# rasdaman's default TILE SIZE (rasserver --tilesize), used when a string names none.
DEFAULT_TILE_BYTES = 4194304

ACCEPTED_FORMS = (
    "ALIGNED [0:0, 0:1023, 0:1023] TILE SIZE 4194304; REGULAR [0:499, 0:499]; "
    "ALIGNED [0:*, 0:*, 0:0] TILE SIZE 4194304; DIRECTIONAL ... / AREA OF INTEREST ... / "
    "STATISTIC ... (use the default tiling); or a plain shape in grid order such as 1x512x512"
)

_PLAIN = re.compile(r"^\s*\d+(\s*[xX×]\s*\d+)*\s*$")
_HEAD = re.compile(
    r"^\s*(?:TILING\s+)?(?P<scheme>ALIGNED|REGULAR|DIRECTIONAL|AREA\s+OF\s+INTEREST|STATISTIC)\b(?P<rest>.*)$",
    re.IGNORECASE | re.DOTALL,
)
_TILE_SIZE = re.compile(r"\bTILE\s+SIZE\s+(?P<size>\S+)", re.IGNORECASE)
_INDEX = re.compile(r"\bINDEX\s+\w+\s*$", re.IGNORECASE)
_CONFIG = re.compile(r"^\s*\[(?P<body>[^\]]*)\]\s*$")


def default_tile_shape(cov: Coverage) -> tuple[int, ...]:
    """1 along every non-horizontal axis, DEFAULT_TILE_EDGE along y and x (at most the axis size).

    Coverages without x/y axes (Index CRSs) treat their last two axes as the horizontal
    ones, so a grid-only coverage still gets square tiles instead of single cells."""
    kinds = [a.crs_axis.kind for a in cov.axes]
    n = len(cov.axes)
    if "x" in kinds or "y" in kinds:
        horizontal = {i for i, k in enumerate(kinds) if k in ("x", "y")}
    else:
        horizontal = set(range(max(0, n - 2), n))
    # a 1-D coverage gets as many cells as a square default tile holds
    edge = DEFAULT_TILE_EDGE if len(horizontal) > 1 or n > 1 else DEFAULT_TILE_EDGE**2
    return tuple(
        max(1, min(edge, storage_size(a))) if i in horizontal else 1 for i, a in enumerate(cov.axes)
    )


def cell_bytes(cov: Coverage) -> int:
    """Bytes one cell of the largest band takes: what a tile's size is measured in."""
    return max(np.dtype(b.dtype).itemsize for b in cov.bands)


def parse_tiling(text: str, cov: Coverage) -> tuple[int, ...]:
    """The chunk shape (in ``cov.dims`` order) a rasdaman tiling string or plain shape names."""
    if not isinstance(text, str) or not text.strip():
        _bad(text, "it is empty")
    if _PLAIN.match(text):
        shape = tuple(int(p) for p in re.split(r"\s*[xX×]\s*", text.strip()))
        if len(shape) != len(cov.dims):
            _bad(text, f"it has {len(shape)} extents but coverage {cov.id} has {len(cov.dims)} axes "
                       f"({', '.join(cov.dims)})")
        if min(shape) < 1:
            _bad(text, "every extent must be at least 1")
        return shape
    head = _HEAD.match(text)
    if not head:
        _bad(text, "it names no tiling scheme")
    scheme = " ".join(head.group("scheme").upper().split())
    rest = _INDEX.sub("", head.group("rest"))
    tile_bytes = None
    size_match = _TILE_SIZE.search(rest)
    if size_match:
        try:
            tile_bytes = int(size_match.group("size"))
        except ValueError:
            _bad(text, f"TILE SIZE '{size_match.group('size')}' is not a whole number of bytes")
        if tile_bytes < 1:
            _bad(text, "TILE SIZE must be positive")
        rest = rest[: size_match.start()] + rest[size_match.end():]
    if scheme not in ("ALIGNED", "REGULAR"):
        shape = default_tile_shape(cov)
        if tile_bytes is not None:
            shape = _shrink_to_fit(shape, tile_bytes // cell_bytes(cov))
        log.warning(
            "coverage %s: %s tiling is not supported; using aligned tiles of %s instead",
            cov.id, scheme, "x".join(map(str, shape)),
        )
        return shape
    config = _CONFIG.match(rest)
    if not config:
        _bad(text, f"{scheme} needs a tile configuration such as [0:0, 0:1023, 0:1023]")
    extents = [_extent(text, part) for part in config.group("body").split(",")]
    order = cov.rasdaman_grid_order()
    if len(extents) != len(order):
        _bad(text, f"it has {len(extents)} intervals but coverage {cov.id} has {len(order)} axes "
                   f"(written in the order {', '.join(order)})")
    domain = [max(1, storage_size(cov.axis(label))) for label in order]
    cells = (tile_bytes or DEFAULT_TILE_BYTES) // cell_bytes(cov)
    if cells < 1:
        _bad(text, f"TILE SIZE {tile_bytes} is smaller than one cell ({cell_bytes(cov)} bytes)")
    rasdaman_shape = _aligned_extents(extents, domain, cells)
    by_label = dict(zip(order, rasdaman_shape))
    return tuple(by_label[d] for d in cov.dims)


def _aligned_extents(extents: list[int | None], domain: list[int], max_cells: int) -> tuple[int, ...]:
    """Tile extents per axis (rasdaman order); ``None`` stands for ``*``."""
    if all(e is not None for e in extents):
        return _shrink_to_fit(tuple(extents), max_cells)  # type: ignore[arg-type]
    out = [0] * len(extents)
    cells = 1
    # open axes first, then fixed ones, each from the last axis to the first (as rasdaman)
    for want_open in (True, False):
        for i in reversed(range(len(extents))):
            if (extents[i] is None) != want_open:
                continue
            extent = domain[i] if extents[i] is None else extents[i]
            extent = max(1, min(extent, max_cells // cells))
            out[i] = extent
            cells *= extent
    return tuple(out)


def _shrink_to_fit(shape: tuple[int, ...], max_cells: int) -> tuple[int, ...]:
    """``shape`` scaled down by one factor on its shrinkable axes so it holds ≤ max_cells."""
    total = math.prod(shape)
    if total <= max_cells:
        return shape
    shrinkable = [i for i, e in enumerate(shape) if e > 1]
    factor = (max_cells / total) ** (1.0 / len(shrinkable))
    out = [max(1, math.floor(e * factor)) if i in shrinkable else e for i, e in enumerate(shape)]
    while math.prod(out) > max_cells and max(out) > 1:  # float rounding
        out[out.index(max(out))] -= 1
    return tuple(out)


def _extent(text: str, interval: str) -> int | None:
    parts = interval.split(":")
    if len(parts) != 2:
        _bad(text, f"'{interval.strip()}' is not an interval low:high")
    lo, hi = (p.strip() for p in parts)
    if lo == "*" or hi == "*":
        return None
    try:
        a, b = int(lo), int(hi)
    except ValueError:
        _bad(text, f"'{interval.strip()}' has bounds that are neither integers nor *")
    if b < a:
        _bad(text, f"in '{interval.strip()}' the upper bound is below the lower one")
    return b - a + 1


def _bad(text: object, why: str) -> NoReturn:
    raise InvalidParameterValue(f"tiling '{text}' is not valid: {why}. Accepted forms: {ACCEPTED_FORMS}")
