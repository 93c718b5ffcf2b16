"""Test data generators shared by all tests: small GeoTIFF, netCDF and GRIB files, and
ways to damage them. Everything is deterministic; random content comes from ``seed``.

Expected values in tests must come from the arrays given here or from reading the files
with rasterio / netCDF4 / eccodes directly, never from the code under test.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def random_array(shape: tuple[int, ...], dtype: str = "float32", seed: int = 0, low: float = 0, high: float = 100) -> np.ndarray:
    """A reproducible array of ``shape`` with values in [low, high)."""
    rng = np.random.default_rng(seed)
    if np.issubdtype(np.dtype(dtype), np.integer):
        return rng.integers(int(low), int(high), size=shape).astype(dtype)
    return rng.uniform(low, high, size=shape).astype(dtype)


def write_geotiff(
    path: str | Path,
    data: np.ndarray,
    *,
    crs: str | None = "EPSG:32633",
    transform=None,
    nodata: float | None = None,
    tags: dict[str, str] | None = None,
    band_descriptions: list[str] | None = None,
    band_units: list[str] | None = None,
    tiled: bool = True,
    compress: str | None = "deflate",
) -> Path:
    """Write ``data`` ((bands, y, x) or (y, x)) as a GeoTIFF; returns the path.

    ``transform`` defaults to origin (500000, 5000000) with 10 m pixels, north-up.
    ``tags`` go to the dataset's default metadata domain (e.g. TIFFTAG_DATETIME)."""
    import rasterio
    from affine import Affine

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    arr = np.asarray(data)
    if arr.ndim == 2:
        arr = arr[np.newaxis]
    if arr.ndim != 3:
        raise ValueError(f"data must be (bands, y, x) or (y, x), got shape {arr.shape}")
    count, height, width = arr.shape
    profile: dict[str, Any] = {
        "driver": "GTiff",
        "width": width,
        "height": height,
        "count": count,
        "dtype": arr.dtype.name,
        "crs": crs,
        "transform": transform if transform is not None else Affine(10, 0, 500000, 0, -10, 5000000),
    }
    if nodata is not None:
        profile["nodata"] = nodata
    if tiled:
        profile.update(tiled=True, blockxsize=256, blockysize=256)
    if compress:
        profile["compress"] = compress
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(arr)
        if tags:
            dst.update_tags(**tags)
        for i, desc in enumerate(band_descriptions or [], start=1):
            dst.set_band_description(i, desc)
        for i, unit in enumerate(band_units or [], start=1):
            dst.set_band_unit(i, unit)
    return path


def write_netcdf(
    path: str | Path,
    variables: dict[str, tuple[tuple[str, ...], np.ndarray, dict[str, Any]]],
    coords: dict[str, tuple[np.ndarray, dict[str, Any]]] | None = None,
    global_attrs: dict[str, Any] | None = None,
    *,
    format: str = "NETCDF4",
) -> Path:
    """Write a CF-style netCDF file; returns the path.

    ``coords``: 1-D coordinate variables, each on the dimension of its own name (e.g.
    ``{"time": (days, {"units": "days since 1970-01-01"}), "lat": (...), "lon": (...)}``).
    ``variables``: ``name -> (dims, array, attrs)``; a ``_FillValue`` attribute is used as
    the variable's fill value. Dimensions not given by a coordinate take the array's size."""
    import netCDF4

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    coords = coords or {}
    with netCDF4.Dataset(path, "w", format=format) as ds:
        sizes: dict[str, int] = {name: len(values) for name, (values, _) in coords.items()}
        for dims, arr, _ in variables.values():
            for d, n in zip(dims, np.shape(arr)):
                sizes.setdefault(d, n)
        for d, n in sizes.items():
            ds.createDimension(d, n)
        for name, (values, attrs) in coords.items():
            values = np.asarray(values)
            var = ds.createVariable(name, values.dtype, (name,))
            var.setncatts({k: v for k, v in attrs.items()})
            var[:] = values
        for name, (dims, arr, attrs) in variables.items():
            arr = np.asarray(arr)
            attrs = dict(attrs)
            fill = attrs.pop("_FillValue", None)
            var = ds.createVariable(name, arr.dtype, dims, fill_value=fill)
            var.set_auto_maskandscale(False)  # write the raw values exactly as given
            if attrs:
                var.setncatts(attrs)
            var[...] = arr
        if global_attrs:
            ds.setncatts(dict(global_attrs))
    return path


