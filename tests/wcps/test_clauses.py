"""for / let / where / return, comments, keywords' case and the Sentinel-2 demo queries."""

from __future__ import annotations

from petacube.engine.ir import (
    Aggregate, AxisIterator, AxisSubset, Binary, Cast, Clip, Condense, CoverageRef, Decoded, Encode, Field,
    IteratorVar, Query, RangeConstructor, Scalar, Scale, Subset, Switch,
)
from petacube.wcps import parse_wcps

A, B, C = CoverageRef("A"), CoverageRef("B"), CoverageRef("C")
S2 = CoverageRef("S2_L2A")


def S(value):
    return Scalar(value)


def bin_(op, left, right):
    return Binary(op, left, right)


def band(name, coverage=S2):
    return Field(coverage, name)


def day(source, date="2021-05-01"):
    return Subset(source, (AxisSubset("ansi", at=S(date)),))


def rgb(red, green, blue):
    return RangeConstructor((("red", red), ("green", green), ("blue", blue)))


# ---- for ---------------------------------------------------------------------------------------
def test_one_result_per_coverage_combination():
    query = parse_wcps("for $c in (A, B), $d in (C) return $c + $d")
    assert query.results == (bin_("+", A, C), bin_("+", B, C))
    assert query.where == (None, None)


def test_combinations_first_iterator_outermost():
    query = parse_wcps("for $c in (A, B), $d in (A, C) return $c - $d")
    assert query.results == (bin_("-", A, A), bin_("-", A, C), bin_("-", B, A), bin_("-", B, C))


def test_repeated_for_keyword_and_no_parentheses():
    query = parse_wcps("for $c in A for $d in B return $c * $d")
    assert query.results == (bin_("*", A, B),)


def test_iterator_without_dollar():
    assert parse_wcps("for c in (A) return c.red + $c.green").results == (bin_("+", Field(A, "red"), Field(A, "green")),)


def test_decode_as_coverage_source():
    query = parse_wcps('for $c in (decode($1), decode($2, "{\\"variables\\": [\\"b1\\"]}")) return $c')
    assert query.results == (Decoded(1), Decoded(2, '{"variables": ["b1"]}'))


def test_where_kept_per_result():
    query = parse_wcps("for $c in (A, B) where avg($c) > 10 return encode($c, \"png\")")
    assert query.results == (Encode(A, "png"), Encode(B, "png"))
    assert query.where == (bin_(">", Aggregate("avg", A), S(10)), bin_(">", Aggregate("avg", B), S(10)))


def test_query_keeps_text():
    text = "for $c in (A) return 1"
    assert parse_wcps(text) == Query((S(1),), (None,), text)


# ---- let -------------------------------------------------------------------------------------------
def test_let_is_inlined():
    query = parse_wcps("for $c in (A, B) let $x := $c.nir - $c.red, $y := $x / 2 return $y + $x")
    x_a = bin_("-", Field(A, "nir"), Field(A, "red"))
    x_b = bin_("-", Field(B, "nir"), Field(B, "red"))
    assert query.results == (bin_("+", bin_("/", x_a, S(2)), x_a), bin_("+", bin_("/", x_b, S(2)), x_b))


def test_let_subset_list():
    query = parse_wcps("for $c in (A) let $s := [E(1:2), N(3:4)] return $c[$s]")
    assert query.results == (Subset(A, (AxisSubset("E", lo=S(1), hi=S(2)), AxisSubset("N", lo=S(3), hi=S(4)))),)


def test_let_wkt():
    query = parse_wcps("for $c in (A) let $p := POLYGON((0 0, 1 1, 1 0, 0 0)) return clip($c, $p, \"EPSG:4326\")")
    assert query.results == (Clip(A, "POLYGON((0 0, 1 1, 1 0, 0 0))", "EPSG:4326"),)


def test_let_wkt_as_string_and_clip_by_string():
    query = parse_wcps('for $c in (A) let $p := "POLYGON((0 0, 1 1, 1 0, 0 0))" '
                       'return clip($c, $p) + clip($c, "LINESTRING(0 0, 1 1)", "EPSG:4326")')
    assert query.results == (bin_("+", Clip(A, "POLYGON((0 0, 1 1, 1 0, 0 0))"),
                                  Clip(A, "LINESTRING(0 0, 1 1)", "EPSG:4326")),)


def test_let_after_where_and_before_where():
    first = parse_wcps("for $c in (A) let $m := max($c) where $m > 1 return $m")
    second = parse_wcps("for $c in (A) where $m > 1 let $m := max($c) return $m")
    assert first.results == second.results == (Aggregate("max", A),)
    assert first.where == second.where == (bin_(">", Aggregate("max", A), S(1)),)


def test_iterator_shadows_let():
    query = parse_wcps("for $c in (A) let $t := 5 return condense + over $t t(0:$t) using $t")
    assert query.results == (Condense("+", (AxisIterator("t", "t", S(0), S(5)),), IteratorVar("t")),)


# ---- lexical ------------------------------------------------------------------------------------------
def test_keywords_case_insensitive():
    upper = parse_wcps('FOR $c IN (A) LET $x := $c WHERE $x > 0 RETURN ENCODE(SWITCH CASE $x > 1 RETURN 1 DEFAULT RETURN 0, "csv")')
    lower = parse_wcps('for $c in (A) let $x := $c where $x > 0 return encode(switch case $x > 1 return 1 default return 0, "csv")')
    assert upper.results == lower.results == (Encode(Switch(((bin_(">", A, S(1)), S(1)),), S(0)), "csv"),)
    assert upper.where == lower.where


