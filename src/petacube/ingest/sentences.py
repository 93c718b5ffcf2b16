"""``${...}`` sentences of ingredients files, evaluated as wcst_import evaluates them.

A sentence is evaluated in two steps: every ``${source:key}`` is replaced textually by the
value the input file gives for it (strings as they are, so the user quotes them:
``'${file:name}'``; numbers through ``repr``; lists as list literals), then the text is
parsed with a small expression grammar (never Python's ``eval``): numbers, quoted strings,
``+ - * / // % **``, comparisons, ``and or not``, ``a if c else b``, lists, list
comprehensions, indexing and slicing, a few string methods, and the functions
``datetime``, ``regex_extract``, ``replace``, ``grib_datetime`` plus ``int float str bool
abs min max round len sum sorted``.

Leniency, for metadata and plain option values: a sentence without ``${`` that is not an
expression (``"Temperature"``, ``"EPSG/0/4326"``) stays the string, and so does text that
is an ISO date (``"2012-01-01"`` is a date, not 2010).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from functools import lru_cache
from typing import Any

import numpy as np
from lark import Lark, Token
from lark.exceptions import LarkError

from petacube.errors import IngredientsError, PetacubeError
from petacube.ingest import dates

_KEY = re.compile(r"\$\{([^}]*)\}")
_ISO_DATE = re.compile(
    r"\d{4}-\d{2}(-\d{2})?([T ]\d{2}(:\d{2}(:\d{2}(\.\d+)?)?)?)?(Z|[+-]\d{2}(:?\d{2})?)?"
)
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

_GRAMMAR = r"""
?start: ternary

?ternary: or_test "if" or_test "else" ternary -> cond
        | or_test
?or_test: or_test "or" and_test -> or_
        | and_test
?and_test: and_test "and" not_test -> and_
         | not_test
?not_test: "not" not_test -> not_
         | comparison
?comparison: arith (COMP_OP arith)+ -> compare
           | arith
?arith: arith "+" term -> add
      | arith "-" term -> sub
      | term
?term: term "*" factor -> mul
     | term "/" factor -> div
     | term "//" factor -> floordiv
     | term "%" factor -> mod
     | factor
?factor: "-" factor -> neg
       | "+" factor -> pos
       | power
?power: postfix "**" factor -> pow
      | postfix
?postfix: postfix "[" ternary "]" -> index
        | postfix "[" [ternary] ":" [ternary] "]" -> slice
        | postfix "." NAME "(" [args] ")" -> method
        | NAME "(" [args] ")" -> call
        | atom
args: ternary ("," ternary)* ","?
?atom: INT -> int
     | FLOAT -> float
     | STRING+ -> string
     | NAME -> name
     | "(" ternary ")"
     | "[" [ternary ("," ternary)* ","?] "]" -> list
     | "[" ternary "for" NAME "in" or_test ["if" or_test] "]" -> listcomp

