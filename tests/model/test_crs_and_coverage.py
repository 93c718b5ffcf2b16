import numpy as np
import pytest

from petacube.errors import InvalidAxisLabel, InvalidCrs, InvalidParameterValue
from petacube.model import Band, Coverage, Crs, NilValue, RegularAxis, datetime_to_number, number_to_datetime64


@pytest.mark.parametrize(
    "text, labels",
    [
        ("EPSG:32633", ("E", "N")),
        ("EPSG/0/4326", ("Lat", "Long")),
        ("http://localhost:8080/rasdaman/def/crs/EPSG/0/4326", ("Lat", "Long")),
        ("EPSG/0/4326@OGC/0/AnsiDate", ("Lat", "Long", "ansi")),
        ("OGC/0/UnixTime@EPSG/0/3857", ("unix", "X", "Y")),
        ("OGC/0/Index3D", ("i", "j", "k")),
        (
            "http://localhost:8080/def/crs-compound?1=http://localhost:8080/def/crs/OGC/0/AnsiDate"
            "&2=http://localhost:8080/def/crs/EPSG/0/32633",
            ("ansi", "E", "N"),
        ),
    ],
)
def test_crs_labels(text, labels):
    assert Crs.parse(text).labels == labels


def test_compound_uri_round_trip():
    crs = Crs.parse("EPSG/0/32633@OGC/0/AnsiDate")
    assert Crs.parse(crs.uri()) == crs
    assert crs.uri().startswith("http://localhost:8080/def/crs-compound?1=")


@pytest.mark.parametrize("bad", ["EPSG:999999", "FOO/0/1", "OGC/0/Nonsense", ""])
def test_bad_crs_names_the_problem(bad):
    with pytest.raises(InvalidCrs):
        Crs.parse(bad)


def test_ansidate_numbers():
    # AnsiDate counts days from 1600-12-31: 1601-01-01 is day 1
    assert datetime_to_number("1601-01-01", "AnsiDate") == 1.0
    # 1970-01-01 is 369 years later: 134774 days from 1601-01-01 (hand: 369*365 + 89 leap days)
    assert datetime_to_number("1970-01-01", "AnsiDate") == 1.0 + 369 * 365 + 89
    assert datetime_to_number("1970-01-02T12:00:00Z", "UnixTime") == 86400 * 1.5
    t = number_to_datetime64([datetime_to_number("2021-05-01T06:00:00", "AnsiDate")], "AnsiDate")
    assert t[0] == np.datetime64("2021-05-01T06:00:00")


def test_nil_values():
    assert NilValue.parse("-9999").mask(np.array([-9999, 1])).tolist() == [True, False]
    iv = NilValue.parse("[-10:0]")
    assert iv.mask(np.array([-11, -10, -5, 0, 1])).tolist() == [False, True, True, True, False]
    assert NilValue.parse("nan").mask(np.array([np.nan, 1.0])).tolist() == [True, False]
    with pytest.raises(InvalidParameterValue):
        NilValue.parse("abc")


def test_coverage_checks_axes_against_crs():
    crs = Crs.parse("EPSG:32633")
    e, n = crs.axes
    axes = (RegularAxis("N", n, 0, -10, 5), RegularAxis("E", e, 0, 10, 5))
    cov = Coverage("c", crs, axes, (Band("b", "uint16"),))
    assert cov.dims == ("N", "E") and cov.rasdaman_grid_order() == ("E", "N")
    with pytest.raises(InvalidAxisLabel):
        Coverage("c", crs, (RegularAxis("Lat", n, 0, -1, 5), axes[1]), (Band("b"),))
    with pytest.raises(InvalidParameterValue):
        Band("b", "str")
