"""Band pruning: a query reads only the bands it uses.

``avg($c.B02)`` must plan the read of band B02 alone: the read guard of the server
counts (and limits, and bills to quotas) the cells of every planned band, and a tile of
an unused band should never be fetched. Band access (`ir.Field`) is therefore pushed
down through the operations that treat each band on its own and keep band names
(subsets, scale, extend, crsTransform, polygon clip, flip, sort, casts, unary cell
operations, ``is null``) until it meets the stored coverage, whose read then plans just
that band: ``scale($c[ansi("2021")], 0.5).B04`` becomes ``scale($c.B04[ansi("2021")], 0.5)``.
Where the whole coverage is used (``encode($c, ...)``, ``$c + 1``) every band is read.

`push_field` rewrites one `Field` node; the evaluator calls it when it meets one, so
every front end (WCPS, WCS, WMS styles over ``$c``, rasql) gets the pruning.
"""

from __future__ import annotations

from dataclasses import replace

from petacube.engine import ir
from petacube.errors import NoSuchField

# nodes whose bands are computed each from the same band of ``source`` (names kept)
_BANDWISE = (ir.Subset, ir.Scale, ir.Extend, ir.CrsTransform, ir.Flip, ir.Sort, ir.Cast, ir.Unary, ir.IsNull)


def push_field(e: ir.Field) -> ir.Expr:
    """``e`` with the band access moved below band-wise operations, as close to the
    coverage read as it can go (``e`` itself when it cannot move)."""
    src = e.source
    if isinstance(src, ir.Clip) and not src.with_coordinates:
        return replace(src, source=push_field(replace(e, source=src.source)))
    if isinstance(src, _BANDWISE):
        field = _OPERAND.get(type(src), "source")
        return replace(src, **{field: push_field(replace(e, source=getattr(src, field)))})
    return e


_OPERAND = {ir.Cast: "operand", ir.Unary: "operand", ir.IsNull: "operand"}


def stored_band(cov, name: str | int) -> str:
    """The name of band ``name`` (a name, or an index as ``$c.0`` writes it) of ``cov``."""
    names = [b.name for b in cov.bands]
    if isinstance(name, int) or (isinstance(name, str) and name.isdigit()):
        k = int(name)
        if not 0 <= k < len(names):
            raise NoSuchField(f"band index {k} is out of range: {cov.id} has {len(names)} band(s) ({', '.join(names)})")
        return names[k]
    if name not in names:
        raise NoSuchField(f"no band '{name}'; the bands are {', '.join(names)}")
    return name
