"""Where a coverage's arrays live in the repository, and the attributes describing them.

::

    coverages/<coverage id>/             group; attributes: petacube, multiscales
    coverages/<coverage id>/<band>       level 0, one array per band
    coverages/<coverage id>/level_<k>/<band>   pyramid level k (k = 1, 2, ...)

Pyramid factors are per axis and relative to level 0 (``Coverage.pyramid[k-1]``); a level's
shape is ``ceil(storage_shape / factor)``.
"""

from __future__ import annotations

import math
import re
from typing import Any

from petacube.errors import InvalidParameterValue
from petacube.model import Coverage

ROOT = "coverages"
_LEVEL_NAME = re.compile(r"^level_\d+$")


def coverage_path(cov_id: str) -> str:
    check_name("coverage id", cov_id)
    return f"{ROOT}/{cov_id}"


def level_path(cov_id: str, level: int) -> str:
    """The group holding level ``level``'s band arrays (level 0 is the coverage's group)."""
    return coverage_path(cov_id) if level == 0 else f"{coverage_path(cov_id)}/level_{level}"


def band_path(cov_id: str, band: str, level: int = 0) -> str:
    return f"{level_path(cov_id, level)}/{band}"


def check_name(kind: str, name: str) -> None:
    """Coverage ids and band names become zarr node names: no '/', no '__' prefix, not '.'."""
    if not name or "/" in name or name.startswith("__") or name in (".", ".."):
        raise InvalidParameterValue(
            f"{kind} '{name}' cannot be stored: it must be non-empty, without '/', not start with '__'"
        )


def check_band_names(cov: Coverage) -> None:
    for band in cov.bands:
        check_name("band name", band.name)
        if _LEVEL_NAME.match(band.name):
            raise InvalidParameterValue(
                f"coverage {cov.id}: band name '{band.name}' is reserved for pyramid levels; rename the band"
            )


def level_factors(cov: Coverage, level: int) -> tuple[int, ...]:
    """Per-axis scale factors of ``level`` relative to level 0."""
    if level == 0:
        return (1,) * len(cov.axes)
    if not 0 < level <= len(cov.pyramid):
        raise InvalidParameterValue(
            f"coverage {cov.id} has pyramid levels 0..{len(cov.pyramid)}; there is no level {level}"
        )
    factors = tuple(int(f) for f in cov.pyramid[level - 1])
    if len(factors) != len(cov.axes) or min(factors) < 1:
        raise InvalidParameterValue(
            f"coverage {cov.id}: pyramid level {level} needs one integer factor ≥ 1 per axis "
            f"({', '.join(cov.dims)}), got {cov.pyramid[level - 1]}"
        )
    return factors


def level_shape(shape: tuple[int, ...], factors: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(math.ceil(s / f) for s, f in zip(shape, factors))


def group_attributes(cov: Coverage, chunks: tuple[int, ...], compression_level: int) -> dict[str, Any]:
    """Attributes of a coverage's group: what is stored, and a multiscales-like level list."""
    levels = [{"path": ".", "factors": [1] * len(cov.axes)}]
    levels += [
        {"path": f"level_{k}", "factors": list(level_factors(cov, k))} for k in range(1, len(cov.pyramid) + 1)
    ]
    return {
        "petacube": {
            "coverage": cov.id,
            "dims": list(cov.dims),
            "bands": [b.name for b in cov.bands],
            "chunks": list(chunks),
            "codec": {"name": "zstd", "level": compression_level},
        },
        "multiscales": [
            {
                "name": cov.id,
                "axes": list(cov.dims),
                "datasets": levels,
                "type": "block mean over valid cells",
            }
        ],
    }
