"""Fixtures for end-to-end import tests: a fresh datacube home and ingredients writers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import petacube


@pytest.fixture
def cube(tmp_path):
    c = petacube.open(tmp_path / "home")
    yield c
    c.close()


@pytest.fixture
def write_ingredients(tmp_path):
    def write(data: dict, name: str = "ingredients.json") -> Path:
        path = tmp_path / name
        path.write_text(json.dumps(data, indent=2))
        return path

    return write
