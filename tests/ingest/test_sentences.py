"""${...} sentences: substitution, the expression grammar, functions and errors."""

from datetime import datetime, timedelta, timezone

import pytest

from petacube.errors import IngredientsError
from petacube.ingest.sentences import evaluate, format_value, keys_of, parse_datetime, substitute

UTC = timezone.utc

VALUES = {
    "file:name": "AverageTemp_world_monthly_2012-05_v2.tif",
    "file:path": "/data/AverageTemp_world_monthly_2012-05_v2.tif",
    "gdal:minX": -180.0,
    "gdal:resolutionY": -0.5,
    "netcdf:variable:time:min": 15000,
    "netcdf:variable:time": [15000.0, 15001.5, 15003.0],
    "netcdf:metadata:geospatial_lat_resolution": "0.041666668",
    "netcdf:metadata:title": "Sea surface temperature",
    "netcdf:variable:lat:metadata": {"units": "degrees_north"},
    "grib:dataDate": 20070323,
    "grib:dataTime": 600,
    "grib:jScansPositively": 0,
    "grib:jDirectionIncrementInDegrees": 0.25,
    "grib:shortName": "2t",
    "netcdf:metadata:summary": "Earth's \"surface\" temperature",
}


def resolve(key):
    if key not in VALUES:
        raise IngredientsError(f"unknown key '{key}' for test.tif")
    return VALUES[key]


def ev(text):
    return evaluate(text, resolve)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("7 / 2", 3.5),
        ("7 // 2", 3),
        ("-7 // 2", -4),
        ("7 % 3", 1),
        ("2 ** 10", 1024),
        ("2 ** 3 ** 2", 512),  # right associative
        ("-2 ** 2", -4),  # ** binds tighter than unary minus
        ("--3", 3),
        ("1.5e3 / 3", 500.0),
        (".5 + 1.", 1.5),
        ("1 < 2 <= 2 < 3", True),
        ("1 < 2 > 3", False),
        ("3 == 3.0", True),
        ("'a' != 'b'", True),
        ("1 if 2 > 1 else 0", 1),
        ("1 if 0 else 2 if 0 else 3", 3),
        ("not 0", True),
        ("0 or 5", 5),
        ("1 and 0", 0),
        ("[1, 2, 3]", [1, 2, 3]),
        ("[1, 2, 3,][-1]", 3),
        ("[10, 20, 30][1:]", [20, 30]),
        ("[x * 2 for x in [1, 2, 3]]", [2, 4, 6]),
        ("[x for x in [1, 2, 3, 4] if x % 2 == 0]", [2, 4]),
        ("'ab' + \"cd\"", "abcd"),
        ("'ab' 'cd'", "abcd"),
        ("'x' * 3", "xxx"),
        ("'a_b_c'.split('_')[1]", "b"),
        ("'  x '.strip().upper()", "X"),
        ("int('42') + float('0.5')", 42.5),
        ("int(3.9)", 3),
        ("abs(-2) + min(3, 1) + max([1, 5]) + len('abc') + round(2.6)", 2 + 1 + 5 + 3 + 3),
        ("bool(0)", False),
        ("bool('false')", False),
        ("str(12)", "12"),
        ("sum([1, 2, 3])", 6),
        ("sorted([3, 1, 2])", [1, 2, 3]),
        ("True", True),
        ("None", None),
    ],
)
def test_expression_values(text, expected):
    got = ev(text)
    assert got == expected
    assert type(got) is type(expected)


def test_plain_numbers_and_strings():
    assert ev(5) == 5 and ev(2.5) == 2.5
    assert ev("1") == 1 and isinstance(ev("1"), int)
    assert ev("0.5") == 0.5
    assert ev("-3") == -3
    # texts that are not expressions stay texts (rasdaman's plain option values)
    assert ev("EPSG/0/4326") == "EPSG/0/4326"
    assert ev("http://localhost:8080/def/crs/EPSG/0/4326") == "http://localhost:8080/def/crs/EPSG/0/4326"
    assert ev("Temperature") == "Temperature"
    assert ev("Hello world") == "Hello world"
    assert ev("'quoted text'") == "quoted text"
    # an ISO date is a date, not a subtraction (2012-10-11 would be 1991)
    assert ev("2012-10-11") == "2012-10-11"
    assert ev("2012-01-01") == "2012-01-01"
    assert ev("2012-01-01T10:00:00Z") == "2012-01-01T10:00:00Z"


