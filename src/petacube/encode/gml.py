"""GML coverage documents (GMLCOV 1.0) as WCS/WCPS return them for application/gml+xml.

RectifiedGridCoverage when every axis is regular, ReferenceableGridCoverage (GML 3.3
rgrid, by vectors) when one is irregular. Coordinates (corners, origin) are in CRS axis
order; time values are quoted ISO instants as petascope writes them; the range set is a
``tupleList`` (tuples separated by ``,``, band values by a space), last axis fastest.
"""

from __future__ import annotations

import numpy as np
from lxml import etree

from petacube.encode.text import format_number
from petacube.encode.value import Cube
from petacube.model import Crs

GML = "http://www.opengis.net/gml/3.2"
GMLCOV = "http://www.opengis.net/gmlcov/1.0"
SWE = "http://www.opengis.net/swe/2.0"
RGRID = "http://www.opengis.net/gml/3.3/rgrid"
NSMAP = {"gml": GML, "gmlcov": GMLCOV, "swe": SWE, "gmlrgrid": RGRID}


def _q(ns: str, tag: str) -> str:
    return f"{{{ns}}}{tag}"


def _sub(parent, ns: str, tag: str, text: str | None = None, **attrs):
    el = etree.SubElement(parent, _q(ns, tag), {k: str(v) for k, v in attrs.items()})
    if text is not None:
        el.text = text
    return el


def _crs_for(cube: Cube, resolver: str | None = None) -> tuple[str, list[str]]:
    """CRS URI and axis labels (CRS order) for the result's axes; Index CRS when unknown.
    ``resolver``: the CRS resolver base the URIs name (the server's own ``.../def``)."""
    dims = cube.dims
    if cube.crs is not None:
        kept = tuple(c for c in cube.crs.components if all(a.label in dims for a in c.axes))
        labels = [a.label for c in kept for a in c.axes]
        if kept and sorted(labels) == sorted(dims):
            reduced = Crs(kept)
            if not resolver:
                known = cube.ds.attrs.get("crs_uri", "")
                resolver = known.split("/crs")[0] if "/def" in known else None
            return (reduced.uri(resolver) if resolver else reduced.uri()), labels
    n = max(len(dims), 1)
    index = Crs.parse(f"OGC/0/Index{n}D")
    uri = (index.uri(resolver) if resolver else index.uri()) if n <= 5 else ""
    return uri, list(dims)


def _coord_text(cube: Cube, label: str, value) -> str:
    if cube.axes[label].is_time:
        return f'"{np.datetime_as_string(np.datetime64(value, "ms"))}Z"'
    return format_number(value, np.dtype("float64"), json=False)


