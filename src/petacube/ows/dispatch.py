"""Routing one OGC request to its handler: KVP ``service``/``request`` or the root element
of an XML POST body; every failure answered as an ExceptionReport.

The caller (the server) may pass ``authorize``: called with the `Operation` (which request,
which coverages, read or write) before any data is touched; it raises
`AuthenticationRequired` / `AccessDenied` to refuse.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace

from lxml import etree

from petacube.errors import InvalidParameterValue, MissingParameterValue, PetacubeError
from petacube.ows.exceptions import (
    InvalidEncodingSyntax,
    OperationNotSupported,
    exception_report,
    internal_error_report,
)
from petacube.ows.protocol import OwsRequest, OwsResponse

log = logging.getLogger("petacube.ows")

WCS_OPERATIONS = ("GetCapabilities", "DescribeCoverage", "GetCoverage")
WCPS_OPERATIONS = ("ProcessCoverages",)
WCST_OPERATIONS = ("InsertCoverage", "UpdateCoverage", "DeleteCoverage")
WMS_OPERATIONS = ("GetCapabilities", "GetMap", "GetFeatureInfo", "GetLegendGraphic")
SERVICES = ("WCS", "WCPS", "WMS")
MAX_XML_BYTES = 16 * 2**20
MAX_XML_DEPTH = 256

_XML_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False, dtd_validation=False,
    remove_comments=True, remove_pis=True,
)


@dataclass(frozen=True)
class Operation:
    """What a request does, for the access log and the rights check."""

    service: str
    request: str
    coverages: tuple[str, ...] = ()
    write: bool = False


Authorize = Callable[[Operation], None]


def _allow(_op: Operation) -> None:
    return None


def handle(req: OwsRequest, cube, *, authorize: Authorize | None = None,
           observe: Callable[[Operation], None] | None = None) -> OwsResponse:
    """Answer one OGC request; never raises. ``observe`` sees the operation (access log)."""

    def check(op: Operation) -> None:
        if observe is not None:
            observe(op)
        (authorize or _allow)(op)

    def readable(coverage_id: str) -> bool:
        try:
            (authorize or _allow)(Operation("WCS", "GetCapabilities", (coverage_id,)))
            return True
        except PetacubeError:
            return False

    try:
        return _route(replace(req, readable=readable), cube, check)
    except PetacubeError as err:
        return error_report(req, err)
    except Exception:
        log.exception("internal error answering %s %s", req.method, _describe(req))
        return internal_error_report()


def error_report(req: OwsRequest, err: PetacubeError) -> OwsResponse:
    """The exception report of the request's service: WMS 1.3.0 ServiceExceptionReport for
    service=WMS, else the OWS 2.0 ExceptionReport (WCS, WCPS)."""
    if (req.param("service") or "").strip().upper() == "WMS":
        from petacube.ows.wms.errors import exception_report as wms_exception_report

        return wms_exception_report(err)
    version = (req.param("version") or "2.0.1").strip()
    return exception_report(err, version if version in ("2.0.0", "2.0.1") else "2.0.1")


def handle_wcps(req: OwsRequest, cube, *, authorize: Authorize | None = None,
                observe: Callable[[Operation], None] | None = None) -> OwsResponse:
    """The rasdaman ``/rasdaman/ows/wcps`` endpoint: every request is a ProcessCoverages."""
    params = dict(req.params)
    params["service"], params["request"] = ["WCS"], ["ProcessCoverages"]
    return handle(replace(req, params=params), cube, authorize=authorize, observe=observe)


def _describe(req: OwsRequest) -> str:
    return ", ".join(f"{k}={v[-1][:80]!r}" for k, v in list(req.params.items())[:6])


def _route(req: OwsRequest, cube, check: Authorize) -> OwsResponse:
    if req.body and req.param("request") is None:
        if is_xml(req):
            return _route_xml(req, cube, check)
        if req.body.strip():  # raw text/plain body: a WCPS query, as rasdaman accepts
            return _wcps(req, cube, check, query_text=_text_body(req.body))
    service = (req.param("service") or "WCS").strip()
    request = req.param("request")
    if request is None and (req.param("query") or req.param("q")):  # rasdaman's ows?query=...
        request = "ProcessCoverages"
    if service.upper() not in SERVICES:
        raise InvalidParameterValue(
            f"service={service} is not offered here; use one of {', '.join(SERVICES)}", locator="service")
    if request is None or not request.strip():
        ops = WMS_OPERATIONS if service.upper() == "WMS" else WCS_OPERATIONS + WCPS_OPERATIONS
        raise MissingParameterValue(f"request=... is missing; use one of {', '.join(ops)}", locator="request")
    request = request.strip()
    if service.upper() == "WMS":
        name = _canonical(request, WMS_OPERATIONS, service)
        layers = _split(req.all("layers")) + _split(req.all("layer")) + _split(req.all("query_layers"))
        check(Operation("WMS", name, tuple(dict.fromkeys(layers))))
        return _lazy_handler("petacube.ows.wms", "handle_wms", "WMS")(req, cube)
    name = _canonical(request, WCS_OPERATIONS + WCPS_OPERATIONS + WCST_OPERATIONS, service)
    if name == "ProcessCoverages":
        return _wcps(req, cube, check)
    if name in WCST_OPERATIONS:
        check(Operation("WCS", name, tuple(_split(req.all("coverageid"))), write=True))
        from petacube.ows.wcst import handle_wcst

        return handle_wcst(req, cube)
    check(Operation("WCS", name, tuple(_split(req.all("coverageid")))))
    return _lazy_handler("petacube.ows.wcs", "handle_wcs", "WCS")(req, cube)


def _canonical(request: str, known: tuple[str, ...], service: str) -> str:
    by_lower = {op.lower(): op for op in known}
    name = by_lower.get(request.lower())
    if name is None:
        raise OperationNotSupported(
            f"request={request} is not a {service.upper()} operation of this server; "
            f"use one of {', '.join(dict.fromkeys(known))}", locator="request")
    return name


def _split(values: list[str]) -> list[str]:
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


def _lazy_handler(module: str, attr: str, service: str):
    """The protocol handler, imported on first use; absent → OperationNotSupported."""
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and module.startswith(exc.name):
            raise OperationNotSupported(f"service={service} is not available on this server", locator="service") from None
        raise
    fn = getattr(mod, attr, None)
    if fn is None:
        raise OperationNotSupported(f"service={service} is not available on this server", locator="service")
    return fn


def _wcps(req: OwsRequest, cube, check: Authorize, query_text: str | None = None) -> OwsResponse:
    from petacube.ows.wcps import process_coverages

    return process_coverages(req, cube, authorize=check, query_text=query_text)


def _text_body(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidParameterValue("the request body is not UTF-8 text") from None


# ---- XML POST -------------------------------------------------------------------------------

def is_xml(req: OwsRequest) -> bool:
    ct = (req.content_type or "").lower()
    return "xml" in ct or (req.body or b"").lstrip()[:1] == b"<"


def parse_xml(body: bytes) -> etree._Element:
    """Parse an XML request body safely: no DTDs or entities, no network, bounded size and depth."""
    if len(body) > MAX_XML_BYTES:
        raise InvalidEncodingSyntax(f"the XML request is {len(body)} bytes, over the limit of {MAX_XML_BYTES}")
    try:
        root = etree.fromstring(body, _XML_PARSER)
    except etree.XMLSyntaxError as exc:
        raise InvalidEncodingSyntax(f"the request body is not well-formed XML: {exc}") from None
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise InvalidEncodingSyntax("XML requests with a DOCTYPE (DTD, entities) are not accepted")
    for el in root.iter():
        if isinstance(el, etree._Entity) or el.tag is etree.Entity:
            raise InvalidEncodingSyntax("XML requests with entity references are not accepted")
    if _depth(root) > MAX_XML_DEPTH:
        raise InvalidEncodingSyntax(f"the XML request nests deeper than {MAX_XML_DEPTH} elements")
    return root


def _depth(root) -> int:
    deepest, stack = 0, [(root, 1)]
    while stack:
        el, d = stack.pop()
        deepest = max(deepest, d)
        stack.extend((c, d + 1) for c in el)
    return deepest


def local_name(el) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _route_xml(req: OwsRequest, cube, check: Authorize) -> OwsResponse:
    root = parse_xml(req.body or b"")
    if local_name(root) == "Envelope":  # SOAP: the request is the Body's first child
        body = next((c for c in root if local_name(c) == "Body"), None)
        if body is None or not len(body):
            raise InvalidEncodingSyntax("a SOAP envelope without a request in its Body")
        root = body[0]
    name = local_name(root)
    ids = tuple(i for el in root.iter() if local_name(el) == "CoverageId" for i in _split([el.text or ""]))
    if name in ("ProcessCoverages", "ProcessCoveragesRequest"):
        query = next((el for el in root.iter() if local_name(el) in ("abstractSyntax", "query")), None)
        text = "".join(query.itertext()).strip() if query is not None else ""
        if not text:
            raise MissingParameterValue("the ProcessCoverages request has no query element", locator="query")
        return _wcps(req, cube, check, query_text=text)
    if name in WCS_OPERATIONS:
        check(Operation("WCS", name, ids))
        return _lazy_handler("petacube.ows.wcs", "handle_wcs", "WCS")(req, cube)
    if name in WCST_OPERATIONS:
        from petacube.ows.wcst import handle_wcst
        from petacube.ows.wcst.xml_request import kvp_of

        named = tuple(i for el in root.iter() if local_name(el) == "coverageId" for i in _split([el.text or ""]))
        check(Operation("WCS", name, ids + named, write=True))  # rights before the body is looked at further
        params = kvp_of(root)
        return handle_wcst(replace(req, params=params, body=None), cube)
    if name == "Transaction":
        raise OperationNotSupported(
            "<Transaction> is WCS-T 1.1; this server speaks WCS-T 2.0: send <wcs:InsertCoverage>, "
            "<wcs:UpdateCoverage> or <wcs:DeleteCoverage>", locator=name)
    raise OperationNotSupported(
        f"XML request <{name}> is not supported; send one of "
        f"{', '.join(WCS_OPERATIONS + WCPS_OPERATIONS + WCST_OPERATIONS)}", locator=name)
