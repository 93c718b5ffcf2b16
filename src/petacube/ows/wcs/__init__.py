"""WCS 2.0.1 core (GetCapabilities, DescribeCoverage, GetCoverage) with the CRS, scaling,
interpolation, range-subsetting extensions; ``handle_wcs`` is the entry point the server
calls for service=WCS requests (KVP in ``req.params``, or an XML POST body)."""

from __future__ import annotations

from dataclasses import replace

from petacube.errors import InvalidParameterValue, MissingParameterValue
from petacube.ows.protocol import OwsRequest, OwsResponse
from petacube.ows.wcs.capabilities import ACCEPTED_VERSIONS, get_capabilities
from petacube.ows.wcs.describe import describe_coverage
from petacube.ows.wcs.errors import OperationNotSupported, VersionNegotiationFailed
from petacube.ows.wcs.get_coverage import get_coverage
from petacube.ows.wcs.xml_request import parse_xml_request

OPERATIONS = ("GetCapabilities", "DescribeCoverage", "GetCoverage")


def resolver_for(req: OwsRequest) -> str:
    """The CRS resolver base URL: ``<endpoint>/../def`` (petascope serves SECORE at
    /rasdaman/def beside /rasdaman/ows)."""
    base = req.base_url.split("?", 1)[0].rstrip("/")
    base = base.removesuffix("/ows")
    return f"{base}/def"


def handle_wcs(req: OwsRequest, cube) -> OwsResponse:
    """Answer one WCS request; user mistakes raise `petacube.errors.PetacubeError`s."""
    if req.body and _is_xml(req):
        req = replace(req, params={**req.params, **parse_xml_request(req.body)})
    service = req.param("service")
    if service is not None and service.strip().upper() != "WCS":
        raise InvalidParameterValue(f"service={service}: this handler speaks WCS", locator="service")
    request = req.param("request")
    if not request:
        raise MissingParameterValue(
            f"request=... is missing; use one of {', '.join(OPERATIONS)}", locator="request")
    name = {op.lower(): op for op in OPERATIONS}.get(request.strip().lower())
    if name is None:
        raise OperationNotSupported(
            f"request={request} is not a WCS operation of this server; use one of {', '.join(OPERATIONS)}"
            + (" (ProcessCoverages is answered by the WCPS endpoint)" if request.lower() == "processcoverages" else ""),
            locator=request)
    resolver = resolver_for(req)
    if name == "GetCapabilities":
        return get_capabilities(req, cube, resolver)
    version = req.param("version")
    if version is not None and version.strip() not in ACCEPTED_VERSIONS:
        raise VersionNegotiationFailed(
            f"version={version}: this server speaks WCS {' and '.join(ACCEPTED_VERSIONS)}", locator="version")
    if name == "DescribeCoverage":
        ids = [i.strip() for v in req.all("coverageid") for i in v.split(",") if i.strip()]
        return describe_coverage(req, cube, resolver, ids)
    return get_coverage(req, cube, resolver)


def _is_xml(req: OwsRequest) -> bool:
    ct = (req.content_type or "").lower()
    if "xml" in ct:
        return True
    return req.body.lstrip()[:1] == b"<"


__all__ = ["handle_wcs", "resolver_for"]