COMP_OP: "==" | "!=" | "<=" | ">=" | "<" | ">"
FLOAT: /(\d+\.\d*|\.\d+)([eE][+-]?\d+)?|\d+[eE][+-]?\d+/
INT: /0+(?![\d.eE])|[1-9]\d*(?![\d.eE])/
STRING: /[rR]?'(?:[^'\\]|\\.)*'|[rR]?"(?:[^"\\]|\\.)*"/
NAME: /[A-Za-z_]\w*/
%ignore /\s+/
"""


@lru_cache(maxsize=1)
def _parser() -> Lark:
    return Lark(_GRAMMAR, parser="lalr", maybe_placeholders=True)


class _EvalError(Exception):
    """A problem while evaluating; turned into an IngredientsError naming the sentence."""


class _UnknownName(_EvalError):
    pass


# ---- public API -----------------------------------------------------------------------


def evaluate(expression: str | int | float, resolve: Callable[[str], Any]) -> Any:
    """The value of an ingredients sentence; ``resolve(key)`` answers ``${key}``."""
    if not isinstance(expression, str):
        return expression  # numbers (and lists, booleans) given as JSON values
    text = expression
    keys = _KEY.findall(text)
    if "${" in text and text.count("${") != len(keys):
        raise IngredientsError(f"sentence {expression!r}: a '${{' has no closing '}}'")
    values = {}
    for key in keys:
        if key not in values:
            values[key] = _resolve(expression, key, resolve)
    sole = text.strip()
    alone = len(keys) == 1 and sole == f"${{{keys[0]}}}"  # the sentence is one key, nothing else
    if alone and not isinstance(values[keys[0]], str):
        return _plain(values[keys[0]])  # its value as it is (numbers, lists, dicts)
    if len(keys) == 1 and sole in (f"'${{{keys[0]}}}'", f'"${{{keys[0]}}}"'):
        return _format(values[keys[0]], expression)  # '${key}': its text, even with quotes inside
    substituted = _KEY.sub(lambda m: _format(values[m.group(1)], expression), text)
    if _ISO_DATE.fullmatch(substituted.strip()):
        return substituted.strip()
    try:
        tree = _parser().parse(substituted)
    except LarkError as exc:
        if not keys or alone:
            return substituted  # plain text, or one key whose text value is no expression
        raise IngredientsError(
            f"sentence {expression!r} is not a valid expression after substitution "
            f"({substituted!r}): {_syntax_problem(exc)}; quote text values, e.g. '${{file:name}}'"
        ) from None
    try:
        return _Evaluator().eval(tree, {})
    except _UnknownName as exc:
        if not keys or alone:
            return substituted
        raise IngredientsError(f"sentence {expression!r}: {exc}") from None
    except _EvalError as exc:
        after = f" (after substitution: {substituted!r})" if keys else ""
        raise IngredientsError(f"sentence {expression!r}{after}: {exc}") from None


def substitute(text: str, resolve: Callable[[str], Any]) -> str:
    """``text`` with every ``${key}`` replaced by its value, without evaluating anything."""
    return _KEY.sub(lambda m: _format(_resolve(text, m.group(1), resolve), text), text)


def keys_of(text: str) -> list[str]:
    """The ``${...}`` keys a sentence uses, in order."""
    return _KEY.findall(text) if isinstance(text, str) else []


def parse_datetime(value: Any, format: str | None = None) -> datetime:
    """A timezone-aware datetime (UTC unless the text says otherwise).

    ``value``: a number (seconds since 1970-01-01 UTC), an ISO 8601 text, or text in
    ``format`` written with arrow's tokens (``YYYY MM DD HH mm ss`` ..., ``[...]`` for
    literal text). ``format`` None or ``"auto"``: ISO 8601 or a number."""
    try:
        return _datetime(value, None if format in (None, "", "auto") else format)
    except _EvalError as exc:
        raise IngredientsError(str(exc)) from None


def format_value(value: Any) -> str:
    """The text a value is substituted as into a sentence."""
    return _format(value, "")


# ---- substitution -----------------------------------------------------------------------


def _resolve(sentence: str, key: str, resolve: Callable[[str], Any]) -> Any:
    try:
        return resolve(key)
    except PetacubeError as exc:
        raise type(exc)(f"sentence {sentence!r}: {exc.message}") from None
    except KeyError:
        raise IngredientsError(f"sentence {sentence!r}: unknown key '${{{key}}}'") from None


def _plain(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    return v


def _format(v: Any, sentence: str) -> str:
    v = _plain(v)
    if isinstance(v, str):
        return v
    if isinstance(v, bool) or v is None:
        return str(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, Decimal):
        return str(v)
    if isinstance(v, datetime):
        return repr(v.isoformat())
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(repr(x) if isinstance(x, str) else _format(x, sentence) for x in v) + "]"
    raise IngredientsError(
        f"sentence {sentence!r}: a {type(v).__name__} value cannot be part of an expression; "
        "use the key alone as the whole sentence"
    )


def _syntax_problem(exc: LarkError) -> str:
    col = getattr(exc, "column", None)
    token = getattr(exc, "token", None)
    if token is not None and getattr(token, "type", "") == "$END":
        return "it ends too early"
    if token is not None:
        return f"unexpected {str(token)!r} at column {col}"
    if col is not None:
        return f"unexpected character at column {col}"
    return "syntax error"


# ---- evaluation -----------------------------------------------------------------------


def _string_literal(tok: str) -> str:
    raw = tok[0] in "rR"
    body = tok[2:-1] if raw else tok[1:-1]
    if raw:
        return body
    out, i = [], 0
    simple = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"', "0": "\0", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            n = body[i + 1]
            if n in simple:
                out.append(simple[n])
                i += 2
                continue
            if n == "x" and re.fullmatch(r"[0-9a-fA-F]{2}", body[i + 2 : i + 4]):
                out.append(chr(int(body[i + 2 : i + 4], 16)))
                i += 4
                continue
            if n == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", body[i + 2 : i + 6]):
                out.append(chr(int(body[i + 2 : i + 6], 16)))
                i += 6
                continue
            out.append(c)  # unknown escapes keep their backslash, as in Python (regexes: '\d')
            i += 1
            continue
        out.append(c)
        i += 1
    return "".join(out)


def _tname(v: Any) -> str:
    return {str: "text", int: "integer", float: "number", bool: "boolean", list: "list", type(None): "None"}.get(
        type(v), type(v).__name__
    )


def _arith(op: str, a: Any, b: Any) -> Any:
    # a list with a number applies the number to every element (rasdaman users write
    # ${netcdf:variable:time} * 86400)
    if isinstance(a, list) and _is_num(b):
        return [_arith(op, x, b) for x in a]
    if isinstance(b, list) and _is_num(a):
        return [_arith(op, a, x) for x in b]
    if isinstance(a, bool):
        a = int(a)
    if isinstance(b, bool):
        b = int(b)
    try:
        if op == "+":
            if isinstance(a, datetime) and _is_num(b):
                return a + timedelta(seconds=b)
            return a + b
        if op == "-":
            if isinstance(a, datetime) and _is_num(b):
                return a - timedelta(seconds=b)
            if isinstance(a, datetime) and isinstance(b, datetime):
                return (a - b).total_seconds()
            return a - b
        if op == "*":
            return a * b
        if op == "/":
            return a / b
        if op == "//":
            return a // b
        if op == "%":
            if isinstance(a, str):
                raise TypeError
            return a % b
        if op == "**":
            return a**b
    except ZeroDivisionError:
        raise _EvalError(f"division by zero in {_short(a)} {op} {_short(b)}") from None
    except (TypeError, OverflowError, ValueError):
        raise _EvalError(f"cannot compute {_tname(a)} {op} {_tname(b)} ({_short(a)} {op} {_short(b)})") from None
    raise _EvalError(f"unknown operator {op}")


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _short(v: Any) -> str:
    s = repr(v)
    return s if len(s) <= 40 else s[:37] + "..."


_COMPARE = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}

_STR_METHODS = {
    "split", "rsplit", "replace", "strip", "lstrip", "rstrip", "lower", "upper", "startswith",
    "endswith", "zfill", "find", "rfind", "count", "isdigit", "join", "title", "capitalize",
}
_DATETIME_METHODS = {"isoformat", "strftime", "timestamp", "date", "year", "month", "day"}


class _Evaluator:
    def eval(self, node: Any, env: dict[str, Any]) -> Any:
        if isinstance(node, Token):
            return self._token(node, env)
        handler = getattr(self, "_" + node.data, None)
        if handler is None:
            raise _EvalError(f"unsupported construct {node.data}")
        return handler(node.children, env)

    def _token(self, tok: Token, env: dict[str, Any]) -> Any:
        if tok.type == "INT":
            return int(tok)
        if tok.type == "FLOAT":
            return float(tok)
        if tok.type == "STRING":
            return _string_literal(str(tok))
        if tok.type == "NAME":
            return self._lookup(str(tok), env)
        raise _EvalError(f"unexpected {tok!s}")

    def _lookup(self, name: str, env: dict[str, Any]) -> Any:
        if name in env:
            return env[name]
        constants = {"True": True, "False": False, "None": None, "nan": math.nan, "inf": math.inf}
        if name in constants:
            return constants[name]
        raise _UnknownName(f"unknown name '{name}' (text values need quotes)")

    # literals
    def _int(self, c, env):
        return int(c[0])

    def _float(self, c, env):
        return float(c[0])

    def _string(self, c, env):
        return "".join(_string_literal(str(t)) for t in c)

    def _name(self, c, env):
        return self._lookup(str(c[0]), env)

    def _list(self, c, env):
        return [self.eval(x, env) for x in c if x is not None]

    def _listcomp(self, c, env):
        body, var, source, cond = c
        seq = self.eval(source, env)
        if not isinstance(seq, (list, str)):
            raise _EvalError(f"cannot iterate over {_tname(seq)} {_short(seq)}")
        out = []
        for item in seq:
            inner = dict(env)
            inner[str(var)] = item
            if cond is None or self._truth(self.eval(cond, inner)):
                out.append(self.eval(body, inner))
        return out

    # operators
    def _cond(self, c, env):
        then, test, other = c
        return self.eval(then, env) if self._truth(self.eval(test, env)) else self.eval(other, env)

    def _or_(self, c, env):
        a = self.eval(c[0], env)
        return a if self._truth(a) else self.eval(c[1], env)

    def _and_(self, c, env):
        a = self.eval(c[0], env)
        return self.eval(c[1], env) if self._truth(a) else a

    def _not_(self, c, env):
        return not self._truth(self.eval(c[0], env))

    def _truth(self, v: Any) -> bool:
        return bool(v)

    def _compare(self, c, env):
        left = self.eval(c[0], env)
        for i in range(1, len(c), 2):
            op, right = str(c[i]), self.eval(c[i + 1], env)
            try:
                ok = _COMPARE[op](left, right)
            except TypeError:
                raise _EvalError(f"cannot compare {_tname(left)} {op} {_tname(right)}") from None
            if not ok:
                return False
            left = right
        return True

    def _binary(op):  # noqa: N805 - builds methods
        def method(self, c, env):
            return _arith(op, self.eval(c[0], env), self.eval(c[1], env))

        return method

    _add = _binary("+")
    _sub = _binary("-")
    _mul = _binary("*")
    _div = _binary("/")
    _floordiv = _binary("//")
    _mod = _binary("%")
    _pow = _binary("**")

    def _neg(self, c, env):
        v = self.eval(c[0], env)
        if isinstance(v, list):
            return [_arith("*", x, -1) for x in v]
        if not _is_num(v) and not isinstance(v, bool):
            raise _EvalError(f"cannot negate {_tname(v)} {_short(v)}")
        return -v

    def _pos(self, c, env):
        v = self.eval(c[0], env)
        if not _is_num(v) and not isinstance(v, bool):
            raise _EvalError(f"cannot apply unary + to {_tname(v)} {_short(v)}")
        return +v

    # postfix
    def _index(self, c, env):
        seq, i = self.eval(c[0], env), self.eval(c[1], env)
        if not isinstance(seq, (list, str)):
            raise _EvalError(f"cannot index {_tname(seq)} {_short(seq)}")
        if not isinstance(i, int) or isinstance(i, bool):
            raise _EvalError(f"an index must be an integer, not {_tname(i)} {_short(i)}")
        try:
            return seq[i]
        except IndexError:
            raise _EvalError(f"index {i} is out of range for {_short(seq)} (length {len(seq)})") from None

    def _slice(self, c, env):
        seq = self.eval(c[0], env)
        lo = self.eval(c[1], env) if c[1] is not None else None
        hi = self.eval(c[2], env) if c[2] is not None else None
        if not isinstance(seq, (list, str)):
            raise _EvalError(f"cannot slice {_tname(seq)} {_short(seq)}")
        for b in (lo, hi):
            if b is not None and (not isinstance(b, int) or isinstance(b, bool)):
                raise _EvalError(f"slice bounds must be integers, not {_tname(b)}")
        return seq[lo:hi]

    def _args(self, c, env):
        return [self.eval(x, env) for x in c]

    def _call(self, c, env):
        name = str(c[0])
        args = self.eval(c[1], env) if c[1] is not None else []
        fn = _FUNCTIONS.get(name)
        if fn is None:
            raise _EvalError(f"unknown function '{name}'; known: {', '.join(sorted(_FUNCTIONS))}")
        try:
            return fn(*args)
        except _EvalError:
            raise
        except TypeError as exc:
            raise _EvalError(f"{name}(): {exc}") from None
        except (ValueError, OverflowError) as exc:
            raise _EvalError(f"{name}({', '.join(_short(a) for a in args)}): {exc}") from None

    def _method(self, c, env):
        obj, name = self.eval(c[0], env), str(c[1])
        args = self.eval(c[2], env) if c[2] is not None else []
        allowed = _STR_METHODS if isinstance(obj, str) else _DATETIME_METHODS if isinstance(obj, datetime) else set()
        if name not in allowed:
            raise _EvalError(f"{_tname(obj)} has no method '{name}' here")
        attr = getattr(obj, name)
        try:
            return attr(*args) if callable(attr) else attr
        except (TypeError, ValueError) as exc:
            raise _EvalError(f".{name}(): {exc}") from None


# ---- functions ------------------------------------------------------------------------


def _fn_datetime(value: Any, format: str | None = None) -> Any:
    if isinstance(value, list):
        return [_datetime(v, format) for v in value]
    return _datetime(value, format)


def _datetime(value: Any, fmt: str | None) -> datetime:
    try:
        return dates.to_datetime(value, fmt)
    except dates.DateError as exc:
        raise _EvalError(str(exc)) from None


def _fn_regex_extract(text: Any, regex: Any, group: Any) -> str:
    if not isinstance(text, str) or not isinstance(regex, str):
        raise _EvalError(f"regex_extract(text, regex, group) needs text and a regex, got {_tname(text)} and {_tname(regex)}")
    try:
        m = re.search(regex, text)
    except re.error as exc:
        raise _EvalError(f"regex_extract: {regex!r} is not a valid regular expression ({exc})") from None
    if m is None:
        raise _EvalError(f"regex_extract: {regex!r} does not match {text!r}")
    if isinstance(group, str) and group.isdigit():
        group = int(group)
    try:
        out = m.group(group)
    except IndexError:
        raise _EvalError(
            f"regex_extract: {regex!r} has no group {group!r} (it has {len(m.groups())} group(s))"
        ) from None
    if out is None:
        raise _EvalError(f"regex_extract: group {group!r} of {regex!r} took no part in matching {text!r}")
    return out


def _fn_replace(text: Any, old: Any, new: Any) -> str:
    if not all(isinstance(x, str) for x in (text, old, new)):
        raise _EvalError("replace(text, old, new) needs three texts")
    return text.replace(old, new)


def _fn_grib_datetime(date: Any, time: Any) -> datetime:
    d = str(int(date)) if _is_num(date) else str(date).strip()
    t = str(int(time)) if _is_num(time) else str(time).strip()
    if not re.fullmatch(r"\d{8}", d) or not re.fullmatch(r"\d{1,4}", t):
        raise _EvalError(f"grib_datetime({date!r}, {time!r}): expected a date YYYYMMDD and a time HHMM")
    t = t.zfill(4)
    try:
        return datetime(int(d[:4]), int(d[4:6]), int(d[6:]), int(t[:2]), int(t[2:]), tzinfo=timezone.utc)
    except ValueError as exc:
        raise _EvalError(f"grib_datetime({date!r}, {time!r}): {exc}") from None


def _fn_cast(kind):
    def cast(value=None, *rest):
        if value is None and kind is not str:
            return kind()
        if kind is int and isinstance(value, str):
            value = value.strip()
            return int(float(value)) if re.fullmatch(r"[+-]?\d+\.0*", value) else int(value)
        if kind is int and isinstance(value, float):
            return int(value)
        if kind is bool and isinstance(value, str):
            low = value.strip().lower()
            if low in ("true", "false", "0", "1", ""):
                return low in ("true", "1")
        return kind(value, *rest)

    return cast


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "datetime": _fn_datetime,
    "regex_extract": _fn_regex_extract,
    "replace": _fn_replace,
    "grib_datetime": _fn_grib_datetime,
    "int": _fn_cast(int),
    "float": _fn_cast(float),
    "str": _fn_cast(str),
    "bool": _fn_cast(bool),
    "abs": abs,
    "min": min,
    "max": max,
    "round": round,
    "len": len,
    "sum": sum,
    "sorted": sorted,
}


__all__ = ["evaluate", "substitute", "keys_of", "parse_datetime", "format_value"]
