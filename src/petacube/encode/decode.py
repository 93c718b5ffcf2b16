"""Decoders for WCS-T inputs and WCPS ``decode($1)``: GeoTIFF/PNG/JPEG and NetCDF bytes.

The result has the same form as the engine's values: an ``xarray.Dataset`` with one
variable per band, dims = axis labels, coordinates = cell centres (datetime64 on time
axes), attrs ``crs`` / ``crs_uri`` and per band ``nodata`` / ``_FillValue``.
"""

from __future__ import annotations

import warnings

import numpy as np
import xarray as xr
from rasterio.errors import NotGeoreferencedWarning, RasterioError
from rasterio.io import MemoryFile

from petacube.errors import InvalidParameterValue, PetacubeError
from petacube.model import Crs
from petacube.model.crs import CrsComponent


def sniff(data: bytes) -> str | None:
    head = bytes(data[:8])
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "raster"
    if head.startswith(b"\x89PNG") or head.startswith(b"\xff\xd8"):
        return "raster"
    if head[:3] == b"CDF" or head.startswith(b"\x89HDF"):
        return "netcdf"
    return None


def decode(data: bytes, format_hint: str | None = None) -> xr.Dataset:
    """Bytes in a raster or NetCDF format to a coverage-like Dataset."""
    if not isinstance(data, (bytes, bytearray, memoryview)) or len(data) == 0:
        raise InvalidParameterValue("decode: no input data")
    data = bytes(data)
    kind = sniff(data)
    if kind is None and format_hint:
        hint = format_hint.lower()
        kind = "netcdf" if "netcdf" in hint or hint in ("nc",) else "raster"
    if kind is None:
        raise InvalidParameterValue(
            "decode: the input is not GeoTIFF, PNG, JPEG or NetCDF (unrecognised leading bytes)"
        )
    try:
        return _decode_netcdf(data) if kind == "netcdf" else _decode_raster(data)
    except PetacubeError:
        raise
    except Exception as exc:  # noqa: BLE001 - corrupt input is the caller's input
        raise InvalidParameterValue(f"decode: cannot read the input ({type(exc).__name__}: {exc})") from exc


def _decode_raster(data: bytes) -> xr.Dataset:
    try:
        with warnings.catch_warnings(), MemoryFile(data) as mem, mem.open() as src:
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            arr = src.read()
            transform, crs = src.transform, src.crs
            names = [d if d else f"band_{i}" for i, d in enumerate(src.descriptions, 1)]
            nodatavals = src.nodatavals
            units = src.units
            georeferenced = crs is not None and not transform.is_identity
            height, width = src.height, src.width
    except RasterioError as exc:
        raise InvalidParameterValue(f"decode: GDAL cannot read the input: {exc}") from exc
    if len(set(names)) != len(names):
        names = [f"band_{i}" for i in range(1, len(names) + 1)]
    attrs: dict = {}
    if georeferenced and transform.b == 0 and transform.d == 0:
        epsg = crs.to_epsg()
        if epsg is None:
            raise InvalidParameterValue("decode: the input's CRS has no EPSG code; petacube names CRSs by EPSG code")
        comp = CrsComponent("EPSG", str(epsg))
        axes = comp.axes
        xlab = next(a.label for a in axes if a.kind == "x")
        ylab = next(a.label for a in axes if a.kind == "y")
        xs = transform.c + (np.arange(width) + 0.5) * transform.a
        ys = transform.f + (np.arange(height) + 0.5) * transform.e
        dims = (ylab, xlab)
        coords = {ylab: ys, xlab: xs}
        data_of = lambda band: band  # noqa: E731 - rows already (y, x)
        cov_crs = Crs((comp,))
    else:
        # no georeference: rasdaman's convention, the first axis runs along the width
        dims = ("i", "j")
        coords = {"i": np.arange(width, dtype=np.float64), "j": np.arange(height, dtype=np.float64)}
        data_of = lambda band: band.T  # noqa: E731
        cov_crs = Crs.parse("OGC/0/Index2D")
    attrs.update({"crs": cov_crs.identifier, "crs_uri": cov_crs.uri()})
    if georeferenced:
        attrs["crs_wkt"] = crs.to_wkt()
    variables = {}
    for i, name in enumerate(names):
        vattrs = {}
        nd = nodatavals[i] if i < len(nodatavals) else None
        if nd is not None:
            vattrs["nodata"] = [_num_text(nd)]
            vattrs["_FillValue"] = np.array(nd, dtype=arr.dtype)[()]
        if units and i < len(units) and units[i]:
            vattrs["units"] = units[i]
        variables[name] = xr.Variable(dims, data_of(arr[i]), vattrs)
    return xr.Dataset(variables, coords=coords, attrs=attrs)


