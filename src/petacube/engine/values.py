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

from petacube.errors import WcpsError
from petacube.model import Coverage, Crs


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
        except Exception:  # noqa: BLE001 - Index0D and friends have no URI worth giving
            pass
        for axis in self.coverage.axes:
            if axis.label not in self.sliced and not axis.irregular:
                ds.attrs[f"resolution_{axis.label}"] = float(axis.resolution)
        ds.attrs["coverage_id"] = self.coverage.id
        return ds


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
