"""Conversion between the coverage model and table rows (no database access)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from petacube.catalog.database import json_dumps
from petacube.errors import InvalidParameterValue
from petacube.model import Band, Coverage, Crs, IrregularAxis, NilValue, RegularAxis


def check_json(value: Any, what: str) -> None:
    """Raise a user error if ``value`` cannot be stored as strict JSON."""
    try:
        json_dumps(value)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterValue(f"{what} cannot be stored: {exc}") from None


def coverage_values(cov: Coverage) -> dict[str, Any]:
    """The coverages row of ``cov`` (without version and timestamps)."""
    check_json(cov.metadata, f"metadata of coverage {cov.id}")
    return {
        "id": cov.id,
        "crs": cov.crs.identifier,
        "metadata": cov.metadata,
        "tile_shape": None if cov.tile_shape is None else [int(n) for n in cov.tile_shape],
        "insitu": bool(cov.insitu),
        "wms_import": bool(cov.wms_import),
        "pyramid": [[int(f) for f in level] for level in cov.pyramid],
    }


def axis_rows(cov: Coverage) -> list[dict[str, Any]]:
    rows = []
    for pos, ax in enumerate(cov.axes):
        if isinstance(ax, IrregularAxis):
            lower = float(ax.coefficients[0]) if ax.coefficients else None
            kind, size, points, offset = "irregular", ax.size, True, 0
        else:
            lower, kind, size, points = float(ax.lower), "regular", ax.size, bool(ax.points)
            offset = int(ax.storage_offset)
        rows.append({
            "coverage_id": cov.id, "position": pos, "label": ax.label, "kind": kind,
            "lower": lower, "resolution": float(ax.resolution), "size": int(size), "points": points,
            "storage_offset": offset,
        })
    return rows


def band_rows(cov: Coverage) -> list[dict[str, Any]]:
    return [
        {
            "coverage_id": cov.id, "position": pos, "name": b.name, "dtype": b.dtype,
            "nil_values": [
                [_number_out(nv.low), None if nv.high is None else _number_out(nv.high), nv.reason]
                for nv in b.nil_values
            ],
            "uom": b.uom, "description": b.description, "definition": b.definition,
        }
        for pos, b in enumerate(cov.bands)
    ]


def coverage_from_rows(
    row: Mapping[str, Any],
    axes: Sequence[Mapping[str, Any]],
    coefficients: Mapping[str, tuple[tuple[float, ...], tuple[int, ...]]],
    bands: Sequence[Mapping[str, Any]],
) -> Coverage:
    """Rebuild the model from a coverages row, its axes rows (grid order), the irregular
    axes' (coefficients, slots) sorted by coefficient, and its bands rows."""
    crs = Crs.parse(row["crs"])
    model_axes = []
    for a in axes:
        crs_axis = crs.axis(a["label"])
        if a["kind"] == "irregular":
            coeffs, slots = coefficients.get(a["label"], ((), ()))
            model_axes.append(IrregularAxis(a["label"], crs_axis, coeffs, slots, a["resolution"]))
        else:
            model_axes.append(
                RegularAxis(
                    a["label"], crs_axis, a["lower"], a["resolution"], a["size"], a["points"],
                    storage_offset=a["storage_offset"],
                )
            )
    model_bands = tuple(
        Band(
            b["name"], b["dtype"],
            tuple(
                NilValue(_number_in(lo), None if hi is None else _number_in(hi), reason)
                for lo, hi, reason in b["nil_values"]
            ),
            b["uom"], b["description"], b["definition"],
        )
        for b in bands
    )
    tile_shape = row["tile_shape"]
    return Coverage(
        id=row["id"],
        crs=crs,
        axes=tuple(model_axes),
        bands=model_bands,
        metadata=row["metadata"] if row["metadata"] is not None else {},
        tile_shape=None if tile_shape is None else tuple(tile_shape),
        insitu=bool(row["insitu"]),
        pyramid=tuple(tuple(level) for level in row["pyramid"] or ()),
        wms_import=bool(row["wms_import"]),
    )


def _number_out(x: float) -> float | str:
    # JSON has no NaN/Infinity: write them as the strings float() reads back.
    x = float(x)
    return x if math.isfinite(x) else repr(x)


def _number_in(v: float | str) -> float:
    return float(v)
