"""WMS dimension values (WMS 1.3.0 Annex C): a single value, a list ``a,b,c``, a range
``start/end`` or ``start/end/period``, and lists of those; ``current`` for the latest time.
Each request value becomes the sorted list of axis coordinates it selects."""

from __future__ import annotations

import math
import re
from datetime import timedelta

import numpy as np

from petacube.errors import PetacubeError
from petacube.model import datetime_to_number
from petacube.model.crs import parse_time
from petacube.ows.wms.errors import InvalidDimensionValue
from petacube.ows.wms.layers import Dimension, Layer

MAX_SLICES = 256  # slices one request may combine (each is one more read)
_DURATION = re.compile(
    r"P(?:(?P<y>\d+(?:\.\d+)?)Y)?(?:(?P<mo>\d+(?:\.\d+)?)M)?(?:(?P<w>\d+(?:\.\d+)?)W)?(?:(?P<d>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<mi>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$", re.IGNORECASE)


def selections(layer: Layer, values: dict[str, str]) -> dict[str, list[float]]:
    """Coordinates selected on every dimension of ``layer`` (axis label -> ascending list);
    dimensions the request leaves out get their default, the latest value."""
    out = {}
    for dim in layer.dimensions:
        raw = values.get(dim.param)
        out[dim.label] = select(dim, raw) if raw is not None else [dim.default]
    return out


def select(dim: Dimension, raw: str) -> list[float]:
    """The coordinates of ``dim`` that the request value ``raw`` names."""
    coords = dim.coordinates()
    picked: set[float] = set()
    for item in (p.strip() for p in raw.split(",")):
        if not item:
            raise InvalidDimensionValue(f"{dim.param.upper()}={raw}: an empty value in the list", locator=dim.param.upper())
        if "/" in item:
            picked.update(_range(dim, coords, item, raw))
        else:
            picked.add(_single(dim, coords, item, raw))
    if len(picked) > MAX_SLICES:
        raise InvalidDimensionValue(
            f"{dim.param.upper()}={raw} selects {len(picked)} slices, over the limit of {MAX_SLICES}; narrow it",
            locator=dim.param.upper())
    return sorted(picked)


def _number(dim: Dimension, text: str, raw: str) -> float:
    t = text.strip()
    try:
        if dim.is_time:
            if t.lower() in ("current", "now"):
                return dim.default
            return datetime_to_number(parse_time(t), dim.time_crs)
        return float(t)
    except (PetacubeError, ValueError, OverflowError):
        what = "an ISO 8601 time such as 2021-05-01T00:00:00Z" if dim.is_time else "a number"
        raise InvalidDimensionValue(f"{dim.param.upper()}={raw}: '{text}' is not {what}",
                                    locator=dim.param.upper()) from None


def _single(dim: Dimension, coords: np.ndarray, text: str, raw: str) -> float:
    value = _number(dim, text, raw)
    axis = dim.axis
    if not axis.irregular and not axis.points:  # cells: the one containing the value
        try:
            return float(axis.coordinates()[axis.slice_index(value)])
        except PetacubeError:
            pass
    else:
        tol = 1e-9 * max(1.0, abs(value))
        if dim.is_time:
            tol = max(tol, 1e-3 / (86400.0 if dim.time_crs == "AnsiDate" else 1.0))  # a millisecond
        hit = np.nonzero(np.abs(coords - value) <= tol)[0]
        if len(hit):
            return float(coords[hit[0]])
    near = coords[np.argsort(np.abs(coords - value))[:3]]
    raise InvalidDimensionValue(
        f"{dim.param.upper()}={raw}: layer has no {dim.name} value {text}; the nearest are "
        f"{', '.join(dim.format(v) for v in sorted(near))} (GetCapabilities lists them all)",
        locator=dim.param.upper())


def _range(dim: Dimension, coords: np.ndarray, item: str, raw: str) -> list[float]:
    parts = item.split("/")
    if len(parts) not in (2, 3):
        raise InvalidDimensionValue(f"{dim.param.upper()}={raw}: a range is start/end or start/end/period",
                                    locator=dim.param.upper())
    lo, hi = _number(dim, parts[0], raw), _number(dim, parts[1], raw)
    if lo > hi:
        raise InvalidDimensionValue(f"{dim.param.upper()}={raw}: the range {item} runs backwards",
                                    locator=dim.param.upper())
    if len(parts) == 3 and parts[2].strip():
        step = _period(dim, parts[2], raw)
        n = math.floor((hi - lo) / step + 1e-9) + 1
        if n > MAX_SLICES:
            raise InvalidDimensionValue(f"{dim.param.upper()}={raw}: {n} steps, over the limit of {MAX_SLICES}",
                                        locator=dim.param.upper())
        out = []
        for k in range(n):
            v = lo + k * step
            # the slice nearest each step within half a period (months and years vary in length)
            k_near = int(np.argmin(np.abs(coords - v)))
            if abs(coords[k_near] - v) <= step / 2 and lo <= coords[k_near] <= hi:
                out.append(float(coords[k_near]))
            elif not dim.axis.irregular and not dim.axis.points:
                try:
                    out.append(float(dim.axis.coordinates()[dim.axis.slice_index(v)]))
                except PetacubeError:
                    pass
    else:
        tol = 1e-9 * max(1.0, abs(hi))
        out = [float(c) for c in coords if lo - tol <= c <= hi + tol]
    if not out:
        raise InvalidDimensionValue(
            f"{dim.param.upper()}={raw}: no {dim.name} value of the layer lies in {item}; the layer has values "
            f"from {dim.format(coords[0])} to {dim.format(coords[-1])}", locator=dim.param.upper())
    return out


def _period(dim: Dimension, text: str, raw: str) -> float:
    t = text.strip()
    if not dim.is_time:
        try:
            step = float(t)
        except ValueError:
            step = -1.0
        if step <= 0:
            raise InvalidDimensionValue(f"{dim.param.upper()}={raw}: the period '{text}' must be a positive number",
                                        locator=dim.param.upper())
        return step
    m = _DURATION.fullmatch(t)
    if not m or t.upper() in ("P", "PT"):
        raise InvalidDimensionValue(f"{dim.param.upper()}={raw}: the period '{text}' is not an ISO 8601 duration "
                                    "such as P1D or PT6H", locator=dim.param.upper())
    g = {k: float(v) if v else 0.0 for k, v in m.groupdict().items()}
    # years and months as their mean lengths: enough to step over slices that lie on them
    days = g["y"] * 365.2425 + g["mo"] * 30.436875 + g["w"] * 7 + g["d"]
    seconds = timedelta(days=days, hours=g["h"], minutes=g["mi"], seconds=g["s"]).total_seconds()
    if seconds <= 0:
        raise InvalidDimensionValue(f"{dim.param.upper()}={raw}: the period '{text}' is zero",
                                    locator=dim.param.upper())
    return seconds / (86400.0 if dim.time_crs == "AnsiDate" else 1.0)
