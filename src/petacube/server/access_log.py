"""The structured access log: one JSON line per request on logger ``petacube.access``."""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime

log = logging.getLogger("petacube.access")
SCOPE_KEY = "petacube.log"  # handlers add user, request, coverage to scope[SCOPE_KEY]


class AccessLog:
    """ASGI middleware timing each HTTP request and counting the bytes sent."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start = time.perf_counter()
        info: dict = {}
        scope[SCOPE_KEY] = info
        sent = {"status": 500, "bytes": 0}

        async def counting_send(message):
            if message["type"] == "http.response.start":
                sent["status"] = message["status"]
            elif message["type"] == "http.response.body":
                sent["bytes"] += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, counting_send)
        finally:
            client = scope.get("client")
            record = {
                "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
                "user": info.get("user"),
                "client": info.get("client") or (client[0] if client else None),  # behind a trusted proxy: the real client
                "method": scope.get("method"),
                "path": scope.get("path"),
                "request": info.get("request"),
                "coverage": info.get("coverage"),
                "cells": info.get("cells"),
                "status": sent["status"],
                "bytes": sent["bytes"],
                "ms": round((time.perf_counter() - start) * 1000, 1),
            }
            log.info(json.dumps(record, separators=(",", ":")))
