"""NetCDF-4 with CF-1.8 conventions, written in memory with netCDF4."""

from __future__ import annotations

import numpy as np
import netCDF4

from petacube.encode.value import Cube, parse_nodata_option, transpose_pair
from petacube.errors import InvalidParameterValue

_NC_TYPES = {"int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64", "float32", "float64"}
_GRID_MAPPING = "crs"


def encode_netcdf(cube: Cube, options: dict) -> bytes:
    dims = list(cube.dims)
    pair = transpose_pair(options.get("transpose"), len(dims))
    if pair is not None:
        a, b = pair
        dims[a], dims[b] = dims[b], dims[a]
    nodata = parse_nodata_option(options.get("nodata"), len(cube.bands))
    nc = netCDF4.Dataset("petacube.nc", "w", format="NETCDF4", memory=1024)
    try:
        _write(nc, cube, dims, nodata, options)
    except InvalidParameterValue:
        nc.close()
        raise
    return bytes(nc.close())


def _write(nc, cube: Cube, dims: list[str], nodata, options: dict) -> None:
    horizontal = cube.crs.horizontal if cube.crs is not None else None
    for d in dims:
        nc.createDimension(d, cube.ds.sizes[d])
        _coordinate_variable(nc, cube, d, d)
    scalar_coords = []
    for name in cube.ds.coords:
        name = str(name)
        if name not in cube.ds.dims and cube.ds.coords[name].ndim == 0:
            _coordinate_variable(nc, cube, name, None)
            scalar_coords.append(name)
    if horizontal is not None or cube.ds.attrs.get("crs_wkt"):
        gm = nc.createVariable(_GRID_MAPPING, "i4")
        wkt = horizontal.to_wkt() if horizontal is not None else str(cube.ds.attrs["crs_wkt"])
        cf = {}
        if horizontal is not None:
            try:
                cf = horizontal.to_cf()
            except Exception:  # noqa: BLE001 - not every CRS has a CF grid mapping
                cf = {}
        for k, v in cf.items():
            if isinstance(v, (str, int, float)) and k != "crs_wkt":
                gm.setncattr(k, v)
        gm.crs_wkt = wkt
        gm.spatial_ref = wkt
        if horizontal is not None and horizontal.to_epsg():
            gm.epsg_code = f"EPSG:{horizontal.to_epsg()}"
    for i, band in enumerate(cube.bands):
        arr = np.asarray(cube.ds[band].transpose(*dims).values)
        if arr.dtype == np.bool_:
            arr = arr.astype(np.uint8)
        if arr.dtype.name not in _NC_TYPES:
            raise InvalidParameterValue(f"NetCDF: band {band} has cells of type {arr.dtype}; cast it to a number type")
        values = nodata[i] if nodata else cube.nodata(band)
        fill = _fill_for(values, arr.dtype)
        var = nc.createVariable(band, arr.dtype, tuple(dims), zlib=True, complevel=1,
                                fill_value=fill if fill is not None else False)
        var.set_auto_maskandscale(False)
        var[...] = arr
        attrs = cube.ds[band].attrs
        if fill is not None:
            var.missing_value = np.array(fill, dtype=arr.dtype)
        if values:
            var.nodata = " ".join(_text(v) for v in values)
        if attrs.get("units"):
            var.units = str(attrs["units"])
        if attrs.get("description"):
            var.long_name = str(attrs["description"])
        if nc.variables.get(_GRID_MAPPING) is not None:
            var.grid_mapping = _GRID_MAPPING
        if scalar_coords:
            var.coordinates = " ".join(scalar_coords)
    nc.Conventions = "CF-1.8"
    nc.source = "petacube"
    for k, v in cube.ds.attrs.items():
        if k in ("crs_wkt",):
            continue
        if isinstance(v, (str, int, float)) and not isinstance(v, bool):
            nc.setncattr(str(k), v)
    metadata = options.get("metadata")
    if isinstance(metadata, dict):
        for k, v in metadata.items():
            nc.setncattr(str(k), v if isinstance(v, (str, int, float)) else str(v))
    elif isinstance(metadata, str):
        nc.setncattr("metadata", metadata)


def _coordinate_variable(nc, cube: Cube, name: str, dim: str | None) -> None:
    coord = cube.ds.coords[name] if name in cube.ds.coords else None
    axis = cube.axes.get(name)
    values = np.asarray(coord.values) if coord is not None else np.arange(cube.ds.sizes[name], dtype=np.float64)
    dims = (dim,) if dim else ()
    if np.issubdtype(values.dtype, np.datetime64):
        ns = values.astype("datetime64[ns]").astype(np.int64)
        whole_days = np.all(ns % (86400 * 10**9) == 0)
        unit, scale = ("days", 86400e9) if whole_days else ("seconds", 1e9)
        var = nc.createVariable(name, "f8", dims)
        var[...] = ns / scale
        var.units = f"{unit} since 1970-01-01 00:00:00"
        var.calendar = "standard"
        var.standard_name = "time"
        var.axis = "T"
        var.long_name = name
        return
    if values.dtype.kind not in "biuf":
        var = nc.createVariable(name, str, dims)
        var[...] = values.astype(str).astype(object)
        return
    var = nc.createVariable(name, "f8", dims)
    var[...] = values.astype(np.float64)
    var.long_name = name
    kind = axis.kind if axis is not None else _kind_of(cube, name)
    horizontal = cube.crs.horizontal if cube.crs is not None else None
    geographic = horizontal is not None and horizontal.is_geographic
    if kind == "x":
        var.axis = "X"
        var.standard_name = "longitude" if geographic else "projection_x_coordinate"
        var.units = "degrees_east" if geographic else _unit(cube, name)
    elif kind == "y":
        var.axis = "Y"
        var.standard_name = "latitude" if geographic else "projection_y_coordinate"
        var.units = "degrees_north" if geographic else _unit(cube, name)
    elif kind == "height":
        var.axis = "Z"
        var.units = _unit(cube, name)


def _kind_of(cube: Cube, label: str) -> str:
    if cube.crs is not None and label in cube.crs.labels:
        return cube.crs.axis(label).kind
    return "other"


def _unit(cube: Cube, label: str) -> str:
    if cube.crs is not None and label in cube.crs.labels:
        unit = cube.crs.axis(label).unit
        return {"metre": "m", "meter": "m"}.get(unit, unit)
    return "1"


def _fill_for(values: list[float], dtype: np.dtype):
    """The first null value that fits the band's type, as that type."""
    for v in values:
        if dtype.kind in "iu":
            if not np.isfinite(v) or v != int(v):
                continue
            info = np.iinfo(dtype)
            if info.min <= v <= info.max:
                return np.array(int(v), dtype=dtype)[()]
        else:
            return np.array(v, dtype=dtype)[()]
    return None


def _text(v: float) -> str:
    return str(int(v)) if np.isfinite(v) and v == int(v) else repr(v)
