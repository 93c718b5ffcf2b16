"""One asyncio event loop on a daemon thread, for Icechunk's async store calls.

Icechunk's store speaks asyncio only; the tile store's callers are synchronous and may
be many threads. A single long-lived loop avoids paying for a new loop per read and lets
all fetches of a read be in flight together.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Coroutine
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None


def _reset_after_fork() -> None:
    # the loop's thread does not survive fork(); a child starts its own on first use
    global _loop
    _loop = None


os.register_at_fork(after_in_child=_reset_after_fork)


def _get_loop() -> asyncio.AbstractEventLoop:
    global _loop
    with _lock:
        if _loop is None:
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=loop.run_forever, name="petacube-storage-io", daemon=True)
            thread.start()
            _loop = loop
        return _loop


def submit(coro: Coroutine[Any, Any, T]) -> Future[T]:
    """Start ``coro`` on the background loop; its result arrives in the returned future."""
    return asyncio.run_coroutine_threadsafe(coro, _get_loop())


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` on the background loop and wait for its result (from any other thread)."""
    return submit(coro).result()
