"""rasql's user-defined types and collections in the catalog (table ``rasql_types``,
created on first use so older catalogs gain it without a migration).

Rows are (kind, name, definition): kind ``struct`` / ``marray`` / ``set`` for types,
``collection`` for a collection (its set type). The array data of a collection is a
coverage of the same name; this table only remembers what the collection was declared as,
so an empty collection (created, nothing inserted yet) exists too."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, insert, select

from petacube.catalog import database
from petacube.catalog.schema import Base, rasql_types

KINDS = ("struct", "marray", "set", "collection")


class RasqlTypes:
    """Types and collections of one catalog."""

    def __init__(self, catalog):
        self._engine = catalog._engine
        if not getattr(catalog, "_rasql_tables_ready", False):
            with database.transaction(self._engine, write=True) as conn:
                Base.metadata.create_all(conn, tables=[rasql_types])
            catalog._rasql_tables_ready = True

    def get(self, kind: str, name: str) -> dict[str, Any] | None:
        """The definition of ``name`` of ``kind`` (type names compare case-sensitively, as in rasdaman)."""
        with database.transaction(self._engine, write=False) as conn:
            row = conn.execute(select(rasql_types.c.definition).where(
                rasql_types.c.kind == kind, rasql_types.c.name == name)).first()
        return None if row is None else dict(row.definition)

    def names(self, kind: str) -> list[str]:
        with database.transaction(self._engine, write=False) as conn:
            return list(conn.execute(select(rasql_types.c.name).where(rasql_types.c.kind == kind)
                                     .order_by(rasql_types.c.name)).scalars())

    def all(self, kind: str) -> dict[str, dict[str, Any]]:
        with database.transaction(self._engine, write=False) as conn:
            rows = conn.execute(select(rasql_types.c.name, rasql_types.c.definition)
                                .where(rasql_types.c.kind == kind)).all()
        return {r.name: dict(r.definition) for r in rows}

    def add(self, kind: str, name: str, definition: dict[str, Any]) -> bool:
        """Store a definition; False (and nothing changed) when ``name`` exists for ``kind``."""
        if kind not in KINDS:
            raise ValueError(f"unknown rasql kind {kind}")
        with database.transaction(self._engine, write=True) as conn:
            exists = conn.execute(select(rasql_types.c.name).where(
                rasql_types.c.kind == kind, rasql_types.c.name == name)).first() is not None
            if exists:
                return False
            conn.execute(insert(rasql_types).values(kind=kind, name=name, definition=definition,
                                                    created=datetime.now(UTC)))
        return True

    def remove(self, kind: str, name: str) -> bool:
        """Forget ``name``; False when it was not there."""
        with database.transaction(self._engine, write=True) as conn:
            result = conn.execute(delete(rasql_types).where(rasql_types.c.kind == kind, rasql_types.c.name == name))
        return result.rowcount > 0
