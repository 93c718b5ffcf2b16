"""Names visible while translating: coverage iterators, let aliases, axis iterators."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from lark import Token, Tree

from petacube.engine import ir
from petacube.errors import WcpsError


def position(node: Tree | Token | None) -> tuple[int | None, int | None]:
    """1-based (line, column) of a token or tree."""
    if isinstance(node, Token):
        return node.line, node.column
    if isinstance(node, Tree) and not node.meta.empty:
        return node.meta.line, node.meta.column
    return None, None


def error_at(node: Tree | Token | None, message: str, cls: type[Exception] = WcpsError) -> Exception:
    """An error whose message (and locator) carries the node's line and column."""
    line, column = position(node)
    if line is None:
        return cls(message)
    return cls(f"{message} (line {line}, column {column})", locator=f"{line}:{column}")


@dataclass(frozen=True)
class Binding:
    """What a name stands for: an expression, a subset list or a WKT text (from ``let``)."""

    kind: str  # "expr" | "axes" | "wkt"
    value: Any


class Scope:
    """A chain of name tables; inner tables shadow outer ones."""

    def __init__(self, names: dict[str, Binding] | None = None, parent: Scope | None = None):
        self.names = names or {}
        self.parent = parent

    def child(self, names: dict[str, Binding]) -> Scope:
        return Scope(names, self)

    def lookup(self, name: str) -> Binding | None:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.names:
                return scope.names[name]
            scope = scope.parent
        return None

    def visible(self) -> list[str]:
        names: set[str] = set()
        scope: Scope | None = self
        while scope is not None:
            names.update(scope.names)
            scope = scope.parent
        return sorted(names)


def var_name(tree: Tree) -> str:
    """The name of a ``var`` node without its ``$``."""
    return str(tree.children[0]).lstrip("$")


def resolve(scope: Scope, tree: Tree, want: str = "expr") -> Any:
    """Look up a ``var`` node; the binding must be of kind ``want``."""
    token = tree.children[0]
    name = var_name(tree)
    binding = scope.lookup(name)
    if binding is None:
        known = ", ".join("$" + n for n in scope.visible()) or "none"
        raise error_at(token, f"unknown variable '{token}' (variables in scope: {known})")
    if binding.kind != want:
        what = {"expr": "a coverage expression", "axes": "a subset list", "wkt": "a WKT geometry"}
        raise error_at(token, f"'{token}' names {what[binding.kind]}, but {what[want]} is needed here")
    return binding.value


def iterator_binding(name: str) -> Binding:
    return Binding("expr", ir.IteratorVar(name))


_ESCAPE = re.compile(r"\\(.)")


def unquote(token: Token) -> str:
    """A STRING token's text: quotes removed, ``\\"`` and ``\\\\`` unescaped."""
    return _ESCAPE.sub(lambda m: m.group(1) if m.group(1) in '"\\' else m.group(0), token[1:-1])