def _decode_netcdf(data: bytes) -> xr.Dataset:
    import netCDF4

    nc = netCDF4.Dataset("input.nc", mode="r", memory=data)
    try:
        ds = xr.open_dataset(xr.backends.NetCDF4DataStore(nc), mask_and_scale=False).load()
    finally:
        nc.close()
    wkt = None
    for name in list(ds.data_vars):
        if ds[name].ndim == 0 and ("crs_wkt" in ds[name].attrs or "spatial_ref" in ds[name].attrs):
            wkt = ds[name].attrs.get("crs_wkt") or ds[name].attrs.get("spatial_ref")
            ds = ds.drop_vars(name)
    components = []
    rename: dict[str, str] = {}
    horizontal_done = False
    for dim in ds.dims:
        coord = ds.coords.get(dim)
        axis_attr = str(coord.attrs.get("axis", "")).upper() if coord is not None else ""
        if coord is not None and np.issubdtype(coord.dtype, np.datetime64):
            native = CrsComponent("OGC", "AnsiDate")
            same = native.axes[0].label == str(dim)
            components.append(native if same else CrsComponent("OGC", "AnsiDate", labels=(str(dim),)))
        elif axis_attr in ("X", "Y") and wkt and not horizontal_done:
            comp = _horizontal_component(ds, wkt)
            if comp is not None:
                components.append(comp)
                horizontal_done = True
    for name in ds.data_vars:
        v = ds[name]
        fill = v.attrs.get("_FillValue", v.encoding.get("_FillValue"))
        if fill is not None:
            v.attrs["_FillValue"] = fill
            v.attrs.setdefault("nodata", [_num_text(fill)])
        elif "missing_value" in v.attrs:
            v.attrs["nodata"] = [_num_text(v.attrs["missing_value"])]
        if isinstance(v.attrs.get("nodata"), str):
            v.attrs["nodata"] = v.attrs["nodata"].split()
        v.attrs.pop("grid_mapping", None)
    if components and sum(len(c.axes) for c in components) == len(ds.dims):
        order = {str(d): i for i, d in enumerate(ds.dims)}
        components.sort(key=lambda c: min(order.get(a.label, 99) for a in c.axes))
        cov_crs = Crs(tuple(components))
    else:
        cov_crs = Crs.parse(f"OGC/0/Index{min(max(len(ds.dims), 1), 5)}D")
        index_labels = [a.label for a in cov_crs.axes]
        rename = {str(d): index_labels[i] for i, d in enumerate(ds.dims) if i < len(index_labels)}
        ds = ds.rename(rename)
    ds.attrs.update({"crs": cov_crs.identifier, "crs_uri": cov_crs.uri()})
    if wkt:
        ds.attrs["crs_wkt"] = wkt
    return ds


def _horizontal_component(ds: xr.Dataset, wkt: str) -> CrsComponent | None:
    import pyproj

    epsg = pyproj.CRS.from_wkt(wkt).to_epsg()
    if epsg is None:
        return None
    base = CrsComponent("EPSG", str(epsg))
    by_axis = {}
    for dim in ds.dims:
        coord = ds.coords.get(dim)
        if coord is not None:
            by_axis[str(coord.attrs.get("axis", "")).upper()] = str(dim)
    labels = []
    for a in base.axes:
        want = {"x": "X", "y": "Y"}.get(a.kind)
        if want not in by_axis:
            return None
        labels.append(by_axis[want])
    if tuple(labels) == tuple(a.label for a in base.axes):
        return base
    return CrsComponent("EPSG", str(epsg), labels=tuple(labels))


def _num_text(v) -> str:
    f = float(v)
    return str(int(f)) if np.isfinite(f) and f == int(f) else repr(f)
