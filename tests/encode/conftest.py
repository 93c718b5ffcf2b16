"""Small hand-built coverage values, as the engine hands them to the encoders."""

import numpy as np
import pytest


@pytest.fixture
def rgb():
    rng = np.random.default_rng(1)
    return {b: rng.integers(0, 256, (4, 6)).astype(np.uint8) for b in ("red", "green", "blue")}
