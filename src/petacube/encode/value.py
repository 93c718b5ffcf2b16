"""The engine's result value seen by the encoders: bands, axes, CRS, nulls and planes.

A value is an ``xarray.Dataset`` (one variable per band) or ``DataArray`` (one band)
with dims = axis labels in grid order, coordinates = cell centres (datetime64 on time
axes) and attrs ``crs`` (wcst_import form), ``crs_uri``; per band ``nodata`` and
``_FillValue``. Nothing here knows how the value was stored or computed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import xarray as xr

from petacube.errors import InvalidParameterValue, PetacubeError
from petacube.model import Crs

_SCALARS = (bool, int, float, complex, np.generic)


def is_scalar(value) -> bool:
    if isinstance(value, _SCALARS):
        return True
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return True
    if isinstance(value, (xr.DataArray,)) and value.ndim == 0:
        return True
    return False


def scalar_value(value):
    """A scalar (numpy, Python or 0-d array) as a numpy scalar."""
    if isinstance(value, xr.DataArray):
        value = value.values
    return np.asarray(value)[()]


@dataclass
class Axis:
    label: str
    kind: str  # x, y, time, index, height, other
    coords: np.ndarray | None
    resolution_attr: float | None

    @property
    def size(self) -> int:
        return 0 if self.coords is None else len(self.coords)

    @property
    def is_time(self) -> bool:
        return self.kind == "time" or (self.coords is not None and np.issubdtype(self.coords.dtype, np.datetime64))

    def numbers(self) -> np.ndarray:
        """Coordinates as float64 (times: days since 1970 for spacing checks)."""
        c = self.coords
        if c is None:
            return np.arange(0, dtype=np.float64)
        if np.issubdtype(c.dtype, np.datetime64):
            return (c.astype("datetime64[ns]").astype(np.int64) / 86400e9).astype(np.float64)
        return np.asarray(c, dtype=np.float64)

    def spacing(self) -> float | None:
        """Signed constant spacing, or None when irregular or unknown (one cell, no attr)."""
        n = self.numbers()
        if len(n) >= 2:
            d = np.diff(n)
            if np.allclose(d, d[0], rtol=1e-6, atol=abs(d[0]) * 1e-9):
                return float(d[0])
            return None
        return self.resolution_attr

    def regular_resolution(self, fmt: str) -> float:
        res = self.spacing()
        if res is None or res == 0 or not math.isfinite(res):
            if self.size <= 1:
                raise InvalidParameterValue(
                    f"{fmt}: axis {self.label} has a single cell and no resolution "
                    f"(attribute resolution_{self.label}); cannot georeference it"
                )
            raise InvalidParameterValue(f"{fmt}: axis {self.label} is irregular; {fmt} needs equally spaced cells")
        return res


class Cube:
    """A coverage value normalised for encoding."""

    def __init__(self, value):
        if isinstance(value, xr.DataArray):
            name = value.name if value.name is not None else "value"
            ds = value.to_dataset(name=str(name))
            ds.attrs = dict(value.attrs)
            ds[str(name)].attrs = dict(value.attrs)
        elif isinstance(value, xr.Dataset):
            ds = value
        else:
            raise InvalidParameterValue(
                f"cannot encode a value of type {type(value).__name__}: expected a coverage or a scalar"
            )
        if not ds.data_vars:
            raise InvalidParameterValue("cannot encode a coverage without bands")
        self.ds = ds
        self.bands = [str(b) for b in ds.data_vars]
        dims = list(ds[self.bands[0]].dims)
        for b in self.bands[1:]:
            if set(ds[b].dims) != set(dims):
                raise InvalidParameterValue(f"bands {self.bands[0]} and {b} have different axes; cannot encode together")
        self.dims = [str(d) for d in dims]
        self.crs = self._parse_crs(ds.attrs.get("crs") or ds[self.bands[0]].attrs.get("crs"))
        self.axes = {d: self._axis(d) for d in self.dims}

    # ---- construction ---------------------------------------------------------------
    @staticmethod
    def _parse_crs(text) -> Crs | None:
        if not text:
            return None
        try:
            return Crs.parse(str(text))
        except PetacubeError:
            raise
        except Exception as exc:  # noqa: BLE001 - a malformed attr is the user's input
            raise InvalidParameterValue(f"the result's CRS '{text}' cannot be read: {exc}") from exc

    def _axis(self, label: str) -> Axis:
        coords = self.ds.coords[label].values if label in self.ds.coords else None
        kind = "other"
        if self.crs is not None and label in self.crs.labels:
            kind = self.crs.axis(label).kind
        elif coords is not None and np.issubdtype(coords.dtype, np.datetime64):
            kind = "time"
        if coords is None:
            coords = np.arange(self.ds.sizes[label], dtype=np.float64)
            if kind == "other":
                kind = "index"
        res = None
        for holder in (self.ds.attrs, self.ds.coords[label].attrs if label in self.ds.coords else {},
                       self.ds[self.bands[0]].attrs):
            if f"resolution_{label}" in holder:
                try:
                    res = float(holder[f"resolution_{label}"])
                except (TypeError, ValueError):
                    res = None
                break
        return Axis(label, kind, coords, res)

    # ---- band facts -----------------------------------------------------------------
    def array(self, band: str) -> np.ndarray:
        return np.asarray(self.ds[band].transpose(*self.dims).values)

    def nodata(self, band: str) -> list[float]:
        """Single null values of a band (intervals ``a:b`` skipped), ``_FillValue`` first."""
        attrs = self.ds[band].attrs
        out: list[float] = []
        fill = attrs.get("_FillValue", self.ds[band].encoding.get("_FillValue"))
        if fill is not None:
            try:
                out.append(float(fill))
            except (TypeError, ValueError):
                pass
        raw = attrs.get("nodata", [])
        if isinstance(raw, (str, int, float, np.number)):
            raw = [raw]
        for item in raw:
            text = str(item)
            if ":" in text:
                continue
            try:
                v = float(text)
            except ValueError:
                continue
            if not any(_same(v, o) for o in out):
                out.append(v)
        return out

    def nodata_intervals(self, band: str) -> list[tuple[float, float]]:
        raw = self.ds[band].attrs.get("nodata", [])
        if isinstance(raw, (str, int, float)):
            raw = [raw]
        out = []
        for item in raw:
            text = str(item)
            if ":" in text:
                lo, hi = text.split(":", 1)
                try:
                    out.append((float(lo), float(hi)))
                except ValueError:
                    pass
        return out

    def null_mask(self, band: str, data: np.ndarray, override: list[float] | None = None) -> np.ndarray:
        """True where ``data`` holds one of the band's null values (or the override values)."""
        mask = np.zeros(data.shape, dtype=bool)
        if data.dtype.kind not in "biuf":
            return mask
        values = override if override is not None else self.nodata(band)
        for v in values:
            mask |= np.isnan(data) if (isinstance(v, float) and math.isnan(v)) else (data == v)
        if override is None:
            for lo, hi in self.nodata_intervals(band):
                mask |= (data >= lo) & (data <= hi)
        return mask

    # ---- planes ---------------------------------------------------------------------
    def image_axes(self, fmt: str, transpose: bool = False) -> tuple[str, str, bool]:
        """(row axis, column axis, georeferenced) for a 2-D output; other axes must be single cells.

        Geo data: rows = the y axis, columns = the x axis. Otherwise, as in rasdaman, the
        first of the two axes runs along the columns (image width) and the second along the rows.
        """
        big = [d for d in self.dims if self.ds.sizes[d] > 1]
        xs = [d for d in self.dims if self.axes[d].kind == "x"]
        ys = [d for d in self.dims if self.axes[d].kind == "y"]
        if len(xs) == 1 and len(ys) == 1:
            extra = [d for d in big if d not in (xs[0], ys[0])]
            if extra:
                raise InvalidParameterValue(
                    f"{fmt} holds 2-D data; the result has axes {', '.join(self._describe())} — slice "
                    f"{', '.join(extra)} to a single value"
                )
            row, col, geo = ys[0], xs[0], True
        else:
            if len(big) > 2 or len(self.dims) < 2:
                raise InvalidParameterValue(
                    f"{fmt} holds 2-D data; the result has axes {', '.join(self._describe()) or 'none'} — "
                    "slice it to two axes"
                )
            chosen = set(big)
            for d in self.dims:
                if len(chosen) == 2:
                    break
                chosen.add(d)
            two = [d for d in self.dims if d in chosen]
            col, row, geo = two[0], two[1], False
        if transpose:
            row, col = col, row
            geo = False
        return row, col, geo

    def _describe(self) -> list[str]:
        return [f"{d}({self.ds.sizes[d]})" for d in self.dims]

    def plane(self, band: str, row: str, col: str) -> np.ndarray:
        """A band as a 2-D (row, column) array, other (single-cell) axes dropped."""
        da = self.ds[band]
        for d in self.dims:
            if d not in (row, col):
                da = da.isel({d: 0})
        return np.asarray(da.transpose(row, col).values)

    def oriented_planes(self, fmt: str, transpose: bool) -> tuple[list, str, str, bool]:
        """Every band as a 2-D plane for an image-like format, rows and columns flipped so
        north is up and east is right; also the (row, column) axis labels and whether the
        data are georeferenced."""
        row, col, geo = self.image_axes(fmt, transpose=transpose)
        flip_rows, flip_cols = self.orientation(row, col, geo)
        planes = []
        for band in self.bands:
            p = self.plane(band, row, col)
            if flip_rows:
                p = p[::-1, :]
            if flip_cols:
                p = p[:, ::-1]
            planes.append(p)
        return planes, row, col, geo

    def orientation(self, row: str, col: str, geo: bool) -> tuple[bool, bool]:
        """(flip rows, flip columns) so that north is up and east is right (geo data only)."""
        if not geo:
            return False, False
        ry, cx = self.axes[row].numbers(), self.axes[col].numbers()
        flip_rows = len(ry) >= 2 and ry[0] < ry[-1]
        if len(ry) < 2 and (self.axes[row].resolution_attr or -1) > 0:
            flip_rows = False
        flip_cols = len(cx) >= 2 and cx[0] > cx[-1]
        return flip_rows, flip_cols


