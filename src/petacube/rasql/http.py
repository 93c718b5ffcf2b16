"""The ``/rasdaman/rasql`` endpoint: a rasql query from ``query=`` (GET, form POST) or a
text body; uploaded files (multipart) feed ``$1``, ``$2`` ...

Answers as petascope's rasql servlet: one element as its bytes (arrays: the raw cells as
application/octet-stream; encoded results with their media type; scalars and domains as
text/plain), several as ``multipart/related``, none as an empty 200. Rights: a select
needs read rights on its collections, every other statement a writer."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from petacube.errors import MissingParameterValue
from petacube.ows.protocol import OwsRequest, OwsResponse
from petacube.rasql.execute import Session, Upload
from petacube.rasql.results import Element


def handle_rasql(req: OwsRequest, cube, *, authorize: Callable | None = None,
                 observe: Callable | None = None) -> OwsResponse:
    """Run the request's query; raises `PetacubeError`s for the caller to report."""
    from petacube.ows.dispatch import Operation

    text = req.param("query") or req.param("q")
    if text is None and req.body:
        text = req.body.decode("utf-8", errors="replace")
    if text is None or not text.strip():
        raise MissingParameterValue("the rasql query is missing: send query=select ... (or the query as the POST body)",
                                    locator="query")

    def check(names: tuple[str, ...], write: bool) -> None:
        op = Operation("RASQL", "update" if write else "select", names, write=write)
        if observe is not None:
            observe(op)
        if authorize is not None:
            authorize(op)

    outcome = Session(cube, check).execute(text, [Upload(f) for f in req.files])
    response = elements_response(outcome.elements)
    response.coverage = ",".join(outcome.collections) or None
    return response


def elements_response(elements: list[Element]) -> OwsResponse:
    if not elements:
        return OwsResponse(200, "text/plain", b"")
    if len(elements) == 1:
        return OwsResponse(200, elements[0].media_type, elements[0].payload())
    boundary = f"petacube-{uuid.uuid4().hex}"
    chunks = []
    for e in elements:
        data = e.payload()
        chunks.append(f"--{boundary}\r\nContent-Type: {e.media_type}\r\nContent-Length: {len(data)}\r\n\r\n".encode())
        chunks.append(data)
        chunks.append(b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode())
    return OwsResponse(200, f'multipart/related; boundary="{boundary}"', b"".join(chunks))
