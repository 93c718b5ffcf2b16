"""Syntax errors (line, column, token, what was expected) and translation errors."""

from __future__ import annotations

import pytest

from petacube.errors import InvalidParameterValue, WcpsError, WcpsSyntaxError
from petacube.wcps import parse_tree, parse_wcps

SYNTAX = [
    # (query, line, column, token, message without the position)
    ('for $c in (A) return encode($c, "png"', 1, 38, "", "unexpected end of query; expected ')' or ','"),
    ("for $c in (A) return $c[E(1:2]", 1, 30, "]", "unexpected ']'; expected ')' or an operator"),
    ('for $c in (A)\nreturn encode($c +, "png")', 2, 19, ",", "unexpected ','; expected an expression"),
    ("for $c in (A) retrun $c", 1, 15, "retrun", "unexpected 'retrun'; expected ',', 'for', 'let', 'return' or 'where'"),
    ("for $c in A return (float $c", 1, 27, "$c", "unexpected '$c'; expected ')'"),
    ("for $c in A return $c @ 1", 1, 23, "@", "unexpected character '@'; expected an operator or the end of the query"),
    ('for $c in A return "abc', 1, 20, '"', "unterminated string: no closing '\"'"),
    ("return 1", 1, 1, "return", "unexpected 'return'; expected 'for'"),
    ("", 1, 1, "", "unexpected end of query; expected 'for'"),
    ("for $c in (A)\n  return\n", 3, 1, "", "unexpected end of query; expected an expression"),
    ("for $c in (A) return {red: $c; green $c}", 1, 38, "$c", "unexpected '$c'; expected ':'"),
    ("for $c in (A) return $c[E(1:2)] where $c", 1, 33, "where", "unexpected 'where'; expected the end of the query"),
    ("for $c in (A) return switch case $c > 1 return 2", 1, 49, "",
     "unexpected end of query; expected 'case' or 'default'"),
]


@pytest.mark.parametrize(("query", "line", "column", "token", "message"), SYNTAX)
def test_syntax_error(query, line, column, token, message):
    with pytest.raises(WcpsSyntaxError) as info:
        parse_wcps(query)
    error = info.value
    assert (error.line, error.column, error.token) == (line, column, token)
    assert str(error) == f"{message} (line {line}, column {column})"
    assert error.locator == f"{line}:{column}"


def test_parse_tree_raises_the_same():
    with pytest.raises(WcpsSyntaxError):
        parse_tree("for $c in (A) return")
    assert parse_tree("for $c in (A) return 1").data == "start"


def test_bad_json_options_point_at_the_string():
    with pytest.raises(WcpsSyntaxError) as info:
        parse_wcps('for $c in (A)\nreturn encode($c, "png", "{\\"nodata\\": }")')
    assert (info.value.line, info.value.column) == (2, 26)
    assert "not valid JSON" in str(info.value)


def test_json_options_must_be_an_object():
    with pytest.raises(WcpsSyntaxError, match="JSON object"):
        parse_wcps('for $c in (A) return encode($c, "png", "[1]")')


TRANSLATION = [
    ("for $c in (A) return $d + 1", WcpsError, "unknown variable '$d' (variables in scope: $c) (line 1, column 22)"),
    ("for $c in (A) return encod($c, \"png\")", WcpsError,
     "unknown function 'encod'; did you mean encode() or decode()? (line 1, column 22)"),
    ("for $c in (A) return sqr($c)", WcpsError, "unknown function 'sqr'; did you mean sqrt()? (line 1, column 22)"),
    ("for $c in (A) return frobnicate($c)", WcpsError, "unknown function 'frobnicate' (line 1, column 22)"),
    ("for $c in (A) return avg($c, 2)", WcpsError, "avg() takes 1 argument, got 2 (line 1, column 22)"),
    ("for $c in (A) return encode($c)", WcpsError, "encode() takes 2 to 3 arguments, got 1 (line 1, column 22)"),
    ('for $c in (A) return crsTransform($c, {E:"EPSG:4326", N:"EPSG:3857"})', InvalidParameterValue,
     "crsTransform() needs one target CRS for all axes, got E:'EPSG:4326', N:'EPSG:3857' (line 1, column 39)"),
    ("for $c in A let $s := [E(1:2)] return $s + 1", WcpsError,
     "'$s' names a subset list, but a coverage expression is needed here (line 1, column 39)"),
    ("for $c in A return clip($c, $c)", WcpsError,
     "'$c' names a coverage expression, but a WKT geometry is needed here (line 1, column 29)"),
    ("for $c in A return $1", WcpsError, "positional parameter '$1' is only allowed inside decode() (line 1, column 20)"),
    ("for $c in A return domain($c, $c)", WcpsError, "an axis name is needed here (line 1, column 31)"),
    ("for $c in A return trim($c, {E(1)})", WcpsError, "trim() needs an interval lo:hi on axis E (line 1, column 30)"),
    ("for $c in A return slice($c, {E(1:2)})", WcpsError, "slice() needs a single point on axis E (line 1, column 31)"),
    ("for $c in A return {a: 1; a: 2}", WcpsError, "band 'a' given twice in the range constructor (line 1, column 27)"),
    ("for $c in A, $c in B return 1", WcpsError, "iterator '$c' is declared twice (line 1, column 14)"),
    ("for $c in A return scale($c, {E(1), N(1:2)})", WcpsError,
     "scale() takes either factors E(f) or intervals E(lo:hi) on all axes, not both (line 1, column 31)"),
    ("for $c in A return condense + over $t t($t:2) using 1", WcpsError,
     "unknown variable '$t' (variables in scope: $c) (line 1, column 41)"),
    ("for $c in A return identifier($c).lo", WcpsError,
     "'.lo' applies to domain() and imageCrsDomain(), not identifier() (line 1, column 35)"),
    ("for $c in A where 1 where 2 return 1", WcpsError, "a query has at most one where clause (line 1, column 21)"),
    ("for $c in A return scalesize($c, [E(1:2)])", WcpsError,
     "scalesize() needs a single value E(v) on axis E (line 1, column 35)"),
    ("for $c in (foo($1)) return $c", WcpsError,
     "'foo(...)' cannot name a coverage here; use a coverage name or decode($1) (line 1, column 12)"),
    ("for $c in A return coverage m over $x x(5) values 1", WcpsError,
     "iterator '$x' needs lo:hi or a domain such as imageCrsDomain($c, x) (line 1, column 41)"),
]


@pytest.mark.parametrize(("query", "cls", "message"), TRANSLATION)
def test_translation_error(query, cls, message):
    with pytest.raises(cls) as info:
        parse_wcps(query)
    assert type(info.value) is cls
    assert str(info.value) == message
