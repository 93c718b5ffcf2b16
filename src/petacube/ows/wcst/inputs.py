"""Where a WCS-T request's input coverage comes from: an uploaded file (multipart), a
``coverageRef`` naming a local file inside the configured ``upload_dirs``, or a GML
coverage document (uploaded, referenced or sent as ``inputCoverage``) whose rangeSet
names such a file (``gml:File`` / ``gml:fileReference``). No network: http(s) references
are refused. The result is the decoded ``xarray.Dataset`` (see `petacube.encode.decode`)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

import numpy as np
import xarray as xr

from petacube.encode.decode import decode
from petacube.errors import InvalidParameterValue, MissingParameterValue
from petacube.ows.exceptions import AccessDenied
from petacube.ows.protocol import OwsRequest

XLINK = "{http://www.w3.org/1999/xlink}href"


def read_input(req: OwsRequest, cube) -> xr.Dataset:
    """The decoded input coverage of an InsertCoverage / UpdateCoverage request."""
    if req.files:
        data = req.files[0]
        if not data:
            raise InvalidParameterValue("the uploaded file is empty", locator="file")
        return _decode_bytes(data, cube, "the uploaded file")
    inline = req.param("inputCoverage")
    if inline:
        return _decode_bytes(inline.encode("utf-8"), cube, "inputCoverage")
    ref = req.param("coverageRef")
    if not ref:
        raise MissingParameterValue(
            "no input coverage: upload a file (multipart/form-data) or give coverageRef=<path inside an upload folder>",
            locator="coverageRef")
    path = local_path(ref, cube, "coverageRef")
    return _decode_bytes(path.read_bytes(), cube, str(path), base=path.parent)


def local_path(ref: str, cube, locator: str) -> Path:
    """A local file reference checked against ``settings.upload_dirs``."""
    ref = ref.strip()
    parsed = urlparse(ref)
    if parsed.scheme in ("http", "https", "ftp"):
        raise InvalidParameterValue(
            f"{locator}={ref}: this server does not fetch coverages over the network; upload the file "
            "(multipart/form-data) instead", locator=locator)
    if parsed.scheme == "file":
        ref = unquote(parsed.path)
    elif parsed.scheme and len(parsed.scheme) > 1:
        raise InvalidParameterValue(f"{locator}={ref}: unsupported reference scheme '{parsed.scheme}'", locator=locator)
    allowed = [Path(d).resolve() for d in (cube.settings.upload_dirs or [])]
    if not allowed:
        raise AccessDenied(
            f"{locator}={ref}: references to local files are disabled on this server; upload the file instead, "
            "or let the administrator list allowed folders in the upload_dirs setting "
            "(PETACUBE_UPLOAD_DIRS='[\"/data/incoming\"]')", locator=locator)
    path = Path(ref)
    if not path.is_absolute():
        path = allowed[0] / path
    path = path.resolve()
    if not any(path == d or d in path.parents for d in allowed):
        raise AccessDenied(f"{locator}={ref}: the file is outside the folders this server reads uploads from "
                           f"({', '.join(map(str, allowed))})", locator=locator)
    if not path.is_file():
        raise InvalidParameterValue(f"{locator}={ref}: no such file", locator=locator)
    return path


def _decode_bytes(data: bytes, cube, what: str, base: Path | None = None) -> xr.Dataset:
    head = data[:512].lstrip()
    if head[:1] == b"<":
        return _decode_gml(data, cube, what)
    try:
        return decode(data)
    except InvalidParameterValue as exc:
        raise InvalidParameterValue(f"{what}: {exc.message.removeprefix('decode: ')}", locator="coverageRef") from None


def _decode_gml(data: bytes, cube, what: str) -> xr.Dataset:
    """A GML coverage whose rangeSet is a file reference (or, for small ones, a tupleList
    with a domainSet grid)."""
    from petacube.ows.dispatch import local_name, parse_xml

    root = parse_xml(data)
    ref = None
    for el in root.iter():
        name = local_name(el)
        if name == "fileReference" and (el.text or "").strip():
            ref = el.text.strip()
        elif name in ("File", "rangeParameters") and el.get(XLINK):
            ref = ref or el.get(XLINK)
    if ref:
        path = local_path(ref, cube, "fileReference")
        return _decode_bytes(path.read_bytes(), cube, str(path))
    tuples = next((el for el in root.iter() if local_name(el) == "tupleList"), None)
    if tuples is not None:
        return _tuple_list(root, tuples)
    raise InvalidParameterValue(f"{what}: a GML coverage without rangeSet data (gml:File/gml:fileReference or "
                                "gml:DataBlock/gml:tupleList)", locator="coverageRef")


def _tuple_list(root, tuples) -> xr.Dataset:
    """A GridCoverage / RectifiedGridCoverage with an inline tupleList (one band)."""
    from petacube.model import Crs
    from petacube.ows.dispatch import local_name

    def first(name):
        return next((el for el in root.iter() if local_name(el) == name), None)

    low, high = first("low"), first("high")
    if low is None or high is None:
        raise InvalidParameterValue("GML tupleList: the domainSet has no gml:GridEnvelope low/high")
    lo = [int(v) for v in low.text.split()]
    hi = [int(v) for v in high.text.split()]
    shape = [h - l + 1 for l, h in zip(lo, hi)]
    values = [float(v) for v in (tuples.text or "").replace(",", " ").split()]
    if len(values) != int(np.prod(shape)):
        raise InvalidParameterValue(f"GML tupleList: {len(values)} values for a grid of {'x'.join(map(str, shape))} cells")
    env = first("Envelope") or first("EnvelopeWithTimePeriod")
    srs = (env.get("srsName") if env is not None else None) or ""
    labels_text = env.get("axisLabels") if env is not None else None
    origin_el, offsets = first("origin"), [el for el in root.iter() if local_name(el) == "offsetVector"]
    if srs and origin_el is not None and offsets:
        crs = Crs.parse(srs)
        pos = next((el for el in origin_el.iter() if local_name(el) == "pos"), origin_el)
        origin = [float(v) for v in pos.text.split()]
        labels = labels_text.split() if labels_text else list(crs.labels)
        coords = {}
        for k, (lab, n) in enumerate(zip(labels, shape)):
            step = float(offsets[k].text.split()[k])
            coords[lab] = origin[k] + step * np.arange(n)
        dims = tuple(labels)
    else:
        crs = Crs.parse(f"OGC/0/Index{len(shape)}D")
        dims = crs.labels
        coords = {d: np.arange(l, l + n, dtype=np.float64) for d, l, n in zip(dims, lo, shape)}
    # GML lists cells with the first axis varying slowest... rasdaman writes the last axis fastest
    arr = np.asarray(values, dtype="float64").reshape(shape)
    dtype = "int32" if all(v.is_integer() for v in values) else "float32"
    ds = xr.Dataset({"band_1": xr.Variable(dims, arr.astype(dtype))}, coords=coords)
    ds.attrs.update({"crs": crs.identifier, "crs_uri": crs.uri()})
    return ds
