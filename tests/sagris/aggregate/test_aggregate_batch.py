"""Grouping on real product metadata, processing tiles, bad inputs, re-runs, claims and the CLI."""

from __future__ import annotations

import json
import os
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import rasterio
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from l2b_gen import REAL_META, real_product_fields, write_l2b

from petacube.sagris.aggregate import (
    AggregateOptions,
    group_passes,
    run_aggregate,
    scan_l2b,
)
from petacube.sagris.aggregate.cli import s2_aggregate_cmd
from petacube.sagris.batch.errors import SagrisError
from petacube.sagris.batch.publish import claim

RES = 20
LEFT, TOP = 4_000_000.0, 3_000_000.0
STEM = "S2A_MSIL2C_20210415T101021_R022_20m_3035"


def read(path):
    with rasterio.open(path) as ds:
        return ds.read(), ds.transform


def test_real_neighbour_products_form_one_pass(tmp_path):
    wcp, wcs, xwj = (real_product_fields(p) for p in sorted(REAL_META.glob("S2?_MSIL2A_*T01WC?_*.SAFE")) +
                     sorted(REAL_META.glob("S2B_MSIL2A_*T33XWJ*.SAFE")))
    assert (wcp["tile"], wcs["tile"]) == ("01WCP", "01WCS")
    assert wcp["datatake"] == wcs["datatake"] and wcp["acquisition_time"] != wcs["acquisition_time"]
    src = tmp_path / "l2b"
    made = {}
    for f in (wcp, wcs, xwj):
        kw = {k: f[k] for k in ("satellite", "sensing", "baseline", "orbit", "tile", "discriminator", "epsg",
                                "left", "top", "acquisition_time")}
        made[f["tile"]] = write_l2b(src, res=60, shape=(6, 5), seed=len(made), **kw)
    groups = group_passes(scan_l2b(src))
    assert [(k[0].label, k[1], k[2], [g.tile for g in v]) for k, v in groups.items()] == [
        ("S2A_MSIL2C_20230625T234621_R073", 60, 32601, ["01WCP", "01WCS"]),
        ("S2B_MSIL2C_20220413T150759_R025", 60, 32633, ["33XWJ"]),
    ]
    out = tmp_path / "out"
    result = run_aggregate(src, out)
    assert result.count("done") == 2
    stem = "S2A_MSIL2C_20230625T234621_R073_60m_32601"
    data, transform = read(out / f"{stem}.tif")
    # WCS is 300 km north of WCP: one scene spanning both, nodata between them
    assert (transform.c, transform.f) == (300000.0, 7700040.0)
    assert data.shape == (12, (7700040 - (7400040 - 6 * 60)) // 60, 5)
    assert np.array_equal(data[:, :6], made["01WCS"].data)
    assert np.array_equal(data[:, -6:], made["01WCP"].data)
    assert (data[:, 6:-6] == 0).all()
    meta = json.loads((out / f"{stem}.json").read_text())
    assert meta["source_granules"] == sorted(m.path.name for t, m in made.items() if t != "33XWJ")
    # the earlier of the two tiles' sensing times (WCS was seen first on this descending pass)
    assert meta["acquisition_time"] == min(wcp["acquisition_time"], wcs["acquisition_time"]) == wcs["acquisition_time"]
    assert meta["datatake_sensing_time"] == "2023-06-25T23:46:21Z"


@pytest.fixture
def pass_of_two(tmp_path):
    src = tmp_path / "l2b"
    a = write_l2b(src, tile="33UUP", left=LEFT, top=TOP, shape=(30, 30), seed=1)
    b = write_l2b(src, tile="33UVP", left=LEFT + 25 * RES, top=TOP - 10 * RES, shape=(30, 30), seed=2)
    return src, a, b


def test_regular_tiles_partition_the_pass(tmp_path, pass_of_two):
    src, _a, _b = pass_of_two
    whole_dir, tiled = tmp_path / "whole", tmp_path / "tiled"
    run_aggregate(src, whole_dir)
    whole, wt = read(whole_dir / f"{STEM}.tif")
    # 400 m tiles = 20 px; the pass spans x 4000000..4001100, y 2999200..3000000
    result = run_aggregate(src, tiled, AggregateOptions(tile_size=400))
    done = sorted(o.product for o in result.outcomes if o.status == "done")
    ids = [(x, y) for y in (7499, 7498) for x in (10000, 10001, 10002)]
    assert done == sorted(f"S2A_MSIL2C_20210415T101021_R022_x{x}y{y}_20m_3035" for x, y in ids)
    cover = np.zeros(whole.shape[1:], int)
    for x, y in ids:
        data, t = read(tiled / f"S2A_MSIL2C_20210415T101021_R022_x{x}y{y}_20m_3035.tif")
        assert data.shape[1:] == (20, 20)  # a full tile, whatever part of it the pass covers
        assert (t.c, t.f) == (x * 400.0, (y + 1) * 400.0)
        r0, c0 = int((wt.f - t.f) / RES), int((t.c - wt.c) / RES)
        # the tile's pixels inside the pass extent equal the untiled mosaic; outside: nodata
        rs, cs = slice(max(r0, 0), min(r0 + 20, whole.shape[1])), slice(max(c0, 0), min(c0 + 20, whole.shape[2]))
        tr, tc = slice(rs.start - r0, rs.stop - r0), slice(cs.start - c0, cs.stop - c0)
        assert np.array_equal(data[:, tr, tc], whole[:, rs, cs])
        outside = np.ones((20, 20), bool)
        outside[tr, tc] = False
        assert (data[:, outside] == 0).all()
        cover[rs, cs] += 1
        meta = json.loads((tiled / f"S2A_MSIL2C_20210415T101021_R022_x{x}y{y}_20m_3035.json").read_text())
        assert meta["tile_id"] == f"x{x}y{y}"
    assert (cover == 1).all()  # every pixel of the pass in exactly one tile


def test_geojson_polygon_tiles(tmp_path, pass_of_two):
    src, _a, _b = pass_of_two
    run_aggregate(src, tmp_path / "whole")
    whole, wt = read(tmp_path / "whole" / f"{STEM}.tif")
    # two triangles splitting the pass's bounding box along its diagonal, in EPSG:3035,
    # plus a lon/lat polygon far away that must yield nothing
    x0, y0, x1, y1 = LEFT, TOP - 40 * RES, LEFT + 55 * RES, TOP
    doc = {"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3035"}},
           "features": [
               {"type": "Feature", "properties": {"name": "upper left"},
                "geometry": {"type": "Polygon", "coordinates": [[[x0, y0], [x0, y1], [x1, y1], [x0, y0]]]}},
               {"type": "Feature", "properties": {"tile_id": "LR"},
                "geometry": {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y1], [x1, y0], [x0, y0]]]}},
           ]}
    tiles = tmp_path / "tiles.geojson"
    tiles.write_text(json.dumps(doc))
    result = run_aggregate(src, tmp_path / "poly", AggregateOptions(tiles=tiles))
    assert sorted(o.product for o in result.outcomes if o.status == "done") == [
        "S2A_MSIL2C_20210415T101021_R022_LR_20m_3035", "S2A_MSIL2C_20210415T101021_R022_upper-left_20m_3035"]
    total = np.zeros(whole.shape, np.int64)
    count = np.zeros(whole.shape[1:], int)
    for tid in ("LR", "upper-left"):
        data, t = read(tmp_path / "poly" / f"S2A_MSIL2C_20210415T101021_R022_{tid}_20m_3035.tif")
        r0, c0 = int((wt.f - t.f) / RES), int((t.c - wt.c) / RES)
        h, w = data.shape[1:]
        # pixels whose centre lies in the triangle, computed by hand: above the diagonal or below
        rows, cols = np.indices((h, w))
        xc, yc = t.c + (cols + 0.5) * RES, t.f - (rows + 0.5) * RES
        above = (yc - y0) * (x1 - x0) > (xc - x0) * (y1 - y0)
        inside = above if tid == "upper-left" else ~above
        assert (data[:, ~inside] == 0).all()
        assert np.array_equal(data[:, inside], whole[:, r0:r0 + h, c0:c0 + w][:, inside])
        total[:, r0:r0 + h, c0:c0 + w] += data
        count[r0:r0 + h, c0:c0 + w] += inside & (data != 0).any(axis=0)
    assert np.array_equal(total, whole) and count.max() == 1  # the two triangles rebuild the pass once
    lonlat = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}
    tiles.write_text(json.dumps(lonlat))
    assert run_aggregate(src, tmp_path / "none", AggregateOptions(tiles=tiles)).outcomes == []
    tiles.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [0, 0]}}]}')
    with pytest.raises(SagrisError, match="feature 1 is not a Polygon"):
        run_aggregate(src, tmp_path / "bad", AggregateOptions(tiles=tiles))


