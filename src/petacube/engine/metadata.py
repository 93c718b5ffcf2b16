"""Metadata functions of coverage values (rasdaman's WCPS forms)."""

from __future__ import annotations

import numpy as np
import xarray as xr

from petacube.engine import ir
from petacube.engine.band_pruning import stored_band
from petacube.engine.subsets import region_of
from petacube.engine.values import CoverageValue
from petacube.errors import WcpsError
from petacube.model import Crs


def metadata(ev, e: ir.Metadata):
    """identifier(), crsSet(), imageCrs(), cellCount(), describe(), nullSet(), domain(), imageCrsDomain()."""
    f = e.function
    v = ev._coverage(ev.eval(e.source), f) if f == "describe" else domain_value(ev, e.source, f)
    cov = v.coverage
    if f == "identifier":
        return cov.id
    if f in ("crsSet", "imageCrs"):
        return v.result_crs() if f == "crsSet" else "CRS:1"
    if f == "cellCount":
        return int(np.prod([cov.axis(d).size for d in v.dims]))
    if f == "describe":
        return describe_value(v)
    if f == "nullSet":
        return sorted({str(n) for b in cov.bands for n in b.nil_values})
    if f in ("domain", "imageCrsDomain"):
        labels = [e.axis] if e.axis else list(v.dims)
        out = []
        for label in labels:
            axis = cov.axis(label)
            if f == "imageCrsDomain":
                lo, hi, res = 0, axis.size - 1, 1
            else:
                lo, hi, res = axis.lower, axis.upper, axis.resolution
            out.append({"lo": lo, "hi": hi, "resolution": res})
        if e.part:
            if len(out) != 1:
                raise WcpsError(f"{f}(...).{e.part} needs one axis; name it: {f}($c, {labels[0]}).{e.part}")
            return out[0][e.part]
        return out[0] if len(out) == 1 else out
    raise WcpsError(f"{f}() is not supported yet")


def domain_value(ev, e: ir.Expr, what: str) -> CoverageValue:
    """The domain of ``e`` without planning a read when it is a stored coverage or a subset
    of one (metadata needs no cells, so the read guard must not count any), else its value."""
    bands = []
    if isinstance(e, ir.Field):  # a band has its coverage's domain
        bands.append(e.name)
        e = e.source
    if isinstance(e, ir.Subset) and isinstance(e.source, ir.Field):
        bands.append(e.source.name)
        e = ir.Subset(e.source.source, e.axes)
    if isinstance(e, ir.CoverageRef):
        cov = ev.cube.describe(e.name)
        region = ev.cube.region(cov)
    elif isinstance(e, ir.Subset) and isinstance(e.source, ir.CoverageRef):
        cov = ev.cube.describe(e.source.name)
        region = region_of(ev, cov, e.axes)
    else:
        return ev._coverage(ev.eval(e if not bands else ir.Field(e, bands[-1])), what)
    for name in bands:
        stored_band(cov, name)  # NoSuchField for a band the coverage lacks
    return CoverageValue(xr.Dataset(), region.coverage, region.sliced)


def describe_value(v: CoverageValue) -> dict:
    """``describe()``: the coverage description of a value, as rasdaman's JSON form lists it."""
    cov = v.coverage
    axes = []
    for a in cov.axes:
        if a.label in v.sliced:
            continue
        entry = {"axisLabel": a.label, "lowerBound": a.lower, "upperBound": a.upper, "size": a.size}
        if a.irregular:
            entry["coefficients"] = list(a.coefficients)
        else:
            entry["resolution"] = a.resolution
        axes.append(entry)
    return {
        "coverageId": cov.id,
        "crs": Crs.parse(v.result_crs()).uri() if "Index0D" not in v.result_crs() else v.result_crs(),
        "axes": axes,
        "rangeType": [
            {"name": n, "dataType": str(v.data[n].dtype), "nilValues": [list(x) for x in v.data[n].attrs.get("nil_values", [])]}
            for n in v.band_names
        ],
        "metadata": cov.metadata,
    }
