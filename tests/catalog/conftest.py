"""Catalog fixtures: every test runs on SQLite and on PostgreSQL (a fresh schema each)."""

from __future__ import annotations

import os
import uuid

import pytest
import sqlalchemy as sa

from petacube.catalog import Catalog
from petacube.model import Band, Coverage, Crs, IrregularAxis, NilValue, RegularAxis

PG_URL = os.environ.get("PETACUBE_TEST_POSTGRES_URL")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def catalog_url(request, tmp_path):
    """A URL of an empty catalog database."""
    if request.param == "sqlite":
        # a directory that does not exist yet: the catalog creates it
        yield f"sqlite:///{tmp_path / 'new-dir' / 'catalog.db'}"
        return
    if not PG_URL:
        pytest.skip("PETACUBE_TEST_POSTGRES_URL is not set (run scripts/pg-test-server.sh start 55432 "
                    "and export PETACUBE_TEST_POSTGRES_URL=postgresql+psycopg://petacube@127.0.0.1:55432/petacube)")
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_URL)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = sa.engine.make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture
def open_catalog(catalog_url):
    """Open (several) Catalog objects on the test database; all closed at the end."""
    opened: list[Catalog] = []

    def _open() -> Catalog:
        cat = Catalog(catalog_url)
        opened.append(cat)
        return cat

    yield _open
    for cat in opened:
        cat.close()


@pytest.fixture
def catalog(open_catalog) -> Catalog:
    return open_catalog()


@pytest.fixture
def sql(catalog_url):
    """Run raw SQL against the test database (to look at what the catalog wrote)."""
    engine = sa.create_engine(catalog_url)

    def _run(statement: str, **params):
        with engine.begin() as conn:
            result = conn.execute(sa.text(statement), params)
            return result.all() if result.returns_rows else result.rowcount

    yield _run
    engine.dispose()


# ---- coverages --------------------------------------------------------------------

UTM_ANSI = Crs.parse("EPSG/0/32633@OGC/0/AnsiDate")


@pytest.fixture(name="utm_time_series")
def utm_time_series_fixture():
    """The builder below, for tests (test modules cannot import conftest)."""
    return utm_time_series


def utm_time_series(cov_id: str = "S2_NDVI", coeffs=(150_000.5, 150_010.25, 150_020.0),
                    slots=(2, 0, 1)) -> Coverage:
    """3-D: irregular AnsiDate axis (slots out of order), northing down, easting up."""
    crs = UTM_ANSI
    return Coverage(
        id=cov_id,
        crs=crs,
        axes=(
            IrregularAxis("ansi", crs.axis("ansi"), tuple(coeffs), tuple(slots)),
            RegularAxis("N", crs.axis("N"), 5_190_240.000000001, -10.000000000000002, 1098),
            RegularAxis("E", crs.axis("E"), 399_960.00000000006, 10.0, 1098),
        ),
        bands=(
            Band("B04", "uint16", (NilValue(0.0, reason="no data"),), "reflectance",
                 "Red, 665 nm", "http://www.opengis.net/def/dataType/OGC/0/unsignedShort"),
            Band("ndvi", "float32", (NilValue(float("nan")), NilValue(-1.0000000000000002, -0.5, "water"))),
        ),
        metadata={"source": "Sentinel-2", "processing": {"level": "L2A", "baseline": [4, 0]},
                  "cloud": 0.1 + 0.2, "tags": {"nested": {"deep": None, "flag": True}}},
        tile_shape=(1, 512, 512),
        pyramid=((1, 2, 2), (1, 4, 4)),
    )
