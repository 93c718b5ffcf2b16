"""rasdaman tiling strings and the default tile shape."""

from __future__ import annotations

import logging
import math

import pytest

from petacube.errors import InvalidParameterValue
from petacube.model import Band, Coverage, Crs, RegularAxis
from petacube.storage import default_tile_shape, parse_tiling


def _bands(dtype: str) -> tuple[Band, ...]:
    return (Band("b", dtype),)


def test_aligned_time_series_fits(make_coverage):
    cov = make_coverage(bands=_bands("uint16"))
    assert parse_tiling("ALIGNED [0:0, 0:1023, 0:1023] TILE SIZE 4194304", cov) == (1, 1024, 1024)


def test_regular_and_missing_tile_size(make_coverage):
    cov = make_coverage(bands=_bands("uint8"))
    assert parse_tiling("REGULAR [0:0, 0:1023, 0:1023]", cov) == (1, 1024, 1024)
    assert parse_tiling("tiling regular [0:0,0:255,0:255] tile size 65536 index rpt_index", cov) == (1, 256, 256)


def test_two_dimensional(make_coverage):
    cov = make_coverage(nt=None, bands=_bands("int16"))
    assert parse_tiling("ALIGNED [0:1023, 0:1023]", cov) == (1024, 1024)
    assert parse_tiling("REGULAR [0:499, 0:499] TILE SIZE 1000000", cov) == (500, 500)


def test_rasdaman_order_writes_x_before_y(make_coverage):
    # rasdaman's order is (ansi, E, N); ours (ansi, N, E)
    cov = make_coverage(bands=_bands("uint8"))
    assert cov.rasdaman_grid_order() == ("ansi", "E", "N")
    assert parse_tiling("ALIGNED [0:0, 0:255, 0:511]", cov) == (1, 512, 256)


def test_tile_size_caps_fixed_extents(make_coverage):
    # 8-byte cells: 1024x1024 is 8 MiB, twice the TILE SIZE; the largest band decides
    cov = make_coverage(bands=(Band("a", "uint8"), Band("b", "float64")))
    shape = parse_tiling("ALIGNED [0:0, 0:1023, 0:1023] TILE SIZE 4194304", cov)
    assert shape[0] == 1 and shape[1] == shape[2]
    assert math.prod(shape) * 8 <= 4194304
    assert shape[1] == math.floor(1024 / math.sqrt(2))  # both shrinkable axes by the same factor
    cov2 = make_coverage(nt=None, bands=_bands("float64"))
    assert parse_tiling("REGULAR [0:499, 0:499] TILE SIZE 1000000", cov2) == (353, 353)  # 125000 cells fit


def test_star_extents_follow_the_domain_capped_by_tile_size(make_coverage):
    small = make_coverage(nt=10, ny=40, nx=3000, bands=_bands("uint16"))
    # rasdaman order (ansi, E, N): E spans its 3000 cells, ansi its 10, N is fixed at 1
    assert parse_tiling("ALIGNED [0:*, 0:*, 0:0] TILE SIZE 4194304", small) == (10, 1, 3000)
    big = make_coverage(nt=1000, ny=40, nx=3000, bands=_bands("uint16"))
    # 2097152 cells per tile: E keeps 3000, ansi is capped at 2097152 // 3000 = 699
    assert parse_tiling("ALIGNED [0:*, 0:*, 0:0] TILE SIZE 4194304", big) == (699, 1, 3000)
    shape = parse_tiling("ALIGNED [0:0, 0:*, 0:*] TILE SIZE 1000", big)
    assert math.prod(shape) * 2 <= 1000


def test_plain_shape_is_in_grid_order(make_coverage):
    cov = make_coverage()
    assert parse_tiling("1x512x256", cov) == (1, 512, 256)
    assert parse_tiling(" 2 x 64 x 64 ", cov) == (2, 64, 64)


@pytest.mark.parametrize(
    "text", ["DIRECTIONAL [0:9, 0:9] WITH SUBTILING TILE SIZE 4194304", "AREA OF INTEREST [0:0, 0:9, 0:9]"]
)
def test_unsupported_schemes_fall_back_to_default(make_coverage, caplog, text):
    cov = make_coverage(nt=5, ny=2000, nx=3000)
    with caplog.at_level(logging.WARNING):
        assert parse_tiling(text, cov) == (1, 1024, 1024)
    assert "not supported" in caplog.text


@pytest.mark.parametrize(
    "text",
    [
        "",
        "ALIGNED",
        "ALIGNED [0:a, 0:1, 0:1]",
        "SQUARE [0:1, 0:1, 0:1]",
        "ALIGNED [0:1, 0:1]",
        "ALIGNED [5:1, 0:1, 0:1]",
        "ALIGNED [0:0, 0:1023, 0:1023] TILE SIZE big",
        "1x512",
        "0x512x512",
        "ALIGNED [0:0, 0:1023, 0:1023] TILE SIZE 1",
    ],
)
def test_bad_strings_name_the_string_and_the_forms(make_coverage, text):
    cov = make_coverage(bands=_bands("uint16"))
    with pytest.raises(InvalidParameterValue) as err:
        parse_tiling(text, cov)
    assert f"'{text}'" in str(err.value)
    assert "Accepted forms" in str(err.value)


def test_default_tile_shape(make_coverage):
    assert default_tile_shape(make_coverage(nt=7, ny=2000, nx=3000)) == (1, 1024, 1024)
    assert default_tile_shape(make_coverage(nt=7, ny=100, nx=3000)) == (1, 100, 1024)
    assert default_tile_shape(make_coverage(nt=0, ny=600, nx=30)) == (1, 600, 30)
    assert default_tile_shape(make_coverage(nt=None, ny=1000, nx=1000)) == (1000, 1000)


def test_default_tile_shape_of_an_index_grid():
    crs = Crs.parse("OGC/0/Index2D")
    i, j = crs.axes
    cov = Coverage("g", crs, (RegularAxis("i", i, 0, 1, 1000), RegularAxis("j", j, 0, 1, 200)), (Band("v"),))
    assert default_tile_shape(cov) == (1000, 200)
