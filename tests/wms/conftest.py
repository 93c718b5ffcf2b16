"""The ``wms`` fixture: the real petacube server with the WMS test cube (see wms_server.py)."""

from __future__ import annotations

import pytest
from wms_server import WmsServer, start_wms_server


@pytest.fixture(scope="session")
def wms(tmp_path_factory) -> WmsServer:
    running = start_wms_server(tmp_path_factory.mktemp("wms"))
    yield running
    running.stop()
