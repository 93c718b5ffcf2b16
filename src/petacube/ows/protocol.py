"""The seam between `server/` (HTTP) and `ows/` (OGC protocols): plain request/response
values, so protocol code is tested without HTTP and the server holds no protocol logic."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class OwsRequest:
    """One OGC request as the server received it."""

    method: str  # "GET" or "POST"
    params: dict[str, list[str]]  # KVP parameters; keys lower-cased, values as sent (repeats kept, e.g. subset)
    base_url: str  # the endpoint's absolute URL, e.g. http://127.0.0.1:8080/rasdaman/ows
    body: bytes | None = None  # POST body (XML request, or form data already folded into params)
    content_type: str | None = None
    files: list[bytes] = field(default_factory=list)  # uploaded files in order: decode($1), $2 ...; WCS-T inputs
    user: str | None = None  # authenticated user name; None = anonymous
    roles: frozenset[str] = frozenset()  # the user's roles: reader, writer, admin
    # may this caller read the coverage? set by the dispatcher from the server's rights, so
    # listings (GetCapabilities) show only what the caller may read; None: everything
    readable: Callable[[str], bool] | None = None

    def param(self, name: str) -> str | None:
        """The single value of a KVP parameter (case-insensitive name), or None."""
        values = self.params.get(name.lower())
        return values[-1] if values else None

    def all(self, name: str) -> list[str]:
        return list(self.params.get(name.lower(), []))


@dataclass
class OwsResponse:
    status: int
    media_type: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    # for the access log: coverage touched, cells read (estimate), filled by handlers
    coverage: str | None = None
    cells: int = 0
