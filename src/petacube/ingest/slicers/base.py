"""What every slicer offers: a source file split into units (a raster file, a netCDF
file, a GRIB message), each answering ``${...}`` keys and reading band arrays."""

from __future__ import annotations

import difflib
import os
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import numpy as np

from petacube.errors import IngredientsError, SourceFileError

SLICER_TYPES = ("gdal", "netcdf", "grib")
FILE_KEYS = ("path", "name", "dir_path", "original_path", "original_dir_path")


def is_gdal_virtual(path: Path | str) -> bool:
    """GDAL virtual paths (``/vsizip/...``, ``SENTINEL2_L1C:/vsizip/...``) are not plain files."""
    return "/vsi" in str(path)


def check_readable(path: Path) -> None:
    """A missing, unreadable or empty file is a SourceFileError naming it."""
    if is_gdal_virtual(path):
        return
    if not path.exists():
        raise SourceFileError(f"{path}: no such file")
    if path.is_dir():
        raise SourceFileError(f"{path}: is a directory, not a file")
    if not os.access(path, os.R_OK):
        raise SourceFileError(f"{path}: not readable (permission denied)")
    if path.stat().st_size == 0:
        raise SourceFileError(f"{path}: the file is empty")


def plain(value: Any) -> Any:
    """numpy scalars/arrays and bytes as plain Python values."""
    if isinstance(value, np.ma.MaskedArray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def unknown_key(key: str, path: Path, known: list[str] | tuple[str, ...], what: str = "key") -> IngredientsError:
    """An error for a ``${key}`` the file cannot answer, with the keys it can."""
    hint = ""
    same = [k for k in known if k.lower() == key.lower()]
    close = same or difflib.get_close_matches(key.lower(), [k.lower() for k in known], n=1)
    if close:
        match = next(k for k in known if k.lower() == close[0].lower())
        hint = f"; did you mean '${{{match}}}'?"
    shown = ", ".join(known[:25]) + (" ..." if len(known) > 25 else "")
    return IngredientsError(f"unknown {what} '${{{key}}}' for {path}{hint} (known: {shown})")


class SourceUnit(ABC):
    """One importable piece of a source file: the whole file (gdal, netcdf) or one GRIB message."""

    slicer_type: str = ""

    def __init__(self, path: Path, original_path: Path | None, index: int, default_crs: str | None):
        self.path = path
        self.original_path = original_path or path
        self.index = index
        self.default_crs = default_crs

    # --- sentence keys ---

    def resolve(self, key: str) -> Any:
        """The value of ``${key}``: ``file:...`` keys and this slicer's own keys."""
        prefix, sep, rest = key.partition(":")
        if prefix in ("file", "imported_file") and sep:
            return self._file_key(rest)
        if prefix == self.slicer_type and sep:
            return self._resolve(rest)
        if prefix in SLICER_TYPES:
            raise IngredientsError(
                f"'${{{key}}}' is a {prefix} key, but {self.path} is read with the {self.slicer_type} slicer "
                f"(use ${{{self.slicer_type}:...}} keys or change recipe.options.coverage.slicer.type)"
            )
        raise IngredientsError(
            f"unknown sentence key '${{{key}}}' for {self.path}: keys start with file: or {self.slicer_type}:"
        )

    def _file_key(self, name: str) -> str:
        values = {
            "path": str(self.path),
            "name": self.path.name,
            "dir_path": str(self.path.parent),
            "original_path": str(self.original_path),
            "original_dir_path": str(self.original_path.parent),
        }
        if name not in values:
            raise unknown_key(f"file:{name}", self.path, [f"file:{k}" for k in FILE_KEYS])
        return values[name]

    @abstractmethod
    def _resolve(self, key: str) -> Any:
        """A key of this slicer, without its ``gdal:``/``netcdf:``/``grib:`` prefix."""

    # --- pixels and description ---

    @abstractmethod
    def read(self, identifier: str | int | None = None) -> np.ndarray:
        """The array of one band, in the unit's own dimension order (see ``dims_of``)."""

    @abstractmethod
    def band_meta(self, identifier: str | int | None = None) -> dict[str, Any]:
        """``dtype`` (numpy name), ``nodata``, ``description``, ``unit`` (+ slicer extras)."""

    @abstractmethod
    def dims_of(self, identifier: str | int | None = None) -> tuple[str, ...]:
        """Dimension names of a band's array."""

    @abstractmethod
    def shape_of(self, identifier: str | int | None = None) -> tuple[int, ...]:
        """Shape of a band's array."""

    @property
    def dims(self) -> tuple[str, ...]:
        return self.dims_of(None)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.shape_of(None)

    @property
    def crs(self) -> str | None:
        """The CRS written as ``Crs.parse`` accepts it (``EPSG:32633``), else ``default_crs``."""
        return self.default_crs

    @property
    def transform(self):
        """The affine transform of the (y, x) raster, or None when there is none."""
        return None

    @property
    @abstractmethod
    def band_count(self) -> int:
        """Number of bands (gdal), data variables (netcdf) or 1 (a GRIB message)."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.path} #{self.index}>"


class SourceFile(ABC):
    """An opened input file; a context manager. ``units()`` lists its importable pieces."""

    slicer_type: str = ""

    def __init__(self, path: Path, original_path: Path | None = None, default_crs: str | None = None):
        self.path = path
        self.original_path = original_path or path
        self.default_crs = default_crs
        self.closed = False

    @abstractmethod
    def units(self) -> list[SourceUnit]:
        """The units of this file, in file order."""

    def close(self) -> None:
        self.closed = True

    def __enter__(self) -> "SourceFile":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):
        try:
            if not self.closed:
                self.close()
        except Exception:  # noqa: BLE001 - never raise from a finaliser
            pass

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.path}>"
