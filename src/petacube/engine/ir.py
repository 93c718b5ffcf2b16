"""The engine IR: what every front end (WCPS, WCS, WMS, rasql) compiles to.

Plain frozen dataclasses; no evaluation here. Geo bounds stay as written (numbers, or
strings for times and ``*``) and are resolved against the coverage by the executor with
the rasdaman arithmetic of `petacube.model`.

A query is a `Query`: one `Expr` per result (``for $c in (A, B)`` gives one result per
coverage combination, returned as multipart).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

STAR = "*"  # an open subset bound


@dataclass(frozen=True)
class Expr:
    """Base of all IR nodes."""


# ---- leaves -----------------------------------------------------------------------
@dataclass(frozen=True)
class CoverageRef(Expr):
    """A stored coverage by identifier."""

    name: str


@dataclass(frozen=True)
class Decoded(Expr):
    """``decode($n)``: the n-th uploaded file (1-based), decoded into a coverage."""

    position: int
    options: str | None = None


@dataclass(frozen=True)
class Scalar(Expr):
    """A number, boolean or string literal (strings only where a function wants one)."""

    value: Any
    type: str | None = None  # e.g. "float", "unsigned char" for typed literals


@dataclass(frozen=True)
class Complex(Expr):
    re: float
    im: float


# ---- subsetting -------------------------------------------------------------------
@dataclass(frozen=True)
class AxisSubset:
    """One axis of a subset: a trim (``lo:hi``) or a slice (``at``), in geo coordinates of
    the axis, or grid coordinates when ``crs`` is ``CRS:1`` (or an Index CRS).

    Bounds are `Expr`s (usually `Scalar`; strings for times, `STAR` for open bounds), since
    WCPS allows expressions such as ``imageCrsDomain($c, E).lo + 10``."""

    axis: str
    lo: Expr | None = None
    hi: Expr | None = None
    at: Expr | None = None  # set for a slice
    crs: str | None = None

    @property
    def is_slice(self) -> bool:
        return self.at is not None


@dataclass(frozen=True)
class Subset(Expr):
    """``$c[E(a:b), ansi("t")]`` and the long forms trim()/slice()."""

    source: Expr
    axes: tuple[AxisSubset, ...]


# ---- range (bands) -------------------------------------------------------------------
@dataclass(frozen=True)
class Field(Expr):
    """Band access: ``$c.B04`` (name) or ``$c.0`` (index)."""

    source: Expr
    name: str | int


@dataclass(frozen=True)
class RangeConstructor(Expr):
    """``{red: e1; green: e2; blue: e3}``: a multi-band coverage."""

    fields: tuple[tuple[str, Expr], ...]


# ---- cell-wise (induced) operations ----------------------------------------------------
UNARY_OPS = (
    "neg", "pos", "not", "abs", "sqrt", "exp", "log", "ln", "sin", "cos", "tan", "sinh", "cosh",
    "tanh", "arcsin", "arccos", "arctan", "round", "floor", "ceil", "bit_not", "re", "im", "sign",
)
BINARY_OPS = (
    "+", "-", "*", "/", "div", "mod", "pow", "min", "max", "=", "!=", "<", "<=", ">", ">=",
    "and", "or", "xor", "overlay", "bit", "arctan2",
)


@dataclass(frozen=True)
class Unary(Expr):
    op: str  # one of UNARY_OPS
    operand: Expr


@dataclass(frozen=True)
class Binary(Expr):
    """``a op b``; ``bit(a, n)`` is Binary("bit", a, n); ``overlay`` takes b where a is 0/null."""

    op: str  # one of BINARY_OPS
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Cast(Expr):
    """``(float) e``: type names as WCPS writes them ("char", "unsigned char", "short",
    "unsigned short", "int", "unsigned int", "long", "unsigned long", "float", "double",
    "boolean", "complex", "complex2")."""

    type: str
    operand: Expr


@dataclass(frozen=True)
class IsNull(Expr):
    operand: Expr
    negated: bool = False  # "is not null"


@dataclass(frozen=True)
class Switch(Expr):
    """``switch case c1 return e1 case c2 return e2 default return e3``."""

    cases: tuple[tuple[Expr, Expr], ...]
    default: Expr


# ---- aggregation ------------------------------------------------------------------------
CONDENSERS = ("count", "avg", "min", "max", "add", "sum", "some", "all")


@dataclass(frozen=True)
class Aggregate(Expr):
    """Short-hand condensers over all cells: ``avg($c.B08)``; ``sum`` is ``add``."""

    op: str  # one of CONDENSERS
    operand: Expr


@dataclass(frozen=True)
class AxisIterator:
    """``$x x(lo:hi)`` in a condenser or constructor; bounds are grid or geo `Expr`s,
    or ``domain`` takes another coverage's axis domain (``$pt E(imageCrsDomain($c, E))``)."""

    variable: str
    axis: str
    lo: Expr | None = None
    hi: Expr | None = None
    domain_of: Expr | None = None  # an imageCrsDomain/domain expression giving lo and hi


