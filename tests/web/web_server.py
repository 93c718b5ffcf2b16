"""The real server for the demo-page tests: a small Sentinel-2-like cube made by the demo's
own scene generator (scripts/demo.py), imported with the demo's ingredients (pyramids,
``wms_import: true``), served by ``petacube serve`` on a free loopback port."""

from __future__ import annotations

import importlib.util
import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from server_process import launch_server

REPO = Path(__file__).resolve().parents[2]
COVERAGE = "S2_WEB"
DATES = ["20210415", "20210603", "20210712"]
SIZE = 96  # pixels a side: 960 m at 10 m


def demo_module():
    """scripts/demo.py, imported under a unique name (it is a script, not a package)."""
    spec = importlib.util.spec_from_file_location("petacube_demo_script", REPO / "scripts" / "demo.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class WebServer:
    url: str
    home: Path
    coverage: str
    dates: list[str]  # ISO dates of the slices
    bands: list[str]
    scenes: dict[str, dict[str, np.ndarray]]  # date -> band -> (y, x) source values
    origin: tuple[float, float]
    resolution: float
    size: int
    process: subprocess.Popen = field(repr=False)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)



def build_home(root: Path) -> tuple[Path, dict[str, dict[str, np.ndarray]], object]:
    """Generate the scenes with the demo's generator and import them as the demo does."""
    import petacube
    from petacube.ingest.importer import run_import

    demo = demo_module()
    scenes = {}
    for k, date in enumerate(DATES):
        path = root / "scenes" / f"S2_T33UUP_{date}_L2A.tif"
        demo.make_scene(path, demo.day_of_year(date), seed=k, size=SIZE)
        scenes[f"{date[:4]}-{date[4:6]}-{date[6:]}"] = demo.scene_bands(demo.day_of_year(date), seed=k, size=SIZE)
    ingredients = demo.demo_ingredients(COVERAGE, ["scenes/*.tif"], [2])
    (root / "web.json").write_text(json.dumps(ingredients))
    home = root / "home"
    with petacube.open(home) as cube:
        run_import(root / "web.json", cube, show_progress=False)
        demo.add_demo_styles(cube, COVERAGE)
    return home, scenes, demo


def start_web_server(root: Path, timeout: float = 60.0) -> WebServer:
    """Build the cube under ``root`` and run ``petacube serve`` until /health answers."""
    home, scenes, demo = build_home(root)
    proc, url = launch_server(home, root, timeout=timeout)
    return WebServer(url, home, COVERAGE, sorted(scenes), list(demo.BANDS), scenes, demo.ORIGIN,
                     demo.RESOLUTION, SIZE, proc)
