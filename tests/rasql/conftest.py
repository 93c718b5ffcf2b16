import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from rasql_cube import RasqlCube, build


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> RasqlCube:
    return build(tmp_path_factory.mktemp("rasql"))


@pytest.fixture
def session(data):
    from petacube.rasql import Session

    with data.open() as cube:
        yield Session(cube)
