"""GetCoverage parameters (KVP, also what XML POST requests are turned into) parsed into
a `GetCoverageParams`; the values stay text here and are checked against the coverage
in `get_coverage`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from petacube.errors import (
    InvalidParameterValue,
    InvalidSubsetting,
    MissingParameterValue,
)
from petacube.ows.protocol import OwsRequest
from petacube.ows.wcs.errors import (
    InvalidExtent,
    InvalidRangeSubset,
    InvalidScaleFactor,
)


@dataclass(frozen=True)
class SubsetParam:
    """``subset=AXIS[,CRS](lo,hi)`` or ``subset=AXIS[,CRS](v)``; bounds as written."""

    raw: str
    axis: str
    crs: str | None
    lo: str | None = None
    hi: str | None = None
    at: str | None = None

    @property
    def is_slice(self) -> bool:
        return self.at is not None


@dataclass
class GetCoverageParams:
    coverage_id: str
    subsets: list[SubsetParam] = field(default_factory=list)
    subsetting_crs: str | None = None
    output_crs: str | None = None
    format: str | None = None
    mediatype: str | None = None
    range_items: list[tuple[str, str | None]] = field(default_factory=list)  # (name,) or (start, end)
    range_raw: str | None = None
    scale_factor: tuple[str, float] | None = None  # (raw, value)
    scale_axes: list[tuple[str, float, str]] = field(default_factory=list)  # (axis, factor, raw)
    scale_size: list[tuple[str, int, str]] = field(default_factory=list)
    scale_extent: list[tuple[str, str, str, str]] = field(default_factory=list)  # (axis, lo, hi, raw)
    interpolation: str | None = None
    clip: str | None = None


_SUBSET = re.compile(r"^\s*([^,()\s]+)\s*(?:,\s*([^()]*?))?\s*\((.*)\)\s*$", re.DOTALL)
_AXIS_ITEM = re.compile(r"^\s*([^()\s,]+)\s*\((.*)\)\s*$", re.DOTALL)


def parse_subset(raw: str) -> SubsetParam:
    m = _SUBSET.match(raw)
    if not m:
        raise InvalidSubsetting(
            f"subset={raw}: write subset=AXIS(low,high) for a trim or subset=AXIS(value) for a slice, "
            'e.g. subset=E(500000,510000) or subset=ansi("2021-05-01")', locator="subset")
    axis, crs, inner = m.group(1), (m.group(2) or "").strip() or None, m.group(3)
    parts = [p.strip() for p in _split_bounds(inner)]
    if any(p == "" for p in parts) or len(parts) > 2:
        raise InvalidSubsetting(
            f"subset={raw}: give one value (slice) or two values low,high (trim) in the parentheses", locator="subset")
    if len(parts) == 1:
        if parts[0] == "*":
            raise InvalidSubsetting(f"subset={raw}: a slice needs a value, not *", locator="subset")
        return SubsetParam(raw, axis, crs, at=parts[0])
    return SubsetParam(raw, axis, crs, lo=parts[0], hi=parts[1])


def _split_bounds(inner: str) -> list[str]:
    """Split on commas outside double quotes."""
    out, cur, quoted = [], [], False
    for ch in inner:
        if ch == '"':
            quoted = not quoted
        if ch == "," and not quoted:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur))
    return out


def _positive_float(text: str, what: str, error=InvalidScaleFactor) -> float:
    try:
        v = float(text)
    except ValueError:
        raise error(f"{what}: '{text}' is not a number", locator=what.split("=")[0]) from None
    if not v > 0 or v == float("inf"):
        raise error(f"{what}: the factor must be a positive number, got {text}", locator=what.split("=")[0])
    return v


def _axis_items(text: str, name: str) -> list[tuple[str, str]]:
    """``E(2),N(3)`` -> [("E", "2"), ("N", "3")] (commas inside parentheses kept)."""
    items, depth, cur = [], 0, []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            items.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    items.append("".join(cur))
    out = []
    for item in items:
        m = _AXIS_ITEM.match(item)
        if not m:
            raise InvalidParameterValue(
                f"{name}={text}: '{item.strip()}' is not of the form AXIS(value), e.g. {name}=E(2),N(2)", locator=name)
        out.append((m.group(1), m.group(2).strip()))
    return out


def parse_get_coverage(req: OwsRequest) -> GetCoverageParams:
    ids = [i for v in req.all("coverageid") for i in v.split(",") if i.strip()]
    if not ids:
        raise MissingParameterValue("GetCoverage needs coverageId=<id>", locator="coverageId")
    if len(ids) > 1:
        raise InvalidParameterValue(
            f"coverageId={','.join(ids)}: GetCoverage returns one coverage; ask for one id at a time", locator="coverageId")
    p = GetCoverageParams(ids[0].strip())
    p.subsets = [parse_subset(s) for s in req.all("subset")]
    p.subsetting_crs = req.param("subsettingcrs")
    # OWSLib's WCS 2.0.1 client sends the output CRS as `crs` (the WCS 1.x name)
    p.output_crs = req.param("outputcrs") or req.param("crs")
    p.format = req.param("format")
    p.mediatype = req.param("mediatype")
    p.interpolation = req.param("interpolation")
    p.clip = req.param("clip")

    rs = req.param("rangesubset")
    if rs is not None:
        p.range_raw = rs
        for item in rs.split(","):
            item = item.strip()
            if not item:
                raise InvalidRangeSubset(f"rangesubset={rs}: empty band name; list bands as B04,B03 or intervals B02:B04",
                                         locator="rangesubset")
            if ":" in item:
                a, b = (x.strip() for x in item.split(":", 1))
                if not a or not b:
                    raise InvalidRangeSubset(f"rangesubset={rs}: the interval '{item}' needs a start and an end band",
                                             locator="rangesubset")
                p.range_items.append((a, b))
            else:
                p.range_items.append((item, None))

    scaling = [k for k in ("scalefactor", "scaleaxes", "scalesize", "scaleextent") if req.param(k) is not None]
    if len(scaling) > 1:
        raise InvalidParameterValue(
            f"give one scaling parameter, not {' and '.join(scaling)}", locator=scaling[1])
    if (sf := req.param("scalefactor")) is not None:
        p.scale_factor = (sf, _positive_float(sf.strip(), f"scalefactor={sf}"))
    if (sa := req.param("scaleaxes")) is not None:
        for axis, v in _axis_items(sa, "scaleaxes"):
            p.scale_axes.append((axis, _positive_float(v, f"scaleaxes={sa}"), sa))
    if (ss := req.param("scalesize")) is not None:
        for axis, v in _axis_items(ss, "scalesize"):
            try:
                n = int(v)
            except ValueError:
                n = 0
            if n < 1:
                raise InvalidParameterValue(f"scalesize={ss}: the size of {axis} must be a positive whole number, got '{v}'",
                                            locator="scalesize")
            p.scale_size.append((axis, n, ss))
    if (se := req.param("scaleextent")) is not None:
        for axis, v in _axis_items(se, "scaleextent"):
            if ":" not in v:
                raise InvalidExtent(f"scaleextent={se}: the extent of {axis} must be low:high, got '{v}'", locator="scaleextent")
            lo, hi = (x.strip() for x in v.split(":", 1))
            p.scale_extent.append((axis, lo, hi, se))
    return p
