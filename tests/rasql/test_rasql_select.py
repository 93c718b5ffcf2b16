"""select: subsets, induced operations, casts, structs, case, condensers, marray and the
classic mr/rgb exercises; expected values from numpy on the source arrays."""

from __future__ import annotations

import numpy as np
import pytest

from petacube.rasql.results import scalar_text


def one(session, query, files=None):
    from petacube.rasql import Upload

    elements = session.execute(query, [Upload(f) for f in files or []]).elements
    assert len(elements) == 1
    return elements[0]


def cells(element, dtype, shape):
    return np.frombuffer(element.data, dtype=dtype).reshape(shape)


def test_trim_slice_and_open_bounds(session, data):
    mr = data.mr
    assert np.array_equal(cells(one(session, "select c[10:20, 5:9] from mr as c"), np.uint8, (11, 5)), mr[10:21, 5:10])
    assert np.array_equal(cells(one(session, "select c[5, 0:10] from mr as c"), np.uint8, (11,)), mr[5, 0:11])
    assert np.array_equal(cells(one(session, "select c[30:*, *:*] from mr as c"), np.uint8, (10, 30)), mr[30:, :])
    assert np.array_equal(cells(one(session, "select c[j(2:4), i(7)] from mr as c"), np.uint8, (3,)), mr[7, 2:5])
    assert one(session, "select c[3, 4] from mr as c").value == mr[3, 4]


def test_geo_coverage_uses_rasdaman_grid_order(session, data):
    # rasdaman's first grid axis of a geo coverage is x (easting): geo holds rows (y, x)
    geo = data.geo
    assert str(one(session, "select sdom(c) from geo as c").value) == f"[0:{geo.shape[1] - 1},0:{geo.shape[0] - 1}]"
    got = cells(one(session, "select c[2:5, 1:3] from geo as c"), np.int16, (4, 3))
    assert np.array_equal(got, geo[1:4, 2:6].T)


def test_induced_operations_and_casts(session, data):
    mr = data.mr.astype(np.int64)
    got = one(session, "select (c[0:9, 0:9] + 3) * 2 from mr as c")
    assert np.array_equal(cells(got, got.dtype, (10, 10)), (mr[:10, :10] + 3) * 2)
    got = one(session, "select (float) c[0:4, 0:4] / 2 from mr as c")
    assert got.dtype == "float32"
    assert np.allclose(cells(got, np.float32, (5, 5)), mr[:5, :5] / 2)
    got = one(session, "select (ushort) c[0:3, 0:3] * 300us from mr as c")
    assert np.array_equal(cells(got, got.dtype, (4, 4)), mr[:4, :4] * 300)
    got = one(session, "select sqrt(c[0:2, 0:2]) from mr as c")
    assert np.allclose(cells(got, got.dtype, (3, 3)), np.sqrt(mr[:3, :3]), rtol=1e-6)


def test_mask_and_case(session, data):
    mr = data.mr
    got = one(session, "select c[0:9, 0:9] > 127 from mr as c")
    assert np.array_equal(cells(got, bool, (10, 10)), mr[:10, :10] > 127)
    got = one(session, "select case when c > 200 then 2c when c > 100 then 1c else 0c end from mr as c")
    expected = np.where(mr > 200, 2, np.where(mr > 100, 1, 0))
    assert np.array_equal(cells(got, got.dtype, mr.shape), expected)


def test_struct_access_and_rgb_exercises(session, data):
    rgb = data.rgb.astype(np.int64)
    got = one(session, "select c.red from rgb as c")
    assert np.array_equal(cells(got, np.uint8, rgb.shape[:2]), rgb[..., 0])
    assert np.array_equal(cells(one(session, "select c.2 from rgb as c"), np.uint8, rgb.shape[:2]), rgb[..., 2])
    # brightness: the average of the three channels; pixels where green dominates
    assert one(session, "select avg_cells((c.red + c.green + c.blue) / 3) from rgb as c").value == \
        pytest.approx((rgb.sum(axis=2) / 3).mean())
    assert one(session, "select count_cells(c.green > c.red and c.green > c.blue) from rgb as c").value == \
        int(((rgb[..., 1] > rgb[..., 0]) & (rgb[..., 1] > rgb[..., 2])).sum())
    cell = one(session, "select c[2, 3] from rgb as c")
    assert scalar_text(cell.value) == "{ " + ", ".join(str(v) for v in rgb[2, 3]) + " }"


