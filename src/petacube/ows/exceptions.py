"""OGC exception reports (OWS Common 2.0) and the OWS-level errors the dispatcher raises.

Every `PetacubeError` that reaches the protocol boundary becomes an ``ows:ExceptionReport``
with the error's code, locator and message; the HTTP status comes from the error (or, for
errors defined with the default 400, from the exception code as rasdaman maps it).
"""

from __future__ import annotations

from lxml import etree

from petacube.errors import PetacubeError
from petacube.ows.protocol import OwsResponse

OWS_NS = "http://www.opengis.net/ows/2.0"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
OWS_SCHEMA = "http://www.opengis.net/ows/2.0 http://schemas.opengis.net/ows/2.0/owsExceptionReport.xsd"
XML_MEDIA_TYPE = "application/xml"

# HTTP status by exception code, as rasdaman (petascope) answers them.
STATUS_BY_CODE = {
    "NoSuchCoverage": 404,
    "NoSuchCrs": 404,
    "InvalidSubsetting": 400,
    "InvalidAxisLabel": 400,
    "MissingParameterValue": 400,
    "InvalidParameterValue": 400,
    "NoSuchField": 400,
    "InvalidScaleFactor": 400,
    "WcpsSyntaxError": 400,
    "WcpsError": 400,
    "InvalidEncodingSyntax": 400,
    "InvalidMediatype": 415,
    "OperationNotSupported": 501,
    "AuthenticationRequired": 401,
    "AccessDenied": 403,
    "ResultTooLarge": 413,
    "RequestTooLarge": 413,
    "QueryCancelled": 408,
    "ServerBusy": 503,
}


class OperationNotSupported(PetacubeError):
    """A request (or service) this server does not implement."""

    code = "OperationNotSupported"
    status = 501


class InvalidEncodingSyntax(PetacubeError):
    """A POST body that is not an acceptable XML request (malformed, DOCTYPE, too deep)."""

    code = "InvalidEncodingSyntax"


class AuthenticationRequired(PetacubeError):
    """No credentials, or wrong ones, for something that needs them (HTTP 401)."""

    code = "AuthenticationRequired"
    status = 401


class AccessDenied(PetacubeError):
    """Valid credentials without the right to do this (HTTP 403)."""

    code = "AccessDenied"
    status = 403


class RequestTooLarge(PetacubeError):
    code = "RequestTooLarge"
    status = 413


class ServerBusy(PetacubeError):
    code = "ServerBusy"
    status = 503


def status_of(err: PetacubeError) -> int:
    status = getattr(err, "status", 400) or 400
    if status == 400:
        status = STATUS_BY_CODE.get(err.code, 400)
    return int(status)


def exception_report(err: PetacubeError, version: str = "2.0.1") -> OwsResponse:
    """The ``ows:ExceptionReport`` answering ``err``, with its HTTP status."""
    return report(err.code, err.message, locator=err.locator, status=status_of(err), version=version)


def internal_error_report(version: str = "2.0.1") -> OwsResponse:
    """A 500 that says nothing about the server's insides (the log has the traceback)."""
    return report("NoApplicableCode", "internal error; the server log has the details", status=500, version=version)


def report(code: str, message: str, *, locator: str | None = None, status: int = 400,
           version: str = "2.0.1") -> OwsResponse:
    root = etree.Element(f"{{{OWS_NS}}}ExceptionReport", nsmap={"ows": OWS_NS, "xsi": XSI_NS})
    root.set("version", version)
    root.set("{http://www.w3.org/XML/1998/namespace}lang", "en")
    root.set(f"{{{XSI_NS}}}schemaLocation", OWS_SCHEMA)
    exc = etree.SubElement(root, f"{{{OWS_NS}}}Exception", exceptionCode=code)
    if locator:
        exc.set("locator", _xml_safe(str(locator)))
    etree.SubElement(exc, f"{{{OWS_NS}}}ExceptionText").text = _xml_safe(message)
    body = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return OwsResponse(status, XML_MEDIA_TYPE, body)


def _xml_safe(text: str) -> str:
    """Drop characters XML 1.0 cannot carry (a bad request may echo control bytes)."""
    return "".join(
        ch for ch in text
        if ch in "\t\n\r" or 0x20 <= ord(ch) <= 0xD7FF or 0xE000 <= ord(ch) <= 0xFFFD or 0x10000 <= ord(ch) <= 0x10FFFF
    )
