"""``create type`` / ``drop type``: cell struct types, marray types and set types (with
null values), stored in the catalog's rasql type registry."""

from __future__ import annotations

from lark import Token, Tree

from petacube.rasql.errors import RasqlError, rasql_error
from petacube.rasql.typesys import TypeSystem, base_dtype

_EXISTS = {"struct": 905, "marray": 906, "set": 907}


def _type_name(tree) -> str:
    return " ".join(str(t) for t in tree.children) if isinstance(tree, Tree) else str(tree)


def _fields(types: TypeSystem, attrs: list[Tree]) -> list[list[str]]:
    out, seen = [], set()
    for attr in attrs:
        name, type_tree = attr.children
        if isinstance(type_tree, Tree) and type_tree.data == "struct_type":
            raise rasql_error(970, name, hint="Struct fields must be base types (char, short, float ...).")
        type_name = _type_name(type_tree)
        if base_dtype(type_name) is None:
            raise rasql_error(970, name, hint=f"'{type_name}' is not a base type; use char, octet, short, ushort, "
                                              "long, ulong, float, double, bool or complex.")
        if str(name) in seen:
            raise rasql_error(970, name, hint=f"Field '{name}' is given twice.")
        seen.add(str(name))
        out.append([str(name), type_name.lower()])
    return out


def create(types: TypeSystem, node: Tree) -> None:
    name_token, definition = node.children
    name = str(name_token)
    if types.exists(name):
        kind = types.exists(name)
        raise rasql_error(_EXISTS.get(kind, 969), name_token, hint=f"Type {name} exists already ({kind}).")
    kind = definition.data.split("_")[0]
    if definition.data == "struct_type":
        body = {"fields": _fields(types, definition.children)}
    elif definition.data == "marray_type":
        cell_tree, *dims = definition.children
        if isinstance(cell_tree, Tree) and cell_tree.data == "struct_type":
            cell = _fields(types, cell_tree.children)
        else:
            cell = _type_name(cell_tree)
            if types.cell_bands(cell) is None:
                raise rasql_error(902, name_token, hint=f"Cell type '{cell}' is neither a base type nor a struct type.")
            cell = cell.lower() if base_dtype(cell) else cell
        body = {"cell": cell, "dims": len(dims), "axes": [_dim_name(d) for d in dims]}
    else:
        marray_token, *rest = definition.children
        if types.marray(str(marray_token)) is None:
            raise rasql_error(902, marray_token, hint=f"'{marray_token}' is not an marray type; create it first "
                                                      "(create type X as char mdarray [a, b]) or use GreyImage ...")
        nulls = []
        if rest:
            for item in rest[0].children:
                if not isinstance(item, Tree):
                    continue
                numbers = [_signed(n) for n in item.children]
                if len(numbers) == 2 and numbers[0] > numbers[1]:
                    raise rasql_error(970, marray_token, hint=f"Null interval {numbers[0]}:{numbers[1]} is empty.")
                nulls.append([numbers[0], numbers[1] if len(numbers) == 2 else None])
        body = {"marray": str(marray_token), "nulls": nulls}
    if not types.registry.add(kind, name, body):
        raise rasql_error(_EXISTS[kind], name_token)


def _dim_name(d: Tree) -> str | None:
    first = d.children[0]
    return str(first) if isinstance(first, Token) and first.type == "NAME" else None


def _signed(tree: Tree) -> float:
    text = "".join(str(t) for t in tree.children)
    try:
        return float(text.rstrip("cdfslou") if not text.lower().startswith(("0x", "-0x")) else int(text, 16))
    except ValueError:
        raise RasqlError(f"null value {text!r} is not a number", number=970) from None


def drop(types: TypeSystem, node: Tree) -> None:
    name_token = node.children[0]
    name = str(name_token)
    if types.is_predefined(name):
        raise rasql_error(243, name_token, hint=f"{name} is a predefined type and cannot be dropped.")
    kind = next((k for k in ("set", "marray", "struct") if types.registry.get(k, name) is not None), None)
    if kind is None:
        raise rasql_error(968, name_token, hint=f"There is no user type {name}.")
    users = types.users_of(name)
    if users:
        raise rasql_error(243, name_token, hint=f"It is used by {', '.join(users)}.")
    types.registry.remove(kind, name)