def test_substitution_numbers_strings_lists():
    assert ev("${gdal:minX}") == -180.0
    assert ev("${gdal:minX} + 0.5 * 2") == -179.0
    assert ev("-${gdal:resolutionY}") == 0.5  # "--0.5"
    assert ev("'${file:name}'") == VALUES["file:name"]
    assert ev("replace('${file:name}', '.tif', '.xml')") == "AverageTemp_world_monthly_2012-05_v2.xml"
    # a text value is substituted as text, so it can be a number ...
    assert ev("-${netcdf:metadata:geospatial_lat_resolution}") == pytest.approx(-0.041666668)
    assert ev("${netcdf:metadata:geospatial_lat_resolution}") == pytest.approx(0.041666668)
    # ... or stay the text when it is the whole sentence and no expression
    assert ev("${netcdf:metadata:title}") == "Sea surface temperature"
    assert ev("'${netcdf:metadata:title}'") == "Sea surface temperature"
    assert ev("'${netcdf:metadata:summary}'") == "Earth's \"surface\" temperature"  # quotes inside
    assert ev("'${grib:dataDate}'") == "20070323"
    # lists as list literals, values of one key alone as they are
    assert ev("${netcdf:variable:time}") == [15000.0, 15001.5, 15003.0]
    assert ev("[x * 86400 for x in ${netcdf:variable:time}]") == [15000.0 * 86400, 15001.5 * 86400, 15003.0 * 86400]
    assert ev("${netcdf:variable:time}[-1] - ${netcdf:variable:time}[0]") == 3.0
    assert ev("${netcdf:variable:time} * 2") == [30000.0, 30003.0, 30006.0]  # list with a number: per element
    assert ev("${netcdf:variable:lat:metadata}") == {"units": "degrees_north"}


def test_format_value_and_substitute():
    assert format_value(0.1) == "0.1"
    assert format_value(1e-20) == "1e-20"
    assert format_value(3) == "3"
    assert format_value(True) == "True"
    assert format_value([1, "a", 2.5]) == "[1, 'a', 2.5]"
    assert format_value("as is") == "as is"
    assert substitute("gdalwarp ${file:path} /tmp/${file:name}", resolve) == (
        "gdalwarp /data/AverageTemp_world_monthly_2012-05_v2.tif /tmp/AverageTemp_world_monthly_2012-05_v2.tif"
    )
    assert keys_of("${a:b} + ${c:d}") == ["a:b", "c:d"]


def test_rasdaman_example_sentences():
    # general_coverage gdal 3-D: the month from the file name
    got = ev("datetime(regex_extract('${file:name}', '(.*)_(.*)_(.*)_(\\d\\d\\d\\d-\\d\\d)(.*)', 4), 'YYYY-MM')")
    assert got == datetime(2012, 5, 1, tzinfo=UTC)
    # netcdf: days since 1970 to seconds
    assert ev("datetime(${netcdf:variable:time:min} * 24 * 3600)") == datetime(1970, 1, 1, tzinfo=UTC) + timedelta(days=15000)
    # grib
    assert ev("grib_datetime(${grib:dataDate}, ${grib:dataTime})") == datetime(2007, 3, 23, 6, 0, tzinfo=UTC)
    expr = "${grib:jDirectionIncrementInDegrees} if bool(${grib:jScansPositively}) else -${grib:jDirectionIncrementInDegrees}"
    assert ev(expr) == -0.25
    assert ev("'${grib:shortName}'") == "2t"


