"""The grib slicer (ecCodes); one unit per GRIB message.

Keys (``${grib:...}``): any ecCodes key of the message (``dataDate``, ``dataTime``,
``shortName``, ``latitudeOfFirstGridPointInDegrees``, ``jScansPositively`` ...; array keys
give lists), pygrib's ``validDate`` / ``analDate`` (ISO text), and for regular_ll grids
``axis:x|y:min|max|first|last|resolution|size`` (grid point coordinates; ``first`` is the
coordinate of row/column 0 of ``read()``, ``resolution`` the signed step between
consecutive rows/columns). ``axis:<label>`` alone is wcst_import's list of an irregular
axis' positions over all messages: the recipe computes it and hands it over with
``GribFile.set_axis_positions``.

Orientation of ``read()``: an array (Nj, Ni) = (y, x) in the grid's scanning order:
row 0 lies at latitudeOfFirstGridPointInDegrees, column 0 at
longitudeOfFirstGridPointInDegrees. So rows run north to south when jScansPositively is
0 (the usual case, like a north-up GeoTIFF) and south to north when it is 1; columns run
east to west when iScansNegatively is 1. ``${grib:axis:y:resolution}`` is negative for
north-to-south rows, and ``transform`` is the matching affine transform of cell edges.
Values flagged missing by the bitmap hold ``missingValue``.
"""

from __future__ import annotations

import difflib
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, BinaryIO

import eccodes  # noqa: I001
import numpy as np

# pyproj before ecCodes: the ecCodes wheel pulls in eckitlib, which bundles its own
# libproj. Loaded first, that copy hijacks pyproj's PROJ (every EPSG lookup fails with
# "no database context") and the process aborts at exit with a double free.
import pyproj  # noqa: F401, I001
from affine import Affine

from petacube.errors import IngredientsError, SourceFileError
from petacube.ingest.slicers.base import SourceFile, SourceUnit, check_readable, plain

_AXIS_OPS = ("min", "max", "first", "last", "resolution", "size")
_GribError = eccodes.GribInternalError
_MISSING = object()


