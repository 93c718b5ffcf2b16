"""Running a query: evaluate each result lazily, refuse results that are too large before
any tile is read, then compute on the local threads or a dask.distributed cluster."""

from __future__ import annotations

import threading
import time
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import dask
from dask.callbacks import Callback
import numpy as np

from petacube.engine import ir
from petacube.engine.evaluate import Evaluator
from petacube.engine.values import CoverageValue, EncodeRequest, is_coverage, scalar_of
from petacube.errors import QueryCancelled, ResultTooLarge, WcpsError


@dataclass
class Result:
    """One query result: encoded bytes with their media type, or a scalar value."""

    value: Any = None
    data: bytes | None = None
    media_type: str = "text/plain"

    def text(self) -> str:
        if self.data is not None:
            return f"<{len(self.data)} bytes of {self.media_type}>"
        v = self.value
        if isinstance(v, float):
            return repr(v)
        return str(v)


class Limits(Callback):
    """Stops a local computation between tasks once its deadline passes or it is cancelled."""

    def __init__(self, deadline: float, cancel: threading.Event | None):
        super().__init__()
        self.deadline, self.cancel = deadline, cancel

    def check(self) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise QueryCancelled("the query was cancelled")
        if time.monotonic() > self.deadline:
            raise QueryCancelled("the query ran past its time limit (setting query_timeout); subset or scale the data down")

    def _pretask(self, key, dask, state):
        self.check()


LIMITS: ContextVar[Limits | None] = ContextVar("petacube_query_limits", default=None)


def run_query(query: ir.Query, cube, *, uploads: list[bytes] | None = None, max_result_bytes: int | None = None,
              scheduler: str | None = None, timeout: float | None = None,
              cancel: threading.Event | None = None) -> list[Result]:
    """Evaluate every result of ``query`` against ``cube`` within the time limit
    (``timeout`` seconds, default the query_timeout setting); set ``cancel`` to stop it."""
    evaluator = Evaluator(cube, uploads)
    limit = max_result_bytes if max_result_bytes is not None else cube.settings.max_result_bytes
    seconds = timeout if timeout is not None else cube.settings.query_timeout
    token = LIMITS.set(Limits(time.monotonic() + seconds, cancel))
    try:
        return _run(query, evaluator, limit, scheduler)
    finally:
        LIMITS.reset(token)


def _run(query: ir.Query, evaluator: Evaluator, limit: int, scheduler: str | None) -> list[Result]:
    out = []
    wheres = query.where or (None,) * len(query.results)
    for expr, where in zip(query.results, wheres):
        if where is not None and not bool(compute(scalar_of(evaluator.eval(where)), scheduler)):
            continue
        value = evaluator.eval(expr)
        if isinstance(value, EncodeRequest):
            out.append(encode(value.value, value.format, value.options, limit, scheduler))
        elif is_coverage(value):
            raise WcpsError("a coverage result must be encoded: wrap it in encode(..., \"image/tiff\") or another format")
        elif isinstance(value, dict):
            import json

            out.append(Result(value=json.dumps(value, default=str)))
        else:
            out.append(Result(value=_plain(compute(value, scheduler))))
    return out


def encode(value, fmt: str, options: dict, limit: int, scheduler: str | None) -> Result:
    """An `encode()` result as bytes: refused before any tile is read when larger than
    ``limit`` bytes; a coverage with every axis sliced away is its cell (JSON/CSV only)."""
    from petacube.encode import encode as encode_bytes
    from petacube.encode.formats import resolve_format

    if is_coverage(value) and not value.dims:
        kind = resolve_format(fmt).kind
        if kind not in ("json", "csv"):
            raise WcpsError(
                f"every axis of the value is sliced, so it is a single cell: it can be encoded as json or csv, "
                f"not {fmt}; keep an axis (trim instead of slice) to get an image")
        cell = compute(value.data, scheduler)  # no CRS left: encoded as a plain cell
        data, media = encode_bytes(cell, fmt, options)
    elif is_coverage(value):
        size = sum(int(np.prod(v.shape)) * v.dtype.itemsize for v in value.data.data_vars.values())
        if limit and size > limit:
            raise ResultTooLarge(
                f"the result would be {size / 2**20:.1f} MiB, over the limit of {limit / 2**20:.0f} MiB; "
                "subset or scale it down"
            )
        ds = writable(compute(value.annotated(), scheduler))
        data, media = encode_bytes(ds, fmt, options)
    elif isinstance(value, dict) and fmt.lower() in ("json", "application/json"):
        import json

        data, media = json.dumps(value, default=str).encode(), "application/json"
    else:
        data, media = encode_bytes(_plain(compute(value, scheduler)), fmt, options)
    return Result(data=data, media_type=media)


def compute(value, scheduler: str | None):
    """Compute lazy values on local threads, or on the dask cluster at ``scheduler``."""
    if not hasattr(value, "compute") and not isinstance(value, CoverageValue):
        return value
    limits = LIMITS.get()
    if limits is not None:
        limits.check()
    if scheduler:
        future = _client(scheduler).compute(value)
        left = None if limits is None else max(0.0, limits.deadline - time.monotonic())
        try:
            return future.result(timeout=left)
        except TimeoutError:
            future.cancel()
            raise QueryCancelled("the query ran past its time limit (setting query_timeout) on the cluster") from None
    with dask.config.set(scheduler="threads"):
        if limits is None:
            return value.compute()
        with limits:
            return value.compute()


_CLIENTS: dict[str, Any] = {}
_CLIENTS_LOCK = threading.Lock()


def _client(address: str):
    """One dask.distributed client per scheduler address per process (connecting per
    query result cost a connection handshake each time)."""
    from distributed import Client

    with _CLIENTS_LOCK:
        client = _CLIENTS.get(address)
        if client is None or client.status in ("closed", "closing"):
            client = _CLIENTS[address] = Client(address, set_as_default=False)
        return client


def writable(ds):
    """Encoders may write into their arrays; a result that is one unwritten tile is a
    read-only broadcast of the fill value (see `Datacube.lazy`): give them a copy."""
    for name in ds.data_vars:
        if not ds[name].values.flags.writeable:
            ds[name] = ds[name].copy(data=np.array(ds[name].values))
    return ds


def _plain(v):
    v = scalar_of(v)
    if isinstance(v, np.ndarray):
        return v.tolist()
    return v
