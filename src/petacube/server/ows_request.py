"""Turning an HTTP request into the `OwsRequest` the protocol layer reads: KVP from the
query string, url-encoded and multipart forms folded into the parameters (uploaded files in
order), other bodies (XML, text) passed as they are."""

from __future__ import annotations

from urllib.parse import parse_qsl

from python_multipart.multipart import parse_options_header
from starlette.datastructures import Headers, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request

from petacube.errors import InvalidParameterValue
from petacube.ows.protocol import OwsRequest
from petacube.server.limits import read_body


async def build_request(request: Request, base_url: str, max_bytes: int) -> OwsRequest:
    params: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        params.setdefault(key.lower(), []).append(value)
    body: bytes | None = None
    files: list[bytes] = []
    content_type = request.headers.get("content-type")
    if request.method == "POST":
        body = await read_body(request, max_bytes)
        media = parse_options_header(content_type or "")[0].decode("latin-1").lower()
        if media == "application/x-www-form-urlencoded":
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                raise InvalidParameterValue("the form body is not UTF-8") from None
            for key, value in parse_qsl(text, keep_blank_values=True):
                params.setdefault(key.lower(), []).append(value)
            body = None
        elif media == "multipart/form-data":
            await _multipart(request.headers, body, max_bytes, params, files)
            body = None
    return OwsRequest(method=request.method, params=params, base_url=base_url, body=body or None,
                      content_type=content_type, files=files)


async def _multipart(headers: Headers, body: bytes, max_bytes: int, params: dict, files: list[bytes]) -> None:
    async def stream():
        yield body
        yield b""

    try:
        form = await MultiPartParser(headers, stream(), max_part_size=max_bytes).parse()
    except MultiPartException as exc:
        raise InvalidParameterValue(f"the multipart form could not be read: {exc.message}") from None
    try:
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                files.append(await value.read())
            else:
                params.setdefault(key.lower(), []).append(value)
    finally:
        await form.close()
