"""WCPS text -> engine IR: the expected IR is written by hand and is the specification."""

from __future__ import annotations

import math

import pytest

from petacube.engine.ir import (
    STAR, Aggregate, AxisIterator, AxisSubset, Binary, Cast, Clip, Complex, Condense, CoverageConstructor,
    CoverageRef, CrsTransform, Decoded, Encode, Expr, Extend, Field, Flip, FunctionCall, IsNull, IteratorVar,
    Metadata, RangeConstructor, Scalar, Scale, Sort, Subset, Switch, Unary,
)
from petacube.wcps import parse_wcps

S2 = CoverageRef("S2_L2A")
C = CoverageRef("A")
D = CoverageRef("B")


def S(value, type=None):
    return Scalar(value, type)


def B(op, left, right):
    return Binary(op, left, right)


def U(op, operand):
    return Unary(op, operand)


def F(source, name):
    return Field(source, name)


def _expr(value):
    return value if isinstance(value, Expr) else S(value)


def at(axis, value, crs=None):
    return AxisSubset(axis, at=_expr(value), crs=crs)


def trim(axis, lo, hi, crs=None):
    return AxisSubset(axis, lo=_expr(lo), hi=_expr(hi), crs=crs)


def sub(source, *axes):
    return Subset(source, tuple(axes))


def rgb(red, green, blue):
    return RangeConstructor((("red", red), ("green", green), ("blue", blue)))


def png(source, fmt="image/png", **options):
    return Encode(source, fmt, options)


DATE = "2021-05-01"
T = S(DATE)