@dataclass(frozen=True)
class IteratorVar(Expr):
    """A reference to a condenser/constructor iterator variable (a grid index)."""

    name: str


@dataclass(frozen=True)
class Condense(Expr):
    """``condense op over $t t(a:b), ... [where cond] using expr``."""

    op: str  # + * min max and or (also written as names)
    iterators: tuple[AxisIterator, ...]
    using: Expr
    where: Expr | None = None


@dataclass(frozen=True)
class CoverageConstructor(Expr):
    """``coverage name over $x x(0:255), ... values expr`` or ``value list <v1; v2; ...>``."""

    name: str
    iterators: tuple[AxisIterator, ...]
    values: Expr | None = None
    value_list: tuple[Expr, ...] | None = None


# ---- geometry and resampling -----------------------------------------------------------------
@dataclass(frozen=True)
class Scale(Expr):
    """``scale`` and its forms. Exactly one of the specs is set:
    factor (all axes), axis_factors {axis: f}, sizes {axis: cells}, extents {axis: (lo, hi)},
    like (take the target domain of another coverage expression)."""

    source: Expr
    factor: Expr | None = None
    axis_factors: tuple[tuple[str, Expr], ...] = ()
    sizes: tuple[tuple[str, Expr], ...] = ()
    extents: tuple[tuple[str, Expr, Expr], ...] = ()
    like: Expr | None = None
    method: str = "near"


@dataclass(frozen=True)
class Extend(Expr):
    """``extend(e, {E(a:b), N(c:d)})``: pad with nulls to a larger domain."""

    source: Expr
    axes: tuple[AxisSubset, ...]


@dataclass(frozen=True)
class CrsTransform(Expr):
    """``crsTransform(e, {E:"EPSG:4326", N:"EPSG:4326"}, {method}, {resolutions}, {bbox})``."""

    source: Expr
    target_crs: str
    method: str = "near"
    resolutions: tuple[tuple[str, Expr], ...] = ()
    bbox: tuple[AxisSubset, ...] = ()


@dataclass(frozen=True)
class Clip(Expr):
    """``clip(e, WKT [, crs])``; ``with_coordinates`` returns the coordinates along a linestring."""

    source: Expr
    wkt: str
    crs: str | None = None
    with_coordinates: bool = False


@dataclass(frozen=True)
class Flip(Expr):
    source: Expr
    axis: str


@dataclass(frozen=True)
class Sort(Expr):
    """``sort e along axis [asc|desc] by expr``."""

    source: Expr
    axis: str
    by: Expr
    descending: bool = False


# ---- metadata --------------------------------------------------------------------------------
METADATA_FUNCTIONS = ("identifier", "crsSet", "imageCrs", "domain", "imageCrsDomain", "cellCount", "nullSet", "describe")


@dataclass(frozen=True)
class Metadata(Expr):
    """``domain($c, E, "EPSG:32633")``, ``imageCrsDomain($c, E).lo``, ``identifier($c)`` ...;
    ``part`` is "lo", "hi", "resolution" or None (the whole interval)."""

    function: str  # one of METADATA_FUNCTIONS
    source: Expr
    axis: str | None = None
    crs: str | None = None
    part: str | None = None


@dataclass(frozen=True)
class FunctionCall(Expr):
    """A user-defined function ``ns.fn(args)``."""

    namespace: str
    name: str
    args: tuple[Expr, ...]


# ---- output -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Encode(Expr):
    """``encode(e, "image/png", "{...json options...}")``; format as written (MIME type or
    a short name such as "png", "GTiff", "netcdf", "json", "csv", "gml")."""

    source: Expr
    format: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Query(Expr):
    """A whole query: one expression per result (iterators expanded, ``let`` inlined,
    ``where`` kept per result). ``text`` is the source for error messages."""

    results: tuple[Expr, ...]
    where: tuple[Expr | None, ...] = ()
    text: str = ""
