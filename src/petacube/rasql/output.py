"""Showing a result collection as rasdaman's ``rasql`` prints it: ``Query result
collection has N element(s):``, ``  Result element 1: 42`` for scalars, and for arrays
``--out string|hex|formatted|file|none``."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from petacube.errors import PetacubeError
from petacube.rasql.results import Element, scalar_text

OUT_TYPES = ("none", "file", "string", "hex", "formatted")


class OutputError(PetacubeError):
    code = "InvalidParameterValue"


def file_name(mask: str, index: int, extension: str) -> str:
    """rasdaman's ``--outfile`` template: ``%d`` is the element number; the format's suffix is appended."""
    try:
        base = mask % index if "%" in mask else mask
    except (TypeError, ValueError):
        raise OutputError(f"--outfile {mask!r}: use %d once for the element number, e.g. rasql_%d") from None
    return f"{base}.{extension}"


def formatted(element: Element) -> str:
    """The cells of an array as text: rasdaman's CSV layout ({a,b},{c,d}; structs "a b c")."""
    from petacube.encode.text import cell_strings
    from petacube.encode.value import Cube

    arr = element.array
    cube = Cube(arr.data.transpose(*arr.dims))
    cells, _ = cell_strings(cube, {}, json=False)
    return _nest(cells)


def _nest(cells: np.ndarray) -> str:
    if cells.ndim == 0:
        return str(cells[()])
    if cells.ndim == 1:
        return "{" + ",".join(str(c) for c in cells) + "}"
    return "{" + ",".join(_nest(c) for c in cells) + "}"


def print_result(elements: list[Element], out: str, outfile: str, echo) -> list[Path]:
    """Print (``echo(line)``) and write the elements as rasql does; returns files written."""
    written = []
    echo(f"Query result collection has {len(elements)} element(s):", ornament=True)
    for i, e in enumerate(elements, 1):
        if e.kind in ("scalar", "domain"):
            text = scalar_text(e.value, e.dtype)
            echo(f"  Result element {i}: {text}")
            if out == "file":
                path = Path(file_name(outfile, i, "txt"))
                path.write_text(f"  Result element {i}: {text}\n")
                written.append(path)
            continue
        if out == "none":
            continue
        if out == "string":
            echo(f"  Result object {i}: " + e.data.decode("latin-1"))
        elif out == "hex":
            echo(f"  Result object {i}: " + "".join(f"{b:2x} " for b in e.data))
        elif out == "formatted":
            body = formatted(e) if e.kind == "array" else e.data.decode("latin-1")
            echo(f"  Result object {i}: {body}")
        else:
            path = Path(file_name(outfile, i, e.extension))
            try:
                path.write_bytes(e.data)
            except OSError as exc:
                raise OutputError(f"cannot write {path}: {exc.strerror}") from None
            echo(f"  Result object {i}: going into file {path}... ok.")
            written.append(path)
    return written