# (id, query over "for $c in (A)" unless written in full, expected result)
CASES = [
    # ---- literals, operators, precedence ----------------------------------------------------
    ("int", "return 42", S(42)),
    ("float", "return 2.5", S(2.5)),
    ("exponent", "return 1e-3", S(0.001)),
    ("hex", "return 0x1F", S(31)),
    ("booleans", "return true and FALSE", B("and", S(True), S(False))),
    ("negative literal", "return -5", S(-5)),
    ("complex", "return $c + (1, 2)", B("+", C, Complex(1.0, 2.0))),
    ("string", 'return identifier($c) = "A"', B("=", Metadata("identifier", C), S("A"))),
    ("mul over add", "return $c + 2 * 3", B("+", C, B("*", S(2), S(3)))),
    ("left assoc", "return $c - 1 - 2", B("-", B("-", C, S(1)), S(2))),
    ("parens", "return ($c + 2) * 3", B("*", B("+", C, S(2)), S(3))),
    ("div mod keywords", "return $c div 2 mod 3", B("mod", B("div", C, S(2)), S(3))),
    ("infix min max", "return $c min 5 max 1", B("max", B("min", C, S(5)), S(1))),
    ("pow binds tighter than unary minus", "return -$c pow 2", U("neg", B("pow", C, S(2)))),
    ("unary minus", "return -$c", U("neg", C)),
    ("unary plus", "return +$c", U("pos", C)),
    ("comparison below additive", "return $c + 1 > 2 * 3", B(">", B("+", C, S(1)), B("*", S(2), S(3)))),
    ("all comparisons", "return ($c = 1) and ($c != 2) and ($c <> 3) and ($c < 4) and ($c <= 5) and ($c >= 6)",
     B("and", B("and", B("and", B("and", B("and", B("=", C, S(1)), B("!=", C, S(2))), B("!=", C, S(3))),
                              B("<", C, S(4))), B("<=", C, S(5))), B(">=", C, S(6)))),
    ("and over or", "return $c > 1 or $c < 0 and $c = 5",
     B("or", B(">", C, S(1)), B("and", B("<", C, S(0)), B("=", C, S(5))))),
    ("xor", "return $c > 1 xor $c < 0", B("xor", B(">", C, S(1)), B("<", C, S(0)))),
    ("not below comparison", "return not $c > 1 and true", B("and", U("not", B(">", C, S(1))), S(True))),
    ("not as function", "return not($c)", U("not", C)),
    ("overlay lowest", "return $c > 1 or $c < 0 overlay $c",
     B("overlay", B("or", B(">", C, S(1)), B("<", C, S(0))), C)),
    ("is null", "return $c is null", IsNull(C)),
    ("is not null", "return $c + 1 is not null", IsNull(B("+", C, S(1)), negated=True)),
    ("nan inf", "return $c = nan or $c = inf", None),  # checked separately (nan != nan)
    # ---- induced functions -------------------------------------------------------------------
    ("unary functions", "return sqrt(abs($c)) + exp(log($c)) + ln($c)",
     B("+", B("+", U("sqrt", U("abs", C)), U("exp", U("log", C))), U("ln", C))),
    ("trigonometry", "return sin($c) * cos($c) * tan($c) * sinh($c) * cosh($c) * tanh($c)",
     B("*", B("*", B("*", B("*", B("*", U("sin", C), U("cos", C)), U("tan", C)), U("sinh", C)), U("cosh", C)),
       U("tanh", C))),
    ("arc functions", "return arcsin($c) + arccos($c) + arctan($c)",
     B("+", B("+", U("arcsin", C), U("arccos", C)), U("arctan", C))),
    ("rounding", "return round($c) + floor($c) + ceil($c)",
     B("+", B("+", U("round", C), U("floor", C)), U("ceil", C))),
    ("complex parts", "return re($c) + im($c)", B("+", U("re", C), U("im", C))),
    ("bit", "return bit($c, 3)", B("bit", C, S(3))),
    ("pow function", "return pow($c, 0.5)", B("pow", C, S(0.5))),
    ("mod div functions", "return mod($c, 2) + div($c, 3)", B("+", B("mod", C, S(2)), B("div", C, S(3)))),
    ("min max binary functions", "return min($c, 10) + max($c, 0)", B("+", B("min", C, S(10)), B("max", C, S(0)))),
    ("case-insensitive functions", "return SQRT($c) + Abs($c)", B("+", U("sqrt", C), U("abs", C))),
    # ---- casts ---------------------------------------------------------------------------------
    ("cast float", "return (float) $c + 1", B("+", Cast("float", C), S(1))),
    ("cast unsigned char", "return (unsigned char) ($c / 10)", Cast("unsigned char", B("/", C, S(10)))),
    ("all casts", "return (char) (short) (unsigned short) (int) (unsigned int) (long) (unsigned long) (double) "
                  "(boolean) (complex) (complex2) $c",
     Cast("char", Cast("short", Cast("unsigned short", Cast("int", Cast("unsigned int", Cast("long", Cast(
         "unsigned long", Cast("double", Cast("boolean", Cast("complex", Cast("complex2", C)))))))))))),
    # ---- bands ---------------------------------------------------------------------------------
    ("band by name", "return $c.B04", F(C, "B04")),
    ("band by index", "return $c.0", F(C, 0)),
    ("band of expression", "return ($c + 1).red", F(B("+", C, S(1)), "red")),
    ("band keyword-like names", "return $c.min + $c.Long", B("+", F(C, "min"), F(C, "Long"))),
    ("range constructor", "return {red: $c.0; green: $c.1; blue: $c.2}", rgb(F(C, 0), F(C, 1), F(C, 2))),
    ("range constructor commas", "return {a: 1, b: $c}", RangeConstructor((("a", S(1)), ("b", C)))),
    # ---- subsetting ------------------------------------------------------------------------------
    ("trim and slice", 'return $c[E(500000:510000), N(*:5000000), ansi("2021-05-01")]',
     sub(C, trim("E", 500000, 510000), trim("N", S(STAR), 5000000), at("ansi", T))),
    ("open upper bound", "return $c[E(10:*)]", sub(C, trim("E", 10, S(STAR)))),
    ("negative bounds", "return $c[Long(-10.5:20), Lat(-5)]", sub(C, trim("Long", -10.5, 20), at("Lat", -5))),
    ("crs subset", 'return $c[E:"EPSG:4326"(1:2), N:"CRS:1"(0:9)]',
     sub(C, trim("E", 1, 2, "EPSG:4326"), trim("N", 0, 9, "CRS:1"))),
    ("time interval", 'return $c[ansi("2021-05-01":"2021-06-01")]', sub(C, trim("ansi", T, S("2021-06-01")))),
    ("trim function", "return trim($c, {E(1:2), N(3:4)})", sub(C, trim("E", 1, 2), trim("N", 3, 4))),
    ("slice function", 'return slice($c, {ansi("2021-05-01")})', sub(C, at("ansi", T))),
    ("bound expressions", "return $c[E(imageCrsDomain($c, E).lo + 5 : imageCrsDomain($c, E).hi)]",
     sub(C, trim("E", B("+", Metadata("imageCrsDomain", C, "E", part="lo"), S(5)),
                 Metadata("imageCrsDomain", C, "E", part="hi")))),
    ("subset by a whole domain", "return $c[E(imageCrsDomain($c, E))]",
     sub(C, trim("E", Metadata("imageCrsDomain", C, "E", part="lo"), Metadata("imageCrsDomain", C, "E", part="hi")))),
    ("subset then band", 'return $c[ansi("2021-05-01")].B04', F(sub(C, at("ansi", T)), "B04")),
    ("nested subset", "return $c[E(1:10)][N(5)]", sub(sub(C, trim("E", 1, 10)), at("N", 5))),
    # ---- aggregation -----------------------------------------------------------------------------
    ("aggregates", "return count($c > 0) + avg($c) + add($c) + sum($c) + min($c) + max($c)",
     B("+", B("+", B("+", B("+", B("+", Aggregate("count", B(">", C, S(0))), Aggregate("avg", C)),
                              Aggregate("add", C)), Aggregate("add", C)), Aggregate("min", C)), Aggregate("max", C))),
    ("boolean aggregates", "return some($c > 0) and all($c < 9)",
     B("and", Aggregate("some", B(">", C, S(0))), Aggregate("all", B("<", C, S(9))))),
    ("condense", "return condense + over $t t(0:10) using $c[t($t)]",
     Condense("+", (AxisIterator("t", "t", S(0), S(10)),), sub(C, at("t", IteratorVar("t"))))),
    ("condense where, two iterators", "return condense max over $x x(0:9), $y y(0:4) where $x > $y using $c[x($x), y($y)] * 2",
     Condense("max", (AxisIterator("x", "x", S(0), S(9)), AxisIterator("y", "y", S(0), S(4))),
              B("*", sub(C, at("x", IteratorVar("x")), at("y", IteratorVar("y"))), S(2)),
              B(">", IteratorVar("x"), IteratorVar("y")))),
    ("condense ops", "return (condense * over $t t(0:1) using 2) + (condense min over $t t(0:1) using 1)",
     B("+", Condense("*", (AxisIterator("t", "t", S(0), S(1)),), S(2)),
       Condense("min", (AxisIterator("t", "t", S(0), S(1)),), S(1)))),
    ("condense and/or", "return (condense and over $t t(0:1) using true) or (condense or over $t t(0:1) using false)",
     B("or", Condense("and", (AxisIterator("t", "t", S(0), S(1)),), S(True)),
       Condense("or", (AxisIterator("t", "t", S(0), S(1)),), S(False)))),
    ("iterator over a domain", "return condense + over $p ansi(imageCrsDomain($c, ansi)) using $c[ansi($p)]",
     Condense("+", (AxisIterator("p", "ansi", domain_of=Metadata("imageCrsDomain", C, "ansi")),),
              sub(C, at("ansi", IteratorVar("p"))))),
    ("iterator bounds from metadata", "return condense + over $p x(imageCrsDomain($c[E(1:5)], E).lo : imageCrsDomain($c, E).hi) using 1",
     Condense("+", (AxisIterator("p", "x", Metadata("imageCrsDomain", sub(C, trim("E", 1, 5)), "E", part="lo"),
                                 Metadata("imageCrsDomain", C, "E", part="hi")),), S(1))),
    ("coverage constructor", "return coverage histogram over $b bucket(0:255) values count($c = $b)",
     CoverageConstructor("histogram", (AxisIterator("b", "bucket", S(0), S(255)),),
                         values=Aggregate("count", B("=", C, IteratorVar("b"))))),
    ("constructor two axes", "return coverage m over $x x(0:9), $y y(0:9) values $x * 10 + $y",
     CoverageConstructor("m", (AxisIterator("x", "x", S(0), S(9)), AxisIterator("y", "y", S(0), S(9))),
                         values=B("+", B("*", IteratorVar("x"), S(10)), IteratorVar("y")))),
    ("value list", "return coverage v over $i i(0:2) value list <1; -2; 3.5>",
     CoverageConstructor("v", (AxisIterator("i", "i", S(0), S(2)),), value_list=(S(1), S(-2), S(3.5)))),
    # ---- switch --------------------------------------------------------------------------------------
    ("switch", "return switch case $c > 10 return 1 case $c > 5 return 2 default return 0",
     Switch(((B(">", C, S(10)), S(1)), (B(">", C, S(5)), S(2))), S(0))),
    ("switch of colours", "return switch case $c is null return {red: 0; green: 0; blue: 0} default return {red: $c; green: $c; blue: $c}",
     Switch(((IsNull(C), rgb(S(0), S(0), S(0))),), rgb(C, C, C))),
    # ---- geometry --------------------------------------------------------------------------------------
    ("extend", "return extend($c, {E(0:100), N(0:50)})", Extend(C, (trim("E", 0, 100), trim("N", 0, 50)))),
    ("scale factor", "return scale($c, 2)", Scale(C, factor=S(2))),
    ("scale axis factors", "return scale($c, {E(0.5), N(0.5)})", Scale(C, axis_factors=(("E", S(0.5)), ("N", S(0.5))))),
    ("scale grid sizes", 'return scale($c, {E:"CRS:1"(0:99), N:"CRS:1"(0:49)})', Scale(C, sizes=(("E", S(100)), ("N", S(50))))),
    ("scale geo extent", "return scale($c, {E(500000:510000), N(4000000:4010000)})",
     Scale(C, extents=(("E", S(500000), S(510000)), ("N", S(4000000), S(4010000))))),
    ("scale like", "for $c in (A), $d in (B) return scale($c, imageCrsDomain($d))", Scale(C, like=D)),
    ("scale like braces", "for $c in (A), $d in (B) return scale($c, {imageCrsDomain($d[E(1:2)])})",
     Scale(C, like=sub(D, trim("E", 1, 2)))),
    ("scaleaxes", "return scaleaxes($c, [E(2), N(2)])", Scale(C, axis_factors=(("E", S(2)), ("N", S(2))))),
    ("scalesize", "return scalesize($c, [E(100), N(50)])", Scale(C, sizes=(("E", S(100)), ("N", S(50))))),
    ("scaleextent", "return scaleextent($c, [E(10:20), N(30:40)])",
     Scale(C, extents=(("E", S(10), S(20)), ("N", S(30), S(40))))),
    ("crsTransform", 'return crsTransform($c, {E:"EPSG:4326", N:"EPSG:4326"})', CrsTransform(C, "EPSG:4326")),
    ("crsTransform method", 'return crsTransform($c, {E:"EPSG:4326", N:"EPSG:4326"}, {bilinear})',
     CrsTransform(C, "EPSG:4326", method="bilinear")),
    ("crsTransform full", 'return crsTransform($c, "EPSG:4326", {cubic}, {Lat:0.01, Long:0.02}, {Lat(40:42), Long(10:12)})',
     CrsTransform(C, "EPSG:4326", "cubic", (("Lat", S(0.01)), ("Long", S(0.02))), (trim("Lat", 40, 42), trim("Long", 10, 12)))),
    ("crsTransform empty method", 'return crsTransform($c, "EPSG:3857", {}, {E:domain($c, E).resolution})',
     CrsTransform(C, "EPSG:3857", resolutions=(("E", Metadata("domain", C, "E", part="resolution")),))),
    ("clip polygon", "return clip($c, POLYGON((0 0, 10 0, 10 10, 0 0)))", Clip(C, "POLYGON((0 0, 10 0, 10 10, 0 0))")),
    ("clip with crs", 'return clip($c, polygon(( -10.5 20, 30 40,  50 60 )), "EPSG:4326")',
     Clip(C, "polygon(( -10.5 20, 30 40, 50 60 ))", "EPSG:4326")),
    ("clip multipolygon", "return clip($c, MULTIPOLYGON(((0 0, 1 1, 1 0, 0 0)), ((5 5, 6 6, 6 5, 5 5))))",
     Clip(C, "MULTIPOLYGON(((0 0, 1 1, 1 0, 0 0)), ((5 5, 6 6, 6 5, 5 5)))")),
    ("clip linestring", "return clip($c, LINESTRING(0 0, 10 10))", Clip(C, "LINESTRING(0 0, 10 10)")),
    ("clip linestring with coordinates", "return clip($c, LINESTRING(0 0, 10 10) WITH COORDINATES)",
     Clip(C, "LINESTRING(0 0, 10 10)", with_coordinates=True)),
    ("clip rasdaman with coordinates", "return clip($c, LINESTRING(0 0, 10 10)) with coordinates",
     Clip(C, "LINESTRING(0 0, 10 10)", with_coordinates=True)),
    ("flip", "return flip $c along E", Flip(C, "E")),
    ("sort", "return sort $c along ansi by avg($c)", Sort(C, "ansi", Aggregate("avg", C))),
    ("sort desc", "return sort $c along ansi desc by $c[E(0)]", Sort(C, "ansi", sub(C, at("E", 0)), descending=True)),
    # ---- metadata --------------------------------------------------------------------------------------
    ("metadata", "return identifier($c) + crsSet($c) + imageCrs($c) + cellCount($c) + nullSet($c)",
     B("+", B("+", B("+", B("+", Metadata("identifier", C), Metadata("crsSet", C)), Metadata("imageCrs", C)),
              Metadata("cellCount", C)), Metadata("nullSet", C))),
    ("domain", 'return domain($c, E, "EPSG:32633")', Metadata("domain", C, "E", "EPSG:32633")),
    ("domain parts", "return domain($c, E).lo + domain($c, N).hi + imageCrsDomain($c).hi",
     B("+", B("+", Metadata("domain", C, "E", part="lo"), Metadata("domain", C, "N", part="hi")),
       Metadata("imageCrsDomain", C, part="hi"))),
    ("imageCrsDomain with keyword-like axis", "return imageCrsDomain($c, Long)", Metadata("imageCrsDomain", C, "Long")),
    ("describe", "return describe($c)", Metadata("describe", C)),
    # ---- encode / decode / udf -----------------------------------------------------------------------------
    ("encode", 'return encode($c, "image/png")', png(C)),
    ("encode json options", r'return encode($c, "png", "{\"nodata\": [0], \"colorMap\": {\"type\": \"values\"}}")',
     Encode(C, "png", {"nodata": [0], "colorMap": {"type": "values"}})),
    ("encode legacy options", 'return encode($c, "image/tiff", "nodata=0")', Encode(C, "image/tiff", {"_legacy": "nodata=0"})),
    ("encode empty options", 'return encode($c, "csv", "")', Encode(C, "csv", {})),
    ("decode", "return decode($1) + decode($2, \"{}\")", B("+", Decoded(1), Decoded(2, "{}"))),
    ("user function", "return my.ndvi($c.B08, $c.B04)", FunctionCall("my", "ndvi", (F(C, "B08"), F(C, "B04")))),
    ("describe as a format", 'return describe($c, "gml", "{\\"outputType\\": \\"GeneralGridCoverage\\"}")',
     Encode(Metadata("describe", C), "gml", {"outputType": "GeneralGridCoverage"})),
    ("scalefactor", "return scalefactor($c, 0.5)", Scale(C, factor=S(0.5))),
    ("scale like one grid axis", "for $c in (A), $d in (B) return scale($c, imageCrsDomain($d, E))",
     Scale(C, sizes=(("E", B("+", B("-", Metadata("imageCrsDomain", D, "E", part="hi"),
                                     Metadata("imageCrsDomain", D, "E", part="lo")), S(1))),))),
    ("scale like a geo domain", "for $c in (A), $d in (B) return scale($c, domain($d))", Scale(C, like=D)),
    ("sort asc", "return sort $c along ansi asc by $c", Sort(C, "ansi", C)),
    ("switch with casts", "return switch case $c > 10 and $c < 20 return (char) 5 case $c > 30 return (char) 12 default return 2",
     Switch(((B("and", B(">", C, S(10)), B("<", C, S(20))), Cast("char", S(5))), (B(">", C, S(30)), Cast("char", S(12)))),
            S(2))),
    ("nested switch", "return switch case $c > 1 return switch case $c > 2 return 2 default return 1 case $c < 0 return -1 default return 0",
     Switch(((B(">", C, S(1)), Switch(((B(">", C, S(2)), S(2)),), S(1))), (B("<", C, S(0)), S(-1))), S(0))),
    ("switch in a band", "return {red: switch case $c > 1 return 255 default return 0; green: 0}",
     RangeConstructor((("red", Switch(((B(">", C, S(1)), S(255)),), S(0))), ("green", S(0))))),
    ("condense in parentheses", "return (condense + over $t t(0:1) using $c[t($t)]) / 2",
     B("/", Condense("+", (AxisIterator("t", "t", S(0), S(1)),), sub(C, at("t", IteratorVar("t")))), S(2))),
    ("crs slice", 'return $c[ansi:"CRS:1"(0)]', sub(C, at("ansi", 0, "CRS:1"))),
    ("where in parentheses and return in parentheses", "for $c in (A) where ($c > 1) return (encode($c, \"csv\"))",
     Encode(C, "csv")),
    ("udf spacing", "return ns.f ($c)", FunctionCall("ns", "f", (C,))),
    ("signed complex", "return (-1.5, +2)", Complex(-1.5, 2.0)),
    ("user function without arguments", "return ns.rand()", FunctionCall("ns", "rand", ())),
]


@pytest.mark.parametrize(("query", "expected"), [pytest.param(q, e, id=i) for i, q, e in CASES if e is not None])
def test_expression(query, expected):
    text = query if query.lower().startswith("for") else "for $c in (A) " + query
    result = parse_wcps(text)
    assert result.results == (expected,)
    assert len(result.where) == 1
    assert result.text == text


def test_nan_and_inf():
    (result,) = parse_wcps("for $c in (A) return $c = nan or $c = inf").results
    assert result.op == "or"
    assert math.isnan(result.left.right.value) and result.right.right.value == math.inf
