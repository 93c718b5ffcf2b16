"""JSON and CSV in rasdaman's layout (``conversion/csv.cc``, ``json.cc``).

Each dimension's row is wrapped in delimiters — ``[ ]`` for JSON, ``{ }`` for CSV —
and separated by ``,`` with no spaces; the last axis varies fastest. JSON wraps the
outermost dimension too (``[[0,1],[2,3]]``); CSV does not (``{0,1},{2,3}``; a 1-D
array is ``0,1,2``), unless ``formatParameters.outerDelimiters`` says otherwise.
Multi-band cells are the band values separated by spaces in double quotes
(``"1 2 3"``). Doubles print with 16 significant digits, floats with 7 (C++
``setprecision(digits10 + 1)``); booleans as ``true``/``false`` in JSON and ``t``/``f``
in CSV. JSON writes null cells (the band's null values, NaN, ±Inf) as ``null``.
Options: ``transpose`` [N, N+1], ``nodata``, ``formatParameters.order``
(``outer_inner`` default, or ``inner_outer``: first axis fastest).
"""

from __future__ import annotations

import math

import numpy as np

from petacube.encode.value import Cube, parse_nodata_option, transpose_pair
from petacube.errors import InvalidParameterValue


def format_number(value, dtype: np.dtype, *, json: bool) -> str:
    if dtype == np.bool_:
        if json:
            return "true" if value else "false"
        return "t" if value else "f"
    if dtype.kind in "iu":
        return str(int(value))
    if dtype.kind == "f":
        v = float(value)
        if math.isnan(v):
            return "null" if json else "nan"
        if math.isinf(v):
            return "null" if json else ("inf" if v > 0 else "-inf")
        digits = 7 if dtype.itemsize <= 4 else 16
        return format(v, f".{digits}g")
    if dtype.kind == "c":
        return f"({format_number(value.real, np.dtype('float64'), json=False)},{format_number(value.imag, np.dtype('float64'), json=False)})"
    if dtype.kind == "M":
        return f'"{np.datetime_as_string(value)}"'
    return f'"{value}"'


def encode_scalar(value, json: bool) -> bytes:
    arr = np.asarray(value)
    return format_number(arr[()], arr.dtype, json=json).encode()


def cell_strings(cube: Cube, options: dict, json: bool) -> tuple[np.ndarray, list[str]]:
    """An object array of formatted cells in output axis order, and those axes' labels."""
    dims = list(cube.dims)
    pair = transpose_pair(options.get("transpose"), len(dims))
    arrays = [cube.array(b) for b in cube.bands]
    if pair is not None:
        a, b = pair
        order = list(range(len(dims)))
        order[a], order[b] = order[b], order[a]
        arrays = [np.transpose(x, order) for x in arrays]
        dims = [dims[i] for i in order]
    nodata = parse_nodata_option(options.get("nodata"), len(arrays))
    formatted = []
    for i, (band, arr) in enumerate(zip(cube.bands, arrays)):
        flat = arr.ravel()
        strings = np.array([format_number(v, arr.dtype, json=json) for v in flat], dtype=object)
        if json:
            mask = cube.null_mask(band, arr, override=nodata[i] if nodata else None).ravel()
            strings[mask] = "null"
        formatted.append(strings.reshape(arr.shape))
    if len(formatted) == 1:
        cells = formatted[0]
    else:
        cells = np.empty(formatted[0].shape, dtype=object)
        for idx in np.ndindex(cells.shape):
            cells[idx] = '"' + " ".join(f[idx] for f in formatted) + '"'
    return cells, dims


def encode_text(cube: Cube, options: dict, json: bool) -> bytes:
    cells, _ = cell_strings(cube, options, json)
    params = options.get("formatParameters") or {}
    if not isinstance(params, dict):
        raise InvalidParameterValue("formatParameters must be a JSON object")
    order = str(params.get("order", "outer_inner"))
    if order not in ("outer_inner", "inner_outer"):
        raise InvalidParameterValue(f"formatParameters.order '{order}': use outer_inner or inner_outer")
    if order == "inner_outer":
        cells = cells.transpose()
    outer = params.get("outerDelimiters", json)
    if isinstance(outer, str):
        outer = outer.lower() == "true"
    start, end = ("[", "]") if json else ("{", "}")
    if cells.ndim == 0:
        return str(cells[()]).encode()
    body = _nest(cells, start, end)
    return (start + body + end if outer else body).encode()


def _nest(cells: np.ndarray, start: str, end: str) -> str:
    if cells.ndim == 1:
        return ",".join(cells.tolist())
    return ",".join(start + _nest(sub, start, end) + end for sub in cells)
