"""Parse tree -> engine IR, for expressions. Nothing is evaluated here."""

from __future__ import annotations

import math
import re

from lark import Token, Tree

from petacube.engine import ir
from petacube.wcps import functions, spatial
from petacube.wcps.scope import Binding, Scope, error_at, iterator_binding, resolve, unquote, var_name

_BINARY = {
    "PLUS": "+", "MINUS": "-", "STAR": "*", "SLASH": "/", "DIV": "div", "MOD": "mod", "MIN": "min",
    "MAX": "max", "POW": "pow", "AND": "and", "OR": "or", "XOR": "xor", "OVERLAY": "overlay",
}
_UNARY = {"MINUS": "neg", "PLUS": "pos", "NOT": "not"}
_CONDENSE = {"+": "+", "*": "*", "min": "min", "max": "max", "and": "and", "or": "or"}


class ExprTranslator:
    """Translates expression subtrees; ``text`` is the query (for WKT and messages)."""

    def __init__(self, text: str):
        self.text = text

    def expr(self, tree: Tree | Token, scope: Scope) -> ir.Expr:
        if isinstance(tree, Token):  # a bare token only where the grammar keeps one
            raise error_at(tree, f"unexpected '{tree}'")
        method = getattr(self, "_" + tree.data, None)
        if method is None:  # pragma: no cover - every grammar rule has a method
            raise error_at(tree, f"cannot translate {tree.data}")
        return method(tree, scope)

    # ---- literals and names -----------------------------------------------------------
    def _int(self, tree, scope):
        return ir.Scalar(int(tree.children[0]))

    def _float(self, tree, scope):
        return ir.Scalar(float(tree.children[0]))

    def _hex(self, tree, scope):
        return ir.Scalar(int(tree.children[0], 16))

    def _nan(self, tree, scope):
        return ir.Scalar(math.nan)

    def _inf(self, tree, scope):
        return ir.Scalar(math.inf)

    def _true(self, tree, scope):
        return ir.Scalar(True)

    def _false(self, tree, scope):
        return ir.Scalar(False)

    def _string(self, tree, scope):
        return ir.Scalar(unquote(tree.children[0]))

    def _star(self, tree, scope):
        return ir.Scalar(ir.STAR)

    def _complex(self, tree, scope):
        re_part, im_part = tree.children[0].strip()[1:-1].split(",")
        return ir.Complex(float(re_part), float(im_part))

    def _positional(self, tree, scope):
        token = tree.children[0]
        raise error_at(token, f"positional parameter '{token}' is only allowed inside decode()")

    def _var(self, tree, scope):
        return resolve(scope, tree)

    # ---- operators ------------------------------------------------------------------------
    def _binop(self, tree, scope):
        left, op, right = tree.children
        name = _BINARY.get(op.type) or ("!=" if op.type == "NE" else str(op))
        return ir.Binary(name, self.expr(left, scope), self.expr(right, scope))

    def _unop(self, tree, scope):
        op, operand = tree.children
        value = self.expr(operand, scope)
        name = _UNARY[op.type]
        if name in ("neg", "pos") and isinstance(value, ir.Scalar) and _is_number(value.value):
            return ir.Scalar(-value.value if name == "neg" else value.value)  # a signed literal
        return ir.Unary(name, value)

    def _cast(self, tree, scope):
        type_tree, operand = tree.children
        type_name = " ".join(str(t).lower() for t in type_tree.children)
        return ir.Cast(type_name, self.expr(operand, scope))

    def _is_null(self, tree, scope):
        return ir.IsNull(self.expr(tree.children[0], scope))

    def _is_not_null(self, tree, scope):
        return ir.IsNull(self.expr(tree.children[0], scope), negated=True)

    # ---- fields, subsets ----------------------------------------------------------------------
    def _field(self, tree, scope):
        source_tree, name_tree = tree.children
        source = self.expr(source_tree, scope)
        token = name_tree.children[0]
        name = str(token)
        if isinstance(source, ir.Metadata) and source.part is None and name.lower() in ("lo", "hi", "resolution"):
            if source.function not in ("domain", "imageCrsDomain"):
                raise error_at(token, f"'.{name}' applies to domain() and imageCrsDomain(), not {source.function}()")
            return ir.Metadata(source.function, source.source, source.axis, source.crs, name.lower())
        return ir.Field(source, int(name) if token.type == "INT" else name)

    def _subset(self, tree, scope):
        source_tree, axes_tree = tree.children
        return ir.Subset(self.expr(source_tree, scope), self.axis_list(axes_tree, scope))

    def _subset_var(self, tree, scope):
        source_tree, var_tree = tree.children
        return ir.Subset(self.expr(source_tree, scope), resolve(scope, var_tree, "axes"))

    def _trim(self, tree, scope):
        source_tree, axes_tree = tree.children
        axes = self.axis_list(axes_tree, scope)
        for axis, item in zip(axes, axes_tree.children):
            if axis.is_slice:
                raise error_at(item, f"trim() needs an interval lo:hi on axis {axis.axis}")
        return ir.Subset(self.expr(source_tree, scope), axes)

    def _slice(self, tree, scope):
        source_tree, axes_tree = tree.children
        axes = self.axis_list(axes_tree, scope)
        for axis, item in zip(axes, axes_tree.children):
            if not axis.is_slice:
                raise error_at(item, f"slice() needs a single point on axis {axis.axis}")
        return ir.Subset(self.expr(source_tree, scope), axes)

    def axis_list(self, tree: Tree, scope: Scope) -> tuple[ir.AxisSubset, ...]:
        return tuple(self.axis_item(item, scope) for item in tree.children)

    def axis_item(self, tree: Tree, scope: Scope) -> ir.AxisSubset:
        axis, *rest = tree.children
        crs = None
        if isinstance(rest[0], Token) and rest[0].type == "STRING":
            crs = unquote(rest.pop(0))
        if tree.data == "axis_trim":
            lo, hi = (self.expr(t, scope) for t in rest)
            return ir.AxisSubset(str(axis), lo=lo, hi=hi, crs=crs)
        at = self.expr(rest[0], scope)
        if isinstance(at, ir.Metadata) and at.part is None and at.function in ("domain", "imageCrsDomain"):
            # E(imageCrsDomain($c, E)): the whole interval that the function names
            return ir.AxisSubset(str(axis), lo=_part(at, "lo"), hi=_part(at, "hi"), crs=crs)
        return ir.AxisSubset(str(axis), at=at, crs=crs)

    # ---- bands ------------------------------------------------------------------------------
    def _range_constructor(self, tree, scope):
        fields = []
        seen = set()
        for field in tree.children:
            name_tree, value = field.children
            name = str(name_tree.children[0])
            if name in seen:
                raise error_at(name_tree.children[0], f"band '{name}' given twice in the range constructor")
            seen.add(name)
            fields.append((name, self.expr(value, scope)))
        return ir.RangeConstructor(tuple(fields))

    # ---- functions ----------------------------------------------------------------------------
    def _call(self, tree, scope):
        return functions.call(self, tree, scope)

    def _keyword_call(self, tree, scope):
        return functions.keyword_call(self, tree, scope)

    def _udf(self, tree, scope):
        qname = str(tree.children[0])
        namespace, name = qname.split(".", 1)
        args = tree.children[1].children if len(tree.children) > 1 else []
        return ir.FunctionCall(namespace, name, tuple(self.expr(a, scope) for a in args))

    # ---- control -------------------------------------------------------------------------------
    def _switch(self, tree, scope):
        *cases, default = tree.children
        pairs = tuple((self.expr(c.children[0], scope), self.expr(c.children[1], scope)) for c in cases)
        return ir.Switch(pairs, self.expr(default, scope))

    def _condense(self, tree, scope):
        op_tree, iterators_tree, *rest = tree.children
        op = _CONDENSE[str(op_tree.children[0]).lower()]
        iterators, inner = self.iterators(iterators_tree, scope)
        where = self.expr(rest[0], inner) if len(rest) == 2 else None
        return ir.Condense(op, iterators, self.expr(rest[-1], inner), where)

    def _constructor(self, tree, scope):
        name, iterators_tree, values = tree.children
        iterators, inner = self.iterators(iterators_tree, scope)
        return ir.CoverageConstructor(str(name), iterators, values=self.expr(values, inner))

    def _constructor_list(self, tree, scope):
        name, iterators_tree, *constants = (c for c in tree.children if not (isinstance(c, Token) and c.type in ("LT", "GT")))
        iterators, _ = self.iterators(iterators_tree, scope)
        return ir.CoverageConstructor(str(name), iterators, value_list=tuple(self.constant(c) for c in constants))

    def constant(self, tree: Tree) -> ir.Expr:
        if tree.data in ("true", "false", "string", "complex"):
            return self.expr(tree, Scope())
        *sign, value = tree.children
        scalar = self.expr(value, Scope())
        return ir.Scalar(-scalar.value) if sign else scalar

    def iterators(self, tree: Tree, scope: Scope) -> tuple[tuple[ir.AxisIterator, ...], Scope]:
        """Axis iterators (bounds read in ``scope``) and the scope that sees their variables."""
        result, names = [], {}
        for item in tree.children:
            var_tree, axis, *bounds = item.children
            name = var_name(var_tree)
            if name in names:
                raise error_at(var_tree, f"iterator '${name}' is declared twice")
            if item.data == "iterator_interval":
                lo, hi = (self.expr(b, scope) for b in bounds)
                result.append(ir.AxisIterator(name, str(axis), lo=lo, hi=hi))
            else:
                domain = self.expr(bounds[0], scope)
                if not (isinstance(domain, ir.Metadata) and domain.part is None
                        and domain.function in ("domain", "imageCrsDomain")):
                    raise error_at(bounds[0], f"iterator '${name}' needs lo:hi or a domain such as imageCrsDomain($c, {axis})")
                result.append(ir.AxisIterator(name, str(axis), domain_of=domain))
            names[name] = iterator_binding(name)
        return tuple(result), scope.child(names)

    def _sort(self, tree, scope):
        source, axis, *rest = tree.children
        descending = False
        if len(rest) == 2:
            descending = str(rest.pop(0).children[0]).lower() == "desc"
        return ir.Sort(self.expr(source, scope), str(axis), self.expr(rest[0], scope), descending)

    def _flip(self, tree, scope):
        source, axis = tree.children
        return ir.Flip(self.expr(source, scope), str(axis))

    # ---- geometry (spatial.py) ---------------------------------------------------------------------
    def _extend(self, tree, scope):
        return spatial.extend(self, tree, scope)

    def _scale_expr(self, tree, scope):
        return spatial.scale_by_expression(self, tree, scope)

    def _scale_axes(self, tree, scope):
        return spatial.scale_by_axes(self, tree, scope)

    def _scale_list(self, tree, scope):
        return spatial.scale_by_list(self, tree, scope)

    def _crs_transform(self, tree, scope):
        return spatial.crs_transform(self, tree, scope)

    def _clip(self, tree, scope):
        return spatial.clip(self, tree, scope)

    def wkt(self, tree: Tree) -> str:
        """The WKT as written, with runs of white space (and comments) made single spaces."""
        raw = self.text[tree.meta.start_pos:tree.meta.end_pos]
        raw = re.sub(r"--[^\n]*|/\*.*?\*/", " ", raw, flags=re.S)
        return re.sub(r"\s+", " ", raw).strip()

    def let_binding(self, tree: Tree, scope: Scope) -> Binding:
        if isinstance(tree, Tree) and tree.data == "let_axes":
            return Binding("axes", self.axis_list(tree.children[0], scope))
        if isinstance(tree, Tree) and tree.data == "wkt":
            return Binding("wkt", self.wkt(tree))
        return Binding("expr", self.expr(tree, scope))


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _part(metadata: ir.Metadata, part: str) -> ir.Metadata:
    return ir.Metadata(metadata.function, metadata.source, metadata.axis, metadata.crs, part)