@pytest.mark.parametrize(
    "value, fmt, expected",
    [
        ("2012-05", "YYYY-MM", datetime(2012, 5, 1, tzinfo=UTC)),
        ("2012:01:02 03:04:05", "YYYY:MM:DD HH:mm:ss", datetime(2012, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("20120102", "YYYYMMDD", datetime(2012, 1, 2, tzinfo=UTC)),
        ("S2_20210315T101021_x", "YYYYMMDD[T]HHmmss", datetime(2021, 3, 15, 10, 10, 21, tzinfo=UTC)),
        ("2012-032", "YYYY-DDDD", datetime(2012, 2, 1, tzinfo=UTC)),
        ("15 March 2021", "D MMMM YYYY", datetime(2021, 3, 15, tzinfo=UTC)),
        ("Mar 5 99", "MMM D YY", datetime(1999, 3, 5, tzinfo=UTC)),
        ("5/3/21 2:07 PM", "D/M/YY h:mm A", datetime(2021, 3, 5, 14, 7, tzinfo=UTC)),
        ("2012-01-02T03:04:05.25", "YYYY-MM-DDTHH:mm:ss.S", datetime(2012, 1, 2, 3, 4, 5, 250000, tzinfo=UTC)),
        ("2012-01-02 03:04 +0200", "YYYY-MM-DD HH:mm Z", datetime(2012, 1, 2, 1, 4, tzinfo=UTC)),
        ("1577836800", "X", datetime(2020, 1, 1, tzinfo=UTC)),
    ],
)
def test_datetime_formats(value, fmt, expected):
    got = ev(f"datetime('{value}', '{fmt}')")
    assert got == expected
    assert got.tzinfo is not None


def test_datetime_without_format():
    assert ev("datetime(0)") == datetime(1970, 1, 1, tzinfo=UTC)
    assert ev("datetime(1577836800.5)") == datetime(2020, 1, 1, 0, 0, 0, 500000, tzinfo=UTC)
    assert ev("datetime(-86400)") == datetime(1969, 12, 31, tzinfo=UTC)
    assert ev("datetime('2021-03-15T10:10:21Z')") == datetime(2021, 3, 15, 10, 10, 21, tzinfo=UTC)
    assert ev("datetime('2021-03-15')") == datetime(2021, 3, 15, tzinfo=UTC)
    assert ev("datetime('2021-03-15T12:00:00+02:00')").utcoffset() == timedelta(hours=2)
    assert ev("datetime(['2021-01-01', '2021-01-02'])") == [datetime(2021, 1, 1, tzinfo=UTC), datetime(2021, 1, 2, tzinfo=UTC)]
    assert parse_datetime("2012:01:02 03:04:05", "YYYY:MM:DD HH:mm:ss") == datetime(2012, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert parse_datetime("2012-01-02", "auto") == datetime(2012, 1, 2, tzinfo=UTC)
    assert parse_datetime(86400) == datetime(1970, 1, 2, tzinfo=UTC)


def test_grib_datetime_pads_time():
    assert ev("grib_datetime(20200101, 0)") == datetime(2020, 1, 1, tzinfo=UTC)
    assert ev("grib_datetime(20200101, 30)") == datetime(2020, 1, 1, 0, 30, tzinfo=UTC)
    assert ev("grib_datetime('20200101', '1800')") == datetime(2020, 1, 1, 18, tzinfo=UTC)


def test_regex_extract_groups():
    assert ev("regex_extract('a_2020_b', '_(\\d+)_', 1)") == "2020"
    assert ev("regex_extract('a_2020_b', '_(?P<year>\\d+)_', 'year')") == "2020"
    assert ev("regex_extract('a_2020_b', '_(\\d+)_', '1')") == "2020"
    assert ev("regex_extract('a_2020_b', '\\d+', 0)") == "2020"
    assert ev("regex_extract('${file:name}', '(\\d{4})-(\\d{2})', 2)") == "05"


@pytest.mark.parametrize(
    "text, words",
    [
        ("${gdal:maxY}", ["gdal:maxY", "unknown key"]),
        ("regex_extract('abc', 'x(', 1)", ["'x('", "not a valid regular expression"]),
        ("regex_extract('${file:name}', 'nomatch(\\d)', 1)", ["does not match", "AverageTemp"]),
        ("regex_extract('abc', 'a', 2)", ["no group 2"]),
        ("datetime('2012', 'YYYY-MM')", ["'2012'", "'YYYY-MM'", "does not match"]),
        ("datetime('2012-13', 'YYYY-MM')", ["not a valid date", "'YYYY-MM'"]),
        ("datetime('yesterday')", ["yesterday", "ISO 8601"]),
        ("1 / 0", ["division by zero"]),
        ("'a' - 1", ["cannot compute", "text - integer"]),
        ("[1, 2][5]", ["out of range"]),
        ("foo(1)", ["unknown function 'foo'"]),
        ("__import__('os')", ["unknown function '__import__'"]),
        ("'x'.__class__()", ["no method '__class__'"]),
        ("${netcdf:metadata:title} + 1", ["not a valid expression", "Sea surface temperature + 1", "quote"]),
        ("${gdal:minX} +", ["not a valid expression", "-180.0 +"]),
        ("${file:name", ["no closing"]),
        ("[x for x in 5]", ["cannot iterate"]),
    ],
)
def test_errors_name_sentence_and_problem(text, words):
    with pytest.raises(IngredientsError) as exc:
        ev(text)
    msg = str(exc.value)
    assert repr(text) in msg or text in msg
    for w in words:
        assert w in msg, msg


def test_resolver_key_error_is_an_ingredients_error():
    def strict(key):
        raise IngredientsError(f"unknown sentence key '${{{key}}}' for /x/a.tif")

    with pytest.raises(IngredientsError, match=r"\$\{gdal:minx\}.*a\.tif"):
        evaluate("${gdal:minx} + 1", strict)
