"""WCS 2.0 XML POST requests turned into the KVP parameters the handlers read
(OGC 09-148r1 XML/POST binding, with the CRS, scaling, interpolation and range-subsetting
extensions' elements). Parsed without entity resolution or network access."""

from __future__ import annotations

from lxml import etree

from petacube.ows.wcs.errors import InvalidEncodingSyntax

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True)


def _local(el) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _children(el, name: str) -> list:
    return [c for c in el if _local(c) == name]


def _text(el, name: str) -> str | None:
    for c in el.iter():
        if _local(c) == name:
            return (c.text or "").strip()
    return None


def parse_xml_request(body: bytes) -> dict[str, list[str]]:
    """KVP parameters (lower-case keys) equivalent to the XML request in ``body``."""
    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise InvalidEncodingSyntax(f"the request body is not well-formed XML: {exc}") from None
    # SOAP envelopes carry the request in their Body
    if _local(root) == "Envelope":
        body_el = next((c for c in root if _local(c) == "Body"), None)
        if body_el is None or not len(body_el):
            raise InvalidEncodingSyntax("a SOAP envelope without a request in its Body")
        root = body_el[0]
    name = _local(root)
    params: dict[str, list[str]] = {"request": [name]}
    for attr in ("service", "version"):
        if root.get(attr):
            params[attr] = [root.get(attr)]
    if name == "GetCapabilities":
        versions = [(v.text or "").strip() for v in root.iter() if _local(v) == "Version"]
        if versions:
            params["acceptversions"] = [",".join(versions)]
        sections = [(v.text or "").strip() for v in root.iter() if _local(v) == "Section"]
        if sections:
            params["sections"] = [",".join(sections)]
    elif name == "DescribeCoverage":
        ids = [(c.text or "").strip() for c in root.iter() if _local(c) == "CoverageId"]
        if ids:
            params["coverageid"] = [",".join(ids)]
    elif name == "GetCoverage":
        _get_coverage(root, params)
    else:
        raise InvalidEncodingSyntax(
            f"unknown XML request <{name}>; this endpoint takes GetCapabilities, DescribeCoverage and GetCoverage")
    return params


def _get_coverage(root, params: dict[str, list[str]]) -> None:
    def add(key: str, value: str) -> None:
        params.setdefault(key, []).append(value)

    for c in root.iter():
        tag = _local(c)
        if tag == "CoverageId":
            add("coverageid", (c.text or "").strip())
        elif tag in ("DimensionTrim", "DimensionSlice"):
            dim = next((d for d in c if _local(d) == "Dimension"), None)
            if dim is None or not (dim.text or "").strip():
                raise InvalidEncodingSyntax(f"<{tag}> needs a <Dimension> naming the axis")
            axis = dim.text.strip() + (f",{dim.get('crs')}" if dim.get("crs") else "")
            if tag == "DimensionTrim":
                lo, hi = _text(c, "TrimLow"), _text(c, "TrimHigh")
                add("subset", f"{axis}({lo if lo else '*'},{hi if hi else '*'})")
            else:
                point = _text(c, "SlicePoint")
                if point is None:
                    raise InvalidEncodingSyntax("<DimensionSlice> needs a <SlicePoint>")
                add("subset", f"{axis}({point})")
        elif tag == "format":
            add("format", (c.text or "").strip())
        elif tag == "mediaType":
            add("mediatype", (c.text or "").strip())
        elif tag in ("subsettingCrs", "outputCrs"):
            add(tag.lower(), (c.text or "").strip())
        elif tag == "globalInterpolation":
            add("interpolation", (c.text or "").strip())
        elif tag == "ScaleByFactor":
            add("scalefactor", _text(c, "scaleFactor") or "")
        elif tag == "ScaleAxesByFactor":
            add("scaleaxes", ",".join(f"{_text(a, 'axis')}({_text(a, 'scaleFactor')})" for a in _children(c, "ScaleAxis")))
        elif tag == "ScaleToSize":
            add("scalesize", ",".join(f"{_text(a, 'axis')}({_text(a, 'targetSize')})" for a in _children(c, "TargetAxisSize")))
        elif tag == "ScaleToExtent":
            add("scaleextent", ",".join(f"{_text(a, 'axis')}({_text(a, 'low')}:{_text(a, 'high')})"
                                        for a in _children(c, "TargetAxisExtent")))
        elif tag == "RangeSubset":
            items = []
            for item in _children(c, "RangeItem"):
                comp = _text(item, "RangeComponent")
                if comp is not None:
                    items.append(comp)
                else:
                    items.append(f"{_text(item, 'startComponent')}:{_text(item, 'endComponent')}")
            add("rangesubset", ",".join(items))
        elif tag == "clip" or tag == "Clip":
            add("clip", (c.text or "").strip())
