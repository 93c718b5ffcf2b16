"""rasql: rasdaman's array query language (ISO SQL/MDA style) on petacube's engine.

``query(cube, "select avg_cells(c) from mr as c")`` parses the statement, translates its
expressions into the engine IR (the same IR WCPS compiles to) and runs it; collections are
coverages with an Index CRS. The ``rasql`` command is `petacube.rasql.cli`, the HTTP
endpoint ``/rasdaman/rasql`` is `petacube.rasql.http`.
"""

from __future__ import annotations

from petacube.rasql.execute import Outcome, Session, Upload
from petacube.rasql.results import Element


def query(cube, text: str, files: list[bytes] | None = None) -> list[Element]:
    """Run one rasql statement; the elements of its result collection (empty for updates)."""
    return Session(cube).execute(text, [Upload(f) for f in files or []]).elements


__all__ = ["Element", "Outcome", "Session", "Upload", "query"]