def test_condensers_and_statistics(session, data):
    mr = data.mr.astype(np.float64)
    assert one(session, "select add_cells(c) from mr as c").value == mr.sum()
    assert one(session, "select avg_cells(c) from mr as c").value == pytest.approx(mr.mean())
    assert one(session, "select min_cells(c) from mr as c").value == mr.min()
    assert one(session, "select max_cells(c[0:9, 0:9]) from mr as c").value == mr[:10, :10].max()
    assert one(session, "select count_cells(c >= 128) from mr as c").value == int((mr >= 128).sum())
    assert bool(one(session, "select some_cells(c = 255) from mr as c").value) == bool((mr == 255).any())
    assert bool(one(session, "select all_cells(c >= 0) from mr as c").value) is True
    assert one(session, "select stddev_pop(c) from mr as c").value == pytest.approx(mr.std())
    assert one(session, "select stddev_samp(c) from mr as c").value == pytest.approx(mr.std(ddof=1))
    assert one(session, "select var_pop(c) from mr as c").value == pytest.approx(mr.var())
    assert one(session, "select var_samp(c) from mr as c").value == pytest.approx(mr.var(ddof=1))


def test_histogram_with_marray_and_condense(session, data):
    mr = data.mr
    got = one(session, "select marray bucket in [0:7] values count_cells(c >= bucket * 32 and c < bucket * 32 + 32) "
                       "from mr as c")
    assert np.array_equal(cells(got, got.dtype, (8,)), np.histogram(mr, bins=8, range=(0, 256))[0])
    total = one(session, "select condense + over x in [0:4, 0:3] using (long) c[x] from mr as c").value
    assert total == int(mr[:5, :4].astype(np.int64).sum())
    got = one(session, "select marray x in [0:3, 0:2] values (long) (x[0] * 10 + x[1]) from mr as c")
    assert np.array_equal(cells(got, np.int32, (4, 3)), np.add.outer(np.arange(4) * 10, np.arange(3)))


def test_sdom_where_and_names(session, data):
    assert str(one(session, "select sdom(c) from mr as c").value) == "[0:39,0:29]"
    assert one(session, "select sdom(c)[1].hi from mr as c").value == 29
    # a false where clause leaves the result collection empty
    assert session.execute("select c from mr as c where avg_cells(c) > 1000").elements == []
    assert len(session.execute("select sdom(c) from mr as c where some_cells(c > 10)").elements) == 1
    names = [e.value for e in session.execute("select r from RAS_COLLECTIONNAMES as r").elements]
    assert {"mr", "rgb", "geo"} <= set(names)


def test_encode_decode_extend_flip_shift(session, data):
    from petacube.encode import decode

    mr = data.mr
    png = one(session, 'select encode(c[0:9, 0:4], "png") from mr as c')
    assert png.media_type == "image/png" and png.extension == "png"
    ds = decode(png.data)
    assert np.array_equal(np.asarray(ds[next(iter(ds.data_vars))].transpose("i", "j").values), mr[:10, :5])
    csv = one(session, 'select encode(c[0:1, 0:2], "csv") from mr as c')
    assert csv.data.decode() == "{" + "},{".join(",".join(str(v) for v in row) for row in mr[:2, :3]) + "}"
    back = one(session, "select decode($1) from mr as c", [data.upload.read_bytes()])
    assert np.array_equal(cells(back, np.uint8, mr.shape), mr)
    got = one(session, "select extend(c[0:1, 0:1], [0:2, 0:1]) from mr as c")
    assert cells(got, np.uint8, (3, 2))[:2].tolist() == mr[:2, :2].tolist()
    got = one(session, "select flip c[0:3, 0:1] along 0 from mr as c")
    assert np.array_equal(cells(got, np.uint8, (4, 2)), mr[3::-1, :2])
    assert str(one(session, "select sdom(shift(c[0:3, 0:1], [5, 7])) from mr as c").value) == "[5:8,7:8]"
