"""The WMS administration calls behind ``/admin/wms/<action>`` (the server checks that the
caller is a writer first): styles ``style/add``, ``style/update``, ``style/remove``,
``style/list`` and layers ``layer/enable``, ``layer/disable``, ``layer/list``.

Parameters as rasdaman's InsertStyle/UpdateStyle name them (KVP or form fields): ``layer``,
``name``, ``title``, ``abstract``, ``wcpsQueryFragment``, ``colorTableType`` (ColorMap, GDAL,
SLD), ``colorTableDefinition``, ``default`` (true/false); a legend image as an uploaded file.
Answers are JSON; errors a ServiceExceptionReport."""

from __future__ import annotations

import json

from petacube.catalog.styles import StyleRecord, WmsCatalog
from petacube.errors import PetacubeError
from petacube.ows.protocol import OwsRequest, OwsResponse
from petacube.ows.wms import kvp
from petacube.ows.wms.errors import OperationNotSupported, exception_report
from petacube.ows.wms.styles import remove_style, save_style

ACTIONS = ("style/add", "style/update", "style/remove", "style/list", "layer/enable", "layer/disable", "layer/list")
WRITE_ACTIONS = frozenset(ACTIONS) - {"style/list", "layer/list"}


def handle_admin(req: OwsRequest, cube, action: str) -> OwsResponse:
    """Run one admin action; never raises."""
    try:
        return _run(req, cube, action.strip("/").lower())
    except PetacubeError as err:
        return exception_report(err)


def _run(req: OwsRequest, cube, action: str) -> OwsResponse:
    wms = WmsCatalog(cube.catalog)
    if action == "layer/list":
        return _json({"layers": wms.layer_ids()})
    if action in ("layer/enable", "layer/disable"):
        layer = kvp.required(req, "layer")
        wms.set_layer(layer, action.endswith("enable"))
        return _json({"layer": layer, "enabled": action.endswith("enable")})
    if action == "style/list":
        layer = req.param("layer")
        return _json({"styles": [style_json(s) for s in wms.styles(layer.strip() if layer else None)]})
    if action == "style/remove":
        layer, name = kvp.required(req, "layer"), kvp.required(req, "name")
        remove_style(cube, layer, name)
        return _json({"layer": layer, "removed": name})
    if action in ("style/add", "style/update"):
        default = req.param("default")
        record = save_style(
            cube, kvp.required(req, "layer"), kvp.required(req, "name"),
            title=req.param("title"), abstract=req.param("abstract"),
            fragment=req.param("wcpsqueryfragment"), color_table_type=req.param("colortabletype"),
            color_table=req.param("colortabledefinition"),
            legend=req.files[0] if req.files else None,
            default=None if default is None else kvp.parse_bool(req, "default"),
            update=action == "style/update")
        return _json({"style": style_json(record)}, 201 if action == "style/add" else 200)
    raise OperationNotSupported(f"admin action '{action}' does not exist; use one of {', '.join(ACTIONS)}",
                                locator=action)


def style_json(s: StyleRecord) -> dict:
    out = {"layer": s.layer, "name": s.name, "title": s.title, "abstract": s.abstract,
           "wcpsQueryFragment": s.wcps_fragment, "colorTableType": s.color_table_type,
           "colorTableDefinition": s.color_table, "default": s.is_default,
           "legend": s.legend_type if s.legend else None,
           "updated": s.updated.isoformat() if s.updated else None}
    return out


def _json(value: dict, status: int = 200) -> OwsResponse:
    return OwsResponse(status, "application/json", json.dumps(value).encode())


__all__ = ["ACTIONS", "WRITE_ACTIONS", "handle_admin"]
