"""WCS-T requests as XML POST bodies (OGC 13-057r1, the WCS 2.0 Transaction extension),
turned into the same parameters the KVP form carries, so one code path serves both.

    <wcs:InsertCoverage service="WCS" version="2.0.1">
      <wcs:coverage> <gmlcov:RectifiedGridCoverage>…</gmlcov:RectifiedGridCoverage> </wcs:coverage>
        (or <wcs:coverageRef>file:///data/incoming/x.tif</wcs:coverageRef>)
      <wcs:useId>existing</wcs:useId> <wcs:coverageId>NEW_ID</wcs:coverageId>
    </wcs:InsertCoverage>

    <wcs:UpdateCoverage service="WCS" version="2.0.1">
      <wcs:coverageId>S2</wcs:coverageId>
      <wcs:inputCoverageRef>…</wcs:inputCoverageRef>  (or <wcs:inputCoverage>GML</wcs:inputCoverage>)
      <wcs:DimensionSlice><wcs:Dimension>ansi</wcs:Dimension><wcs:SlicePoint>"2021-05-01"</wcs:SlicePoint></wcs:DimensionSlice>
      <wcs:DimensionTrim><wcs:Dimension>E</wcs:Dimension><wcs:TrimLow>500000</wcs:TrimLow><wcs:TrimHigh>500100</wcs:TrimHigh></wcs:DimensionTrim>
    </wcs:UpdateCoverage>

    <wcs:DeleteCoverage service="WCS" version="2.0.1"><wcs:coverageId>A</wcs:coverageId></wcs:DeleteCoverage>

rasdaman's extensions (``tiling``, ``pixelDataType``, ``crs``) are read from elements of
those names anywhere in the request (``wcs:Extension`` usually)."""

from __future__ import annotations

from lxml import etree

from petacube.errors import InvalidParameterValue, MissingParameterValue

OPERATIONS = ("InsertCoverage", "UpdateCoverage", "DeleteCoverage")
_EXTENSIONS = {"tiling": "tiling", "pixeldatatype": "pixelDataType", "crs": "crs"}


def _local(el) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _children(root, name: str) -> list:
    return [el for el in root.iter() if _local(el) == name]


def _text(el) -> str:
    return "".join(el.itertext()).strip()


def kvp_of(root) -> dict[str, list[str]]:
    """The KVP parameters equivalent to the WCS-T XML request ``root``."""
    op = _local(root)
    if op not in OPERATIONS:
        raise InvalidParameterValue(f"<{op}> is not a WCS-T request; use one of {', '.join(OPERATIONS)}", locator=op)
    params: dict[str, list[str]] = {"service": ["WCS"], "version": [root.get("version") or "2.0.1"],
                                    "request": [op]}
    ids = [i.strip() for el in _children(root, "coverageId") + _children(root, "CoverageId")
           for i in _text(el).split(",") if i.strip()]
    if ids:
        params["coverageid"] = ids
    if op == "DeleteCoverage":
        if not ids:
            raise MissingParameterValue("<DeleteCoverage> names no <wcs:coverageId>", locator="coverageId")
        return params
    use_id = _children(root, "useId")
    if use_id:
        params["useid"] = [_text(use_id[0])]
    inline_name, ref_name = ("coverage", "coverageRef") if op == "InsertCoverage" else ("inputCoverage", "inputCoverageRef")
    inline, ref = _children(root, inline_name), _children(root, ref_name)
    if inline:
        content = [c for c in inline[0] if isinstance(c.tag, str)]
        if len(content) != 1:
            raise InvalidParameterValue(
                f"<wcs:{inline_name}> must hold exactly one GML coverage element, found {len(content)}",
                locator=inline_name)
        params["inputcoverage"] = [etree.tostring(content[0], encoding="unicode")]
    elif ref:
        href = _text(ref[0]) or ref[0].get("{http://www.w3.org/1999/xlink}href", "")
        if not href:
            raise MissingParameterValue(f"<wcs:{ref_name}> is empty", locator=ref_name)
        params["coverageref"] = [href]
    subsets = [_subset(el) for el in root.iter() if _local(el) in ("DimensionTrim", "DimensionSlice")]
    if subsets:
        params["subset"] = subsets
    for el in root.iter():
        key = _EXTENSIONS.get(_local(el).lower())
        if key and not len(el) and _text(el):
            params[key.lower()] = [_text(el)]
    return params


def _subset(el) -> str:
    def part(name: str) -> str | None:
        found = [c for c in el if _local(c) == name]
        return _text(found[0]) if found else None

    dim = part("Dimension")
    if not dim:
        raise InvalidParameterValue(f"<wcs:{_local(el)}> without <wcs:Dimension>", locator=_local(el))
    if _local(el) == "DimensionSlice":
        point = part("SlicePoint")
        if point is None:
            raise InvalidParameterValue(f"<wcs:DimensionSlice> on {dim} without <wcs:SlicePoint>", locator=dim)
        return f"{dim}({point})"
    low, high = part("TrimLow"), part("TrimHigh")
    return f"{dim}({low or '*'},{high or '*'})"
