"""XML building blocks shared by the WCS responses: namespaces, element helpers, and the
text forms petascope writes (numbers in shortest round-trip form, times as quoted ISO
instants with milliseconds)."""

from __future__ import annotations

import numpy as np
from lxml import etree

from petacube.model import Coverage, number_to_datetime64
from petacube.model.crs import time_crs_of

WCS = "http://www.opengis.net/wcs/2.0"
OWS = "http://www.opengis.net/ows/2.0"
GML = "http://www.opengis.net/gml/3.2"
GMLCOV = "http://www.opengis.net/gmlcov/1.0"
SWE = "http://www.opengis.net/swe/2.0"
RGRID = "http://www.opengis.net/gml/3.3/rgrid"
XLINK = "http://www.w3.org/1999/xlink"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
CRS_EXT = "http://www.opengis.net/wcs/crs/1.0"
INT_EXT = "http://www.opengis.net/wcs/interpolation/1.0"
SCAL_EXT = "http://www.opengis.net/wcs/scaling/1.0"
RSUB_EXT = "http://www.opengis.net/wcs/range-subsetting/1.0"

NSMAP = {
    "wcs": WCS, "ows": OWS, "gml": GML, "gmlcov": GMLCOV, "swe": SWE, "gmlrgrid": RGRID,
    "xlink": XLINK, "xsi": XSI, "crs": CRS_EXT, "int": INT_EXT,
}

XML_MEDIA = "application/xml"
GML_MEDIA = "application/gml+xml"

# OGC data type URIs for the band types (as petascope names them)
OGC_DATA_TYPES = {
    "uint8": "unsignedByte", "int8": "signedByte", "uint16": "unsignedShort", "int16": "signedShort",
    "uint32": "unsignedInt", "int32": "signedInt", "uint64": "unsignedLong", "int64": "signedLong",
    "float32": "float32", "float64": "float64", "complex64": "cfloat32", "complex128": "cfloat64",
}


def q(ns: str, tag: str) -> str:
    return f"{{{ns}}}{tag}"


def sub(parent, ns: str, tag: str, text: str | None = None, **attrs):
    """A child element; attribute names ``href`` become xlink:href, ``gml_id`` gml:id."""
    el = etree.SubElement(parent, q(ns, tag))
    for k, v in attrs.items():
        if k == "href":
            k = q(XLINK, "href")
        elif k == "gml_id":
            k = q(GML, "id")
        el.set(k, str(v))
    if text is not None:
        el.text = text
    return el


def to_bytes(root) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def number(v: float) -> str:
    """Shortest text that reads back as the same float; integers without '.0'."""
    v = float(v)
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return repr(v)


def iso_times(cov: Coverage, axis, values) -> list[str]:
    """Time coordinates (numbers in the axis' time CRS unit) as quoted ISO instants."""
    times = number_to_datetime64(np.asarray(values, dtype=np.float64), time_crs_of(axis.crs_axis, cov.crs))
    return [f'"{s}Z"' for s in np.datetime_as_string(times, unit="ms")]


def coordinate(cov: Coverage, axis, value: float) -> str:
    """One coordinate of ``axis`` as petascope writes it."""
    if axis.is_time:
        return iso_times(cov, axis, [value])[0]
    return number(value)


def envelope_corners(cov: Coverage) -> tuple[list[str], list[str]]:
    """Lower and upper corner texts in CRS order (outer cell edges; instants for points)."""
    lower, upper = [], []
    for label in cov.crs_order:
        axis = cov.axis(label)
        lower.append(coordinate(cov, axis, axis.lower))
        upper.append(coordinate(cov, axis, axis.upper))
    return lower, upper


def uom_labels(cov: Coverage) -> list[str]:
    return [cov.crs.axis(label).unit for label in cov.crs_order]


def is_referenceable(cov: Coverage) -> bool:
    return any(a.irregular for a in cov.axes)


def coverage_subtype(cov: Coverage) -> str:
    return "ReferenceableGridCoverage" if is_referenceable(cov) else "RectifiedGridCoverage"
