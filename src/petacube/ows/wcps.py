"""WCPS ProcessCoverages over HTTP: the query from ``query=``/``q=`` (KVP or form), a raw
text body or the XML request; uploaded files feed ``decode($1)``, ``$2`` ...

One result is answered with its own bytes and media type (scalars as text/plain);
several results as ``multipart/related``, one part per result.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Iterator

from petacube.engine import ir
from petacube.errors import MissingParameterValue
from petacube.ows.protocol import OwsRequest, OwsResponse


def process_coverages(req: OwsRequest, cube, *, authorize: Callable | None = None,
                      query_text: str | None = None) -> OwsResponse:
    """Parse, check rights, run and encode one WCPS request."""
    from petacube.engine.run import run_query
    from petacube.ows.dispatch import Operation
    from petacube.wcps import parse_wcps

    text = query_text if query_text is not None else (req.param("query") or req.param("q"))
    if text is None or not text.strip():
        raise MissingParameterValue(
            "ProcessCoverages needs the WCPS query in query=... (or q=..., or as the POST body)", locator="query")
    query = parse_wcps(text)
    coverages = tuple(dict.fromkeys(coverage_names(query)))
    if authorize is not None:
        authorize(Operation("WCS", "ProcessCoverages", coverages))
    settings = cube.settings
    results = run_query(query, cube, uploads=list(req.files), scheduler=settings.scheduler,
                        timeout=settings.query_timeout)
    response = results_response(results)
    response.coverage = ",".join(coverages) or None
    return response


def results_response(results) -> OwsResponse:
    """One result as itself; several as multipart/related."""
    parts = [_part(r) for r in results]
    if len(parts) == 1:
        media, data = parts[0]
        return OwsResponse(200, media, data)
    if not parts:
        return OwsResponse(200, "text/plain", b"")
    boundary = f"petacube-{uuid.uuid4().hex}"
    chunks = []
    for media, data in parts:
        chunks.append(f"--{boundary}\r\nContent-Type: {media}\r\nContent-Length: {len(data)}\r\n\r\n".encode())
        chunks.append(data)
        chunks.append(b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode())
    return OwsResponse(200, f'multipart/related; boundary="{boundary}"', b"".join(chunks))


def _part(result) -> tuple[str, bytes]:
    if result.data is not None:
        return result.media_type, result.data
    return "text/plain", result.text().encode("utf-8")


def coverage_names(node) -> Iterator[str]:
    """Names of the stored coverages a query reads (for rights and the access log)."""
    stack = [node]
    seen: set[int] = set()
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, ir.CoverageRef):
            yield item.name
        if dataclasses.is_dataclass(item) and not isinstance(item, type):
            stack.extend(getattr(item, f.name) for f in dataclasses.fields(item))
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
