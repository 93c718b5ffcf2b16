"""Functions written ``name(args)``: induced math, aggregates, metadata, encode, decode."""

from __future__ import annotations

import difflib
import json

from lark import Token, Tree

from petacube.engine import ir
from petacube.errors import InvalidParameterValue, WcpsSyntaxError
from petacube.wcps.scope import Scope, error_at, unquote

UNARY_FUNCTIONS = (
    "abs", "sqrt", "exp", "log", "ln", "sin", "cos", "tan", "sinh", "cosh", "tanh", "arcsin",
    "arccos", "arctan", "round", "floor", "ceil", "re", "im", "sign",
)
BINARY_FUNCTIONS = ("bit", "arctan2")
AGGREGATES = ("count", "avg", "add", "sum", "some", "all")
METADATA = ("identifier", "crsSet", "imageCrs", "cellCount", "nullSet", "domain", "imageCrsDomain", "describe")
OTHERS = ("encode", "decode", "scalefactor")
# keywords that are also functions: parsed by the grammar, listed for suggestions
KEYWORD_FUNCTIONS = ("min", "max", "pow", "mod", "div", "not", "trim", "slice", "extend", "scale",
                     "scaleaxes", "scalesize", "scaleextent", "crsTransform", "clip")

KNOWN = UNARY_FUNCTIONS + BINARY_FUNCTIONS + AGGREGATES + METADATA + OTHERS + KEYWORD_FUNCTIONS
_CANONICAL = {name.lower(): name for name in KNOWN}


def _arguments(tree: Tree) -> list[Tree]:
    return list(tree.children[-1].children) if len(tree.children) > 1 and isinstance(tree.children[-1], Tree) \
        and tree.children[-1].data == "args" else []


def _arity(name_token: Token, name: str, args: list, low: int, high: int | None = None) -> None:
    high = low if high is None else high
    if low <= len(args) <= high:
        return
    wanted = str(low) if low == high else f"{low} to {high}"
    plural = "" if wanted == "1" else "s"
    raise error_at(name_token, f"{name}() takes {wanted} argument{plural}, got {len(args)}")


def _axis_name(arg: Tree) -> str:
    """An axis argument such as the ``E`` of ``domain($c, E)``: a bare name, not a variable."""
    if isinstance(arg, Tree) and arg.data == "var" and arg.children[0].type == "NAME":
        return str(arg.children[0])
    raise error_at(arg, "an axis name is needed here")


def _string(arg: Tree, what: str) -> str:
    if isinstance(arg, Tree) and arg.data == "string":
        return unquote(arg.children[0])
    raise error_at(arg, f"{what} must be a quoted string")


def call(translator, tree: Tree, scope: Scope) -> ir.Expr:
    """``name(args)`` with a NAME the grammar does not know as a keyword."""
    name_token = tree.children[0]
    key = str(name_token).lower()
    name = _CANONICAL.get(key)
    if name is None:
        close = difflib.get_close_matches(key, list(_CANONICAL), n=3, cutoff=0.6)
        hint = f"; did you mean {' or '.join(_CANONICAL[c] + '()' for c in close)}?" if close else ""
        raise error_at(name_token, f"unknown function '{name_token}'{hint}")
    args = _arguments(tree)
    expr = lambda i: translator.expr(args[i], scope)  # noqa: E731

    if name in UNARY_FUNCTIONS:
        _arity(name_token, name, args, 1)
        return ir.Unary(name, expr(0))
    if name in BINARY_FUNCTIONS:
        _arity(name_token, name, args, 2)
        return ir.Binary(name, expr(0), expr(1))
    if name in AGGREGATES:
        _arity(name_token, name, args, 1)
        return ir.Aggregate("add" if name == "sum" else name, expr(0))
    if name in ("identifier", "crsSet", "imageCrs", "cellCount", "nullSet"):
        _arity(name_token, name, args, 1)
        return ir.Metadata(name, expr(0))
    if name == "imageCrsDomain":
        _arity(name_token, name, args, 1, 2)
        return ir.Metadata(name, expr(0), axis=_axis_name(args[1]) if len(args) > 1 else None)
    if name == "domain":
        _arity(name_token, name, args, 1, 3)
        axis = _axis_name(args[1]) if len(args) > 1 else None
        crs = _string(args[2], "the CRS of domain()") if len(args) > 2 else None
        return ir.Metadata(name, expr(0), axis=axis, crs=crs)
    if name == "describe":
        _arity(name_token, name, args, 1, 3)
        described = ir.Metadata(name, expr(0))
        if len(args) == 1:
            return described
        options = encode_options(args[2]) if len(args) > 2 else {}
        return ir.Encode(described, _string(args[1], "the format"), options)
    if name == "encode":
        _arity(name_token, name, args, 2, 3)
        options = encode_options(args[2]) if len(args) > 2 else {}
        return ir.Encode(expr(0), _string(args[1], "the format of encode()"), options)
    if name == "decode":
        _arity(name_token, name, args, 1, 2)
        return decoded(args[0], _string(args[1], "the options of decode()") if len(args) > 1 else None)
    if name == "scalefactor":
        _arity(name_token, name, args, 2)
        return ir.Scale(expr(0), factor=expr(1))
    raise error_at(name_token, f"{name} needs its own syntax here")  # keyword functions reach here only misspelt


def decoded(arg: Tree | Token, options: str | None) -> ir.Decoded:
    token = arg.children[0] if isinstance(arg, Tree) and arg.data == "positional" else arg
    if not (isinstance(token, Token) and token.type == "POSITIONAL"):
        raise error_at(arg, "decode() takes a positional parameter such as $1")
    position = int(token[1:])
    if position < 1:
        raise error_at(token, "positional parameters count from $1", InvalidParameterValue)
    return ir.Decoded(position, options)


def keyword_call(translator, tree: Tree, scope: Scope) -> ir.Expr:
    """min/max/pow/mod/div written as functions: ``min(a, b)``, ``max($c)`` (an aggregate)."""
    name_token, args_tree = tree.children
    name = str(name_token.type).lower()
    args = [translator.expr(a, scope) for a in args_tree.children]
    if name in ("min", "max") and len(args) == 1:
        return ir.Aggregate(name, args[0])
    _arity(name_token, name, args, 2)
    return ir.Binary(name, args[0], args[1])


def encode_options(arg: Tree) -> dict:
    """encode()'s third argument: JSON, or rasdaman's old ``key=value;...`` kept as text."""
    if not (isinstance(arg, Tree) and arg.data == "string"):
        raise error_at(arg, "the options of encode() must be a quoted string")
    token = arg.children[0]
    text = unquote(token).strip()
    if not text:
        return {}
    if not text.startswith(("{", "[")):
        return {"_legacy": text}
    try:
        options = json.loads(text)
    except json.JSONDecodeError as exc:
        raise WcpsSyntaxError(f"the options of encode() are not valid JSON: {exc.msg} at character {exc.pos + 1}",
                              line=token.line, column=token.column, token=str(token)) from None
    if not isinstance(options, dict):
        raise WcpsSyntaxError("the options of encode() must be a JSON object",
                              line=token.line, column=token.column, token=str(token))
    return options
