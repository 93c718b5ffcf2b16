"""WCPS: the OGC Web Coverage Processing Service language (1.0 plus rasdaman's extensions).

`parse_wcps` turns query text into the engine IR (`petacube.engine.ir.Query`); it never
evaluates anything. The grammar is ``wcps.lark`` (LALR); its header lists the precedence.
"""

from __future__ import annotations

from lark import Tree

from petacube.engine import ir
from petacube.wcps.parser import parse_tree
from petacube.wcps.query import translate_query

__all__ = ["parse_tree", "parse_wcps"]


def parse_wcps(text: str) -> ir.Query:
    """Parse and translate a WCPS query; raises `WcpsSyntaxError` or `WcpsError`."""
    tree: Tree = parse_tree(text)
    return translate_query(tree, text)