def _same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def parse_nodata_option(option, nbands: int) -> list[list[float]] | None:
    """rasdaman's ``nodata``: one value for all bands or one per band; NaN/Infinity names allowed."""
    if option is None:
        return None
    values = option if isinstance(option, (list, tuple)) else [option]
    parsed = []
    for v in values:
        if isinstance(v, bool):
            raise InvalidParameterValue(f"nodata value {v!r} is not a number")
        if isinstance(v, (int, float)):
            parsed.append(float(v))
            continue
        text = str(v).strip()
        named = {"nan": math.nan, "nanf": math.nan, "infinity": math.inf, "-infinity": -math.inf}
        if text.lower() in named:
            parsed.append(named[text.lower()])
            continue
        try:
            parsed.append(float(text))
        except ValueError:
            raise InvalidParameterValue(f"nodata value '{v}' is not a number") from None
    if len(parsed) == 1:
        return [parsed[:] for _ in range(nbands)]
    if len(parsed) != nbands:
        raise InvalidParameterValue(
            f"nodata gives {len(parsed)} values for {nbands} band(s): give one value or one per band"
        )
    return [[v] for v in parsed]


def transpose_pair(option, ndims: int) -> tuple[int, int] | None:
    """rasdaman's ``transpose``: two adjacent 0-based axis indices ``[N, N+1]``."""
    if option is None:
        return None
    if (not isinstance(option, (list, tuple)) or len(option) != 2
            or not all(isinstance(i, int) and not isinstance(i, bool) for i in option)):
        raise InvalidParameterValue(f"transpose {option!r}: give two adjacent axis indices such as [0, 1]")
    a, b = sorted(option)
    if b != a + 1 or a < 0 or b >= ndims:
        raise InvalidParameterValue(
            f"transpose {list(option)}: the axes must be adjacent and within 0..{ndims - 1}"
        )
    return a, b
