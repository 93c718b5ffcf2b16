"""Irregular-axis coefficients: loaded in one query, written as a diff.

A coefficient keeps its storage slot for life, so a commit that adds one date writes one
row whatever the length of the axis."""

from __future__ import annotations

from operator import itemgetter

from sqlalchemy import Connection, delete, select

from petacube.catalog.schema import coefficients as T
from petacube.model import Coverage, IrregularAxis

_CHUNK = 500  # slots per DELETE ... IN (...), well under every driver's parameter limit


def load(conn: Connection, cov_id: str, label: str) -> tuple[tuple[float, ...], tuple[int, ...]]:
    """(coefficients, slots) of one axis, sorted by coefficient."""
    rows = conn.execute(
        select(T.c.coefficient, T.c.slot)
        .where(T.c.coverage_id == cov_id, T.c.axis_label == label)
        .order_by(T.c.coefficient)
    ).all()
    return tuple(map(itemgetter(0), rows)), tuple(map(itemgetter(1), rows))


def sync(conn: Connection, cov: Coverage) -> int:
    """Make the stored coefficients equal ``cov``'s irregular axes; returns rows written."""
    irregular = {a.label: a for a in cov.axes if isinstance(a, IrregularAxis)}
    conn.execute(
        delete(T).where(T.c.coverage_id == cov.id, T.c.axis_label.not_in(list(irregular)))
    )
    written = 0
    for label, axis in irregular.items():
        where = (T.c.coverage_id == cov.id, T.c.axis_label == label)
        stored = dict(conn.execute(select(T.c.slot, T.c.coefficient).where(*where)).all())
        wanted = {int(s): float(c) for s, c in zip(axis.slots, axis.coefficients)}
        stale = [s for s, c in stored.items() if wanted.get(s) != c]
        fresh = [s for s, c in wanted.items() if stored.get(s) != c]
        if stale and len(stale) == len(stored):
            conn.execute(delete(T).where(*where))
        else:
            for i in range(0, len(stale), _CHUNK):
                conn.execute(delete(T).where(*where, T.c.slot.in_(stale[i : i + _CHUNK])))
        if fresh:
            _insert_many(conn, [(cov.id, label, s, wanted[s]) for s in fresh])
        written += len(stale) + len(fresh)
    return written


def _insert_many(conn: Connection, rows: list[tuple[str, str, int, float]]) -> None:
    """Insert (coverage_id, axis_label, slot, coefficient) rows; a long axis is 100 000s of
    rows, so skip per-row statement building: COPY on PostgreSQL, a plain executemany on
    SQLite (both keep every float bit)."""
    prep = conn.dialect.identifier_preparer
    columns = ", ".join(prep.quote(c) for c in ("coverage_id", "axis_label", "slot", "coefficient"))
    table = prep.format_table(T)
    if conn.dialect.name == "postgresql":
        cursor = conn.connection.driver_connection.cursor()
        with cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(["text", "text", "int8", "float8"])
            for row in rows:
                copy.write_row(row)
    else:
        conn.exec_driver_sql(f"INSERT INTO {table} ({columns}) VALUES (?, ?, ?, ?)", rows)
