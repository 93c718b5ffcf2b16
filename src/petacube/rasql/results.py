"""rasql result elements: what a query returns, independent of how it is shown (CLI,
HTTP or Python all take their bytes from here, so they agree)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from petacube.engine.arrays import ArrayResult, Interval
from petacube.engine.run import Result

# file name extensions rasql gives encoded results (by media type)
EXTENSIONS = {"image/tiff": "tif", "image/png": "png", "image/jpeg": "jpg", "application/netcdf": "nc",
              "text/csv": "csv", "application/json": "json", "application/gml+xml": "gml", "image/jp2": "jp2"}


@dataclass
class Element:
    """One element of a result collection.

    ``kind``: "array" (unencoded cells; ``data`` = the cells in rasdaman's order, struct
    cells interleaved), "encoded" (``data`` = the file), "string" (``data`` = its bytes,
    as rasdaman returns strings as char arrays), "scalar" (``value``, ``dtype``) or
    "domain" (``value`` = an `Interval`)."""

    kind: str
    value: Any = None
    data: bytes | None = None
    media_type: str = "application/octet-stream"
    dtype: str | None = None
    array: ArrayResult | None = None

    @property
    def extension(self) -> str:
        return EXTENSIONS.get(self.media_type.split(";")[0].strip(), "unknown")

    def payload(self) -> bytes:
        """The element as bytes: cells or file as they are; scalars and domains as text."""
        if self.data is not None:
            return self.data
        return scalar_text(self.value, self.dtype).encode()


def element_of(result) -> Element:
    """An engine result (`Result`, `ArrayResult`, `Interval`) as a rasql element."""
    if isinstance(result, ArrayResult):
        return Element("array", data=array_bytes(result), array=result,
                       dtype=",".join(str(result.data[b].dtype) for b in result.data.data_vars))
    if isinstance(result, Interval):
        return Element("domain", value=result, media_type="text/plain")
    if isinstance(result, Result) and result.data is not None:
        return Element("encoded", data=result.data, media_type=result.media_type)
    value = result.value if isinstance(result, Result) else result
    if isinstance(value, str):
        return Element("string", value=value, data=value.encode("utf-8"), media_type="text/plain")
    if isinstance(value, dict):
        return Element("scalar", value={k: _np(v) for k, v in value.items()}, media_type="text/plain", dtype="struct")
    value = _np(value)
    return Element("scalar", value=value, media_type="text/plain", dtype=str(np.asarray(value).dtype))


def _np(v):
    return v if isinstance(v, np.generic) else np.asarray(v)[()] if not isinstance(v, (list, str)) else v


def array_bytes(result: ArrayResult) -> bytes:
    """The cells in rasdaman's order (last axis fastest); several bands as one struct per cell."""
    names = list(result.data.data_vars)
    arrays = [np.asarray(result.data[n].transpose(*result.dims).values) for n in names]
    if len(arrays) == 1:
        return np.ascontiguousarray(arrays[0]).tobytes()
    packed = np.empty(arrays[0].shape, dtype=[(f"f{i}", a.dtype) for i, a in enumerate(arrays)])
    for i, a in enumerate(arrays):
        packed[f"f{i}"] = a
    return packed.tobytes()


def scalar_text(value, dtype: str | None = None) -> str:
    """A scalar as rasql prints it: booleans t/f, floats with 7 and doubles with 16
    significant digits, complex as (re,im), structs as { a, b, c }."""
    if isinstance(value, Interval):
        return str(value)
    if isinstance(value, dict):
        return "{ " + ", ".join(scalar_text(v) for v in value.values()) + " }"
    if isinstance(value, str):
        return value
    v = np.asarray(value)
    kind = v.dtype.kind
    if kind == "b":
        return "t" if bool(v) else "f"
    if kind in "iu":
        return str(int(v))
    if kind == "f":
        digits = 7 if v.dtype.itemsize <= 4 else 16
        return format(float(v), f".{digits}g")
    if kind == "c":
        return f"({scalar_text(v.real)},{scalar_text(v.imag)})"
    return str(value)
