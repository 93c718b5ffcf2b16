"""``petacube serve`` on a free loopback port over a rasql test home, with users
reader1/readpw (reader) and writer1/writepw (writer)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

import petacube

USERS = {"reader1": ("readpw", "reader"), "writer1": ("writepw", "writer")}


def start(home: Path, log: Path) -> tuple[str, subprocess.Popen]:
    from petacube.catalog.users import Users

    with petacube.open(home) as cube:
        users = Users(cube.catalog)
        for name, (password, role) in USERS.items():
            users.add(name, password, [role], replace=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PETACUBE_HOME": str(home), "PETACUBE_QUERY_TIMEOUT": "30"}
    env.pop("PETACUBE_CONFIG", None)
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "petacube.cli", "serve", "--host", "127.0.0.1", "--port",
                                 str(port)], env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"petacube serve exited:\n{log.read_text()}")
        try:
            if httpx.get(url + "/health", timeout=2).status_code == 200:
                return url, proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.terminate()
    raise RuntimeError(f"petacube serve did not start:\n{log.read_text()}")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
