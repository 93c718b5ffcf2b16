"""WMS 1.3.0 exceptions: the error classes and the ``ServiceExceptionReport`` (namespace
http://www.opengis.net/ogc) that answers them, or an image (EXCEPTIONS=INIMAGE / BLANK).

Errors raised below the WMS (engine, catalog, CRS parsing) carry WCS/WCPS codes; they are
mapped onto the WMS 1.3.0 codes here so a client always sees a code its standard knows."""

from __future__ import annotations

from lxml import etree

from petacube.errors import PetacubeError
from petacube.ows.exceptions import status_of
from petacube.ows.protocol import OwsResponse

OGC_NS = "http://www.opengis.net/ogc"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMA = "http://www.opengis.net/ogc http://schemas.opengis.net/wms/1.3.0/exceptions_1_3_0.xsd"
EXCEPTION_MEDIA_TYPE = "text/xml"


class WmsError(PetacubeError):
    """Base of the WMS-specific errors."""


class LayerNotDefined(WmsError):
    code = "LayerNotDefined"
    status = 404


class StyleNotDefined(WmsError):
    code = "StyleNotDefined"
    status = 404


class InvalidCRS(WmsError):
    code = "InvalidCRS"


class InvalidFormat(WmsError):
    code = "InvalidFormat"


class InvalidPoint(WmsError):
    code = "InvalidPoint"


class InvalidDimensionValue(WmsError):
    code = "InvalidDimensionValue"


class MissingDimensionValue(WmsError):
    code = "MissingDimensionValue"


class LayerNotQueryable(WmsError):
    code = "LayerNotQueryable"


class OperationNotSupported(WmsError):
    code = "OperationNotSupported"
    status = 501


class InvalidUpdateSequence(WmsError):
    code = "InvalidUpdateSequence"


# codes of the layers below, as WMS 1.3.0 names them (unlisted codes are kept as they are:
# the standard allows server-specific codes)
_WMS_CODE = {
    "NoSuchCoverage": "LayerNotDefined",
    "NotACrs": "InvalidCRS",
    "NoSuchCrs": "InvalidCRS",
    "InvalidSubsetting": "InvalidParameterValue",
    "InvalidAxisLabel": "InvalidParameterValue",
    "InvalidMediatype": "InvalidFormat",
    "WcpsSyntaxError": "StyleNotDefined",
}
_WMS_STATUS = {"NotACrs": 400, "NoSuchCrs": 400}


def wms_code(err: PetacubeError) -> str:
    return _WMS_CODE.get(err.code, err.code)


def wms_status(err: PetacubeError) -> int:
    status = _WMS_STATUS.get(err.code) or status_of(err)
    return status if 400 <= status < 600 else 400


def exception_report(err: PetacubeError) -> OwsResponse:
    """The ServiceExceptionReport for ``err`` with a 4xx (5xx only for server trouble)."""
    return report(wms_code(err), err.message, locator=err.locator, status=wms_status(err))


def report(code: str, message: str, *, locator: str | None = None, status: int = 400) -> OwsResponse:
    root = etree.Element(f"{{{OGC_NS}}}ServiceExceptionReport", nsmap={None: OGC_NS, "xsi": XSI_NS})
    root.set("version", "1.3.0")
    root.set(f"{{{XSI_NS}}}schemaLocation", SCHEMA)
    exc = etree.SubElement(root, f"{{{OGC_NS}}}ServiceException", code=code)
    if locator:
        exc.set("locator", _xml_safe(str(locator)))
    exc.text = _xml_safe(message)
    body = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return OwsResponse(status, EXCEPTION_MEDIA_TYPE, body)


def internal_error_report() -> OwsResponse:
    return report("NoApplicableCode", "internal error; the server log has the details", status=500)


def _xml_safe(text: str) -> str:
    return "".join(
        ch for ch in text
        if ch in "\t\n\r" or 0x20 <= ord(ch) <= 0xD7FF or 0xE000 <= ord(ch) <= 0xFFFD or 0x10000 <= ord(ch) <= 0x10FFFF
    )
