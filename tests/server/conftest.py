"""The ``server`` fixture: the real petacube server (subprocess) on a free loopback port."""

from __future__ import annotations

import pytest
from server_fixture import RunningServer, start_server


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> RunningServer:
    """A running server with coverages S2 and SECRET (anonymous read off) and users
    reader1/readpw, writer1/writepw, admin1/adminpw; ``.url`` is its base URL, ``.home`` its home."""
    running = start_server(tmp_path_factory.mktemp("server"))
    yield running
    running.stop()
