"""Keys for sharing the values of common sub-expressions within one query.

IR nodes are frozen dataclasses, but their ``==`` is not enough to share values: Python
says ``1 == 1.0 == True``, while ``$c + 1`` (integer, widened) and ``$c + 1.0`` (float)
give different cell types. `node_key` is a structural key in which every literal carries
its type; `holds_iterator` tells whether a node's value depends on iterator bindings.
"""

from __future__ import annotations

import dataclasses

from petacube.engine import ir


def node_key(node) -> tuple:
    """A hashable key equal for nodes that evaluate alike (TypeError for parts that
    cannot be compared, e.g. an arbitrary object in a node)."""
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        return (type(node).__qualname__,) + tuple(node_key(getattr(node, f.name)) for f in dataclasses.fields(node))
    if isinstance(node, (tuple, list)):
        return (type(node).__name__,) + tuple(node_key(x) for x in node)
    if isinstance(node, dict):
        return ("dict",) + tuple((node_key(k), node_key(v)) for k, v in node.items())
    hash(node)  # TypeError for unhashable leaves
    return (type(node).__name__, node)


def holds_iterator(node, cache: dict, key: tuple | None = None) -> bool:
    """Whether ``node`` mentions an iterator variable (bound inside it or not); ``cache``
    maps node keys to answers (``key``: the node's, when known)."""
    key = node_key(node) if key is None else key
    known = cache.get(key)
    if known is None:
        known = cache[key] = isinstance(node, ir.IteratorVar) or any(holds_iterator(c, cache) for c in children(node))
    return known


def children(e) -> list:
    """The sub-expressions of an IR node (in subsets, iterators and tuples too)."""
    out = []
    for value in getattr(e, "__dict__", {}).values():
        for v in value if isinstance(value, tuple) else (value,):
            if isinstance(v, ir.Expr):
                out.append(v)
            elif isinstance(v, tuple):
                out.extend(x for x in v if isinstance(x, ir.Expr))
            elif isinstance(v, (ir.AxisSubset, ir.AxisIterator)):
                out.extend(x for x in v.__dict__.values() if isinstance(x, ir.Expr))
    return out