def write_grib(path: str | Path, fields: list[dict[str, Any]], *, edition: int = 2) -> Path:
    """Write one GRIB message per field (regular lat/lon grid); returns the path.

    A field: ``values`` (ny, nx) array with row 0 at ``lat_first`` and column 0 at
    ``lon_first``; ``lat_first``, ``lon_first``, ``dlat``, ``dlon`` (positive increments);
    ``date`` (YYYYMMDD), ``time`` (HHMM); optional ``short_name`` ("2t"),
    ``j_scans_positively`` (0: rows run north to south, the default), ``level``,
    ``missing`` (a value marking missing points in ``values``; written as a bitmap),
    ``bits_per_value`` (24), ``keys`` (any other ecCodes keys to set)."""
    import pyproj  # noqa: F401  load PROJ before ecCodes (eckitlib bundles a clashing libproj)
    import eccodes

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sample = "regular_ll_sfc_grib2" if edition == 2 else "regular_ll_sfc_grib1"
    with open(path, "wb") as out:
        for f in fields:
            values = np.asarray(f["values"], dtype=np.float64)
            ny, nx = values.shape
            jpos = int(f.get("j_scans_positively", 0))
            lat0, lon0 = float(f["lat_first"]), float(f["lon_first"])
            dlat, dlon = float(f["dlat"]), float(f["dlon"])
            lat1 = lat0 + (ny - 1) * dlat * (1 if jpos else -1)
            lon1 = lon0 + (nx - 1) * dlon
            h = eccodes.codes_grib_new_from_samples(sample)
            try:
                eccodes.codes_set(h, "shortName", f.get("short_name", "2t"))
                for key, value in (
                    ("Ni", nx), ("Nj", ny), ("jScansPositively", jpos), ("iScansNegatively", 0),
                    ("latitudeOfFirstGridPointInDegrees", lat0), ("longitudeOfFirstGridPointInDegrees", lon0),
                    ("latitudeOfLastGridPointInDegrees", lat1), ("longitudeOfLastGridPointInDegrees", lon1),
                    ("iDirectionIncrementInDegrees", dlon), ("jDirectionIncrementInDegrees", dlat),
                    ("dataDate", int(f.get("date", 20200101))), ("dataTime", int(f.get("time", 0))),
                    ("bitsPerValue", int(f.get("bits_per_value", 24))),
                ):
                    eccodes.codes_set(h, key, value)
                if "level" in f:
                    eccodes.codes_set(h, "level", int(f["level"]))
                for key, value in (f.get("keys") or {}).items():
                    eccodes.codes_set(h, key, value)
                if "missing" in f:
                    eccodes.codes_set(h, "bitmapPresent", 1)
                    eccodes.codes_set(h, "missingValue", float(f["missing"]))
                eccodes.codes_set_values(h, values.ravel())
                eccodes.codes_write(h, out)
            finally:
                eccodes.codes_release(h)
    return path


def truncate_file(path: str | Path, nbytes: int) -> Path:
    """Cut ``path`` to its first ``nbytes`` bytes (a partial download)."""
    path = Path(path)
    with open(path, "r+b") as f:
        f.truncate(nbytes)
    return path


def corrupt_file(path: str | Path, *, offset: int = 0, nbytes: int = 64, seed: int = 0) -> Path:
    """Overwrite ``nbytes`` bytes at ``offset`` with reproducible garbage (default: the header)."""
    path = Path(path)
    rng = np.random.default_rng(seed)
    garbage = rng.integers(0, 256, size=nbytes, dtype=np.uint8).tobytes()
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(garbage)
    return path


def ingredients(coverage_id: str, paths: list[str], recipe: str, options: dict, **config) -> dict:
    """A wcst_import ingredients dict (config/input/recipe) for tests."""
    cfg = {"service_url": "http://localhost:8080/rasdaman/ows", "automated": True}
    cfg.update(config)
    return {"config": cfg, "input": {"coverage_id": coverage_id, "paths": paths}, "recipe": {"name": recipe, "options": options}}
