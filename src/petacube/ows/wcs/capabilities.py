"""GetCapabilities: service identification, operations, formats and one CoverageSummary
per coverage. Summaries are cached per coverage version, so a server with many
coverages (or with 100 000-date axes) answers from memory after the first request;
coefficients are never listed here."""

from __future__ import annotations

import threading

import pyproj
from lxml import etree

from petacube.errors import InvalidParameterValue
from petacube.model import Coverage
from petacube.ows.protocol import OwsRequest, OwsResponse
from petacube.ows.wcs.errors import VersionNegotiationFailed
from petacube.ows.wcs.gml import (
    CRS_EXT,
    INT_EXT,
    NSMAP,
    OWS,
    WCS,
    XML_MEDIA,
    coverage_subtype,
    envelope_corners,
    q,
    sub,
    to_bytes,
)

VERSION = "2.0.1"
ACCEPTED_VERSIONS = ("2.0.1", "2.0.0")

PROFILES = (
    "http://www.opengis.net/spec/WCS/2.0/conf/core",
    "http://www.opengis.net/spec/WCS_protocol-binding_get-kvp/1.0/conf/get-kvp",
    "http://www.opengis.net/spec/WCS_protocol-binding_post-xml/1.0/conf/post-xml",
    "http://www.opengis.net/spec/GMLCOV/1.0/conf/gml-coverage",
    "http://www.opengis.net/spec/GMLCOV/1.0/conf/multipart",
    "http://www.opengis.net/spec/GMLCOV/1.0/conf/special-format",
    "http://www.opengis.net/spec/GMLCOV_geotiff-coverages/1.0/conf/geotiff-coverage",
    "http://www.opengis.net/spec/WCS_service-extension_crs/1.0/conf/crs",
    "http://www.opengis.net/spec/WCS_service-extension_scaling/1.0/conf/scaling",
    "http://www.opengis.net/spec/WCS_service-extension_interpolation/1.0/conf/interpolation",
    "http://www.opengis.net/spec/WCS_service-extension_range-subsetting/1.0/conf/record-subsetting",
    "http://www.opengis.net/spec/WCS_service-extension_processing/2.0/conf/processing",
)

FORMATS = (
    "application/gml+xml", "image/tiff", "image/png", "image/jpeg", "application/netcdf",
    "application/json", "text/csv",
)

INTERPOLATIONS = (
    "http://www.opengis.net/def/interpolation/OGC/1/nearest-neighbor",
    "http://www.opengis.net/def/interpolation/OGC/1/linear",
    "http://www.opengis.net/def/interpolation/OGC/1/cubic",
    "http://www.opengis.net/def/interpolation/OGC/1/cubic-spline",
    "http://www.opengis.net/def/interpolation/OGC/1/average",
    "http://www.opengis.net/def/interpolation/OGC/1/mode",
    "http://www.opengis.net/def/interpolation/OGC/1/lanczos",
    "http://www.opengis.net/def/interpolation/OGC/1/min",
    "http://www.opengis.net/def/interpolation/OGC/1/max",
    "http://www.opengis.net/def/interpolation/OGC/1/med",
    "http://www.opengis.net/def/interpolation/OGC/1/q1",
    "http://www.opengis.net/def/interpolation/OGC/1/q3",
)

OPERATIONS = ("GetCapabilities", "DescribeCoverage", "GetCoverage", "ProcessCoverages")
SECTIONS = ("ServiceIdentification", "ServiceProvider", "OperationsMetadata", "ServiceMetadata", "Contents")


def negotiate_version(accept: str | None) -> str:
    """The version to answer with, given ``acceptVersions`` (comma-separated, by preference)."""
    if not accept:
        return VERSION
    asked = [v.strip() for v in accept.split(",") if v.strip()]
    for v in asked:
        if v in ACCEPTED_VERSIONS:
            return VERSION
    raise VersionNegotiationFailed(
        f"acceptVersions={accept}: this server speaks WCS {', '.join(ACCEPTED_VERSIONS)} only", locator="acceptVersions"
    )


def _sections(text: str | None) -> set[str]:
    if not text:
        return set(SECTIONS)
    out = set()
    by_lower = {s.lower(): s for s in SECTIONS}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        if part.lower() == "all":
            return set(SECTIONS)
        if part.lower() not in by_lower:
            raise InvalidParameterValue(
                f"sections={text}: unknown section '{part}'; use All or any of {', '.join(SECTIONS)}", locator="sections"
            )
        out.add(by_lower[part.lower()])
    return out


