"""WMS styles: a WCPS expression over ``$c`` (the layer; other layers as ``$LayerName``)
and/or a colour table, checked here and stored through `petacube.catalog.styles`.

Colour tables are kept normalised to the ``colorMap`` option of WCPS ``encode`` (see
`petacube.encode.colormap`), whatever form they were given in:

* ``ColorMap``: that JSON itself, ``{"type": "values"|"intervals"|"ramp", "colorTable": {...}}``;
* ``GDAL``: rasdaman's GDAL colour table ``{"colorTable": [[r, g, b(, a)], ...]}`` (at most 256
  entries; entry ``i`` colours the value ``i``);
* ``SLD``: an SLD ``ColorMap`` (``ColorMapEntry color="#rrggbb" quantity=".." opacity=".." label=".."``,
  ``type="ramp"|"intervals"|"values"``).

A style without a fragment colours ``$c`` itself; without a colour table the fragment's
bands are the picture (1 grey, 2 grey+alpha, 3 RGB, 4 RGBA; values clamped to 0..255)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from lxml import etree

from petacube.catalog.styles import StyleRecord, WmsCatalog
from petacube.encode.colormap import parse_color_map
from petacube.engine import ir
from petacube.errors import InvalidParameterValue, PetacubeError, WcpsError
from petacube.ows.wms.errors import StyleNotDefined
from petacube.wcps.parser import parse_tree
from petacube.wcps.scope import Binding, Scope
from petacube.wcps.translate import ExprTranslator

DEFAULT_NAME = "default"
COLOR_TABLE_TYPES = ("ColorMap", "GDAL", "SLD")
_PREFIX = "for $c in (c) return "
_VAR = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True)
class Style:
    """A style as GetMap applies it (a stored one, or the built-in default)."""

    name: str
    title: str
    abstract: str = ""
    fragment: str | None = None
    color_map: dict | None = None
    record: StyleRecord | None = None

    @property
    def stamp(self) -> str:
        return self.record.stamp if self.record else "builtin"

    def other_layers(self) -> list[str]:
        """``$Name`` variables of the fragment other than ``$c`` (candidates for layers)."""
        if not self.fragment:
            return []
        return sorted({v for v in _VAR.findall(self.fragment) if v != "c"})

    def names_axis(self, label: str) -> bool:
        """Whether the fragment names the axis (``imageCrsDomain($c, ansi)``, ``$c[ansi(..)]``):
        then ``$c`` keeps that axis whole and the request's value applies to the result."""
        return bool(self.fragment) and re.search(rf"(?<![\w$\"]){re.escape(label)}(?![\w\"])", self.fragment) is not None

    def encode_color_map(self) -> dict | None:
        if not self.color_map:
            return None
        return {"type": self.color_map["type"], "colorTable": self.color_map["colorTable"]}


def builtin_default() -> Style:
    return Style(DEFAULT_NAME, "Default", "the layer's bands as grey (1 band) or RGB (first three bands)")


def style_for(cube, layer: str, name: str) -> Style:
    """The style a GetMap names ('' = the layer's default)."""
    wms = WmsCatalog(cube.catalog)
    if not name:
        stored = [s for s in wms.styles(layer) if s.is_default]
        return from_record(stored[0]) if stored else builtin_default()
    try:
        return from_record(wms.style(layer, name))
    except PetacubeError as exc:
        if name.lower() == DEFAULT_NAME:
            return builtin_default()
        raise StyleNotDefined(f"STYLES: {exc.message}", locator=name) from None


def from_record(rec: StyleRecord) -> Style:
    return Style(rec.name, rec.title or rec.name, rec.abstract, rec.wcps_fragment, rec.color_map, rec)


# ---- fragments --------------------------------------------------------------------------------
def translate_fragment(fragment: str, bindings: dict[str, ir.Expr]) -> ir.Expr:
    """The fragment as IR with ``$c`` and the other names bound to ``bindings``."""
    text = _PREFIX + fragment
    tree = parse_tree(text)
    query = tree.children[0] if tree.data == "start" else tree
    _for, *clauses, return_clause = query.children
    if clauses:
        raise WcpsError("a style is one expression over $c: let and where clauses are not allowed")
    scope = Scope({name: Binding("expr", expr) for name, expr in bindings.items()})
    expr = ExprTranslator(text).expr(return_clause.children[0], scope)
    if isinstance(expr, ir.Encode):
        raise WcpsError("a style returns the coverage to draw; drop encode(...), GetMap encodes the picture")
    return expr


def check_fragment(cube, layer: str, fragment: str) -> None:
    """Parse the fragment with ``$c`` bound to the layer and ``$X`` to coverage X."""
    if not fragment.strip():
        raise InvalidParameterValue("the WCPS fragment is empty", locator="wcpsQueryFragment")
    names = cube.coverage_ids()
    bindings = {"c": ir.CoverageRef(layer)}
    bindings.update({v: ir.CoverageRef(v) for v in _VAR.findall(fragment) if v in names and v != "c"})
    try:
        translate_fragment(fragment, bindings)
    except PetacubeError as exc:
        raise InvalidParameterValue(f"the style's WCPS fragment does not translate: {exc.message} "
                                    f"(positions count from the start of '{_PREFIX}')",
                                    locator="wcpsQueryFragment") from None


