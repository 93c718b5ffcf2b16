"""Writing planned slices into a *remote* petacube (or rasdaman) server over WCS-T.

Each slice's pixels (read as the local import reads them) go into an in-memory GeoTIFF,
uploaded as a multipart form: InsertCoverage for the first slice when the server does not
have the coverage yet (``useId=existing``, the coverage's CRS and the slice's position on
the axes a GeoTIFF cannot carry as ``subset=``), UpdateCoverage for the others.
Credentials: ``PETACUBE_WCST_USER`` / ``PETACUBE_WCST_PASSWORD``.
"""

from __future__ import annotations

import os

import httpx
import numpy as np
from lxml import etree
from rasterio.io import MemoryFile
from rasterio.transform import from_origin

from petacube.errors import IngredientsError, PetacubeError, SourceFileError
from petacube.ingest.plan import PlannedSlice
from petacube.model import Coverage, number_to_datetime64
from petacube.model.crs import time_crs_of

TIMEOUT = 600.0


class RemoteError(PetacubeError):
    """The remote server refused a WCS-T request."""

    code = "NoApplicableCode"


class WcstSink:
    """Puts slices of one coverage into the server at ``service_url``."""

    def __init__(self, service_url: str, plan_coverage: Coverage, *, auth: tuple[str, str] | None = None,
                 client: httpx.Client | None = None):
        self.url = service_url
        self.template = plan_coverage
        if auth is None and os.environ.get("PETACUBE_WCST_USER"):
            auth = (os.environ["PETACUBE_WCST_USER"], os.environ.get("PETACUBE_WCST_PASSWORD", ""))
        self.client = client or httpx.Client(timeout=TIMEOUT, auth=auth)
        self.exists = self._exists()

    def close(self) -> None:
        self.client.close()

    def _exists(self) -> bool:
        r = self._send("GET", params={"service": "WCS", "version": "2.0.1", "request": "DescribeCoverage",
                                      "coverageId": self.template.id}, ok=(200, 404))
        return r.status_code == 200

    def _send(self, method: str, *, params: dict | list, files=None, ok=(200,)) -> httpx.Response:
        if method == "POST" and isinstance(params, list):
            form: dict[str, list[str]] = {}
            for k, v in params:
                form.setdefault(k, []).append(v)
            params = form
        try:
            r = self.client.request(method, self.url, params=params if method == "GET" else None,
                                    data=params if method == "POST" else None, files=files)
        except httpx.HTTPError as exc:
            raise RemoteError(f"cannot reach {self.url}: {exc}") from None
        if r.status_code not in ok:
            text = _exception_text(r)
            hint = ""
            if r.status_code == 401:
                hint = " (set PETACUBE_WCST_USER and PETACUBE_WCST_PASSWORD to a writer's credentials)"
            raise RemoteError(f"{self.url} answered {r.status_code}: {text}{hint}")
        return r

    def commit_slice(self, sl: PlannedSlice, data: dict[str, np.ndarray] | None, shape: dict[str, int],
                     fingerprint: str, band_indices: tuple[int, ...] = ()) -> None:
        if data is None:
            raise IngredientsError("registering files in place (insitu) is not possible on a remote server")
        cov = self.template
        tiff, subsets = self._geotiff(sl, data)
        params: list[tuple[str, str]] = [("service", "WCS"), ("version", "2.0.1"), ("coverageId", cov.id)]
        if self.exists:
            params.append(("request", "UpdateCoverage"))
        else:
            params += [("request", "InsertCoverage"), ("useId", "existing"), ("crs", cov.crs.identifier)]
            planar = [d for d in cov.dims if d in subsets] + [d for d in cov.dims if d not in subsets]
            if cov.tile_shape and tuple(planar) == cov.dims:
                params.append(("tiling", "x".join(str(n) for n in cov.tile_shape)))
        params += [("subset", s) for s in subsets.values()]
        self._send("POST", params=params, files=[("file", (sl.path.name + ".tif", tiff, "image/tiff"))])
        self.exists = True

    def _geotiff(self, sl: PlannedSlice, data: dict[str, np.ndarray]) -> tuple[bytes, dict[str, str]]:
        cov = self.template
        kinds = {a.label: a.crs_axis.kind for a in cov.axes}
        xlab = next((k for k, v in kinds.items() if v == "x"), None)
        ylab = next((k for k, v in kinds.items() if v == "y"), None)
        if xlab is None or ylab is None:
            raise IngredientsError(f"coverage {cov.id} has no x/y axes; only georeferenced coverages can be "
                                   "imported into a remote server")
        subsets: dict[str, str] = {}
        for axis in cov.axes:
            if axis.label in (xlab, ylab):
                continue
            p = sl.placements[axis.label]
            if shape_of(sl, axis.label) != 1:
                raise SourceFileError(f"{sl.label}: it spans {shape_of(sl, axis.label)} cells along {axis.label}; "
                                      "remote imports send one 2-D plane per request")
            value = p.coefficients[0] if p.coefficients else p.lower
            if axis.is_time:
                text = str(number_to_datetime64(np.array([value]), time_crs_of(axis.crs_axis, cov.crs))[0])
                subsets[axis.label] = f'{axis.label}("{text}")'
            else:
                subsets[axis.label] = f"{axis.label}({value!r})"
        order = [cov.dims.index(ylab), cov.dims.index(xlab)]
        planes = []
        for band in cov.bands:
            arr = data[band.name]
            keep = [i for i in range(arr.ndim) if i not in order]
            arr = np.transpose(arr, keep + order).reshape(arr.shape[order[0]], arr.shape[order[1]])
            if cov.axis(ylab).resolution > 0:
                arr = arr[::-1]
            planes.append(arr)
        stack = np.stack(planes)
        px, py = sl.placements[xlab], sl.placements[ylab]
        height, width = stack.shape[1:]
        transform = from_origin(px.lower, py.upper, (px.upper - px.lower) / width, (py.upper - py.lower) / height)
        nodata = next((float(b.fill_value) for b in cov.bands if b.nil_values), None)
        horizontal = cov.crs.component_of(xlab)
        with MemoryFile() as mem:
            with mem.open(driver="GTiff", width=width, height=height, count=len(planes), dtype=stack.dtype.name,
                          crs=f"EPSG:{horizontal.code}", transform=transform, nodata=nodata) as dst:
                dst.write(stack)
                for i, band in enumerate(cov.bands, 1):
                    dst.set_band_description(i, band.name)
            return mem.read(), subsets


def shape_of(sl: PlannedSlice, label: str) -> int:
    return sl.shape.get(label, 1)


def _exception_text(r: httpx.Response) -> str:
    try:
        root = etree.fromstring(r.content)
        text = "".join(t for el in root.iter() if isinstance(el.tag, str) and el.tag.endswith("ExceptionText")
                       for t in el.itertext())
        code = next((el.get("exceptionCode") for el in root.iter() if el.get("exceptionCode")), None)
        return f"{code}: {text}" if code else text or r.text[:300]
    except etree.XMLSyntaxError:
        return r.text[:300]
