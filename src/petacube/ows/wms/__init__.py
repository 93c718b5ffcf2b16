"""WMS 1.3.0: GetCapabilities, GetMap, GetFeatureInfo, GetLegendGraphic over the coverages
activated as layers (``wms_import`` at import, or ``petacube wms enable``).

``handle_wms`` is what the dispatcher calls for service=WMS; it answers every user error
with a WMS ``ServiceExceptionReport`` (or, for GetMap with EXCEPTIONS=INIMAGE/BLANK, an
image), never raising."""

from __future__ import annotations

import logging

from petacube.errors import MissingParameterValue, PetacubeError
from petacube.ows.protocol import OwsRequest, OwsResponse
from petacube.ows.wms import kvp
from petacube.ows.wms.cache import response_cache
from petacube.ows.wms.errors import (
    OperationNotSupported,
    exception_report,
    internal_error_report,
)

log = logging.getLogger("petacube.ows.wms")
OPERATIONS = ("GetCapabilities", "GetMap", "GetFeatureInfo", "GetLegendGraphic")
VERSIONS = ("1.3.0", "1.1.1")


def handle_wms(req: OwsRequest, cube) -> OwsResponse:
    """Answer one WMS request; never raises."""
    try:
        return _route(req, cube)
    except PetacubeError as err:
        if (req.param("request") or "").strip().lower() == "getmap":
            image = _exception_image(req, err)
            if image is not None:
                return image
        return exception_report(err)
    except Exception:
        log.exception("internal error answering WMS %s", (req.param("request") or "")[:40])
        return internal_error_report()


def _route(req: OwsRequest, cube) -> OwsResponse:
    request = (req.param("request") or "").strip()
    if not request:
        raise MissingParameterValue(f"REQUEST=... is missing; use one of {', '.join(OPERATIONS)}", locator="REQUEST")
    name = {op.lower(): op for op in OPERATIONS}.get(request.lower())
    if name is None:
        raise OperationNotSupported(f"REQUEST={request} is not a WMS operation; use one of {', '.join(OPERATIONS)}",
                                    locator="REQUEST")
    if name == "GetCapabilities":
        from petacube.ows.wms.capabilities import get_capabilities

        return get_capabilities(req, cube)
    version = (req.param("version") or "1.3.0").strip()
    if version not in VERSIONS:
        from petacube.errors import InvalidParameterValue

        raise InvalidParameterValue(f"VERSION={version}: this server speaks WMS 1.3.0 (and 1.1.1 requests)",
                                    locator="VERSION")
    if name == "GetMap":
        from petacube.ows.wms.get_map import parse_get_map, render

        kvp.parse_exceptions(req)
        m = parse_get_map(req, cube)
        restricted = getattr(cube, "restricted", None)  # the server's read guard: rules for this caller
        if restricted is not None and restricted(m.coverage_ids()):
            return render(m, cube)  # rules checked on every read, never shared through the cache
        return response_cache(cube).get_or_make(_key(req, m.stamps(cube)), lambda: render(m, cube))
    if name == "GetFeatureInfo":
        from petacube.ows.wms.feature_info import get_feature_info

        return get_feature_info(req, cube)
    from petacube.ows.wms.legend import get_legend_graphic

    return get_legend_graphic(req, cube)


_IGNORED = {"service", "exceptions"}


def _key(req: OwsRequest, stamps: tuple) -> tuple:
    """A request normalised for the cache: parameter names lower case, values stripped,
    order ignored; with what the answer depends on (data and style versions)."""
    params = tuple(sorted((k, tuple(v.strip() for v in vs)) for k, vs in req.params.items() if k not in _IGNORED))
    return params, stamps


def _exception_image(req: OwsRequest, err: PetacubeError) -> OwsResponse | None:
    """EXCEPTIONS=INIMAGE: the message drawn on the map; BLANK: an empty map; else None."""
    try:
        mode = kvp.parse_exceptions(req)
        if mode == "XML":
            return None
        from petacube.ows.wms.render_error import error_image

        return error_image(req, err, mode)
    except PetacubeError:
        return None


__all__ = ["handle_wms"]
