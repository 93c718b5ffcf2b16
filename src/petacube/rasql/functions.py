"""rasql functions ``name(args)``: induced math, the *_cells condensers and statistics,
sdom/dbinfo/version, encode/decode, extend/scale/shift/project/clip."""

from __future__ import annotations

import difflib

from lark import Token, Tree

import petacube
from petacube.engine import ir
from petacube.engine.arrays import Sdom, Shift
from petacube.rasql.errors import rasql_error

UNARY = ("abs", "sqrt", "exp", "log", "ln", "sin", "cos", "tan", "sinh", "cosh", "tanh", "arcsin", "arccos",
         "arctan", "round", "floor", "ceil", "sign")
_ALIASES = {"asin": "arcsin", "acos": "arccos", "atan": "arctan"}
CELLS = {"add_cells": "add", "avg_cells": "avg", "min_cells": "min", "max_cells": "max", "count_cells": "count",
         "some_cells": "some", "all_cells": "all"}
STATISTICS = ("stddev_pop", "stddev_samp", "var_pop", "var_samp")
OTHERS = ("pow", "power", "min", "max", "bit", "arctan2", "sdom", "dbinfo", "version", "encode", "decode",
          "extend", "scale", "shift", "project", "clip", "complex")
KNOWN = UNARY + tuple(_ALIASES) + tuple(CELLS) + STATISTICS + OTHERS


def _args(tree: Tree) -> list:
    last = tree.children[-1]
    return list(last.children) if isinstance(last, Tree) and last.data == "args" else []


def _arity(token, name: str, args: list, low: int, high: int | None = None) -> None:
    high = low if high is None else high
    if not low <= len(args) <= high:
        wanted = str(low) if low == high else f"{low} to {high}"
        raise rasql_error(300, token, token=name,
                          hint=f"{name}() takes {wanted} argument(s), got {len(args)}.")


def call(tr, tree: Tree) -> ir.Expr:
    """Translate ``name(args)``; ``tr`` is the `Translator`."""
    token = tree.children[0]
    name = _ALIASES.get(str(token).lower(), str(token).lower())
    args = _args(tree)
    value = lambda i: tr.value(args[i])
    if name in UNARY:
        _arity(token, name, args, 1)
        return ir.Unary(name, value(0))
    if name in ("pow", "power", "bit", "arctan2") or (name in ("min", "max") and len(args) == 2):
        _arity(token, name, args, 2)
        return ir.Binary("pow" if name == "power" else name, value(0), value(1))
    if name in ("min", "max"):
        _arity(token, name, args, 1)
        return ir.Aggregate(name, value(0))
    if name in CELLS:
        _arity(token, name, args, 1)
        if name == "avg_cells":  # rasdaman averages in double
            return ir.Aggregate("avg", ir.Cast("double", value(0)))
        return ir.Aggregate(CELLS[name], value(0))
    if name in STATISTICS:
        _arity(token, name, args, 1)
        return statistic(name, value(0))
    if name == "complex":
        _arity(token, name, args, 2)
        re_, im_ = value(0), value(1)
        if not all(isinstance(x, ir.Scalar) for x in (re_, im_)):
            raise rasql_error(311, token, hint="complex(re, im) takes two number literals.")
        return ir.Complex(float(re_.value), float(im_.value))
    if name == "sdom":
        _arity(token, name, args, 1)
        return Sdom(value(0))
    if name == "version":
        _arity(token, name, args, 0)
        return ir.Scalar(f"petacube {petacube.__version__} (rasql compatible with rasdaman 10)")
    if name == "dbinfo":
        _arity(token, name, args, 1, 2)
        source = value(0)
        if not isinstance(source, ir.CoverageRef) or tr.dbinfo is None:
            raise rasql_error(430, args[0], hint="dbinfo() takes a collection iterator, e.g. dbinfo(c).")
        return ir.Scalar(tr.dbinfo(source.name))
    if name == "encode":
        _arity(token, name, args, 2, 3)
        fmt = value(1)
        if not (isinstance(fmt, ir.Scalar) and isinstance(fmt.value, str)):
            raise rasql_error(382, args[1], hint='Give the format as a string, e.g. "png".')
        options = tr.options(args[2]) if len(args) > 2 else {}
        return ir.Encode(value(0), fmt.value, options)
    if name == "decode":
        _arity(token, name, args, 1, 3)
        arg = args[0]
        if not (isinstance(arg, Tree) and arg.data == "positional"):
            raise rasql_error(373, arg, hint="decode() takes a file parameter such as $1 (the file given with -f).")
        position = int(str(arg.children[0])[1:])
        fmt = value(1).value if len(args) > 1 and isinstance(value(1), ir.Scalar) else None
        return ir.Decoded(position, fmt or None)
    if name == "extend":
        _arity(token, name, args, 2)
        source = value(0)
        return ir.Extend(source, _interval_axes(tr, source, args[1], "extend"))
    if name == "scale":
        _arity(token, name, args, 2)
        return _scale(tr, value(0), args[1])
    if name == "shift":
        _arity(token, name, args, 2)
        return Shift(value(0), tuple(e for e in _point(tr, args[1], "shift")))
    if name == "project":
        _arity(token, name, args, 4, 5)
        target = value(3)
        if not (isinstance(target, ir.Scalar) and isinstance(target.value, str)):
            raise rasql_error(352, args[3], hint='project() takes the target CRS as a string, e.g. "EPSG:4326".')
        method = value(4).value.lower() if len(args) > 4 and isinstance(value(4), ir.Scalar) else "near"
        return ir.CrsTransform(value(0), target.value, method=method)
    if name == "clip":
        _arity(token, name, args, 2)
        wkt = value(1)
        if not (isinstance(wkt, ir.Scalar) and isinstance(wkt.value, str)):
            raise rasql_error(352, args[1], hint='clip() takes the geometry as WKT in a string, e.g. "POLYGON((...))".')
        return ir.Clip(value(0), wkt.value.strip())
    close = difflib.get_close_matches(name, KNOWN, n=3, cutoff=0.6)
    hint = f"Unknown function '{token}'" + (f"; did you mean {' or '.join(c + '()' for c in close)}?" if close else ".")
    raise rasql_error(300, token, hint=hint)


