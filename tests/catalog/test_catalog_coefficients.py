"""Irregular axes: coefficients are rows, written as a diff, loaded fast."""

from __future__ import annotations

import time

import pytest

from petacube.model import IrregularAxis

TRIGGERS = {
    "sqlite": [
        "CREATE TABLE coef_writes (op TEXT)",
        *(f"CREATE TRIGGER coef_{op} AFTER {op.upper()} ON axis_coefficients "
          f"BEGIN INSERT INTO coef_writes VALUES ('{op}'); END" for op in ("insert", "update", "delete")),
    ],
    "postgresql": [
        "CREATE TABLE coef_writes (op TEXT)",
        "CREATE FUNCTION note_coef_write() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN INSERT INTO coef_writes VALUES (lower(TG_OP)); RETURN NULL; END $$",
        "CREATE TRIGGER coef_writes AFTER INSERT OR UPDATE OR DELETE ON axis_coefficients "
        "FOR EACH ROW EXECUTE FUNCTION note_coef_write()",
    ],
}


@pytest.fixture
def coefficient_writes(catalog, sql):
    """Install triggers that log every row written to axis_coefficients; returns a reader
    giving {op: count} since the last call."""
    for statement in TRIGGERS[catalog.dialect]:
        sql(statement)

    def _writes() -> dict[str, int]:
        rows = sql("SELECT op, COUNT(*) FROM coef_writes GROUP BY op")
        sql("DELETE FROM coef_writes")
        return dict(rows)

    return _writes


def long_series(utm_time_series, n: int):
    return utm_time_series(coeffs=[150_000.0 + 2 * i for i in range(n)], slots=range(n))


def test_inserting_a_date_between_two_writes_one_row(catalog, sql, utm_time_series, coefficient_writes):
    cov = long_series(utm_time_series, 10_000)
    catalog.commit(cov)
    coefficient_writes()  # the table was created by the commit before the triggers existed

    axis, slot = cov.axes[0].with_coefficient(150_001.0)
    assert slot == 10_000
    catalog.commit(cov.with_axis(axis))
    assert coefficient_writes() == {"insert": 1}
    assert sql("SELECT COUNT(*) FROM axis_coefficients") == [(10_001,)]

    got = catalog.get(cov.id).axes[0]
    assert got.coefficients[:4] == (150_000.0, 150_001.0, 150_002.0, 150_004.0)
    assert got.slots[:4] == (0, 10_000, 1, 2)
    assert got.size == 10_001 and got.storage_size == 10_001
    assert got.coefficients[-1] == 169_998.0 and got.slots[-1] == 9_999


def test_unchanged_axis_writes_nothing_and_removal_deletes_one_row(
    catalog, utm_time_series, coefficient_writes
):
    cov = long_series(utm_time_series, 1_000)
    catalog.commit(cov)
    coefficient_writes()
    catalog.commit(cov, expected_version=1)
    assert coefficient_writes() == {}

    ax = cov.axes[0]
    without = IrregularAxis("ansi", ax.crs_axis, ax.coefficients[:5] + ax.coefficients[6:],
                            ax.slots[:5] + ax.slots[6:])
    catalog.commit(cov.with_axis(without))
    assert coefficient_writes() == {"delete": 1}
    got = catalog.get(cov.id).axes[0]
    assert got.size == 999 and 150_010.0 not in got.coefficients
    assert got.slots[4:6] == (4, 6)


def test_moving_a_coefficient_to_another_slot(catalog, utm_time_series, coefficient_writes):
    cov = utm_time_series(coeffs=(10.0, 20.0, 30.0), slots=(0, 1, 2))
    catalog.commit(cov)
    coefficient_writes()
    moved = utm_time_series(coeffs=(10.0, 20.0, 30.0), slots=(0, 3, 2))
    catalog.commit(moved)
    assert coefficient_writes() == {"delete": 1, "insert": 1}
    assert catalog.get(cov.id).axes[0].slots == (0, 3, 2)


def test_hundred_thousand_coefficients_load_fast(catalog, utm_time_series):
    n = 100_000
    coeffs = [150_000.0 + i / 3 for i in range(n)]  # values with all 53 bits in use
    slots = list(range(n - 1, -1, -1))
    cov = utm_time_series("long", coeffs, slots)
    t0 = time.perf_counter()
    catalog.commit(cov)
    t_commit = time.perf_counter() - t0

    t0 = time.perf_counter()
    got = catalog.get("long")
    t_get = time.perf_counter() - t0
    print(f"{catalog.dialect}: commit {t_commit:.3f} s, get {t_get:.3f} s for {n} coefficients")

    axis = got.axes[0]
    assert axis.size == n
    assert list(axis.coefficients) == coeffs
    assert axis.coefficients[1] == 150_000.33333333334
    assert list(axis.slots) == slots
    # not a benchmark (machines are shared and noisy): a loose guard against a regression
    # to one ORM object per row, which takes tens of seconds at this size
    assert t_get < 5.0