def test_bad_inputs_are_reported_and_the_batch_goes_on(tmp_path):
    src = tmp_path / "l2b"
    good = write_l2b(src, shape=(8, 8), seed=1)
    trunc = write_l2b(src, sensing="20210416T101021", shape=(8, 8), seed=2)
    trunc.path.write_bytes(trunc.path.read_bytes()[:500])
    write_l2b(src, sensing="20210417T101021", shape=(8, 8), leave_out=(".json",))
    write_l2b(src, sensing="20210418T101021", shape=(8, 8), tile="33UUP", seed=4)
    write_l2b(src, sensing="20210418T101021", shape=(8, 8), tile="33UVP", raster_epsg=32633, left=500000, top=5000000)
    write_l2b(src, sensing="20210419T101021", shape=(8, 8), tile="33UUP", meta_overrides={"epsg": 32633})
    out = tmp_path / "out"
    result = run_aggregate(src, out)
    by = {o.product: o for o in result.outcomes}
    assert by[STEM].status == "done"
    failed = {o.product: o.reason for o in result.outcomes if o.status == "failed"}
    g = "S2A_MSIL2B_{}_N0300_R022_T33{}_20210415T130000_20m_3035.zip"
    assert "not a readable zip" in failed[g.format("20210416T101021", "UUP")]
    assert "no S2A_MSIL2B_20210417T101021" in failed[g.format("20210417T101021", "UUP")] and ".json inside" in failed[g.format("20210417T101021", "UUP")]
    assert "mismatched EPSG" in failed[g.format("20210418T101021", "UVP")]
    assert "EPSG:32633" in failed[g.format("20210419T101021", "UUP")]
    # the pass with one bad granule is not half-made from its good one
    assert "bad granule(s) " + g.format("20210418T101021", "UVP") in failed["S2A_MSIL2C_20210418T101021_R022_20m_3035"]
    names = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    assert names == [f"{STEM}.json", f"{STEM}.tif", f"{STEM}_CLOUDMASK.tif"]
    assert np.array_equal(read(out / f"{STEM}.tif")[0], good.data)
    assert result.batch_dir is not None and "not a readable zip" in (result.batch_dir / "batch.log").read_text()


