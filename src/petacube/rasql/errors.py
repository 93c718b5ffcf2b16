"""rasql errors in rasdaman's words: ``Execution error 355 in line 1, column 22, near token
mr2: Collection name is unknown.``, with a petacube hint on how to fix it appended."""

from __future__ import annotations

from lark import Token, Tree

from petacube.errors import PetacubeError

# rasdaman's error texts (bin/errtxts) for the errors rasql raises here
TEXTS = {
    300: "Unexpected name {token}.",
    308: "Unexpected end of query.",
    310: "Unexpected characters {token}.",
    352: "Operand types are incompatible.",
    355: "Collection name is unknown.",
    356: "Specified domain does not intersect with spatial domain of MDD.",
    357: "Variable is unknown.",
    359: "Result of the where clause must be of type boolean.",
    361: "Multiple query targets are not supported.",
    362: "Specified domain dimensionality does not equal defined dimensionality of MDD.",
    370: "Struct selector is not valid.",
    373: "Unsatisfied MDD constant parameter.",
    382: "Unknown conversion format.",
    401: "Can not evaluate domain expression to an minterval.",
    406: "Second operand of shift function must be of type Point.",
    417: "Second operand of scale function must be either of type Point, Integer or Float.",
    420: "Extend operation with open bounds is not supported.",
    422: "Second operand of extend function must be an minterval.",
    430: "Parameter of info function must be a persistent MDD object.",
    311: "Complex constructor must have both arguments of the same type (i.e. float or double).",
    312: "Variable already defined.",
    313: "Only constant interval bounds allowed.",
    950: "Update target must be an iterator variable.",
    399: "Operand of point selection must be of type integer.",
    499: "Language feature is not supported.",
    902: "Type reference not found.",
    905: "Struct type name exists already.",
    906: "MDD type name exists already.",
    907: "Set type name exists already.",
    951: "Update source must be an expression resulting in an r_Marray<>.",
    953: "Update domain is not within MDD definition domain.",
    955: "Collection name exists already.",
    956: "Unknown collection type.",
    957: "Unknown collection name.",
    959: "MDD and collection types are incompatible.",
    960: "Insert expression must be of type MDD.",
    963: "Update domain dimensionality must match target MDD dimensionaltiy.",
    965: "MDD type {token} unknown.",
    968: "Unknown type name.",
    969: "Type already exists.",
    972: "Invalid dimensionality.",
    243: "The type to be dropped is currently in use by another stored object. Please delete any existing "
         "references to this type and try again.",
}
_KIND = {3: "Parsing error", 9: "Update error"}


class RasqlError(PetacubeError):
    """A rasql query that cannot be evaluated; ``number`` is rasdaman's error number."""

    code = "RasqlError"

    def __init__(self, message: str, *, number: int = 350, locator: str | None = None):
        super().__init__(message, locator=locator)
        self.number = number


class RasqlSyntaxError(RasqlError):
    code = "RasqlSyntaxError"


class CollectionDoesNotExist(RasqlError):
    code = "CollectionDoesNotExist"  # petascope's code for rasdaman error 355/957
    status = 404


class CollectionExists(RasqlError):
    code = "CollectionExists"
    status = 409


def _position(node) -> tuple[int | None, int | None, str]:
    if isinstance(node, Token):
        return node.line, node.column, str(node)
    if isinstance(node, Tree) and not node.meta.empty:
        token = next((t for t in node.scan_values(lambda v: isinstance(v, Token))), None)
        return node.meta.line, node.meta.column, str(token) if token is not None else ""
    if isinstance(node, tuple):
        return node
    return None, None, ""


def rasql_error(number: int, node=None, hint: str = "", cls: type[RasqlError] | None = None,
                token: str | None = None) -> RasqlError:
    """rasdaman's message for ``number`` at ``node`` (a lark token/tree or (line, column, token))."""
    line, column, near = _position(node)
    near = token if token is not None else near
    text = TEXTS.get(number, "General.").format(token=near)
    if number in (308,):
        head = "Parsing error"
    elif line is None:
        head = f"{'Update' if 950 <= number < 1000 else 'Execution'} error {number}"
    elif number < 350:
        kind = "Lexical analysing error" if number == 310 else "Parsing error"
        head = f"{kind} {number} in line {line}, column {column}"
        if number not in (300, 310):
            head += f", token {near}"
    else:
        kind = "Update" if 950 <= number < 1000 else "Evaluation" if 900 <= number < 950 else "Execution"
        head = f"{kind} error {number} in line {line}, column {column}, near token {near}"
    message = f"{head}: {text}" + (f" {hint}" if hint else "")
    if cls is None:
        cls = RasqlSyntaxError if number < 350 else CollectionDoesNotExist if number in (355, 957) else \
            CollectionExists if number == 955 else RasqlError
    return cls(message, number=number, locator=f"{line}:{column}" if line is not None else None)