# ---- colour tables ------------------------------------------------------------------------------
def normalise_color_table(kind: str, text: str) -> dict:
    """A colour table of type ``kind`` as the encode colorMap option (plus ``labels`` for SLD)."""
    key = {t.lower(): t for t in COLOR_TABLE_TYPES}.get((kind or "").strip().lower())
    if key is None:
        raise InvalidParameterValue(f"colorTableType={kind}: use one of {', '.join(COLOR_TABLE_TYPES)}",
                                    locator="colorTableType")
    if not text or not text.strip():
        raise InvalidParameterValue("colorTableDefinition is empty", locator="colorTableDefinition")
    if key == "SLD":
        return _sld(text)
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise InvalidParameterValue(f"colorTableDefinition is not JSON: {exc}", locator="colorTableDefinition") from None
    if key == "GDAL":
        table = value.get("colorTable") if isinstance(value, dict) else value
        if not isinstance(table, list) or not 1 <= len(table) <= 256:
            raise InvalidParameterValue(
                'a GDAL colour table is {"colorTable": [[r, g, b, a], ...]} with 1 to 256 entries',
                locator="colorTableDefinition")
        entries = {}
        for i, c in enumerate(table):
            if not isinstance(c, list) or len(c) not in (3, 4):
                raise InvalidParameterValue(f"GDAL colour table entry {i}: give [r, g, b] or [r, g, b, a], got {c!r}",
                                            locator="colorTableDefinition")
            entries[str(i)] = list(c) + ([255] if len(c) == 3 else [])
        value = {"type": "values", "colorTable": entries}
    _validate(value)
    return {"type": value["type"].lower(), "colorTable": value["colorTable"]}


def _validate(value) -> None:
    try:
        parse_color_map(value)
    except PetacubeError as exc:
        raise InvalidParameterValue(f"colour table: {exc.message}", locator="colorTableDefinition") from None


def _sld(text: str) -> dict:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(text.strip().encode(), parser)
    except etree.XMLSyntaxError as exc:
        raise InvalidParameterValue(f"the SLD is not well-formed XML: {exc}", locator="colorTableDefinition") from None
    cmap = next((el for el in root.iter() if isinstance(el.tag, str) and etree.QName(el).localname == "ColorMap"), None)
    if cmap is None:
        raise InvalidParameterValue("the SLD has no ColorMap element", locator="colorTableDefinition")
    kind = (cmap.get("type") or "ramp").lower()
    table, labels = {}, {}
    for el in cmap:
        if not isinstance(el.tag, str) or etree.QName(el).localname != "ColorMapEntry":
            continue
        colour, quantity = el.get("color"), el.get("quantity")
        m = re.fullmatch(r"#?([0-9a-fA-F]{6})", (colour or "").strip())
        try:
            q = float(quantity)
            opacity = float(el.get("opacity", "1"))
        except (TypeError, ValueError):
            raise InvalidParameterValue(f"SLD ColorMapEntry {etree.tostring(el).decode()[:80]}: quantity and "
                                        "opacity must be numbers", locator="colorTableDefinition") from None
        if not m or not 0 <= opacity <= 1:
            raise InvalidParameterValue(f"SLD ColorMapEntry color '{colour}' / opacity '{el.get('opacity')}': "
                                        "write color=\"#rrggbb\" and an opacity between 0 and 1",
                                        locator="colorTableDefinition")
        v = int(m.group(1), 16)
        table[f"{q:g}"] = [(v >> 16) & 255, (v >> 8) & 255, v & 255, round(opacity * 255)]
        if el.get("label"):
            labels[f"{q:g}"] = el.get("label")
    if not table:
        raise InvalidParameterValue("the SLD ColorMap has no ColorMapEntry", locator="colorTableDefinition")
    value = {"type": kind, "colorTable": table}
    _validate(value)
    return {**value, "labels": labels} if labels else value


# ---- storing ------------------------------------------------------------------------------------
def save_style(cube, layer: str, name: str, *, title: str | None = None, abstract: str | None = None,
               fragment: str | None = None, color_table_type: str | None = None,
               color_table: str | None = None, legend: bytes | None = None, legend_type: str | None = None,
               default: bool | None = None, update: bool = False) -> StyleRecord:
    """Check and store a style (``update``: it must exist; unspecified parts are kept)."""
    wms = WmsCatalog(cube.catalog)
    if not cube.__contains__(layer):
        from petacube.errors import NoSuchCoverage

        raise NoSuchCoverage(f"layer '{layer}' is not a coverage of this server", locator=layer)
    old = wms.style(layer, name) if update else None
    fragment = _blank_none(fragment) if fragment is not None else (old.wcps_fragment if old else None)
    if color_table is not None:
        kind, table = color_table_type or (old.color_table_type if old else None) or "ColorMap", _blank_none(color_table)
    else:
        kind, table = (old.color_table_type, old.color_table) if old else (None, None)
    if fragment is None and table is None:
        raise InvalidParameterValue("a style needs a WCPS fragment (wcpsQueryFragment), a colour table "
                                    "(colorTableDefinition), or both", locator="wcpsQueryFragment")
    if fragment is not None:
        check_fragment(cube, layer, fragment)
    color_map = normalise_color_table(kind, table) if table is not None else None
    if legend is not None:
        legend_type = legend_type or _image_type(legend)
    record = StyleRecord(
        layer, name,
        title=title if title is not None else (old.title if old else name),
        abstract=abstract if abstract is not None else (old.abstract if old else ""),
        wcps_fragment=fragment, color_table_type=kind if table is not None else None, color_table=table,
        color_map=color_map,
        legend=legend if legend is not None else (old.legend if old else None),
        legend_type=legend_type if legend is not None else (old.legend_type if old else None),
        is_default=default if default is not None else (old.is_default if old else False),
    )
    return wms.put(record, replace=update)


def remove_style(cube, layer: str, name: str) -> None:
    WmsCatalog(cube.catalog).remove(layer, name)


def _blank_none(text: str | None) -> str | None:
    return text if text is not None and text.strip() else None


def _image_type(data: bytes) -> str:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    raise InvalidParameterValue("the legend image must be PNG, JPEG or GIF", locator="legendGraphic")
