"""GetCapabilities (WMS 1.3.0): one Layer per activated coverage the caller may read, with
its CRSs, geographic and per-CRS bounding boxes (EPSG:4326 written latitude first, as
1.3.0 requires), dimensions (time, elevation, other axes) and styles with legend URLs."""

from __future__ import annotations

from urllib.parse import urlencode

from lxml import etree

from petacube.catalog.styles import WmsCatalog
from petacube.errors import PetacubeError
from petacube.ows.protocol import OwsRequest, OwsResponse
from petacube.ows.wms.get_map import max_size
from petacube.ows.wms.kvp import parse_crs
from petacube.ows.wms.layers import Dimension, Layer, active_layer_ids, get_layer
from petacube.ows.wms.legend import legend_size
from petacube.ows.wms.styles import builtin_default, from_record

WMS_NS = "http://www.opengis.net/wms"
XLINK_NS = "http://www.w3.org/1999/xlink"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMA = "http://www.opengis.net/wms http://schemas.opengis.net/wms/1.3.0/capabilities_1_3_0.xsd"
MAP_FORMATS = ("image/png", "image/jpeg", "image/tiff")
INFO_FORMATS = ("text/plain", "application/json", "text/html")
EXTRA_CRS = (4326, 3857)  # offered besides each layer's own; GetMap takes any EPSG code
LIST_LIMIT = 10_000  # values listed one by one in a Dimension; above it the extent is start/end


def _q(tag: str) -> str:
    return f"{{{WMS_NS}}}{tag}"


def _sub(parent, tag: str, text: str | None = None, **attrs):
    el = etree.SubElement(parent, _q(tag), {k: str(v) for k, v in attrs.items()})
    if text is not None:
        el.text = text
    return el


def _href(parent, tag: str, url: str):
    el = _sub(parent, tag)
    el.set(f"{{{XLINK_NS}}}type", "simple")
    el.set(f"{{{XLINK_NS}}}href", url)
    return el


def get_capabilities(req: OwsRequest, cube) -> OwsResponse:
    base = req.base_url.split("?", 1)[0]
    root = etree.Element(_q("WMS_Capabilities"), nsmap={None: WMS_NS, "xlink": XLINK_NS, "xsi": XSI_NS})
    root.set("version", "1.3.0")
    root.set(f"{{{XSI_NS}}}schemaLocation", SCHEMA)
    service = _sub(root, "Service")
    _sub(service, "Name", "WMS")
    _sub(service, "Title", "petacube WMS")
    _sub(service, "Abstract", "Maps of the petacube datacube's coverages")
    _href(service, "OnlineResource", base)
    _sub(service, "LayerLimit", "100")
    _sub(service, "MaxWidth", str(max_size(cube)))
    _sub(service, "MaxHeight", str(max_size(cube)))

    capability = _sub(root, "Capability")
    request = _sub(capability, "Request")
    for op, formats in (("GetCapabilities", ("text/xml",)), ("GetMap", MAP_FORMATS),
                        ("GetFeatureInfo", INFO_FORMATS), ):
        el = _sub(request, op)
        for f in formats:
            _sub(el, "Format", f)
        http = _sub(_sub(el, "DCPType"), "HTTP")
        _href(_sub(http, "Get"), "OnlineResource", base + "?")
    exception = _sub(capability, "Exception")
    for f in ("XML", "INIMAGE", "BLANK"):
        _sub(exception, "Format", f)

    top = _sub(capability, "Layer")
    _sub(top, "Title", "petacube")
    _sub(top, "CRS", "CRS:84")
    for code in EXTRA_CRS:
        _sub(top, "CRS", f"EPSG:{code}")
    styles = _styles_by_layer(cube)
    readable = req.readable or (lambda _id: True)
    for layer_id in active_layer_ids(cube):
        if not readable(layer_id):
            continue
        try:
            layer = get_layer(cube, layer_id)
        except PetacubeError:  # a coverage that cannot be a layer is left out of the list
            continue
        _layer(top, layer, styles.get(layer_id, []), base)
    body = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return OwsResponse(200, "text/xml", body)


