"""GetFeatureInfo: every band's value at the map pixel (I, J) of each QUERY_LAYERS layer, for
the requested dimension values — one slice, or a time series when TIME (or another
dimension) names a range or list. Answered as text/plain, application/json or text/html.

Values are read with an engine query slicing the layer at the pixel centre (carried into
the layer's CRS); a pixel outside a layer gives that layer no values."""

from __future__ import annotations

import html
import json

import numpy as np

from petacube.engine import ir
from petacube.engine.run import run_query
from petacube.ows.protocol import OwsRequest, OwsResponse
from petacube.ows.wms import kvp
from petacube.ows.wms.dimensions import selections
from petacube.ows.wms.errors import (
    InvalidDimensionValue,
    InvalidFormat,
    InvalidPoint,
    LayerNotDefined,
)
from petacube.ows.wms.get_map import max_size
from petacube.ows.wms.layers import Layer, get_layer, transformer

INFO_FORMATS = {"text/plain": "text", "application/json": "json", "text/html": "html", "json": "json",
                "text/xml": "text"}


def get_feature_info(req: OwsRequest, cube) -> OwsResponse:
    layers = kvp.layer_names(req)
    queried = kvp.layer_names(req, "query_layers")
    missing = [n for n in queried if n not in layers]
    if missing:
        raise LayerNotDefined(f"QUERY_LAYERS names {missing[0]}, which LAYERS does not; query layers of the map",
                              locator=missing[0])
    kvp.style_names(req, layers)
    crs = kvp.map_crs(req)
    bbox = kvp.parse_bbox(req, crs)
    width, height = kvp.parse_size(req, max_size(cube))
    info = (req.param("info_format") or "text/plain").strip().lower()
    kind = INFO_FORMATS.get(info.split(";")[0].strip())
    if kind is None:
        raise InvalidFormat(f"INFO_FORMAT={info}: use text/plain, application/json or text/html", locator="INFO_FORMAT")
    i, j = _pixel(req, "i", "x", width), _pixel(req, "j", "y", height)
    minx, miny, maxx, maxy = bbox
    x = minx + (i + 0.5) * (maxx - minx) / width
    y = maxy - (j + 0.5) * (maxy - miny) / height
    dims = kvp.dimension_params(req)
    results = []
    for name in dict.fromkeys(queried):
        layer = get_layer(cube, name, "QUERY_LAYERS")
        results.append(_layer_values(cube, layer, crs.code, x, y, dims))
    point = {"crs": crs.name, "x": x, "y": y, "i": i, "j": j}
    if kind == "json":
        return OwsResponse(200, "application/json", json.dumps({"point": point, "layers": results}).encode())
    if kind == "html":
        return OwsResponse(200, "text/html", _html(point, results).encode())
    return OwsResponse(200, "text/plain", _text(point, results).encode())


def _pixel(req: OwsRequest, name: str, old_name: str, size: int) -> int:
    raw = req.param(name) if req.param(name) is not None else req.param(old_name)
    if raw is None or not raw.strip():
        raise InvalidPoint(f"{name.upper()}=... is missing: give the pixel column I and row J", locator=name.upper())
    try:
        v = int(float(raw))
    except ValueError:
        raise InvalidPoint(f"{name.upper()}={raw} is not a pixel number", locator=name.upper()) from None
    if not 0 <= v < size:
        raise InvalidPoint(f"{name.upper()}={raw} is outside the map (0 to {size - 1})", locator=name.upper())
    return v


