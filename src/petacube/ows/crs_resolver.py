"""The CRS resolver (the role of rasdaman's SECORE): GML 3.2 definitions of the CRSs that
coverage descriptions name by URL, built locally from pyproj and `petacube.model.crs`.

Paths (below ``/def/`` or ``/rasdaman/def/``): ``crs/EPSG/0/<code>``, ``crs/OGC/0/AnsiDate``,
``crs/OGC/0/UnixTime``, ``crs/OGC/0/Index1D`` ... ``Index5D``, ``crs-compound?1=<url>&2=<url>``,
and the listings ``crs``, ``crs/EPSG``, ``crs/EPSG/0``, ``crs/OGC/0``.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache

import pyproj
from lxml import etree

from petacube.errors import InvalidCrs, MissingParameterValue, PetacubeError
from petacube.model.crs import INDEX_LABELS, TIME_CRSS, CrsComponent, parse_component
from petacube.ows.exceptions import exception_report, internal_error_report
from petacube.ows.protocol import OwsRequest, OwsResponse

log = logging.getLogger("petacube.ows")

GML_NS = "http://www.opengis.net/gml/3.2"
XLINK_NS = "http://www.w3.org/1999/xlink"
SECORE_NS = "http://www.opengis.net/crs-nts/1.0"
NSMAP = {"gml": GML_NS, "xlink": XLINK_NS}
OGC_CODES = (*TIME_CRSS, "Index1D", "Index2D", "Index3D", "Index4D", "Index5D")
TIME_NAMES = {"AnsiDate": "ANSI Date", "UnixTime": "Unix Time"}
MEDIA_TYPE = "application/gml+xml"


class NoSuchCrs(InvalidCrs):
    """A CRS code the resolver does not know."""

    code = "NoSuchCrs"
    status = 404


def handle_def(req: OwsRequest, path: str) -> OwsResponse:
    """Answer a resolver request; ``req.base_url`` is the resolver root (``.../def``)."""
    try:
        return resolve(path, req.params, req.base_url.rstrip("/"))
    except PetacubeError as err:
        return exception_report(err)
    except Exception:
        log.exception("internal error resolving /def/%s", path)
        return internal_error_report()


def resolve(path: str, params: dict[str, list[str]], resolver: str) -> OwsResponse:
    parts = [p for p in path.strip("/").split("/") if p]
    if parts == ["crs-compound"]:
        return _gml(compound_crs(params, resolver))
    if not parts or parts[0] != "crs":
        raise NoSuchCrs(f"/def/{path} is not a resolver path; use /def/crs/EPSG/0/<code> or /def/crs-compound?1=..&2=..",
                        locator=path)
    rest = parts[1:]
    if len(rest) == 0:
        return _listing(resolver + "/crs", [f"{resolver}/crs/{a}" for a in ("EPSG", "OGC")])
    auth = rest[0].upper()
    if auth not in ("EPSG", "OGC") or len(rest) > 3:
        raise NoSuchCrs(f"/def/{path}: unknown authority '{rest[0]}'; known: EPSG, OGC", locator=path)
    if len(rest) == 1:
        return _listing(f"{resolver}/crs/{auth}", [f"{resolver}/crs/{auth}/0"])
    if rest[1] != "0":
        raise NoSuchCrs(f"/def/{path}: unknown version '{rest[1]}' of {auth}; known: 0", locator=path)
    if len(rest) == 2:
        codes = _epsg_codes() if auth == "EPSG" else OGC_CODES
        return _listing(f"{resolver}/crs/{auth}/0", [f"{resolver}/crs/{auth}/0/{c}" for c in codes])
    comp = component(auth, rest[2], path)
    return _gml(crs_element(comp, resolver))


def component(auth: str, code: str, locator: str) -> CrsComponent:
    if auth == "EPSG":
        if not code.isdigit():
            raise NoSuchCrs(f"EPSG code '{code}' is not a number", locator=locator)
        try:
            comp = parse_component(f"EPSG/0/{code}")
        except InvalidCrs:
            raise NoSuchCrs(f"EPSG:{code} is not a CRS this resolver knows", locator=locator) from None
        return comp
    if code not in OGC_CODES:
        raise NoSuchCrs(f"OGC CRS '{code}' is unknown; known: {', '.join(OGC_CODES)}", locator=locator)
    return CrsComponent("OGC", code)


def compound_crs(params: dict[str, list[str]], resolver: str) -> etree._Element:
    numbered = []
    for key, values in params.items():
        if not key.isdigit():
            raise InvalidCrs(f"crs-compound parameter '{key}' is not a component number (1, 2, ...)", locator=key)
        numbered.append((int(key), values[-1]))
    if not numbered:
        raise MissingParameterValue("crs-compound needs its components: ?1=<crs url>&2=<crs url>", locator="1")
    numbered.sort()
    comps = []
    for _, url in numbered:
        m = re.search(r"(?:^|/)crs/(EPSG|OGC)/([\w.]+)/([\w.]+)/?$", url.strip(), re.IGNORECASE)
        if not m:
            raise NoSuchCrs(f"'{url}' is not a CRS URL of the form .../def/crs/EPSG/0/<code>", locator=url)
        if m.group(2) != "0":
            raise NoSuchCrs(f"'{url}': unknown version '{m.group(2)}'; known: 0", locator=url)
        comps.append(component(m.group(1).upper(), m.group(3), url))
    query = "&".join(f"{i}={c.uri(resolver)}" for i, c in enumerate(comps, 1))
    root = _crs_root("CompoundCRS", "crs-compound", f"{resolver}/crs-compound?{query}", "OGC",
                     " + ".join(_name_of(c) for c in comps))
    for i, comp in enumerate(comps, 1):
        holder = etree.SubElement(root, _g("componentReferenceSystem"))
        holder.append(crs_element(comp, resolver, id_prefix=f"c{i}-"))
    return root


# ---- single CRSs --------------------------------------------------------------------------

def crs_element(comp: CrsComponent, resolver: str, id_prefix: str = "") -> etree._Element:
    """The GML element defining one CRS component."""
    uri = comp.uri(resolver)
    if comp.is_time:
        return _temporal(comp, uri, id_prefix)
    if comp.is_index:
        return _index(comp, uri, id_prefix)
    return _epsg(comp, uri, resolver, id_prefix)


def _epsg(comp: CrsComponent, uri: str, resolver: str, prefix: str) -> etree._Element:
    crs = comp.pyproj_crs
    assert crs is not None
    if crs.is_compound:
        root = _crs_root("CompoundCRS", f"{prefix}EPSG_{comp.code}", uri, "EPSG", crs.name)
        _wkt_remarks(root, crs)
        for i, sub in enumerate(crs.sub_crs_list, 1):
            code = sub.to_epsg()
            holder = etree.SubElement(root, _g("componentReferenceSystem"))
            if code is not None:
                holder.append(_epsg(CrsComponent("EPSG", str(code)), CrsComponent("EPSG", str(code)).uri(resolver),
                                    resolver, f"{prefix}c{i}-"))
        return root
    kind = "ProjectedCRS" if crs.is_projected else "VerticalCRS" if crs.is_vertical else (
        "GeodeticCRS" if (crs.is_geographic or crs.is_geocentric) else "EngineeringCRS")
    gid = f"{prefix}EPSG_{comp.code}"
    root = _crs_root(kind, gid, uri, "EPSG", crs.name)
    _wkt_remarks(root, crs)
    if crs.area_of_use is not None:
        dov = etree.SubElement(root, _g("domainOfValidity"))
        b = crs.area_of_use
        extent = etree.SubElement(dov, "{http://www.opengis.net/gmd}EX_Extent",
                                  nsmap={"gmd": "http://www.opengis.net/gmd"})
        etree.SubElement(extent, "{http://www.opengis.net/gmd}description").text = b.name
    etree.SubElement(root, _g("scope")).text = getattr(crs, "scope", None) or "not known"
    if kind == "ProjectedCRS":
        base = crs.geodetic_crs.to_epsg() if crs.geodetic_crs is not None else None
        if base is not None:
            etree.SubElement(root, _g("baseGeodeticCRS"), {f"{{{XLINK_NS}}}href": f"{resolver}/crs/EPSG/0/{base}"})
        conv = etree.SubElement(etree.SubElement(root, _g("conversion")), _g("Conversion"),
                                {_g("id"): f"{gid}-conversion"})
        etree.SubElement(conv, _g("identifier"), codeSpace="EPSG").text = f"{uri}#conversion"
        etree.SubElement(conv, _g("name")).text = crs.coordinate_operation.name if crs.coordinate_operation else "unknown"
        etree.SubElement(conv, _g("remarks")).text = (
            crs.coordinate_operation.method_name if crs.coordinate_operation else "")
        cs_holder, cs_kind = "cartesianCS", "CartesianCS"
    elif kind == "VerticalCRS":
        cs_holder, cs_kind = "verticalCS", "VerticalCS"
    elif crs.is_geographic:
        cs_holder, cs_kind = "ellipsoidalCS", "EllipsoidalCS"
    else:
        cs_holder, cs_kind = "cartesianCS", "CartesianCS"
    axes = [(a.name, a.abbrev, a.direction, _uom(a.unit_name)) for a in crs.axis_info]
    _cs(root, cs_holder, cs_kind, f"{gid}-cs", uri, axes)
    if kind != "ProjectedCRS" and crs.datum is not None:
        datum_holder = {"GeodeticCRS": ("geodeticDatum", "GeodeticDatum"),
                        "VerticalCRS": ("verticalDatum", "VerticalDatum")}.get(kind, ("engineeringDatum", "EngineeringDatum"))
        datum = etree.SubElement(etree.SubElement(root, _g(datum_holder[0])), _g(datum_holder[1]),
                                 {_g("id"): f"{gid}-datum"})
        etree.SubElement(datum, _g("identifier"), codeSpace="EPSG").text = f"{uri}#datum"
        etree.SubElement(datum, _g("name")).text = crs.datum.name
        etree.SubElement(datum, _g("scope")).text = "not known"
        if kind == "GeodeticCRS" and crs.ellipsoid is not None:
            el = etree.SubElement(etree.SubElement(datum, _g("ellipsoid")), _g("Ellipsoid"),
                                  {_g("id"): f"{gid}-ellipsoid"})
            etree.SubElement(el, _g("identifier"), codeSpace="EPSG").text = f"{uri}#ellipsoid"
            etree.SubElement(el, _g("name")).text = crs.ellipsoid.name
            etree.SubElement(el, _g("semiMajorAxis"), uom="m").text = repr(crs.ellipsoid.semi_major_metre)
            second = etree.SubElement(el, _g("secondDefiningParameter"))
            sdp = etree.SubElement(second, _g("SecondDefiningParameter"))
            etree.SubElement(sdp, _g("inverseFlattening"), uom="unity").text = repr(crs.ellipsoid.inverse_flattening)
    return root


def _temporal(comp: CrsComponent, uri: str, prefix: str) -> etree._Element:
    epoch, seconds, label, unit = TIME_CRSS[comp.code]
    gid = f"{prefix}{comp.code}"
    root = _crs_root("TemporalCRS", gid, uri, "OGC", TIME_NAMES.get(comp.code, comp.code))
    etree.SubElement(root, _g("scope")).text = "time axes of coverages"
    _cs(root, "timeCS", "TimeCS", f"{gid}-cs", uri, [(TIME_NAMES.get(comp.code, label), label, "future", unit)])
    datum = etree.SubElement(etree.SubElement(root, _g("timeDatum")), _g("TemporalDatum"), {_g("id"): f"{gid}-datum"})
    etree.SubElement(datum, _g("identifier"), codeSpace="OGC").text = f"{uri}#datum"
    etree.SubElement(datum, _g("name")).text = f"{TIME_NAMES.get(comp.code, comp.code)} epoch"
    etree.SubElement(datum, _g("scope")).text = "time axes of coverages"
    etree.SubElement(datum, _g("origin")).text = epoch.strftime("%Y-%m-%dT%H:%M:%SZ")
    etree.SubElement(root, _g("remarks")).text = f"one unit is {seconds:g} seconds"
    return root


def _index(comp: CrsComponent, uri: str, prefix: str) -> etree._Element:
    n = int(comp.code[5])
    gid = f"{prefix}{comp.code}"
    root = _crs_root("EngineeringCRS", gid, uri, "OGC", f"{n}-D grid index CRS")
    etree.SubElement(root, _g("scope")).text = "grid (pixel) coordinates"
    axes = [(f"{INDEX_LABELS[k]} index", INDEX_LABELS[k], "positive", "GridSpacing") for k in range(n)]
    _cs(root, "cartesianCS", "CartesianCS", f"{gid}-cs", uri, axes)
    datum = etree.SubElement(etree.SubElement(root, _g("engineeringDatum")), _g("EngineeringDatum"),
                             {_g("id"): f"{gid}-datum"})
    etree.SubElement(datum, _g("identifier"), codeSpace="OGC").text = f"{uri}#datum"
    etree.SubElement(datum, _g("name")).text = "grid index origin"
    etree.SubElement(datum, _g("scope")).text = "grid (pixel) coordinates"
    return root


# ---- GML pieces ---------------------------------------------------------------------------

def _g(name: str) -> str:
    return f"{{{GML_NS}}}{name}"


def _crs_root(kind: str, gid: str, uri: str, code_space: str, name: str) -> etree._Element:
    root = etree.Element(_g(kind), {_g("id"): _ncname(gid)}, nsmap=NSMAP)
    etree.SubElement(root, _g("identifier"), codeSpace=code_space).text = uri
    etree.SubElement(root, _g("name")).text = name
    return root


def _cs(root, holder: str, kind: str, gid: str, uri: str, axes) -> None:
    cs = etree.SubElement(etree.SubElement(root, _g(holder)), _g(kind), {_g("id"): _ncname(gid)})
    etree.SubElement(cs, _g("identifier"), codeSpace="OGC").text = f"{uri}#cs"
    etree.SubElement(cs, _g("name")).text = f"{kind} of {len(axes)} axes"
    for k, (name, abbrev, direction, uom) in enumerate(axes):
        axis = etree.SubElement(etree.SubElement(cs, _g("axis")), _g("CoordinateSystemAxis"),
                                {_g("id"): _ncname(f"{gid}-axis{k}"), "uom": uom})
        etree.SubElement(axis, _g("identifier"), codeSpace="OGC").text = f"{uri}#axis{k}"
        etree.SubElement(axis, _g("name")).text = name
        etree.SubElement(axis, _g("axisAbbrev")).text = abbrev
        etree.SubElement(axis, _g("axisDirection"), codeSpace="EPSG").text = direction


def _wkt_remarks(root, crs: pyproj.CRS) -> None:
    etree.SubElement(root, _g("remarks")).text = crs.to_wkt()


def _uom(unit_name: str) -> str:
    return {"metre": "m", "degree": "deg", "foot": "ft", "US survey foot": "ft_us"}.get(unit_name, unit_name)


def _name_of(comp: CrsComponent) -> str:
    if comp.is_time:
        return TIME_NAMES.get(comp.code, comp.code)
    if comp.is_index:
        return comp.code
    return comp.pyproj_crs.name if comp.pyproj_crs is not None else comp.identifier


def _ncname(text: str) -> str:
    s = re.sub(r"[^\w.-]", "_", text)
    return s if re.match(r"[A-Za-z_]", s) else f"_{s}"


def _gml(root) -> OwsResponse:
    return OwsResponse(200, MEDIA_TYPE, etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def _listing(at: str, urls) -> OwsResponse:
    root = etree.Element(f"{{{SECORE_NS}}}identifiers", at=at, nsmap={None: SECORE_NS})
    for url in urls:
        etree.SubElement(root, f"{{{SECORE_NS}}}identifier").text = url
    return OwsResponse(200, "application/xml", etree.tostring(root, xml_declaration=True, encoding="UTF-8",
                                                              pretty_print=True))


@lru_cache(maxsize=1)
def _epsg_codes() -> tuple[str, ...]:
    return tuple(sorted(pyproj.database.get_codes("EPSG", "CRS"), key=int))
