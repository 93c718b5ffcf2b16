"""The GetMap response cache: answers keyed by the normalised request and the catalog
stamps (version + commit time) of the layers and the versions of the styles it used, so a
commit to a layer's data or a style change makes its old entries unreachable (they age out
of the LRU)."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable

from cachetools import LRUCache

from petacube.ows.protocol import OwsResponse

DEFAULT_BYTES = 64 * 2**20  # per process
_CACHES: weakref.WeakKeyDictionary[object, ResponseCache] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


class ResponseCache:
    """An LRU of successful responses, bounded by their total size in bytes."""

    def __init__(self, max_bytes: int = DEFAULT_BYTES):
        self._lru: LRUCache = LRUCache(maxsize=max_bytes, getsizeof=lambda r: len(r.body) + 256)
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get_or_make(self, key, make: Callable[[], OwsResponse]) -> OwsResponse:
        with self._lock:
            hit = self._lru.get(key)
            if hit is not None:
                self.hits += 1
                return hit
            self.misses += 1
        response = make()
        if response.status == 200 and len(response.body) + 256 <= self._lru.maxsize:
            with self._lock:
                self._lru[key] = response
        return response

    def clear(self) -> None:
        with self._lock:
            self._lru.clear()


def response_cache(cube) -> ResponseCache:
    """The cache of one Datacube (one per server worker process); keyed by its catalog, which
    a per-request wrapper of the cube (the server's read guard) passes through."""
    owner = cube.catalog
    with _LOCK:
        cache = _CACHES.get(owner)
        if cache is None:
            size = int(getattr(cube.settings, "wms_cache_bytes", DEFAULT_BYTES) or 0)
            cache = _CACHES[owner] = ResponseCache(max(size, 1))
        return cache