class GribUnit(SourceUnit):
    slicer_type = "grib"

    def __init__(self, file: "GribFile", index: int, offset: int):
        super().__init__(file.path, file.original_path, index, file.default_crs)
        self._file = file
        self.offset = offset
        self._handle = None

    @property
    def message_number(self) -> int:
        """1-based position of the message in the file (wcst_import's messageId)."""
        return self.index + 1

    def _where(self) -> str:
        return f"GRIB message {self.message_number} of {self.path}"

    @property
    def handle(self):
        if self._handle is None:
            self._handle = self._file._load(self.offset, self.message_number)
        return self._handle

    def release(self) -> None:
        """Free the decoded message (it is decoded again on demand)."""
        if self._handle is not None:
            eccodes.codes_release(self._handle)
            self._handle = None

    # --- keys ---

    def get(self, key: str) -> Any:
        """An ecCodes key's value (native type; arrays as lists)."""
        value = self._try(key, _MISSING)
        if value is _MISSING:
            raise self._unknown(key)
        return value

    def _try(self, key: str, default: Any = None) -> Any:
        h = self.handle
        try:
            if eccodes.codes_get_size(h, key) > 1:
                return plain(eccodes.codes_get_array(h, key))
            return plain(eccodes.codes_get(h, key))
        except eccodes.KeyValueNotFoundError:
            return default
        except _GribError as exc:
            raise SourceFileError(f"{self._where()}: key {key} cannot be decoded: {exc}") from None

    def _unknown(self, key: str) -> IngredientsError:
        names = self._key_names()
        close = difflib.get_close_matches(key, names, n=3)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        return IngredientsError(f"{self._where()} has no key '{key}' (${{grib:{key}}}){hint}")

    def _key_names(self) -> list[str]:
        names = []
        it = eccodes.codes_keys_iterator_new(self.handle)
        try:
            while eccodes.codes_keys_iterator_next(it):
                names.append(eccodes.codes_keys_iterator_get_name(it))
        finally:
            eccodes.codes_keys_iterator_delete(it)
        return names + ["validDate", "analDate", "axis:x:min", "axis:y:min"]

    def _resolve(self, key: str) -> Any:
        if key.startswith("axis:"):
            return self._axis_key(key[len("axis:") :])
        if key in ("validDate", "analDate"):
            date, time = ("validityDate", "validityTime") if key == "validDate" else ("dataDate", "dataTime")
            return self._datetime(self.get(date), self.get(time)).replace(tzinfo=None).isoformat()
        return self.get(key)

    def _datetime(self, date: int, time: int) -> datetime:
        d, t = str(int(date)), str(int(time)).zfill(4)
        try:
            return datetime(int(d[:4]), int(d[4:6]), int(d[6:8]), int(t[:2]), int(t[2:4]), tzinfo=timezone.utc)
        except ValueError:
            raise SourceFileError(f"{self._where()}: date {date} / time {time} is not a valid date") from None

    def _axis_key(self, rest: str) -> Any:
        label, _, op = rest.partition(":")
        if not op:
            positions = self._file.axis_positions.get(label)
            if positions is None:
                raise IngredientsError(
                    f"'${{grib:axis:{label}}}' lists the positions of irregular axis {label} over all GRIB messages; "
                    f"it is known only after every message of {self.path} was evaluated (the recipe provides it). "
                    f"For the grid use ${{grib:axis:x:min}}, ${{grib:axis:y:resolution}} ..."
                )
            return list(positions)
        if label not in ("x", "y") or op not in _AXIS_OPS:
            raise IngredientsError(
                f"unknown key '${{grib:axis:{rest}}}' for {self.path}: use grib:axis:x:<op> or grib:axis:y:<op> "
                f"with <op> one of {', '.join(_AXIS_OPS)}"
            )
        return self.grid()[label][op]

    def grid(self) -> dict[str, dict[str, float]]:
        """Grid point coordinates of a regular_ll message: per axis first, last, min, max, resolution, size."""
        grid_type = self.get("gridType")
        if grid_type != "regular_ll":
            raise SourceFileError(f"{self._where()}: grid type {grid_type} is not supported; only regular_ll grids")
        ni, nj = int(self.get("Ni")), int(self.get("Nj"))
        lon0, lon1 = float(self.get("longitudeOfFirstGridPointInDegrees")), float(self.get("longitudeOfLastGridPointInDegrees"))
        lat0, lat1 = float(self.get("latitudeOfFirstGridPointInDegrees")), float(self.get("latitudeOfLastGridPointInDegrees"))
        dx = self._increment("iDirectionIncrementInDegrees", lon0, lon1, ni, bool(self.get("iScansNegatively")), x=True)
        dy = self._increment("jDirectionIncrementInDegrees", lat0, lat1, nj, not bool(self.get("jScansPositively")), x=False)
        return {
            "x": {"first": lon0, "last": lon1, "min": min(lon0, lon1), "max": max(lon0, lon1), "resolution": dx, "size": ni},
            "y": {"first": lat0, "last": lat1, "min": min(lat0, lat1), "max": max(lat0, lat1), "resolution": dy, "size": nj},
        }

    def _increment(self, key: str, first: float, last: float, n: int, negative: bool, x: bool) -> float:
        step = None
        try:
            if not eccodes.codes_is_missing(self.handle, key):
                step = abs(float(self.get(key)))
        except (IngredientsError, _GribError):
            step = None
        if step is None or step == 0:
            span = last - first
            if x and negative and span > 0:
                span -= 360.0
            if x and not negative and span < 0:
                span += 360.0
            step = abs(span) / (n - 1) if n > 1 else 0.0
        return -step if negative else step

    # --- pixels ---

    def read(self, identifier: str | int | None = None) -> np.ndarray:
        h = self.handle
        ni, nj = self.shape_of()[::-1]
        if self._flag("alternativeRowScanning"):
            raise SourceFileError(f"{self._where()}: alternative row scanning is not supported")
        try:
            values = eccodes.codes_get_values(h)
        except _GribError as exc:
            raise SourceFileError(f"{self._where()}: values cannot be decoded (damaged message?): {exc}") from None
        if values.size != ni * nj:
            raise SourceFileError(f"{self._where()}: {values.size} values for a {nj} x {ni} grid")
        if self._flag("jPointsAreConsecutive"):
            return values.reshape(ni, nj).T.copy()
        return values.reshape(nj, ni)

    def _flag(self, key: str) -> bool:
        return bool(self._try(key, 0))

    def band_meta(self, identifier: str | int | None = None) -> dict[str, Any]:
        opt = self._try
        bitmap = opt("bitmapPresent")
        return {
            "dtype": "float64",
            "nodata": opt("missingValue"),
            "bitmap": bool(bitmap) if bitmap is not None else False,
            "description": opt("name") or "",
            "unit": opt("units") or "",
            "shortName": opt("shortName"),
            "paramId": opt("paramId"),
            "message": self.message_number,
        }

    def dims_of(self, identifier: str | int | None = None) -> tuple[str, ...]:
        return ("y", "x")

    def shape_of(self, identifier: str | int | None = None) -> tuple[int, ...]:
        ni, nj = self._try("Ni"), self._try("Nj")
        if not isinstance(ni, int) or not isinstance(nj, int) or ni <= 0 or nj <= 0:
            raise SourceFileError(f"{self._where()}: grid type {self._try('gridType')} has no Ni x Nj raster")
        return (nj, ni)

    @property
    def band_count(self) -> int:
        return 1

    @property
    def crs(self) -> str | None:
        if self._try("gridType") == "regular_ll":
            return "EPSG:4326"
        return self.default_crs

    @property
    def transform(self):
        try:
            g = self.grid()
        except SourceFileError:
            return None
        x, y = g["x"], g["y"]
        return Affine(x["resolution"], 0.0, x["first"] - x["resolution"] / 2, 0.0, y["resolution"], y["first"] - y["resolution"] / 2)


