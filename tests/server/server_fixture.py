"""The real HTTP server for end-to-end tests: a small imported cube, users, and
``petacube serve`` in a subprocess on a free loopback port.

Use through the ``server`` fixture of tests/server/conftest.py, or call `start_server`
from another folder's conftest (import this module by name: it is on sys.path once
tests/server is, or add the folder yourself)."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from datagen import ingredients, write_geotiff
from rasterio.transform import from_origin
from server_process import launch_server

DATES = ["20210415", "20210501", "20210520"]
BANDS = ["B02", "B03", "B04"]
ORIGIN = (500000.0, 5000000.0)
RES = 10.0
HEIGHT, WIDTH = 24, 32
USERS = {"reader1": ("readpw", "reader"), "writer1": ("writepw", "writer"), "admin1": ("adminpw", "admin")}
MAX_UPLOAD = 2 * 2**20


@dataclass
class RunningServer:
    url: str  # base URL, e.g. http://127.0.0.1:43123
    home: Path
    access_log: Path
    s2: np.ndarray  # (date, band, y, x) source values of coverage S2
    secret: np.ndarray  # (y, x) source values of coverage SECRET (anonymous read off)
    upload: Path  # a small GeoTIFF for decode($1)
    process: subprocess.Popen = field(repr=False)
    users: dict = field(default_factory=lambda: dict(USERS))

    def ows(self) -> str:
        return f"{self.url}/rasdaman/ows"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)



def build_home(root: Path) -> tuple[Path, np.ndarray, np.ndarray, Path]:
    """Import S2 (3 dates × 3 bands, EPSG:32633) and SECRET (2-D float32) into root/home."""
    import petacube
    from petacube.catalog.users import Users
    from petacube.ingest.importer import run_import

    rng = np.random.default_rng(5)
    arrays = []
    for date in DATES:
        data = rng.integers(1, 4000, size=(len(BANDS), HEIGHT, WIDTH)).astype("uint16")
        arrays.append(data)
        write_geotiff(root / "s2" / f"S2_{date}.tif", data, crs="EPSG:32633",
                      transform=from_origin(*ORIGIN, RES, RES), nodata=0, band_descriptions=BANDS)
    (root / "s2.json").write_text(json.dumps(ingredients("S2", ["s2/*.tif"], "time_series_irregular", {
        "time_parameter": {"filename": {"regex": "S2_(\\d{8})", "group": "1"}, "datetime_format": "YYYYMMDD"},
        "time_crs": "OGC/0/AnsiDate", "tiling": "ALIGNED [0:0, 0:15, 0:15]"})))
    secret = rng.uniform(0, 100, size=(16, 12)).astype("float32")
    write_geotiff(root / "secret" / "secret.tif", secret, crs="EPSG:32633",
                  transform=from_origin(500000, 5000000, 20, 20), nodata=-9999)
    (root / "secret.json").write_text(json.dumps(ingredients("SECRET", ["secret/secret.tif"], "map_mosaic", {
        "tiling": "ALIGNED [0:15, 0:15]"})))
    upload = write_geotiff(root / "upload.tif", np.arange(12, dtype="float32").reshape(3, 4), crs="EPSG:32633",
                           transform=from_origin(500000, 5000000, 10, 10))
    home = root / "home"
    with petacube.open(home) as cube:
        run_import(root / "s2.json", cube, show_progress=False)
        run_import(root / "secret.json", cube, show_progress=False)
        users = Users(cube.catalog)
        for name, (password, role) in USERS.items():
            users.add(name, password, [role])
        users.set_anonymous_read("SECRET", False)
    return home, np.stack(arrays), secret, upload


def start_server(root: Path, env: dict[str, str] | None = None, timeout: float = 60.0) -> RunningServer:
    """Build the cube under ``root`` and run ``petacube serve`` on a free port until /health answers."""
    home, s2, secret, upload = build_home(root)
    log_path = root / "access.log"
    proc, url = launch_server(home, root, {"PETACUBE_ACCESS_LOG": str(log_path),
                                           "PETACUBE_MAX_UPLOAD_BYTES": str(MAX_UPLOAD), **(env or {})}, timeout)
    return RunningServer(url, home, log_path, s2, secret, upload, proc)