def test_rerun_does_nothing_new_and_claims_are_respected(tmp_path):
    src = tmp_path / "l2b"
    write_l2b(src, shape=(8, 8), seed=1)
    write_l2b(src, sensing="20210420T101021", shape=(8, 8), seed=2)
    out = tmp_path / "out"
    other = "S2A_MSIL2C_20210420T101021_R022_20m_3035"
    with claim(other, out) as mine:  # another process is producing this one
        assert mine
        first = run_aggregate(src, out)
    status = {o.product: (o.status, o.reason) for o in first.outcomes}
    assert status[STEM][0] == "done" and status[other] == ("skipped", "another process is producing it")
    stamps = {p.name: p.stat().st_mtime_ns for p in out.glob("*.tif")}
    second = run_aggregate(src, out)
    status = {o.product: (o.status, o.reason) for o in second.outcomes}
    assert status[STEM] == ("skipped", "already in the output folder") and status[other][0] == "done"
    assert all(out.joinpath(n).stat().st_mtime_ns == t for n, t in stamps.items())
    third = run_aggregate(src, out)
    assert {o.status for o in third.outcomes} == {"skipped"}
    assert not any(p.name.startswith(".sagris-staging") for p in out.iterdir())
    assert not list((out / ".sagris-work").iterdir())  # batch folders wiped on success
    # a finished pass is not even opened again: damaging its granule afterwards changes nothing
    for z in src.glob("*.zip"):
        z.write_bytes(b"gone")
    assert {o.status for o in run_aggregate(src, out).outcomes} == {"skipped"}


