"""Geo <-> grid arithmetic, checked against hand calculations of rasdaman's rules."""

import numpy as np
import pytest

from petacube.errors import InvalidSubsetting
from petacube.model import Crs, IrregularAxis, RegularAxis

UTM = Crs.parse("EPSG:32633")
E_AXIS, N_AXIS = UTM.axes[0], UTM.axes[1]
ANSI = Crs.parse("OGC/0/AnsiDate").axes[0]
INDEX = Crs.parse("OGC/0/Index2D").axes[0]


def east():
    # 100 cells of 10 m from 500000 to 501000
    return RegularAxis("E", E_AXIS, 500000.0, 10.0, 100)


def north():
    # 50 cells of 10 m from 4999500 up to 5000000, north-up (negative resolution)
    return RegularAxis("N", N_AXIS, 4999500.0, -10.0, 50)


def test_slice_positive_resolution_is_floor_from_min():
    ax = east()
    assert ax.slice_index(500000.0) == 0
    assert ax.slice_index(500009.99) == 0
    assert ax.slice_index(500010.0) == 1
    assert ax.slice_index(500995.0) == 99


def test_slice_negative_resolution_counts_from_max():
    ax = north()
    assert ax.slice_index(5000000.0) == 0  # the top edge belongs to the first row
    assert ax.slice_index(4999995.0) == 0
    assert ax.slice_index(4999990.0) == 1  # floor((5000000-4999990)/10) = 1
    assert ax.slice_index(4999500.5) == 49


def test_trim_count_is_rounded_span():
    ax = east()
    # lo index floor(25/10)=2, count floor(50/10+0.5)=5 -> 2..6
    assert ax.trim_indices(500025.0, 500075.0) == (2, 6)
    # count floor(14/10 + 0.5) = 1 -> 1 cell
    assert ax.trim_indices(500000.0, 500014.0) == (0, 0)
    # count floor(15/10 + 0.5) = 2
    assert ax.trim_indices(500000.0, 500015.0) == (0, 1)


def test_trim_below_half_pixel_gives_one_pixel():
    ax = east()
    assert ax.trim_indices(500031.0, 500033.0) == (3, 3)


def test_trim_negative_resolution_from_max():
    ax = north()
    # first row floor((5000000-4999900)/10)=10, count floor(100/10+0.5)=10 -> 10..19
    assert ax.trim_indices(4999800.0, 4999900.0) == (10, 19)


def test_trim_is_clipped_to_extent_and_disjoint_is_error():
    ax = east()
    assert ax.trim_indices(499000.0, 500020.0) == (0, 1)
    with pytest.raises(InvalidSubsetting, match="outside"):
        ax.trim_indices(600000.0, 600100.0)
    with pytest.raises(InvalidSubsetting, match="above"):
        ax.trim_indices(500100.0, 500000.0)


def test_subset_keeps_geo_bounds_and_storage_offset():
    ax = north().subset(10, 19)
    assert (ax.lower, ax.upper, ax.size, ax.storage_offset) == (4999800.0, 4999900.0, 10, 10)
    assert np.allclose(ax.coordinates()[:2], [4999895.0, 4999885.0])


def test_irregular_axis_insert_between_gets_new_slot():
    ax = IrregularAxis("ansi", ANSI, (10.0, 30.0))
    ax2, slot = ax.with_coefficient(20.0)
    assert ax2.coefficients == (10.0, 20.0, 30.0)
    assert ax2.slots == (0, 2, 1)
    assert slot == 2
    ax3, slot3 = ax2.with_coefficient(5.0)
    assert ax3.slots == (3, 0, 2, 1) and slot3 == 3
    # an existing coordinate is an update of its slot
    assert ax3.with_coefficient(20.0) == (ax3, 2)


def test_irregular_slice_and_trim():
    ax = IrregularAxis("ansi", ANSI, (10.0, 20.0, 30.0))
    assert ax.slice_index(20.0) == 1
    with pytest.raises(InvalidSubsetting, match="no slice at 25"):
        ax.slice_index(25.0)
    assert ax.trim_indices(15.0, 30.0) == (1, 2)
    with pytest.raises(InvalidSubsetting):
        ax.trim_indices(21.0, 29.0)


def test_regular_time_points():
    ax = RegularAxis("ansi", ANSI, 100.0, 2.0, 5, points=True)  # 100, 102, ... 108
    assert ax.upper == 108.0
    assert ax.slice_index(104.0) == 2
    assert ax.slice_index(105.0) == 2
    assert ax.trim_indices(101.0, 106.0) == (1, 3)
    assert list(ax.coordinates()) == [100.0, 102.0, 104.0, 106.0, 108.0]


def test_index_axis_takes_grid_coordinates():
    ax = RegularAxis("i", INDEX, 0.0, 1.0, 100)
    assert ax.trim_indices(0, 99) == (0, 99)
    assert ax.slice_index(5) == 5
