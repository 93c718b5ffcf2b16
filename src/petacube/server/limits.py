"""Request limits: body size, and how many requests one user runs at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.requests import Request

from petacube.ows.exceptions import RequestTooLarge, ServerBusy


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with `RequestTooLarge` once it passes ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise RequestTooLarge(f"the request body of {int(declared)} bytes is over the limit of {limit} bytes "
                              "(setting max_upload_bytes)")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise RequestTooLarge(f"the request body is over the limit of {limit} bytes (setting max_upload_bytes)")
        chunks.append(chunk)
    return b"".join(chunks)


class QuerySlots:
    """At most ``per_user`` requests at once per user (anonymous: per client address);
    the next ones wait up to ``timeout`` seconds, then get `ServerBusy`."""

    def __init__(self, per_user: int, timeout: float):
        self.per_user, self.timeout = max(1, per_user), timeout
        self._slots: dict[str, tuple[asyncio.Semaphore, list[int]]] = {}

    @asynccontextmanager
    async def slot(self, key: str) -> AsyncIterator[None]:
        sem, users = self._slots.setdefault(key, (asyncio.Semaphore(self.per_user), [0]))
        users[0] += 1
        try:
            try:
                if sem.locked():
                    await asyncio.wait_for(sem.acquire(), self.timeout)
                else:  # a free slot: no timer, so a slow loop cannot time out a granted slot
                    await sem.acquire()
            except TimeoutError:
                raise ServerBusy(f"{key} already runs {self.per_user} requests (setting max_concurrent_queries); "
                                 "try again when one has finished") from None
            try:
                yield
            finally:
                sem.release()
        finally:
            users[0] -= 1
            if users[0] == 0:
                self._slots.pop(key, None)