def _styles_by_layer(cube) -> dict[str, list]:
    out: dict[str, list] = {}
    for rec in WmsCatalog(cube.catalog).styles():
        out.setdefault(rec.layer, []).append(from_record(rec))
    return out


def _layer(parent, layer: Layer, styles: list, base: str) -> None:
    el = _sub(parent, "Layer", queryable="1", opaque="0")
    cov = layer.coverage
    _sub(el, "Name", layer.name)
    _sub(el, "Title", str(cov.metadata.get("title") or layer.name))
    _sub(el, "Abstract", str(cov.metadata.get("abstract") or cov.metadata.get("description") or _describe(layer)))
    codes = [layer.epsg] + [c for c in EXTRA_CRS if c != layer.epsg]
    for code in codes:
        _sub(el, "CRS", f"EPSG:{code}")
    _sub(el, "CRS", "CRS:84")
    w, s, e, n = layer.wgs84
    geo = _sub(el, "EX_GeographicBoundingBox")
    for tag, v in (("westBoundLongitude", w), ("eastBoundLongitude", e), ("southBoundLatitude", s),
                   ("northBoundLatitude", n)):
        _sub(geo, tag, _num(v))
    for code in codes + ["CRS:84"]:
        name = code if isinstance(code, str) else f"EPSG:{code}"
        crs = parse_crs(name)
        bounds = layer.wgs84 if crs.code == 4326 else layer.bounds_in(crs.code)
        if not all(abs(v) < float("inf") for v in bounds):
            continue
        x0, y0, x1, y1 = bounds
        if crs.north_first:
            x0, y0, x1, y1 = y0, x0, y1, x1
        attrs = {"CRS": name, "minx": _num(x0), "miny": _num(y0), "maxx": _num(x1), "maxy": _num(y1)}
        if code == layer.epsg:
            rx, ry = abs(layer.x.resolution), abs(layer.y.resolution)
            attrs.update(resx=_num(ry if crs.north_first else rx), resy=_num(rx if crs.north_first else ry))
        _sub(el, "BoundingBox", **attrs)
    for dim in layer.dimensions:
        _dimension(el, dim)
    listed = list(styles)
    if not any(s.record and s.record.is_default for s in listed) and not any(s.name == "default" for s in listed):
        listed.insert(0, builtin_default())
    for style in listed:
        st = _sub(el, "Style")
        _sub(st, "Name", style.name)
        _sub(st, "Title", style.title or style.name)
        if style.abstract:
            _sub(st, "Abstract", style.abstract)
        width, height = legend_size(layer, style)
        legend = _sub(st, "LegendURL", width=width, height=height)
        _sub(legend, "Format", "image/png")
        query = urlencode({"service": "WMS", "version": "1.3.0", "request": "GetLegendGraphic",
                           "layer": layer.name, "style": style.name, "format": "image/png"})
        _href(legend, "OnlineResource", f"{base}?{query}")


def _dimension(parent, dim: Dimension) -> None:
    coords = dim.coordinates()
    attrs = {"name": dim.name, "units": dim.units, "default": dim.format(dim.default),
             "multipleValues": "1", "nearestValue": "0"}
    if dim.is_time:
        attrs["current"] = "1"
    else:
        attrs["unitSymbol"] = dim.axis.crs_axis.unit or ""
    axis = dim.axis
    if not axis.irregular and len(coords) > 1:
        step = abs(axis.resolution)
        if dim.is_time:
            seconds = step * (86400.0 if dim.time_crs == "AnsiDate" else 1.0)
            period = f"P{seconds / 86400:g}D" if seconds % 86400 == 0 else f"PT{seconds:g}S"
        else:
            period = f"{step:g}"
        text = f"{dim.format(coords[0])}/{dim.format(coords[-1])}/{period}"
    elif len(coords) > LIST_LIMIT:
        text = f"{dim.format(coords[0])}/{dim.format(coords[-1])}"
    else:
        text = ",".join(dim.format(v) for v in coords)
    _sub(parent, "Dimension", text, **attrs)


def _describe(layer: Layer) -> str:
    cov = layer.coverage
    bands = ", ".join(b.name for b in cov.bands)
    return f"coverage {cov.id}: bands {bands}; axes {', '.join(cov.dims)}"


def _num(v: float) -> str:
    return f"{v:.10g}"
