"""rasql text -> lark parse tree; syntax errors as rasdaman words them, with line,
column, the offending token and what would have fitted."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from lark import Lark, Tree, UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from petacube.rasql.errors import RasqlError, rasql_error

_GRAMMAR = Path(__file__).with_name("rasql.lark")
_WORDS = {
    "NAME": "a name", "NUMBER": "a number", "INT": "a whole number", "STRING": 'a "string"',
    "POSITIONAL": "a parameter ($1)", "CAST_TYPE": "a type name", "$END": "the end of the query",
}


@cache
def rasql_parser() -> Lark:
    """The LALR parser, built once per process."""
    return Lark(_GRAMMAR.read_text(), parser="lalr", lexer="contextual", propagate_positions=True,
                maybe_placeholders=False)


def parse_tree(text: str) -> Tree:
    """Parse a rasql statement; raises `RasqlSyntaxError` (rasdaman errors 300, 308, 310)."""
    if not text or not text.strip():
        raise rasql_error(308, hint="The query is empty: give a statement such as 'select c from mr as c'.")
    try:
        return rasql_parser().parse(text)
    except UnexpectedInput as exc:
        raise _syntax_error(exc, text) from None


def _expected(names) -> str:
    words = []
    for name in sorted(set(names)):
        if name in _WORDS:
            words.append(_WORDS[name])
            continue
        term = next((t for t in rasql_parser().terminals if t.name == name), None)
        if term is not None and term.pattern.type == "str":
            words.append(f"'{term.pattern.value}'")
        else:
            words.append(name.lstrip("_").lower())
    words = sorted(set(words))
    if len(words) > 8:
        words = words[:7] + [f"one of {len(words) - 7} other things"]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _syntax_error(exc: UnexpectedInput, text: str) -> RasqlError:
    if isinstance(exc, UnexpectedToken):
        expected = _expected(exc.accepts or exc.expected)
        token = exc.token
        if token.type == "$END":
            lines = text.split("\n")
            return rasql_error(308, (len(lines), len(lines[-1]) + 1, ""), hint=f"Expected {expected}.")
        return rasql_error(300, token, hint=f"Expected {expected}.")
    if isinstance(exc, UnexpectedCharacters):
        char = text[exc.pos_in_stream] if exc.pos_in_stream < len(text) else ""
        hint = "The string has no closing '\"'." if char == '"' else f"Expected {_expected(exc.allowed)}." \
            if exc.allowed else ""
        return rasql_error(310, (exc.line, exc.column, char), hint=hint)
    return rasql_error(309, (getattr(exc, "line", None), getattr(exc, "column", None), ""), hint=str(exc))