def test_cli(tmp_path):
    src = tmp_path / "l2b"
    write_l2b(src, shape=(30, 30), seed=1)
    out = tmp_path / "out"
    runner = CliRunner()
    res = runner.invoke(s2_aggregate_cmd, ["-i", str(src), "-o", str(out), "--tile-size", "400", "--resolution", "20",
                                           "--no-progress"])
    assert res.exit_code == 0, res.output
    assert "done 4, skipped 0, failed 0" in res.output
    assert len(list(out.glob("*_20m_3035.tif"))) == 4
    res = runner.invoke(s2_aggregate_cmd, ["-i", str(src), "-o", str(out), "--tile-size", "400", "--no-progress"])
    assert res.exit_code == 0 and "done 0, skipped 4" in res.output
    res = runner.invoke(s2_aggregate_cmd, ["-i", str(tmp_path / "nowhere"), "-o", str(out)])
    assert res.exit_code == 2 and "does not exist" in res.output
    res = runner.invoke(s2_aggregate_cmd, ["-i", str(src), "-o", str(out), "--tile-size", "-5"])
    assert res.exit_code == 2 and "--tile-size -5" in res.output
    bad = write_l2b(src, sensing="20210416T101021", shape=(8, 8))
    with zipfile.ZipFile(bad.path, "w") as zf:
        zf.writestr("nothing.txt", "x")
    res = runner.invoke(s2_aggregate_cmd, ["-i", str(src), "-o", str(out), "--no-progress"])
    assert res.exit_code == 1 and "failed 2" in res.output
    assert os.path.isdir(out / ".sagris-work")


def test_corrupt_pixels_inside_a_zip_fail_only_their_output(tmp_path):
    src = tmp_path / "l2b"
    write_l2b(src, shape=(8, 8), seed=1)
    bad = write_l2b(src, sensing="20210416T101021", shape=(64, 64), seed=2)
    member = bad.path.name[:-4] + ".tif"
    with zipfile.ZipFile(bad.path) as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    with rasterio.open(f"/vsizip/{bad.path}/{member}") as ds:  # where GDAL put the first block's bytes
        off = int(ds.get_tag_item("BLOCK_OFFSET_0_0", "TIFF", bidx=1))
        size = int(ds.get_tag_item("BLOCK_SIZE_0_0", "TIFF", bidx=1))
    raw = bytearray(parts[member])
    raw[off:off + size] = bytes(size)  # header intact, the deflate stream zeroed
    parts[member] = bytes(raw)
    with zipfile.ZipFile(bad.path, "w", zipfile.ZIP_STORED) as zf:
        for n, b in parts.items():
            zf.writestr(n, b)
    out = tmp_path / "out"
    result = run_aggregate(src, out)
    status = {o.product: (o.status, o.reason) for o in result.outcomes}
    assert status[STEM][0] == "done"
    st, reason = status["S2A_MSIL2C_20210416T101021_R022_20m_3035"]
    assert st == "failed" and reason.startswith("unreadable input")
    assert not list(out.glob("S2A_MSIL2C_20210416T101021*"))


def test_parallel_workers_give_the_same_outputs(tmp_path, pass_of_two):
    src, _a, _b = pass_of_two
    one = run_aggregate(src, tmp_path / "one", AggregateOptions(tile_size=400))
    two = run_aggregate(src, tmp_path / "two", AggregateOptions(tile_size=400, workers=2))
    assert one.count("done") == two.count("done") == 6
    for p in (tmp_path / "one").glob("*.tif"):
        assert np.array_equal(read(p)[0], read(tmp_path / "two" / p.name)[0]), p.name