def encode_gml(cube: Cube, options: dict) -> bytes:
    uri, crs_labels = _crs_for(cube, options.get("crsResolver"))
    dims = cube.dims
    n = len(dims)
    spacing = {d: cube.axes[d].spacing() for d in dims}
    irregular = any(s is None or s == 0 for s in spacing.values())
    cov_tag = "ReferenceableGridCoverage" if irregular else "RectifiedGridCoverage"
    cov_id = str(cube.ds.attrs.get("coverage_id", "result"))
    root = etree.Element(_q(GMLCOV, cov_tag), {_q(GML, "id"): cov_id}, nsmap=NSMAP)

    uoms = []
    for lab in crs_labels:
        unit = cube.crs.axis(lab).unit if cube.crs is not None and lab in cube.crs.labels else "GridSpacing"
        uoms.append(unit)
    lower, upper = [], []
    for lab in crs_labels:
        ax = cube.axes[lab]
        c, s = ax.coords, spacing[lab]
        if ax.is_time or s is None:
            lower.append(_coord_text(cube, lab, c.min()))
            upper.append(_coord_text(cube, lab, c.max()))
        else:
            nums = ax.numbers()
            lower.append(format_number(nums.min() - abs(s) / 2, np.dtype("float64"), json=False))
            upper.append(format_number(nums.max() + abs(s) / 2, np.dtype("float64"), json=False))
    bounded = _sub(root, GML, "boundedBy")
    env = _sub(bounded, GML, "Envelope", srsName=uri, axisLabels=" ".join(crs_labels),
               uomLabels=" ".join(uoms), srsDimension=len(crs_labels))
    _sub(env, GML, "lowerCorner", " ".join(lower))
    _sub(env, GML, "upperCorner", " ".join(upper))

    domain = _sub(root, GML, "domainSet")
    origin = " ".join(_coord_text(cube, lab, cube.axes[lab].coords[0]) for lab in crs_labels)
    low = " ".join("0" for _ in dims)
    high = " ".join(str(cube.ds.sizes[d] - 1) for d in dims)
    if not irregular:
        grid = _sub(domain, GML, "RectifiedGrid", dimension=n, **{_q(GML, "id"): f"{cov_id}-grid"})
        _limits(grid, GML, low, high)
        _sub(grid, GML, "axisLabels", " ".join(dims))
        point = _sub(_sub(grid, GML, "origin"), GML, "Point", srsName=uri, **{_q(GML, "id"): f"{cov_id}-origin"})
        _sub(point, GML, "pos", origin)
        for d in dims:
            _sub(grid, GML, "offsetVector", _offset(crs_labels, d, spacing[d]), srsName=uri)
    else:
        grid = _sub(domain, RGRID, "ReferenceableGridByVectors", dimension=n, srsName=uri,
                    **{_q(GML, "id"): f"{cov_id}-grid"})
        _limits(grid, GML, low, high)
        _sub(grid, GML, "axisLabels", " ".join(dims))
        point = _sub(_sub(grid, RGRID, "origin"), GML, "Point", srsName=uri, **{_q(GML, "id"): f"{cov_id}-origin"})
        _sub(point, GML, "pos", origin)
        for d in dims:
            general = _sub(_sub(grid, RGRID, "generalGridAxis"), RGRID, "GeneralGridAxis")
            s = spacing[d]
            _sub(general, RGRID, "offsetVector", _offset(crs_labels, d, 1.0 if s is None else s), srsName=uri)
            coeffs = ""
            if s is None or s == 0:
                ax = cube.axes[d]
                if ax.is_time:
                    coeffs = " ".join(_coord_text(cube, d, v) for v in ax.coords)
                else:
                    rel = ax.numbers() - ax.numbers()[0]
                    coeffs = " ".join(format_number(v, np.dtype("float64"), json=False) for v in rel)
            _sub(general, RGRID, "coefficients", coeffs)
            _sub(general, RGRID, "gridAxesSpanned", d)
            _sub(general, RGRID, "sequenceRule", "Linear", axisOrder="+1")

    range_set = _sub(root, GML, "rangeSet")
    block = _sub(range_set, GML, "DataBlock")
    _sub(block, GML, "rangeParameters")
    _sub(block, GML, "tupleList", _tuples(cube), cs=" ", ts=",")

    func = _sub(_sub(root, GML, "coverageFunction"), GML, "GridFunction")
    _sub(func, GML, "sequenceRule", "Linear", axisOrder=" ".join(f"+{i}" for i in range(n, 0, -1)))
    _sub(func, GML, "startPoint", low)

    record = _sub(_sub(root, GMLCOV, "rangeType"), SWE, "DataRecord")
    for band in cube.bands:
        attrs = cube.ds[band].attrs
        quantity = _sub(_sub(record, SWE, "field", name=band), SWE, "Quantity")
        if attrs.get("description"):
            _sub(quantity, SWE, "description", str(attrs["description"]))
        nils = [str(v) for v in (attrs.get("nodata") or [])] if not isinstance(attrs.get("nodata"), str) \
            else [attrs["nodata"]]
        if not nils and attrs.get("_FillValue") is not None:
            nils = [str(attrs["_FillValue"])]
        if nils:
            nil_values = _sub(_sub(quantity, SWE, "nilValues"), SWE, "NilValues")
            for nv in nils:
                _sub(nil_values, SWE, "nilValue", nv, reason="")
        _sub(quantity, SWE, "uom", code=str(attrs.get("units") or "10^0"))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _limits(grid, ns, low: str, high: str) -> None:
    env = _sub(_sub(grid, ns, "limits"), ns, "GridEnvelope")
    _sub(env, ns, "low", low)
    _sub(env, ns, "high", high)


def _offset(crs_labels: list[str], dim: str, step: float | None) -> str:
    return " ".join(format_number(step if lab == dim else 0.0, np.dtype("float64"), json=False)
                    for lab in crs_labels)


def _tuples(cube: Cube) -> str:
    arrays = [cube.array(b).ravel() for b in cube.bands]
    cols = [[format_number(v, a.dtype, json=False) for v in a] for a in arrays]
    return ",".join(" ".join(parts) for parts in zip(*cols))
