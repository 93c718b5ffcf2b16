"""The query clauses: for (expanded per coverage combination), let (inlined), where, return."""

from __future__ import annotations

import itertools

from lark import Tree

from petacube.engine import ir
from petacube.wcps.functions import decoded
from petacube.wcps.scope import Binding, Scope, error_at, unquote, var_name
from petacube.wcps.translate import ExprTranslator


def _sources(binding: Tree) -> list[ir.Expr]:
    result = []
    for source in binding.children[1:]:
        if source.data == "coverage_source":
            result.append(ir.CoverageRef(str(source.children[0])))
            continue
        name, positional, *options = source.children
        if str(name).lower() != "decode":
            raise error_at(name, f"'{name}(...)' cannot name a coverage here; use a coverage name or decode($1)")
        result.append(decoded(positional, unquote(options[0]) if options else None))
    return result


def translate_query(tree: Tree, text: str) -> ir.Query:
    """A parsed query -> `ir.Query` with one result per combination of the for-iterators."""
    query = tree.children[0] if tree.data == "start" else tree
    for_clause, *clauses, return_clause = query.children
    translator = ExprTranslator(text)

    names: list[str] = []
    choices: list[list[ir.Expr]] = []
    for binding in for_clause.children:
        name = var_name(binding.children[0])
        if name in names:
            raise error_at(binding.children[0], f"iterator '${name}' is declared twice")
        names.append(name)
        choices.append(_sources(binding))

    lets = [b for c in clauses if c.data == "let_clause" for b in c.children]
    wheres = [c for c in clauses if c.data == "where_clause"]
    if len(wheres) > 1:
        raise error_at(wheres[1], "a query has at most one where clause")

    results, conditions = [], []
    for combination in itertools.product(*choices):
        scope = Scope({n: Binding("expr", c) for n, c in zip(names, combination)})
        for let in lets:
            var, value = let.children
            scope = scope.child({var_name(var): translator.let_binding(value, scope)})
        conditions.append(translator.expr(wheres[0].children[0], scope) if wheres else None)
        results.append(translator.expr(return_clause.children[0], scope))
    return ir.Query(tuple(results), tuple(conditions), text)
