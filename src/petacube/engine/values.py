"""Runtime values of the engine: coverages as lazy xarray Datasets with their description.

A `CoverageValue` holds an ``xarray.Dataset`` (one variable per band, dask-backed so only
the tiles a result needs are ever read) and the `Coverage` description of its domain, so
later subsets can use the rasdaman arithmetic. Axes addressed by a slice are dropped from
the data but remembered (their CRS component leaves the result's CRS).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import xarray as xr

from petacube.errors import InvalidCrs, WcpsError
from petacube.model import Band, Coverage, Crs


@dataclass(frozen=True)
class CoverageValue:
    data: xr.Dataset
    coverage: Coverage  # the domain (all axes, sliced ones with size 1) and band metadata
    sliced: frozenset[str] = frozenset()

    @property
    def dims(self) -> tuple[str, ...]:
        return tuple(d for d in self.coverage.dims if d not in self.sliced)

    @property
    def band_names(self) -> list[str]:
        return list(self.data.data_vars)

    def single(self) -> xr.DataArray:
        """The only band (error when there are several)."""
        names = self.band_names
        if len(names) != 1:
            raise WcpsError(f"this operation needs a single band, the value has {len(names)} ({', '.join(names)}); pick one with .name")
        return self.data[names[0]]

    def with_data(self, data: xr.Dataset) -> "CoverageValue":
        return replace(self, data=data)

    def result_crs(self) -> str:
        """The CRS of the remaining axes, in wcst_import form (components whose axes all remain)."""
        keep = [c for c in self.coverage.crs.components if not any(a.label in self.sliced for a in c.axes)]
        return Crs(tuple(keep)).identifier if keep else "OGC/0/Index0D"

    def annotated(self) -> xr.Dataset:
        """The data with the attributes encoders read (CRS, resolutions, nulls)."""
        ds = self.data.copy()
        ds.attrs = dict(ds.attrs)
        ds.attrs["crs"] = self.result_crs()
        try:
            ds.attrs["crs_uri"] = Crs.parse(ds.attrs["crs"]).uri()
        except InvalidCrs:  # a fully sliced value (Index0D) has no CRS URI to give
            ds.attrs.pop("crs_uri", None)
        for axis in self.coverage.axes:
            if axis.label not in self.sliced and not axis.irregular:
                ds.attrs[f"resolution_{axis.label}"] = float(axis.resolution)
        ds.attrs["coverage_id"] = self.coverage.id
        return ds


@dataclass(frozen=True)
class EncodeRequest:
    """The value of ``encode(...)``: what to encode and how; `run` turns it into bytes."""

    value: object
    format: str
    options: dict


def is_coverage(value) -> bool:
    return isinstance(value, CoverageValue)


def scalar_of(value):
    """A Python/numpy scalar from a computed 0-d result."""
    if isinstance(value, xr.DataArray):
        value = value.values
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, np.generic):
        return value.item()
    return value


def coverage_from_dataset(ds: xr.Dataset, name: str) -> CoverageValue:
    """A coverage value for decoded data (``decode($1)``): axes from the coordinates
    (regular spacing -> regular axis, otherwise irregular), CRS from ``attrs["crs"]``."""
    from petacube.engine.nulls import set_nulls
    from petacube.model import IrregularAxis, NilValue, RegularAxis, datetime_to_number
    from petacube.model.crs import time_crs_of

    crs = Crs.parse(ds.attrs.get("crs") or f"OGC/0/Index{len(ds.dims)}D")
    axes = []
    for dim in ds.dims:
        try:
            crs_axis = crs.axis(dim)
        except KeyError:
            raise WcpsError(f"decoded data: dimension {dim} is not an axis of {crs.identifier}") from None
        coords = ds[dim].values if dim in ds.coords else np.arange(ds.sizes[dim])
        if np.issubdtype(np.asarray(coords).dtype, np.datetime64):
            coords = np.array([datetime_to_number(np.datetime64(c), time_crs_of(crs_axis, crs)) for c in coords])
        coords = np.asarray(coords, dtype="float64")
        steps = np.diff(coords)
        if crs_axis.kind == "index":
            axes.append(RegularAxis(dim, crs_axis, float(coords[0]), 1.0, len(coords)))
        elif len(coords) > 1 and np.allclose(steps, steps[0], rtol=1e-6) and not crs_axis.is_time:
            step = float(steps[0])
            edge = coords[0] - step / 2
            lower = edge if step > 0 else edge + step * len(coords)
            axes.append(RegularAxis(dim, crs_axis, float(lower), step, len(coords)))
        elif len(coords) == 1 and not crs_axis.is_time:
            res = float(ds.attrs.get(f"resolution_{dim}", 1.0))
            axes.append(RegularAxis(dim, crs_axis, float(coords[0] - abs(res) / 2), res, 1))
        else:
            axes.append(IrregularAxis(dim, crs_axis, tuple(float(c) for c in coords)))
    bands = []
    for var in ds.data_vars:
        nodata = ds[var].attrs.get("_FillValue")
        nils = (NilValue(float(nodata)),) if nodata is not None else ()
        bands.append(Band(str(var), ds[var].dtype.name, nils))
        set_nulls(ds[var], nils)
    missing = [lab for lab in crs.labels if lab not in ds.dims]
    if missing:
        raise WcpsError(f"decoded data lack the axes {', '.join(missing)} of {crs.identifier}")
    cov = Coverage(name, crs, tuple(axes), tuple(bands))
    return CoverageValue(ds, cov)
