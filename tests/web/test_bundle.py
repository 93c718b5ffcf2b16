"""The committed demo-page bundle: built from the current web-src/ sources, loads nothing
from the internet, and is part of the installed package."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
WEB = REPO / "src" / "petacube" / "web"
WEB_SRC = REPO / "web-src"


def source_hash() -> str:
    """The hash web-src/build.mjs writes into build-info.json, computed independently."""
    files = ["build.mjs", "package.json", "package-lock.json"]
    files += [f"src/{p.name}" for p in sorted((WEB_SRC / "src").iterdir(), key=lambda p: p.name)]
    digest = hashlib.sha256()
    for rel in files:
        digest.update(rel.encode() + b"\0" + (WEB_SRC / rel).read_bytes() + b"\0")
    return digest.hexdigest()


def test_bundle_is_built_from_the_current_sources():
    info = json.loads((WEB / "assets" / "build-info.json").read_text())
    assert info["sources_sha256"] == source_hash(), "web-src/ changed since the bundle was built: run `make web`"
    lock = json.loads((WEB_SRC / "package-lock.json").read_text())
    pinned = json.loads((WEB_SRC / "package.json").read_text())["dependencies"]["ol"]
    assert info["versions"]["ol"] == lock["packages"]["node_modules/ol"]["version"] == pinned


def test_page_loads_nothing_from_another_host():
    html = (WEB / "index.html").read_text()
    referenced = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert "assets/app.js" in referenced and "assets/app.css" in referenced
    assert not [r for r in referenced if re.match(r"(https?:)?//", r)]
    for name in ("app.js", "app.css"):
        text = (WEB / "assets" / name).read_text()
        # no script, style sheet or font fetched from a CDN (namespace URIs in strings are fine)
        assert not re.search(r"""(import\s*\(|url\(|@import)\s*["']?(https?:)?//""", text), name
    licences = (WEB / "assets" / "THIRD-PARTY-LICENSES.txt").read_text()
    assert "ol\n==\n" in licences and "proj4\n=====\n" in licences


def test_package_data_ships_the_nested_web_files():
    import tomllib

    patterns = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["petacube"]
    root = REPO / "src" / "petacube"
    shipped = {p for pattern in patterns for p in root.glob(pattern) if p.is_file()}
    wanted = {p for p in WEB.rglob("*") if p.is_file()}
    assert wanted and wanted <= shipped, sorted(str(p.relative_to(root)) for p in wanted - shipped)