def _layer_values(cube, layer: Layer, epsg: int, x: float, y: float, dims: dict[str, str]) -> dict:
    out = {"layer": layer.name, "bands": [b.name for b in layer.coverage.bands], "values": []}
    nx, ny = (x, y) if epsg == layer.epsg else transformer(epsg, layer.epsg).transform(x, y)
    x0, y0, x1, y1 = layer.bounds
    if not (x0 <= nx <= x1 and y0 <= ny <= y1):
        return out
    chosen = selections(layer, dims)
    series = [label for label, values in chosen.items() if len(values) > 1]
    if len(series) > 1:
        raise InvalidDimensionValue(f"a time series runs along one dimension at a time; {', '.join(series)} "
                                    "each name several values")
    # a one-cell trim rather than a slice: the result keeps its CRS and encodes as JSON
    axes = [ir.AxisSubset(layer.x.label, lo=ir.Scalar(nx), hi=ir.Scalar(nx)),
            ir.AxisSubset(layer.y.label, lo=ir.Scalar(ny), hi=ir.Scalar(ny))]
    for label, values in chosen.items():
        if label in series:
            axes.append(ir.AxisSubset(label, lo=ir.Scalar(values[0]), hi=ir.Scalar(values[-1])))
        else:
            axes.append(ir.AxisSubset(label, at=ir.Scalar(values[0])))
    source = ir.Subset(ir.CoverageRef(layer.name), tuple(axes))
    bands = [b.name for b in layer.coverage.bands]
    encoded = run_query(ir.Query(tuple(ir.Encode(ir.Field(source, b), "application/json") for b in bands)), cube)
    columns = [np.asarray(json.loads(r.data), dtype=object).ravel().tolist() for r in encoded]
    if series:
        dim = next(d for d in layer.dimensions if d.label == series[0])
        coords = [c for c in dim.coordinates() if chosen[dim.label][0] <= c <= chosen[dim.label][-1]]
        wanted = set(chosen[dim.label])
        for k, c in enumerate(coords):
            if c in wanted:
                out["values"].append({"coordinates": _coords(layer, chosen, dim.label, c),
                                      "bands": {b: _plain(col[k]) for b, col in zip(bands, columns)}})
    else:
        out["values"].append({"coordinates": _coords(layer, chosen, None, None),
                              "bands": {b: _plain(col[0]) for b, col in zip(bands, columns)}})
    return out


def _coords(layer: Layer, chosen: dict, series_label: str | None, value) -> dict:
    out = {}
    for dim in layer.dimensions:
        v = value if dim.label == series_label else chosen[dim.label][0]
        out[dim.name] = dim.format(v)
    return out


def _plain(v):
    return v.item() if isinstance(v, np.generic) else v


def _text(point: dict, results: list[dict]) -> str:
    lines = [f"GetFeatureInfo at {point['crs']} ({point['x']:.10g}, {point['y']:.10g}), pixel I={point['i']} J={point['j']}"]
    for r in results:
        lines.append(f"Layer '{r['layer']}'")
        if not r["values"]:
            lines.append("  (no data at this point)")
        for v in r["values"]:
            where = " ".join(f"{k}={val}" for k, val in v["coordinates"].items())
            cells = " ".join(f"{b}={_fmt(val)}" for b, val in v["bands"].items())
            lines.append(f"  {where + ': ' if where else ''}{cells}")
    return "\n".join(lines) + "\n"


def _html(point: dict, results: list[dict]) -> str:
    parts = ["<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>GetFeatureInfo</title></head><body>"]
    for r in results:
        parts.append(f"<h3>{html.escape(r['layer'])}</h3>")
        if not r["values"]:
            parts.append("<p>no data at this point</p>")
            continue
        dims = list(r["values"][0]["coordinates"])
        head = "".join(f"<th>{html.escape(h)}</th>" for h in dims + r["bands"])
        parts.append(f"<table border=\"1\"><tr>{head}</tr>")
        for v in r["values"]:
            cells = [html.escape(str(v["coordinates"][d])) for d in dims]
            cells += [html.escape(_fmt(v["bands"][b])) for b in r["bands"]]
            parts.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    return "".join(parts)


def _fmt(v) -> str:
    if v is None:
        return "null"
    if isinstance(v, float):
        return f"{v:.10g}"
    return str(v)
