"""Collections and types: create/insert/update/delete/drop, nulls that do not overwrite,
tiling, user types with null values, and the errors rasdaman gives (nothing half-written)."""

from __future__ import annotations

import numpy as np
import pytest

import petacube
from petacube.rasql import Session, Upload
from petacube.rasql.errors import RasqlError


@pytest.fixture
def fresh(tmp_path):
    with petacube.open(tmp_path / "home") as cube:
        yield Session(cube)


def array(session, query, dtype, shape):
    return np.frombuffer(session.execute(query).elements[0].data, dtype=dtype).reshape(shape)


def test_lifecycle_insert_update_delete_drop(fresh):
    fresh.execute("create collection c1 ShortSet")
    assert fresh.execute("select c from c1 as c").elements == []  # empty collection
    base = np.arange(48, dtype=np.int16).reshape(8, 6) - 20
    fresh.execute("insert into c1 values $1 tiling aligned [0:3, 0:2] tile size 24",
                  [Upload(base.tobytes(), "ShortImage", "[0:7,0:5]")])
    assert np.array_equal(array(fresh, "select c from c1 as c", np.int16, (8, 6)), base)
    assert fresh.cube.describe("c1").tile_shape == (4, 3)
    fresh.execute("update c1 as c set c[2:3, 1:4] assign marray x in [2:3, 1:4] values (short) (x[0] * 100 + x[1])")
    expected = base.copy()
    expected[2:4, 1:5] = np.add.outer(np.arange(2, 4) * 100, np.arange(1, 5))
    assert np.array_equal(array(fresh, "select c from c1 as c", np.int16, (8, 6)), expected)
    fresh.execute("update c1 as c set c[7, 0:5] assign marray x in [0:5] values 7s")
    expected[7, :] = 7
    assert np.array_equal(array(fresh, "select c from c1 as c", np.int16, (8, 6)), expected)
    fresh.execute("delete from c1 as c where max_cells(c) > 10000")  # false: nothing deleted
    assert len(fresh.execute("select c from c1 as c").elements) == 1
    fresh.execute("delete from c1")
    assert fresh.execute("select c from c1 as c").elements == []
    assert "c1" in [e.value for e in fresh.execute("select r from RAS_COLLECTIONNAMES as r").elements]
    fresh.execute("drop collection c1")
    with pytest.raises(RasqlError, match="355"):
        fresh.execute("select c from c1 as c")


def test_user_types_and_nulls_do_not_overwrite(fresh):
    fresh.execute("create type Pix as (a char, b float)")
    fresh.execute("create type PixImage as Pix mdarray [x, y]")
    fresh.execute("create type NullGreyImage as char mdarray [x, y]")
    fresh.execute("create type NullGreySet as set (NullGreyImage null values [0])")
    fresh.execute("create collection n NullGreySet")
    base = np.full((4, 4), 9, dtype=np.uint8)
    fresh.execute("insert into n values $1", [Upload(base.tobytes(), "GreyImage", "[0:3,0:3]")])
    # the source is [[1, 0], [0, 2]]: 0 is the set type's null value and keeps the old 9
    fresh.execute("update n as c set c[1:2, 1:2] assign marray x in [1:2, 1:2] values (char) ((x[0] = x[1]) * x[0])")
    got = array(fresh, "select c from n as c", np.uint8, (4, 4))
    expected = base.copy()
    expected[1, 1], expected[2, 2] = 1, 2  # the off-diagonal zeros (nulls) did not overwrite
    assert np.array_equal(got, expected)
    fresh.execute("create type PixSet as set (PixImage)")
    fresh.execute("create collection p PixSet")
    fresh.execute("insert into p values marray x in [0:1, 0:2] values {(char) x[0], (float) x[1] / 2}")
    cells = fresh.execute("select c from p as c").elements[0].data
    rec = np.frombuffer(cells, dtype=[("a", "u1"), ("b", "f4")]).reshape(2, 3)
    assert rec["a"].tolist() == [[0, 0, 0], [1, 1, 1]] and rec["b"][0].tolist() == [0, 0.5, 1.0]
    with pytest.raises(RasqlError, match="243"):
        fresh.execute("drop type PixImage")  # used by PixSet
    with pytest.raises(RasqlError, match="907"):
        fresh.execute("create type PixSet as set (PixImage)")
    with pytest.raises(RasqlError, match="243"):
        fresh.execute("drop type GreySet")  # predefined
    fresh.execute("drop collection p")
    fresh.execute("drop type PixSet")
    fresh.execute("drop type PixImage")


def test_errors_name_line_column_and_token(fresh):
    with pytest.raises(RasqlError) as err:
        fresh.execute("select c\n  fro mr as c")
    assert "line 2, column 3" in str(err.value) and "fro" in str(err.value) and err.value.number == 300
    with pytest.raises(RasqlError) as err:
        fresh.execute("select c from nosuch as c")
    assert "Collection name is unknown" in str(err.value) and "nosuch" in str(err.value)
    with pytest.raises(RasqlError, match="956"):
        fresh.execute("create collection x NoSuchSet")
    fresh.execute("create collection g GreySet")
    with pytest.raises(RasqlError, match="955"):
        fresh.execute("create collection g GreySet")
    with pytest.raises(RasqlError, match="959"):  # 3-D array into a 2-D set type
        fresh.execute("insert into g values marray x in [0:1, 0:1, 0:1] values 1c")
    with pytest.raises(RasqlError, match="959"):  # struct cells into a char collection
        fresh.execute("insert into g values marray x in [0:1, 0:1] values {1c, 2c}")
    fresh.execute("insert into g values marray x in [0:4, 0:4] values 5c")
    with pytest.raises(RasqlError, match="356"):  # out-of-range trim
        fresh.execute("select c[0:9, 0:2] from g as c")
    with pytest.raises(RasqlError, match="362"):
        fresh.execute("select c[0:1] from g as c")
    before = array(fresh, "select c from g as c", np.uint8, (5, 5))
    with pytest.raises(RasqlError, match="953"):  # domain mismatch: nothing written
        fresh.execute("update g as c set c[0:1, 0:1] assign marray x in [0:2, 0:2] values 9c")
    with pytest.raises(RasqlError):  # a failing source expression: nothing written
        fresh.execute("update g as c set c[0:1, 0:1] assign marray x in [0:1, 0:1] values c[x] / nosuch")
    assert np.array_equal(array(fresh, "select c from g as c", np.uint8, (5, 5)), before)
    with pytest.raises(RasqlError, match="361"):
        fresh.execute("select c, c from g as c")


def test_collections_are_coverages_for_wcps(data):
    from petacube.engine.run import run_query
    from petacube.wcps import parse_wcps

    with data.open() as cube:
        cov = cube.describe("mr")
        assert cov.crs.identifier.startswith("OGC/0/Index2D")
        result = run_query(parse_wcps("for $c in (mr) return avg($c)"), cube)[0]
        assert result.value == pytest.approx(float(data.mr.mean()))
