"""The netcdf slicer (netCDF4); one unit per file.

Keys (``${netcdf:...}``): ``variable:<v>`` (all values, a list), ``variable:<v>:min|max|
first|last`` (wcst_import's operations), ``variable:<v>:resolution`` ((last - first) /
(n - 1) of a 1-D variable), ``variable:<v>:size``, ``variable:<v>:metadata`` (its
attributes), ``variable:<v>:metadata:<attr>`` and ``variable:<v>:<attr>``,
``metadata:<attr>`` (a global attribute), ``metadata`` or ``metadata:*`` (all of them),
``dimension:<d>`` (its length).

Values used in sentences are decoded as wcst_import reads them (masked and scaled);
``read()`` returns the raw stored values: no scale_factor/add_offset applied, fill values
kept as they are.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import netCDF4
import numpy as np

from petacube.errors import IngredientsError, SourceFileError
from petacube.ingest.slicers.base import (
    SourceFile,
    SourceUnit,
    check_readable,
    plain,
    unknown_key,
)

_OPS = ("min", "max", "first", "last", "resolution", "size", "metadata", "metadata:<attr>", "<attr>")


class NetcdfUnit(SourceUnit):
    slicer_type = "netcdf"

    def __init__(self, file: "NetcdfFile"):
        super().__init__(file.path, file.original_path, 0, file.default_crs)
        self._file = file

    @property
    def _ds(self) -> netCDF4.Dataset:
        return self._file.dataset

    def _var(self, name: str, key: str | None = None):
        ds = self._ds
        if name not in ds.variables:
            shown = key or name
            raise unknown_key(
                f"netcdf:variable:{name}" if key is None else shown, self.path,
                [f"netcdf:variable:{v}" for v in ds.variables], what="variable",
            )
        return ds.variables[name]

    def _values(self, var) -> np.ma.MaskedArray:
        try:
            var.set_auto_maskandscale(True)
            return np.ma.asarray(var[...])
        except (OSError, RuntimeError, IndexError, ValueError) as exc:
            raise SourceFileError(f"{self.path}: variable {var.name} cannot be read (damaged file?): {exc}") from None

    # --- keys ---

    def _resolve(self, key: str) -> Any:
        kind, _, rest = key.partition(":")
        if kind == "variable" and rest:
            name, _, op = rest.partition(":")
            return self._variable_key(name, op)
        if kind == "metadata":
            attrs = {a: plain(self._ds.getncattr(a)) for a in self._ds.ncattrs()}
            if rest in ("", "*"):
                return attrs
            if rest not in attrs:
                raise IngredientsError(
                    f"{self.path} has no global attribute '{rest}' (${{netcdf:{key}}}); its attributes: "
                    f"{', '.join(attrs) or 'none'}"
                )
            return attrs[rest]
        if kind == "dimension" and rest:
            if rest not in self._ds.dimensions:
                raise unknown_key(f"netcdf:{key}", self.path, [f"netcdf:dimension:{d}" for d in self._ds.dimensions], "dimension")
            return len(self._ds.dimensions[rest])
        raise unknown_key(
            f"netcdf:{key}", self.path,
            ["netcdf:variable:<name>", *(f"netcdf:variable:<name>:{op}" for op in _OPS), "netcdf:metadata:<attr>",
             "netcdf:metadata", "netcdf:dimension:<name>"],
        )

    def _variable_key(self, name: str, op: str) -> Any:
        var = self._var(name)
        attrs = {a: plain(var.getncattr(a)) for a in var.ncattrs()}
        if op == "":
            return plain(self._values(var))
        if op in ("min", "max", "first", "last", "resolution", "size"):
            if op == "size":
                return int(var.size)
            values = self._values(var)
            flat = values.ravel()
            if flat.size == 0:
                raise SourceFileError(f"{self.path}: variable {name} is empty; ${{netcdf:variable:{name}:{op}}} has no value")
            if op in ("min", "max"):
                valid = flat.compressed()
                if valid.size == 0:
                    raise SourceFileError(f"{self.path}: variable {name} holds only fill values")
                return plain(valid.min() if op == "min" else valid.max())
            if op == "first":
                return plain(flat[0])
            if op == "last":
                return plain(flat[-1])
            if values.ndim != 1 or values.size < 2:
                raise SourceFileError(
                    f"{self.path}: ${{netcdf:variable:{name}:resolution}} needs a 1-D variable with at least 2 values "
                    f"(it has shape {values.shape})"
                )
            return float(flat[-1] - flat[0]) / (flat.size - 1)
        if op == "metadata":
            return attrs
        if op.startswith("metadata:"):
            attr = op[len("metadata:") :]
            if attr not in attrs:
                raise IngredientsError(
                    f"variable {name} of {self.path} has no attribute '{attr}'; its attributes: {', '.join(attrs) or 'none'}"
                )
            return attrs[attr]
        if op in attrs:
            return attrs[op]
        raise IngredientsError(
            f"'${{netcdf:variable:{name}:{op}}}' for {self.path}: '{op}' is neither an operation "
            f"(min, max, first, last, resolution, size, metadata) nor an attribute of {name} "
            f"(its attributes: {', '.join(attrs) or 'none'})"
        )

    # --- bands ---

    def data_variables(self) -> list[str]:
        """Variables holding data: not coordinates (named after a dimension), not scalars
        (such as a grid_mapping variable)."""
        ds = self._ds
        return [v for v in ds.variables if v not in ds.dimensions and ds.variables[v].ndim > 0]

    def _band_var(self, identifier: str | int | None):
        if identifier is None:
            data = self.data_variables()
            if len(data) != 1:
                raise SourceFileError(
                    f"{self.path} has {len(data)} data variables ({', '.join(data)}); say which one to read"
                )
            return self._ds.variables[data[0]]
        if not isinstance(identifier, str):
            raise SourceFileError(f"{self.path}: netCDF bands are variable names, not {identifier!r}")
        if identifier not in self._ds.variables:
            raise SourceFileError(
                f"{self.path} has no variable '{identifier}'; its variables: {', '.join(self._ds.variables)}"
            )
        return self._ds.variables[identifier]

    def read(self, identifier: str | int | None = None) -> np.ndarray:
        var = self._band_var(identifier)
        try:
            var.set_auto_maskandscale(False)
            data = var[...]
        except (OSError, RuntimeError, IndexError, ValueError) as exc:
            raise SourceFileError(f"{self.path}: variable {var.name} cannot be read (damaged or truncated file?): {exc}") from None
        finally:
            var.set_auto_maskandscale(True)
        return np.asarray(data)

    def band_meta(self, identifier: str | int | None = None) -> dict[str, Any]:
        var = self._band_var(identifier)
        attrs = {a: plain(var.getncattr(a)) for a in var.ncattrs()}
        nodata = attrs.get("_FillValue", attrs.get("missing_value"))
        if isinstance(nodata, list):
            nodata = nodata[0] if nodata else None
        return {
            "variable": var.name,
            "dtype": np.dtype(var.dtype).name,
            "nodata": nodata,
            "description": attrs.get("long_name") or attrs.get("standard_name") or "",
            "unit": attrs.get("units") or "",
            "scale_factor": attrs.get("scale_factor"),
            "add_offset": attrs.get("add_offset"),
            "attributes": attrs,
        }

    def dims_of(self, identifier: str | int | None = None) -> tuple[str, ...]:
        return tuple(self._band_var(identifier).dimensions)

    def shape_of(self, identifier: str | int | None = None) -> tuple[int, ...]:
        return tuple(int(n) for n in self._band_var(identifier).shape)

    @property
    def band_count(self) -> int:
        return len(self.data_variables())

    @property
    def crs(self) -> str | None:
        """EPSG code of a CF grid_mapping variable (crs_wkt / spatial_ref / epsg_code), else default_crs."""
        ds = self._ds
        for name in self.data_variables():
            var = ds.variables[name]
            gm = getattr(var, "grid_mapping", None) if "grid_mapping" in var.ncattrs() else None
            if not gm or gm not in ds.variables:
                continue
            mapping = ds.variables[gm]
            code = _epsg_of(mapping)
            if code:
                return code
        return self.default_crs


def _epsg_of(mapping) -> str | None:
    attrs = set(mapping.ncattrs())
    if "epsg_code" in attrs:
        text = str(mapping.getncattr("epsg_code"))
        digits = text.split(":")[-1]
        if digits.isdigit():
            return f"EPSG:{digits}"
    for key in ("crs_wkt", "spatial_ref"):
        if key in attrs:
            try:
                import pyproj

                epsg = pyproj.CRS.from_wkt(str(mapping.getncattr(key))).to_epsg()
            except Exception:  # noqa: BLE001 - an unreadable WKT just means "no CRS found"
                epsg = None
            if epsg:
                return f"EPSG:{epsg}"
    return None


class NetcdfFile(SourceFile):
    slicer_type = "netcdf"

    def __init__(self, path: Path, original_path: Path | None = None, default_crs: str | None = None):
        super().__init__(path, original_path, default_crs)
        check_readable(path)
        try:
            self.dataset = netCDF4.Dataset(str(path), "r")
        except (OSError, RuntimeError, ValueError) as exc:
            self.closed = True
            reason = str(exc).split(":")[0] if "NetCDF:" not in str(exc) else str(exc).split(":")[1].strip()
            raise SourceFileError(
                f"{path}: not a netCDF file netCDF4 can open (damaged, truncated or another format: {reason})"
            ) from None
        self._unit = NetcdfUnit(self)

    def units(self) -> list[SourceUnit]:
        if self.closed:
            raise SourceFileError(f"{self.path}: the file was closed")
        return [self._unit]

    def close(self) -> None:
        if not self.closed:
            try:
                self.dataset.close()
            except (OSError, RuntimeError):
                pass
        super().close()