def statistic(name: str, x: ir.Expr) -> ir.Expr:
    """Population/sample variance and standard deviation from the engine's condensers
    (nulls skipped): var_pop = avg((x - avg(x))^2), var_samp = var_pop * n / (n - 1)."""
    xd = ir.Cast("double", x)
    diff = ir.Binary("-", xd, ir.Aggregate("avg", xd))
    var = ir.Aggregate("avg", ir.Binary("*", diff, diff))
    if name.endswith("samp"):
        n = ir.Aggregate("count", ir.IsNull(x, negated=True))
        var = ir.Binary("/", ir.Binary("*", var, n), ir.Binary("-", n, ir.Scalar(1)))
    return ir.Unary("sqrt", var) if name.startswith("stddev") else var


def _dims(tree, what: str) -> list:
    if not (isinstance(tree, Tree) and tree.data == "interval_literal"):
        raise rasql_error(422, tree, hint=f"{what}() needs an interval or point in brackets, e.g. [0:99, 0:99].")
    return tree.children[0].children


def _interval_axes(tr, source, tree, what: str) -> tuple[ir.AxisSubset, ...]:
    dims = _dims(tree, what)
    labels = tr.axes_of(source)
    if labels is not None and len(dims) != len(labels):
        raise rasql_error(362, tree, hint=f"The array has {len(labels)} axes, the interval {len(dims)}.")
    out = []
    for k, d in enumerate(dims):
        if d.data != "dim_trim":
            raise rasql_error(420, d, hint=f"{what}() needs lo:hi on every axis.")
        label = labels[k] if labels else f"axis{k}"
        crs = None if tr.is_index_axis(source, label) else "CRS:1"
        lo, hi = (tr.value(b) for b in d.children)
        out.append(ir.AxisSubset(label, lo=lo, hi=hi, crs=crs))
    return tuple(out)


def _point(tr, tree, what: str) -> list[ir.Expr]:
    out = []
    for d in _dims(tree, what):
        if d.data != "dim_slice":
            raise rasql_error(406, d, hint=f"{what}() takes a point such as [1, 2].")
        out.append(tr.value(d.children[0]))
    return out


def _scale(tr, source, tree) -> ir.Scale:
    """scale(e, f): one factor; scale(e, [f0, f1]): per-axis factors; scale(e, [a:b, c:d]): the target domain."""
    if not (isinstance(tree, Tree) and tree.data == "interval_literal"):
        return ir.Scale(source, factor=tr.value(tree))
    labels = tr.axes_of(source)
    dims = tree.children[0].children
    if labels is None or len(dims) != len(labels):
        raise rasql_error(362, tree, hint="scale() needs one entry per axis of the array.")
    if all(d.data == "dim_slice" for d in dims):
        return ir.Scale(source, axis_factors=tuple((lab, tr.value(d.children[0])) for lab, d in zip(labels, dims)))
    if all(d.data == "dim_trim" for d in dims):
        sizes = []
        for lab, d in zip(labels, dims):
            lo, hi = (tr.value(b) for b in d.children)
            sizes.append((lab, ir.Binary("+", ir.Binary("-", hi, lo), ir.Scalar(1))))
        return ir.Scale(source, sizes=tuple(sizes))
    raise rasql_error(417, tree, hint="scale() takes factors [2, 2] or a domain [0:99, 0:99], not a mix.")


__all__ = ["KNOWN", "Token", "call"]