class GribFile(SourceFile):
    slicer_type = "grib"

    def __init__(self, path: Path, original_path: Path | None = None, default_crs: str | None = None):
        super().__init__(path, original_path, default_crs)
        check_readable(path)
        self.axis_positions: dict[str, list] = {}
        self._fh: BinaryIO = open(path, "rb")
        self._units: list[GribUnit] = []
        try:
            self._index()
        except SourceFileError:
            self.close()
            raise

    def _index(self) -> None:
        n = 0
        end_of_last = 0
        while True:
            try:
                h = eccodes.codes_grib_new_from_file(self._fh)
            except _GribError as exc:
                raise SourceFileError(
                    f"{self.path}: damaged or truncated GRIB file (message {n + 1}: {exc})"
                ) from None
            if h is None:
                break
            try:
                offset = int(eccodes.codes_get(h, "offset"))
                length = int(eccodes.codes_get(h, "totalLength"))
            except _GribError as exc:
                raise SourceFileError(f"{self.path}: GRIB message {n + 1} is damaged ({exc})") from None
            finally:
                eccodes.codes_release(h)
            self._check_gap(end_of_last, offset)
            self._units.append(GribUnit(self, n, offset))
            end_of_last = offset + length
            n += 1
        if not self._units:
            raise SourceFileError(f"{self.path}: not a GRIB file (no GRIB message found)")
        self._check_gap(end_of_last, self.path.stat().st_size)

    def _check_gap(self, start: int, end: int) -> None:
        """ecCodes skips bytes it cannot read; bytes ending in a message's end marker
        (7777) were a message whose start is damaged, which must not vanish silently."""
        if end - start < 8:
            return
        pos = self._fh.tell()
        self._fh.seek(max(start, end - 65536))
        tail = self._fh.read(end - max(start, end - 65536)).rstrip(b"\x00\r\n\x03 ")
        self._fh.seek(pos)
        if tail.endswith(b"7777"):
            raise SourceFileError(
                f"{self.path}: damaged GRIB message at bytes {start}..{end} (its start is unreadable; "
                "the file is corrupt)"
            )

    def _load(self, offset: int, number: int):
        if self.closed:
            raise SourceFileError(f"{self.path}: the file was closed")
        self._fh.seek(offset)
        try:
            h = eccodes.codes_grib_new_from_file(self._fh)
        except _GribError as exc:
            raise SourceFileError(f"{self.path}: GRIB message {number} is damaged ({exc})") from None
        if h is None:
            raise SourceFileError(f"{self.path}: GRIB message {number} disappeared (file changed while open?)")
        return h

    def units(self) -> list[SourceUnit]:
        if self.closed:
            raise SourceFileError(f"{self.path}: the file was closed")
        return list(self._units)

    def set_axis_positions(self, label: str, positions: list) -> None:
        """Positions of irregular axis ``label`` over all messages, for ``${grib:axis:<label>}``."""
        self.axis_positions[label] = list(positions)

    def close(self) -> None:
        if not self.closed:
            for u in self._units:
                u.release()
            self._fh.close()
        super().close()
