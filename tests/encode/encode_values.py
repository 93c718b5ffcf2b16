"""Hand-built coverage values, as the engine hands them to the encoders."""

import numpy as np
import xarray as xr


def geo_dataset(data: dict[str, np.ndarray], *, x0=500000.0, y0=5000000.0, res=10.0, south_up=False,
                crs="EPSG/0/32633", nodata=None) -> xr.Dataset:
    """Bands on (N, E) in EPSG:32633; north-up rows unless ``south_up``; cell centres as coords."""
    first = next(iter(data.values()))
    ny, nx = first.shape
    xs = x0 + res / 2 + res * np.arange(nx)
    ys = y0 - res / 2 - res * np.arange(ny)
    if south_up:
        ys = ys[::-1]
    variables = {}
    for name, arr in data.items():
        attrs = {}
        if nodata is not None:
            attrs = {"nodata": [str(nodata)], "_FillValue": nodata}
        variables[name] = xr.Variable(("N", "E"), arr, attrs)
    return xr.Dataset(variables, coords={"N": ys, "E": xs},
                      attrs={"crs": crs, "crs_uri": f"http://localhost:8080/def/crs/{crs}"})