def test_comments():
    query = parse_wcps("""-- true colour
        for $c in (A) /* a block
        comment */ return $c -- the end""")
    assert query.results == (A,)


def test_comment_inside_wkt_is_dropped():
    query = parse_wcps("for $c in (A) return clip($c, POLYGON((0 0, /* corner */ 1 1,\n 1 0, 0 0)))")
    assert query.results == (Clip(A, "POLYGON((0 0, 1 1, 1 0, 0 0))"),)


def test_coverage_names_that_look_like_keywords():
    query = parse_wcps("for $c in (count, min) return $c")
    assert query.results == (CoverageRef("count"), CoverageRef("min"))


# ---- the Sentinel-2 demo queries (as rasdaman's demo writes them) -------------------------------------------
def s2(query):
    return parse_wcps(query).results[0]


def test_demo_true_colour():
    result = s2('for $c in (S2_L2A) return encode({red: $c.B04 / 10; green: $c.B03 / 10; blue: $c.B02 / 10}'
                '[ansi("2021-05-01")], "image/png")')
    colours = rgb(bin_("/", band("B04"), S(10)), bin_("/", band("B03"), S(10)), bin_("/", band("B02"), S(10)))
    assert result == Encode(day(colours), "image/png")


def test_demo_false_colour():
    result = s2('for $c in (S2_L2A) return encode({red: $c.B08; green: $c.B04; blue: $c.B03}[ansi("2021-05-01"), '
                'E(500000:510000), N(5000000:5010000)] / 10, "image/png")')
    subset = Subset(rgb(band("B08"), band("B04"), band("B03")), (
        AxisSubset("ansi", at=S("2021-05-01")), AxisSubset("E", lo=S(500000), hi=S(510000)),
        AxisSubset("N", lo=S(5000000), hi=S(5010000))))
    assert result == Encode(bin_("/", subset, S(10)), "image/png")


def test_demo_ndvi():
    result = s2('for $c in (S2_L2A) let $n := $c.B08[ansi("2021-05-01")], $r := $c.B04[ansi("2021-05-01")] '
                'return encode(((float) $n - $r) / ((float) $n + $r), "image/tiff")')
    n, r = day(band("B08")), day(band("B04"))
    assert result == Encode(bin_("/", bin_("-", Cast("float", n), r), bin_("+", Cast("float", n), r)), "image/tiff")


def test_demo_ndvi_green_highlight():
    result = s2('for $c in (S2_L2A) return encode(switch '
                'case (($c.B08 - $c.B04) / ($c.B08 + $c.B04)) > 0.4 return {red: 0; green: 255; blue: 0} '
                'default return {red: $c.B04 / 10; green: $c.B03 / 10; blue: $c.B02 / 10}, "image/png")')
    ndvi = bin_("/", bin_("-", band("B08"), band("B04")), bin_("+", band("B08"), band("B04")))
    assert result == Encode(Switch(((bin_(">", ndvi, S(0.4)), rgb(S(0), S(255), S(0))),),
                                   rgb(bin_("/", band("B04"), S(10)), bin_("/", band("B03"), S(10)),
                                       bin_("/", band("B02"), S(10)))), "image/png")


def test_demo_water_mask():
    result = s2('for $c in (S2_L2A) return encode((($c.B03 - $c.B08) / ($c.B03 + $c.B08) > 0) * 255, "image/png")')
    ndwi = bin_("/", bin_("-", band("B03"), band("B08")), bin_("+", band("B03"), band("B08")))
    assert result == Encode(bin_("*", bin_(">", ndwi, S(0)), S(255)), "image/png")


def test_demo_land_mask():
    result = s2('for $c in (S2_L2A) return encode((unsigned char) ($c.B08 > 1500 and $c.B04 < 1000) * 255, "png")')
    assert result == Encode(bin_("*", Cast("unsigned char", bin_("and", bin_(">", band("B08"), S(1500)),
                                                                 bin_("<", band("B04"), S(1000)))), S(255)), "png")


def test_demo_mtci():
    result = s2('for $c in (S2_L2A) return encode(($c.B06 - $c.B05) / ($c.B05 - $c.B04), "image/tiff")')
    assert result == Encode(bin_("/", bin_("-", band("B06"), band("B05")), bin_("-", band("B05"), band("B04"))),
                            "image/tiff")


def test_demo_polygon_clip():
    result = s2('for $c in (S2_L2A) return encode(clip($c.B04[ansi("2021-05-01")], '
                'POLYGON((500000 5000000, 510000 5000000, 510000 5010000, 500000 5000000))), "image/tiff")')
    assert result == Encode(Clip(day(band("B04")), "POLYGON((500000 5000000, 510000 5000000, 510000 5010000, "
                                                   "500000 5000000))"), "image/tiff")


def test_demo_time_series_average():
    result = s2('for $c in (S2_L2A) return encode(coverage avgs over $t ansi(imageCrsDomain($c, ansi)) '
                'values avg($c.B08[ansi($t)]), "json")')
    from petacube.engine.ir import CoverageConstructor, Metadata
    assert result == Encode(CoverageConstructor("avgs", (AxisIterator("t", "ansi", domain_of=Metadata(
        "imageCrsDomain", S2, "ansi")),), values=Aggregate("avg", Subset(band("B08"), (
            AxisSubset("ansi", at=IteratorVar("t")),)))), "json")


def test_demo_thumbnail():
    result = s2('for $c in (S2_L2A) return encode(scale($c.B04[ansi("2021-05-01")], {E:"CRS:1"(0:255), N:"CRS:1"(0:255)}) / 10, "png")')
    assert result == Encode(bin_("/", Scale(day(band("B04")), sizes=(("E", S(256)), ("N", S(256)))), S(10)), "png")
