"""Where the real Sentinel sample files are: ``$PETACUBE_SHARED_DATA``, else ``../shared/data``
beside the repository, else the workplace's ``/work/shared/data`` (a checkout elsewhere, as
CI's, still finds them). Tests read them from there; they are never copied into the package."""

from __future__ import annotations

import os
from pathlib import Path


def _find() -> Path:
    candidates = [os.environ.get("PETACUBE_SHARED_DATA"),
                  Path(__file__).resolve().parents[2] / "shared" / "data",
                  "/work/shared/data"]
    for c in candidates:
        if c and (Path(c) / "README.md").is_file():
            return Path(c)
    raise FileNotFoundError("the shared Sentinel sample data was not found: set PETACUBE_SHARED_DATA to its folder "
                            f"(looked in {', '.join(str(c) for c in candidates if c)})")


SHARED_DATA = _find()
