"""WCPS text -> lark parse tree, with syntax errors users can read."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from lark import Lark, Tree, UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from petacube.errors import WcpsSyntaxError

_GRAMMAR = Path(__file__).with_name("wcps.lark")

# Terminals matched by a pattern rather than a fixed word, in the words of an error message.
_PATTERN_WORDS = {
    "NAME": "a name",
    "VAR": "a $variable",
    "QNAME": "a function name",
    "INT": "a number",
    "FLOAT": "a number",
    "HEX": "a number",
    "STRING": 'a "string"',
    "COMPLEX": "a complex number",
    "POSITIONAL": "a positional parameter ($1)",
    "NE": "'!='",
    "$END": "the end of the query",
}
# Operators that may follow an operand; listed one by one they drown the useful words.
_OPERATORS = {
    "PLUS", "MINUS", "STAR", "SLASH", "DIV", "MOD", "MIN", "MAX", "POW", "EQ", "NE", "LT", "LE", "GT", "GE", "AND",
    "OR", "XOR", "OVERLAY", "_IS", "DOT", "LSQB",
}


@cache
def wcps_parser() -> Lark:
    """The LALR parser, built once per process (about 0.2 s)."""
    return Lark(
        _GRAMMAR.read_text(), parser="lalr", lexer="contextual", propagate_positions=True,
        maybe_placeholders=False,
    )


def parse_tree(text: str) -> Tree:
    """Parse WCPS text into a lark tree; raises `WcpsSyntaxError`."""
    try:
        return wcps_parser().parse(text)
    except UnexpectedInput as exc:
        raise syntax_error(exc, text) from None


@cache
def _terminal_words() -> dict[str, str]:
    words = dict(_PATTERN_WORDS)
    for term in wcps_parser().terminals:
        if term.name in words:
            continue
        pattern = term.pattern
        if pattern.type == "str":
            words[term.name] = f"'{pattern.value}'"
    return words


@cache
def _expression_start() -> frozenset[str]:
    """The terminals that may begin an expression, read from the parse table itself."""
    try:
        wcps_parser().parse("for c in (A) return")
    except UnexpectedToken as exc:
        return frozenset(exc.expected)
    raise AssertionError("an empty return clause parsed")


def describe_expected(expected: set[str]) -> str:
    """Collapse lark's set of terminal names into a short phrase."""
    expected = set(expected)
    tail = []
    start = _expression_start()
    if {"NAME", "VAR", "INT", "LPAR"} <= expected:
        expected -= start
        tail.append("an expression")
    operators = expected & _OPERATORS
    if len(operators) > 4:
        expected -= _OPERATORS
        tail.append("an operator")
    if "$END" in expected:
        expected.discard("$END")
        tail.append(_PATTERN_WORDS["$END"])
    words = _terminal_words()
    phrases = sorted({words.get(name, name.lstrip("_").lower()) for name in expected},
                     key=lambda w: (not w.startswith("'") or w[1:-1].isalpha(), w))
    phrases += tail
    if len(phrases) > 8:
        phrases = phrases[:7] + [f"one of {len(phrases) - 7} other things"]
    if len(phrases) == 1:
        return phrases[0]
    return ", ".join(phrases[:-1]) + " or " + phrases[-1]


def _accepted_before(prefix: str) -> set[str] | None:
    """The terminals the parser accepts after ``prefix`` (which lexes and parses so far)."""
    try:
        interactive = wcps_parser().parse_interactive(prefix)
        interactive.exhaust_lexer()
        return interactive.accepts()
    except UnexpectedInput:
        return None


def _end_position(text: str) -> tuple[int, int]:
    lines = text.split("\n")
    return len(lines), len(lines[-1]) + 1


def syntax_error(exc: UnexpectedInput, text: str) -> WcpsSyntaxError:
    if isinstance(exc, UnexpectedToken):
        # LALR merges look-aheads of similar states; ask the parser what truly fits here
        try:
            accepted = exc.interactive_parser.accepts() if exc.interactive_parser else exc.expected
        except Exception:  # pragma: no cover - fall back to lark's own set
            accepted = exc.expected
        expected = describe_expected(accepted or exc.expected)
        token = exc.token
        if token.type == "$END":
            line, column = _end_position(text)
            return WcpsSyntaxError(f"unexpected end of query; expected {expected}",
                                   line=line, column=column, token="")
        return WcpsSyntaxError(f"unexpected '{token.value}'; expected {expected}",
                               line=token.line, column=token.column, token=str(token.value))
    if isinstance(exc, UnexpectedCharacters):
        char = text[exc.pos_in_stream] if exc.pos_in_stream < len(text) else ""
        if char == '"':
            return WcpsSyntaxError("unterminated string: no closing '\"'", line=exc.line, column=exc.column, token=char)
        if text.startswith("/*", exc.pos_in_stream):
            return WcpsSyntaxError("unterminated comment: no closing '*/'", line=exc.line, column=exc.column, token="/*")
        message = f"unexpected character '{char}'"
        accepted = _accepted_before(text[:exc.pos_in_stream]) or exc.allowed
        if accepted:
            message += f"; expected {describe_expected(accepted)}"
        return WcpsSyntaxError(message, line=exc.line, column=exc.column, token=char)
    line, column = getattr(exc, "line", None), getattr(exc, "column", None)
    return WcpsSyntaxError(f"syntax error: {exc}", line=line, column=column)