def get_capabilities(req: OwsRequest, cube, resolver: str) -> OwsResponse:
    negotiate_version(req.param("acceptversions"))
    sections = _sections(req.param("sections"))
    root = etree.Element(q(WCS, "Capabilities"), nsmap=NSMAP, version=VERSION)
    root.set(q(NSMAP["xsi"], "schemaLocation"),
             "http://www.opengis.net/wcs/2.0 http://schemas.opengis.net/wcs/2.0/wcsAll.xsd")
    if "ServiceIdentification" in sections:
        ident = sub(root, OWS, "ServiceIdentification")
        sub(ident, OWS, "Title", "petacube")
        sub(ident, OWS, "Abstract", "petacube: an array datacube server (WCS 2.0.1, WCPS, WMS 1.3.0)")
        sub(ident, OWS, "ServiceType", "OGC WCS", codeSpace="OGC")
        sub(ident, OWS, "ServiceTypeVersion", VERSION)
        for p in PROFILES:
            sub(ident, OWS, "Profile", p)
        sub(ident, OWS, "Fees", "NONE")
        sub(ident, OWS, "AccessConstraints", "NONE")
    if "ServiceProvider" in sections:
        prov = sub(root, OWS, "ServiceProvider")
        sub(prov, OWS, "ProviderName", "petacube")
        sub(prov, OWS, "ProviderSite", href=req.base_url)
        contact = sub(prov, OWS, "ServiceContact")
        sub(contact, OWS, "IndividualName", "")
        sub(contact, OWS, "PositionName", "")
        sub(sub(contact, OWS, "ContactInfo"), OWS, "OnlineResource", href=req.base_url)
        sub(contact, OWS, "Role", "pointOfContact")
    if "OperationsMetadata" in sections:
        ops = sub(root, OWS, "OperationsMetadata")
        for name in OPERATIONS:
            http = sub(sub(sub(ops, OWS, "Operation", name=name), OWS, "DCP"), OWS, "HTTP")
            sub(http, OWS, "Get", href=req.base_url)
            post = sub(http, OWS, "Post", href=req.base_url)
            allowed = sub(sub(post, OWS, "Constraint", name="PostEncoding"), OWS, "AllowedValues")
            sub(allowed, OWS, "Value", "XML")
    if "ServiceMetadata" in sections:
        meta = sub(root, WCS, "ServiceMetadata")
        for f in FORMATS:
            sub(meta, WCS, "formatSupported", f)
        ext = sub(meta, WCS, "Extension")
        interp = sub(ext, INT_EXT, "InterpolationMetadata")
        for uri in INTERPOLATIONS:
            sub(interp, INT_EXT, "InterpolationSupported", uri)
        crs = sub(ext, CRS_EXT, "CrsMetadata")
        for code in ("4326", "3857", "32633", "32634", "32635", "3035", "3301"):
            sub(crs, CRS_EXT, "crsSupported", f"{resolver.rstrip('/')}/crs/EPSG/0/{code}")
    if "Contents" in sections:
        contents = sub(root, WCS, "Contents")
        for cid in cube.coverage_ids():
            if req.readable is None or req.readable(cid):
                _summary(contents, coverage_summary(cube, cid, resolver))
    return OwsResponse(200, XML_MEDIA, to_bytes(root))


# ---- coverage summaries ----------------------------------------------------------------------
_CACHE: dict[tuple, dict] = {}
_LOCK = threading.Lock()


def coverage_summary(cube, cid: str, resolver: str) -> dict:
    """The values of one CoverageSummary, cached by (catalog, coverage, version)."""
    key = (repr(cube.catalog), cid, cube.catalog.version(cid), resolver)
    with _LOCK:
        hit = _CACHE.get(key)
    if hit is not None:
        return hit
    cov = cube.describe(cid)
    lower, upper = envelope_corners(cov)
    summary = {
        "id": cov.id,
        "subtype": coverage_subtype(cov),
        "wgs84": wgs84_bbox(cov),
        "crs": cov.crs.uri(resolver),
        "dimensions": len(cov.axes),
        "lower": lower,
        "upper": upper,
        "size": cov.nbytes,
        "axes": list(cov.crs_order),
    }
    with _LOCK:
        if len(_CACHE) > 10_000:
            _CACHE.clear()
        _CACHE[key] = summary
    return summary


def _summary(contents, s: dict) -> None:
    el = sub(contents, WCS, "CoverageSummary")
    sub(el, WCS, "CoverageId", s["id"])
    sub(el, WCS, "CoverageSubtype", s["subtype"])
    if s["wgs84"] is not None:
        w, so, e, n = s["wgs84"]
        box = sub(el, OWS, "WGS84BoundingBox")
        sub(box, OWS, "LowerCorner", f"{w!r} {so!r}")
        sub(box, OWS, "UpperCorner", f"{e!r} {n!r}")
    box = sub(el, OWS, "BoundingBox", crs=s["crs"], dimensions=s["dimensions"])
    sub(box, OWS, "LowerCorner", " ".join(s["lower"]))
    sub(box, OWS, "UpperCorner", " ".join(s["upper"]))
    params = sub(el, OWS, "AdditionalParameters")
    for name, value in (("sizeInBytes", str(s["size"])), ("axisList", ",".join(s["axes"]))):
        p = sub(params, OWS, "AdditionalParameter")
        sub(p, OWS, "Name", name)
        sub(p, OWS, "Value", value)


def wgs84_bbox(cov: Coverage) -> tuple[float, float, float, float] | None:
    """(west, south, east, north) of the horizontal envelope in longitude/latitude,
    transformed with densified edges; None for coverages without a horizontal CRS."""
    src = cov.crs.horizontal
    if src is None:
        return None
    kinds = {a.crs_axis.kind: a for a in cov.axes}
    if "x" not in kinds or "y" not in kinds:
        return None
    x, y = kinds["x"], kinds["y"]
    transformer = pyproj.Transformer.from_crs(src, pyproj.CRS.from_epsg(4326), always_xy=True)
    w, s, e, n = transformer.transform_bounds(x.lower, y.lower, x.upper, y.upper, densify_pts=21)
    return float(w), float(s), float(e), float(n)
