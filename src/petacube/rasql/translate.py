"""rasql expressions (parse tree) -> engine IR. Nothing is evaluated here.

rasql addresses cells by grid index in rasdaman's grid order (x before y for geo data, see
`Coverage.rasdaman_grid_order`). A subset of a collection (Index CRS) becomes an IR subset
in its index coordinates (absolute, as rasdaman's sdom); of a geo coverage, a ``CRS:1``
grid subset. Iterator variables of ``marray``/``condense`` are points: ``x in [0:9, 0:9]``
becomes one IR iterator per axis (``x[0]``, ``x[1]``), and ``c[x]`` subsets every axis.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from lark import Token, Tree

from petacube.engine import ir
from petacube.engine.arrays import RAW, Concat, Sdom
from petacube.model.crs import INDEX_LABELS
from petacube.rasql import functions
from petacube.rasql.errors import rasql_error
from petacube.rasql.typesys import ENGINE_CASTS, SUFFIXES, base_dtype

_BINARY = {"PLUS": "+", "MINUS": "-", "STAR": "*", "SLASH": "/", "AND": "and", "OR": "or", "XOR": "xor",
           "OVERLAY": "overlay", "EQ": "=", "NE": "!=", "LT": "<", "LE": "<=", "GT": ">", "GE": ">="}
_CONDENSE = {"+": "+", "*": "*", "min": "min", "max": "max", "and": "and", "or": "or"}


@dataclass(frozen=True)
class Point:
    """A multi-dimensional iterator variable (``x`` of ``x in [0:9, 0:9]``): IR iterators per axis."""

    name: str
    parts: tuple[str, ...]


class Translator:
    """Translates the expressions of one statement. ``describe(name)`` gives a collection's
    coverage (None for an empty collection) and raises rasdaman error 355 for unknown names."""

    def __init__(self, text: str, describe, dbinfo=None):
        self.text = text
        self.describe = describe
        self.dbinfo = dbinfo
        self.aliases: dict[str, str] = {}  # alias -> collection name
        self.coverages: dict[str, object] = {}  # collection name -> Coverage
        self.points: list[dict[str, Point | str]] = []  # iterator scopes, innermost last
        self.next_label = 0

    # ---- scope --------------------------------------------------------------------------
    def bind(self, alias: str, collection: str, cov) -> None:
        self.aliases[alias] = collection
        if cov is not None:
            self.coverages[collection] = cov

    def _lookup_iterator(self, name: str):
        for scope in reversed(self.points):
            if name in scope:
                return scope[name]
        return None

    # ---- dispatch -----------------------------------------------------------------------
    def expr(self, tree) -> ir.Expr:
        if isinstance(tree, Token):
            raise rasql_error(300, tree)
        method = getattr(self, "_" + tree.data, None)
        if method is None:  # pragma: no cover - every grammar rule has a method
            raise rasql_error(499, tree)
        return method(tree)

    # ---- literals and names ---------------------------------------------------------------
    def _number(self, tree):
        token = tree.children[0]
        text = str(token).lower()
        if text.startswith("0x"):
            return ir.Scalar(int(text, 16))
        suffix = next((s for s in ("ul", "us", "c", "o", "s", "l", "d", "f") if text.endswith(s)), None)
        body = text[: -len(suffix)] if suffix else text
        try:
            value = float(body) if any(ch in body for ch in ".e") or suffix in ("f", "d") else int(body)
        except ValueError:
            raise rasql_error(300, token, hint="This is not a number.") from None
        if suffix is None:
            return ir.Scalar(value)
        dtype = base_dtype(SUFFIXES[suffix])
        if dtype.startswith(("int", "uint")) and isinstance(value, float):
            raise rasql_error(300, token, hint=f"The suffix '{suffix}' makes an integer; write a whole number.")
        return ir.Scalar(value, type=ENGINE_CASTS[dtype])

    def _true(self, tree):
        return ir.Scalar(True)

    def _false(self, tree):
        return ir.Scalar(False)

    def _string(self, tree):
        return ir.Scalar(unquote(tree.children[0]))

    def _star(self, tree):
        return ir.Scalar(ir.STAR)

    def _positional(self, tree):
        token = tree.children[0]
        return ir.Decoded(int(str(token)[1:]), RAW)

    def _var(self, tree):
        token = tree.children[0]
        name = str(token)
        it = self._lookup_iterator(name)
        if isinstance(it, Point):
            return it if len(it.parts) > 1 else ir.IteratorVar(it.parts[0])
        if isinstance(it, str):
            return ir.IteratorVar(it)
        if name in self.aliases:
            return ir.CoverageRef(self.aliases[name])
        known = ", ".join(sorted(self.aliases)) or "none"
        raise rasql_error(357, token, hint=f"Known names here: {known}.")

    # ---- operators ------------------------------------------------------------------------
    def _binop(self, tree):
        left, op, right = tree.children
        return ir.Binary(_BINARY[op.type], self.value(left), self.value(right))

    def _unop(self, tree):
        op, operand = tree.children
        value = self.value(operand)
        if op.type == "NOT":
            return ir.Unary("not", value)
        if isinstance(value, ir.Scalar) and isinstance(value.value, (int, float)) and not isinstance(value.value, bool):
            return ir.Scalar(-value.value if op.type == "MINUS" else value.value, value.type)
        return ir.Unary("neg" if op.type == "MINUS" else "pos", value)

    def _cast(self, tree):
        name_tree, operand = tree.children
        words = " ".join(str(t).lower() for t in name_tree.children)
        dtype = base_dtype(words) or base_dtype(words.replace("unsigned ", "u"))
        if dtype is None:
            raise rasql_error(968, name_tree, hint=f"'{words}' is not a cell type; use char, octet, short, ushort, "
                                                   "long, ulong, float, double, bool or complex.")
        return ir.Cast(ENGINE_CASTS[dtype], self.value(operand))

    def _is_null(self, tree):
        return ir.IsNull(self.value(tree.children[0]))

    def _is_not_null(self, tree):
        return ir.IsNull(self.value(tree.children[0]), negated=True)

    def value(self, tree) -> ir.Expr:
        """An expression used as a value: a multi-dimensional point is not one."""
        e = self.expr(tree)
        if isinstance(e, Point):
            raise rasql_error(399, tree, hint=f"'{e.name}' is a {len(e.parts)}-D point: take one coordinate "
                                              f"({e.name}[0]) or use it as a subset (c[{e.name}]).")
        return e

    # ---- fields and subsets ------------------------------------------------------------------
    def _field(self, tree):
        source_tree, token = tree.children
        source = self.value(source_tree)
        name = str(token)
        if isinstance(source, Sdom) and source.axis is not None and source.part is None and name.lower() in ("lo", "hi"):
            return Sdom(source.source, source.axis, name.lower())
        if isinstance(source, Sdom):
            raise rasql_error(370, token, hint="On sdom(...) use [k] then .lo or .hi.")
        if name.lower() in ("re", "im") and not self._has_band(source, name):
            return ir.Unary(name.lower(), source)
        return ir.Field(source, int(name) if token.type == "INT" else name)

    def _has_band(self, source, name: str) -> bool:
        cov = self.base_coverage(source)
        return cov is not None and any(b.name == name for b in cov.bands)

    def _subset(self, tree):
        source_tree, dims_tree = tree.children
        source = self.expr(source_tree)
        dims = dims_tree.children
        if isinstance(source, Point):  # x[0]: one coordinate of an iterator point
            k = self._int_index(dims, tree, f"{source.name}[k]")
            if not 0 <= k < len(source.parts):
                raise rasql_error(362, tree,
                                  hint=f"'{source.name}' has {len(source.parts)} coordinates (0..{len(source.parts) - 1}).")
            return ir.IteratorVar(source.parts[k])
        if isinstance(source, Sdom) and source.axis is None:
            return Sdom(source.source, self._int_index(dims, tree, "sdom(...)[k]"))
        if isinstance(source, ir.Scalar):
            raise rasql_error(352, tree, hint="Only arrays can be subset.")
        return self.subset(source, dims, tree)

    def _int_index(self, dims, tree, what: str) -> int:
        if len(dims) != 1 or dims[0].data != "dim_slice":
            raise rasql_error(362, tree, hint=f"{what} takes one whole number.")
        e = self.value(dims[0].children[0])
        if not (isinstance(e, ir.Scalar) and isinstance(e.value, int)):
            raise rasql_error(399, tree, hint=f"{what} takes a whole number literal.")
        return e.value

    def subset(self, source: ir.Expr, dims, tree) -> ir.Expr:
        labels = self.axes_of(source)
        items = []
        for d in dims:
            if d.data == "dim_slice":
                inner = d.children[0]
                e = self.expr(inner) if not (isinstance(inner, Tree) and inner.data == "call") else None
                if isinstance(e, Point):
                    items.extend(("pos", None, ("at", ir.IteratorVar(p)), d) for p in e.parts)
                    continue
                if e is None:  # f(3): an axis-named slice when f names an axis, else a call
                    name = str(inner.children[0])
                    args = inner.children[1].children if len(inner.children) > 1 else []
                    if labels is not None and name in labels and len(args) == 1:
                        items.append(("named", name, ("at", self.value(args[0])), d))
                        continue
                    e = self.value(inner)
                items.append(("pos", None, ("at", e), d))
            elif d.data == "dim_trim":
                lo, hi = (self.value(b) for b in d.children)
                items.append(("pos", None, ("trim", lo, hi), d))
            else:  # dim_named_trim
                name, lo, hi = d.children
                items.append(("named", str(name), ("trim", self.value(lo), self.value(hi)), d))
        if labels is None:
            labels = tuple(INDEX_LABELS[: len(items)])
        if any(kind == "pos" for kind, *_ in items) and len(items) != len(labels):
            raise rasql_error(362, tree, hint=f"The array has {len(labels)} axes ({', '.join(labels)}) but the "
                                              f"subset gives {len(items)}.")
        axes = []
        for k, (kind, name, spec, node) in enumerate(items):
            label = name if kind == "named" else labels[k]
            if label not in labels:
                raise rasql_error(362, node, hint=f"The array has no axis '{label}'; its axes are {', '.join(labels)}.")
            crs = None if self.is_index_axis(source, label) else "CRS:1"
            if spec[0] == "at":
                axes.append(ir.AxisSubset(label, at=spec[1], crs=crs))
            else:
                axes.append(ir.AxisSubset(label, lo=spec[1], hi=spec[2], crs=crs))
            self._check_range(source, label, axes[-1], node)
        return ir.Subset(source, tuple(axes))

    def _check_range(self, source, label: str, s: ir.AxisSubset, node) -> None:
        """Constant bounds outside a stored array's domain: rasdaman's error 356 at once."""
        if not isinstance(source, ir.CoverageRef) or source.name not in self.coverages:
            return
        axis = self.coverages[source.name].axis(label)
        lo = round(axis.lower) if s.crs is None else 0
        hi = lo + axis.size - 1
        for b in (s.at, s.lo, s.hi):
            if isinstance(b, ir.Scalar) and isinstance(b.value, (int, float)) and not isinstance(b.value, bool) \
                    and not lo <= b.value <= hi:
                raise rasql_error(356, node, hint=f"Index {b.value} on axis {label} is outside the array's "
                                                  f"domain {lo}:{hi}.")

    # ---- static knowledge of axes --------------------------------------------------------
    def base_coverage(self, e):
        """The stored coverage an expression's array derives from, if any."""
        if isinstance(e, ir.CoverageRef):
            return self.coverages.get(e.name)
        for child in _children(e):
            cov = self.base_coverage(child)
            if cov is not None:
                return cov
        return None

    def axes_of(self, e) -> tuple[str, ...] | None:
        """Axis labels (rasdaman's order) of an array expression; None when unknown/scalar."""
        if isinstance(e, ir.CoverageRef):
            cov = self.coverages.get(e.name)
            return cov.rasdaman_grid_order() if cov is not None else None
        if isinstance(e, ir.Subset):
            src = self.axes_of(e.source)
            sliced = {a.axis for a in e.axes if a.is_slice}
            return None if src is None else tuple(d for d in src if d not in sliced)
        if isinstance(e, ir.CoverageConstructor):
            return tuple(it.axis for it in e.iterators)
        if isinstance(e, (ir.Aggregate, ir.Condense, ir.Scalar, ir.IteratorVar, Sdom)):
            return None
        if isinstance(e, ir.Decoded):
            return ("i", "j")
        for child in _children(e):
            axes = self.axes_of(child)
            if axes is not None:
                return axes
        return None

    def is_index_axis(self, e, label: str) -> bool:
        cov = self.base_coverage(e)
        if cov is None or label not in cov.dims:
            return True  # marray results and decoded images are on index axes
        return cov.axis(label).crs_axis.kind == "index"

    # ---- structs, case ------------------------------------------------------------------------
    def _struct(self, tree):
        return ir.RangeConstructor(tuple((str(i), self.value(c)) for i, c in enumerate(tree.children)))

    def _case(self, tree):
        *pairs, default = tree.children
        cases = tuple((self.value(pairs[i]), self.value(pairs[i + 1])) for i in range(0, len(pairs), 2))
        return ir.Switch(cases, self.value(default))

    def _case_simple(self, tree):
        subject, *pairs, default = tree.children
        s = self.value(subject)
        cases = tuple((ir.Binary("=", s, self.value(pairs[i])), self.value(pairs[i + 1]))
                      for i in range(0, len(pairs), 2))
        return ir.Switch(cases, self.value(default))

    # ---- iterators -----------------------------------------------------------------------------
    def iterators(self, trees, *, labelled: bool) -> tuple[tuple[ir.AxisIterator, ...], dict]:
        result, scope = [], {}
        for it in trees:
            name_token, domain_tree = it.children
            name = str(name_token)
            if name in scope:
                raise rasql_error(312, name_token, hint=f"Iterator '{name}' is declared twice.")
            bounds = self.domain(domain_tree)
            parts = []
            for k, (lo, hi) in enumerate(bounds):
                var = f"{name}__{k}"
                label = INDEX_LABELS[self.next_label % len(INDEX_LABELS)] if labelled else var
                self.next_label += 1 if labelled else 0
                result.append(ir.AxisIterator(var, label, lo=lo, hi=hi))
                parts.append(var)
            scope[name] = Point(name, tuple(parts))
        return tuple(result), scope

    def domain(self, tree) -> list[tuple[ir.Expr, ir.Expr]]:
        """An iterator domain: ``[a:b, c:d]`` or an expression such as sdom(c)."""
        if isinstance(tree, Tree) and tree.data == "interval_literal":
            out = []
            for d in tree.children[0].children:
                if d.data != "dim_trim":
                    raise rasql_error(313, d, hint="An iterator domain needs lo:hi on every axis.")
                out.append(tuple(self.value(b) for b in d.children))
            return out
        e = self.value(tree)
        if isinstance(e, Sdom) and e.part is None:
            axes = self.axes_of(e.source)
            if e.axis is not None:
                return [(Sdom(e.source, e.axis, "lo"), Sdom(e.source, e.axis, "hi"))]
            if axes is None:
                raise rasql_error(401, tree, hint="The dimensionality of this sdom() is not known; write [lo:hi, ...].")
            return [(Sdom(e.source, k, "lo"), Sdom(e.source, k, "hi")) for k in range(len(axes))]
        raise rasql_error(401, tree, hint="Give the domain as [lo:hi, ...] or sdom(array).")

    def _marray(self, tree):
        *its, values = tree.children
        self.next_label = 0
        iterators, scope = self.iterators(its, labelled=True)
        self.points.append(scope)
        try:
            body = self.value(values)
        finally:
            self.points.pop()
        if isinstance(body, ir.RangeConstructor):
            # struct cells: one constructor per component (the engine constructs single bands)
            return ir.RangeConstructor(tuple((name, ir.CoverageConstructor(name, iterators, values=part))
                                             for name, part in body.fields))
        return ir.CoverageConstructor("value", iterators, values=body)

    def _condense(self, tree):
        op_tree, *rest = tree.children
        its = [c for c in rest if isinstance(c, Tree) and c.data == "iterator"]
        tail = rest[len(its):]
        iterators, scope = self.iterators(its, labelled=False)
        self.points.append(scope)
        try:
            where = self.value(tail[0]) if len(tail) == 2 else None
            using = self.value(tail[-1])
        finally:
            self.points.pop()
        return ir.Condense(_CONDENSE[str(op_tree.children[0]).lower()], iterators, using, where)

    # ---- reordering and joining ---------------------------------------------------------------
    def _axis_label(self, source, token) -> str:
        labels = self.axes_of(source) or tuple(INDEX_LABELS)
        if token.type == "INT":
            k = int(token)
            if not 0 <= k < len(labels):
                raise rasql_error(362, token, hint=f"The array has axes 0..{len(labels) - 1} ({', '.join(labels)}).")
            return labels[k]
        if str(token) not in labels:
            raise rasql_error(362, token, hint=f"The array has no axis '{token}'; its axes are {', '.join(labels)}.")
        return str(token)

    def _flip(self, tree):
        source_tree, axis = tree.children
        source = self.value(source_tree)
        return ir.Flip(source, self._axis_label(source, axis))

    def _sort(self, tree):
        source_tree, axis, *rest = tree.children
        source = self.value(source_tree)
        label = self._axis_label(source, axis)
        name, descending, by_tree = None, False, None
        for item in rest:
            if isinstance(item, Token) and item.type == "NAME":
                name = str(item)
            elif isinstance(item, Tree) and item.data == "sort_order":
                descending = str(item.children[0]).lower() == "desc"
            else:
                by_tree = item
        self.points.append({name: Point(name, (name,))} if name else {})
        try:
            by = self.value(by_tree)
        finally:
            self.points.pop()
        return ir.Sort(source, label, by, descending)

    def _concat(self, tree):
        *operands, axis = tree.children
        return Concat(tuple(self.value(o) for o in operands), int(axis))

    def _interval_literal(self, tree):
        raise rasql_error(499, tree, hint="An interval [a:b, ...] is only accepted as a function argument "
                                          "(extend, scale, shift) or an iterator domain.")

    # ---- functions ----------------------------------------------------------------------------
    def _call(self, tree):
        return functions.call(self, tree)

    def options(self, tree) -> dict:
        """encode()'s options: JSON, or rasdaman's old ``key=value;...`` kept as text."""
        e = self.value(tree)
        if not (isinstance(e, ir.Scalar) and isinstance(e.value, str)):
            raise rasql_error(352, tree, hint="The options of encode() must be a quoted string.")
        text = e.value.strip()
        if not text:
            return {}
        if not text.startswith(("{", "[")):
            return {"_legacy": text}
        try:
            options = json.loads(text)
        except json.JSONDecodeError as exc:
            raise rasql_error(352, tree, hint=f"The options are not valid JSON: {exc.msg} at character {exc.pos + 1}.")
        if not isinstance(options, dict):
            raise rasql_error(352, tree, hint="The options must be a JSON object.")
        return options


def _children(e) -> list:
    out = []
    for value in getattr(e, "__dict__", {}).values():
        for v in value if isinstance(value, tuple) else (value,):
            if isinstance(v, ir.Expr):
                out.append(v)
            elif isinstance(v, tuple):
                out.extend(x for x in v if isinstance(x, ir.Expr))
    return out


def unquote(token) -> str:
    text = str(token)[1:-1]
    return text.replace('\\"', '"').replace("\\\\", "\\")
