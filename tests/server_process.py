"""``petacube serve`` in a subprocess on a free loopback port, for the end-to-end tests of
every folder (the WCS, WMS, web page and rasql fixtures build their own homes)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch_server(home: Path, root: Path, env: dict[str, str] | None = None,
                  timeout: float = 60.0) -> tuple[subprocess.Popen, str]:
    """Serve ``home``; returns the process and its base URL once /health answers (its output
    goes to ``root/server.err``, quoted in the error when it does not start)."""
    port = free_port()
    environ = {**os.environ, "PETACUBE_HOME": str(home), "PETACUBE_QUERY_TIMEOUT": "30", **(env or {})}
    environ.pop("PETACUBE_CONFIG", None)
    log = root / "server.err"
    with open(log, "wb") as out:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen(
            [sys.executable, "-m", "petacube.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=environ, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"petacube serve exited with {proc.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return proc, url
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"petacube serve did not start:\n{log.read_text()}")
        time.sleep(0.1)
