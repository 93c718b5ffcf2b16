"""Coordinate reference systems as rasdaman names them.

A coverage CRS is a list of components: EPSG CRSs (through pyproj), the OGC time CRSs
AnsiDate and UnixTime, and the OGC Index CRSs (Index1D ... Index5D) for grid-only data.
Written forms accepted: ``EPSG:4326``, ``EPSG/0/4326``, ``OGC/0/AnsiDate``,
``EPSG/0/4326@OGC/0/AnsiDate`` (wcst_import), full resolver URLs
``http://host/def/crs/EPSG/0/4326`` and compound URLs ``.../crs-compound?1=...&2=...``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from urllib.parse import parse_qsl, urlparse

import numpy as np
import pyproj

from petacube.errors import InvalidCrs

# Time CRSs: epoch and unit, as the OGC definitions (and rasdaman's SECORE) state them.
TIME_CRSS = {
    "AnsiDate": (datetime(1600, 12, 31, tzinfo=timezone.utc), 86400.0, "ansi", "d"),
    "UnixTime": (datetime(1970, 1, 1, tzinfo=timezone.utc), 1.0, "unix", "s"),
}
INDEX_LABELS = ("i", "j", "k", "l", "m")
DEFAULT_RESOLVER = "http://localhost:8080/def"


@dataclass(frozen=True)
class CrsAxis:
    """One axis of a CRS: its rasdaman label, direction and unit."""

    label: str
    direction: str  # east, north, up, future, column/row for index axes ...
    unit: str
    kind: str  # "x", "y", "height", "time", "index", "other"

    @property
    def is_time(self) -> bool:
        return self.kind == "time"


@dataclass(frozen=True)
class CrsComponent:
    """One single CRS inside a (possibly compound) coverage CRS."""

    authority: str  # "EPSG" or "OGC"
    code: str  # "4326", "AnsiDate", "Index2D"
    version: str = "0"
    labels: tuple[str, ...] = ()  # axis-label overrides (rasdaman's ?axis-label="...")

    @property
    def identifier(self) -> str:
        base = f"{self.authority}/{self.version}/{self.code}"
        if self.labels:
            base += "?axis-label=" + ",".join(f'"{lab}"' for lab in self.labels)
        return base

    def uri(self, resolver: str = DEFAULT_RESOLVER) -> str:
        return f"{resolver.rstrip('/')}/crs/{self.identifier}"

    @property
    def is_time(self) -> bool:
        return self.authority == "OGC" and self.code in TIME_CRSS

    @property
    def is_index(self) -> bool:
        return self.authority == "OGC" and re.fullmatch(r"Index[1-5]D", self.code) is not None

    @property
    def pyproj_crs(self) -> pyproj.CRS | None:
        if self.authority == "EPSG":
            return _pyproj_crs(self.code)
        return None

    @property
    def axes(self) -> tuple[CrsAxis, ...]:
        axes = self._native_axes()
        if not self.labels:
            return axes
        if len(self.labels) != len(axes):
            raise InvalidCrs(f"{self.identifier}: {len(self.labels)} axis labels given for {len(axes)} axes")
        return tuple(CrsAxis(lab, a.direction, a.unit, a.kind) for lab, a in zip(self.labels, axes))

    def _native_axes(self) -> tuple[CrsAxis, ...]:
        if self.is_time:
            _, _, label, unit = TIME_CRSS[self.code]
            return (CrsAxis(label, "future", unit, "time"),)
        if self.is_index:
            n = int(self.code[5])
            return tuple(CrsAxis(INDEX_LABELS[k], "index", "GridSpacing", "index") for k in range(n))
        crs = self.pyproj_crs
        assert crs is not None
        return tuple(_crs_axis(a) for a in crs.axis_info)


@lru_cache(maxsize=256)
def _pyproj_crs(code: str) -> pyproj.CRS:
    try:
        return pyproj.CRS.from_epsg(int(code))
    except (pyproj.exceptions.CRSError, ValueError) as exc:
        raise InvalidCrs(f"EPSG:{code} is not a known CRS code: use an EPSG code such as EPSG:4326") from exc


def _crs_axis(a) -> CrsAxis:
    abbrev = a.abbrev
    # rasdaman (SECORE) labels longitude "Long"; pyproj says "Lon".
    if abbrev == "Lon":
        abbrev = "Long"
    direction = a.direction.lower()
    if direction in ("east", "west"):
        kind = "x"
    elif direction in ("north", "south"):
        kind = "y"
    elif direction in ("up", "down"):
        kind = "height"
    else:
        kind = "other"
    return CrsAxis(abbrev, direction, a.unit_name, kind)


_COMPONENT_RE = re.compile(
    r"(?:.*/def/(?:crs/)?)?(?P<auth>EPSG|OGC|CRS)[/:](?:(?P<ver>[\w.]+)/)?(?P<code>[\w.]+)$", re.IGNORECASE
)


_AXIS_LABEL_RE = re.compile(r"\?axis-label=(.+)$")


def parse_component(text: str) -> CrsComponent:
    """One CRS component from any of the written forms (with rasdaman's ``?axis-label="x"``)."""
    text = text.strip()
    labels: tuple[str, ...] = ()
    if m := _AXIS_LABEL_RE.search(text):
        labels = tuple(p.strip().strip('"').strip("'") for p in m.group(1).split(","))
        text = text[: m.start()]
        comp = parse_component(text)
        comp = CrsComponent(comp.authority, comp.code, comp.version, labels)
        comp.axes  # validates the label count
        return comp
    m = _COMPONENT_RE.fullmatch(text) or _COMPONENT_RE.fullmatch(text.rstrip("/"))
    if not m:
        raise InvalidCrs(
            f"'{text}' is not a CRS this server knows: write EPSG:<code>, EPSG/0/<code>, "
            "OGC/0/AnsiDate, OGC/0/UnixTime, OGC/0/Index2D or a resolver URL"
        )
    auth = m.group("auth").upper()
    code = m.group("code")
    if auth == "CRS" and code == "1":  # OGC's CRS:1 grid CRS, used for pixel subsets
        return CrsComponent("OGC", "Index2D")
    if auth == "EPSG":
        if not code.isdigit():
            raise InvalidCrs(f"'{text}': an EPSG code is a number, e.g. EPSG:32633")
        comp = CrsComponent("EPSG", code)
        comp.axes  # validates the code
        return comp
    for name in (*TIME_CRSS, "Index1D", "Index2D", "Index3D", "Index4D", "Index5D"):
        if code.lower() == name.lower():
            return CrsComponent("OGC", name)
    raise InvalidCrs(f"'{text}': unknown OGC CRS '{code}'; known: AnsiDate, UnixTime, Index1D..Index5D")


@dataclass(frozen=True)
class Crs:
    """A coverage CRS: one or more components (compound when more than one)."""

    components: tuple[CrsComponent, ...]

    @classmethod
    def parse(cls, text: str) -> "Crs":
        """Parse any accepted written form, compound ones included."""
        text = text.strip()
        if not text:
            raise InvalidCrs("empty CRS: give one such as EPSG:4326 or EPSG/0/4326@OGC/0/AnsiDate")
        if "crs-compound" in text:
            query = urlparse(text).query
            parts = [v for k, v in sorted(parse_qsl(query), key=lambda kv: int(kv[0]))]
            if not parts:
                raise InvalidCrs(f"'{text}': a compound CRS URL needs ?1=...&2=...")
            return cls(tuple(parse_component(p) for p in parts))
        return cls(tuple(parse_component(p) for p in text.split("@")))

    @property
    def axes(self) -> tuple[CrsAxis, ...]:
        return tuple(a for c in self.components for a in c.axes)

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(a.label for a in self.axes)

    def axis(self, label: str) -> CrsAxis:
        for a in self.axes:
            if a.label == label:
                return a
        raise KeyError(label)

    def component_of(self, label: str) -> CrsComponent:
        for c in self.components:
            if any(a.label == label for a in c.axes):
                return c
        raise KeyError(label)

    @property
    def horizontal(self) -> pyproj.CRS | None:
        """The geographic/projected component, if any."""
        for c in self.components:
            if c.pyproj_crs is not None:
                return c.pyproj_crs
        return None

    @property
    def identifier(self) -> str:
        """Short wcst_import form: ``EPSG/0/32633@OGC/0/AnsiDate``."""
        return "@".join(c.identifier for c in self.components)

    def uri(self, resolver: str = DEFAULT_RESOLVER) -> str:
        """The resolver URL; compound CRSs as ``crs-compound?1=..&2=..``."""
        if len(self.components) == 1:
            return self.components[0].uri(resolver)
        args = "&".join(f"{i}={c.uri(resolver)}" for i, c in enumerate(self.components, 1))
        return f"{resolver.rstrip('/')}/crs-compound?{args}"

    def __str__(self) -> str:
        return self.identifier


# ---- time coordinates ---------------------------------------------------------------

_NP_EPOCH = np.datetime64("1970-01-01T00:00:00", "ns")


def time_crs_of(axis: CrsAxis, crs: Crs) -> str:
    return crs.component_of(axis.label).code


def datetime_to_number(value: datetime | np.datetime64 | str, time_crs: str) -> float:
    """A time instant as a number in the time CRS's unit (days for AnsiDate, seconds for UnixTime)."""
    epoch, seconds_per_unit, _, _ = TIME_CRSS[time_crs]
    if isinstance(value, str):
        value = parse_time(value)
    if isinstance(value, np.datetime64):
        ns = (value.astype("datetime64[ns]") - _NP_EPOCH).astype(np.int64)
        value = datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(microseconds=int(ns) / 1000)
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return (value - epoch).total_seconds() / seconds_per_unit


def number_to_datetime64(values, time_crs: str) -> np.ndarray:
    """Numbers in the time CRS's unit back to numpy datetime64[ns] (UTC)."""
    epoch, seconds_per_unit, _, _ = TIME_CRSS[time_crs]
    values = np.asarray(values, dtype=np.float64)
    # go through seconds since 1970: AnsiDate's 1600 epoch is outside datetime64[ns]'s range
    offset = (epoch - datetime(1970, 1, 1, tzinfo=timezone.utc)).total_seconds()
    seconds = values * seconds_per_unit + offset
    whole = np.floor(seconds)
    ns = whole.astype(np.int64) * 1_000_000_000 + np.round((seconds - whole) * 1e9).astype(np.int64)
    return _NP_EPOCH + ns.astype("timedelta64[ns]")


def parse_time(text: str) -> datetime:
    """An ISO 8601 date or date-time (quotes allowed); naive means UTC."""
    from petacube.errors import InvalidParameterValue

    s = text.strip().strip('"').strip("'")
    try:
        if s.endswith("Z"):
            s = s[:-1] + "+00:00"
        dt = datetime.fromisoformat(s)
    except ValueError:
        try:
            from dateutil import parser as du

            dt = du.isoparse(s)
        except (ValueError, OverflowError) as exc:
            raise InvalidParameterValue(
                f"'{text}' is not a time this server can read: use ISO 8601, e.g. 2021-05-01 or 2021-05-01T10:30:00Z"
            ) from exc
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt
