"""Opening the catalog database: engines, transactions, and table creation.

SQLite: WAL journal and a busy timeout so several processes can share the file; write
transactions start with ``BEGIN IMMEDIATE`` so two writers queue on the lock instead of
failing when a read transaction tries to upgrade. PostgreSQL: reads run in REPEATABLE
READ so one ``get`` sees one snapshot; writes lock the coverage row first.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine, create_engine, event, inspect, select, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

from petacube.errors import InvalidParameterValue, StorageError
from petacube.catalog.schema import SCHEMA_VERSION, Base, schema_versions

SQLITE_BUSY_TIMEOUT_S = 30
# Serialises table creation when several processes open a fresh PostgreSQL catalog at once.
_PG_CREATE_LOCK = zlib.crc32(b"petacube catalog schema")


def json_default(value: Any) -> Any:
    """numpy scalars and arrays in metadata become plain JSON numbers and lists."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} value {value!r} cannot be stored as JSON")


# NaN and infinities are not JSON (PostgreSQL rejects them): refuse them on every backend.
json_dumps = partial(json.dumps, allow_nan=False, default=json_default)


def parse_url(url: str) -> URL:
    """The SQLAlchemy URL, with driverless PostgreSQL URLs sent to psycopg 3."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise InvalidParameterValue(
            f"catalog URL '{url}' is not a database URL: use sqlite:////abs/path/catalog.db "
            "or postgresql+psycopg://user@host:port/db"
        ) from exc
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise InvalidParameterValue(
            f"catalog URL '{safe_url(parsed)}': only SQLite (sqlite:///...) and PostgreSQL "
            "(postgresql+psycopg://...) catalogs are supported"
        )
    return parsed


def safe_url(url: URL) -> str:
    return url.render_as_string(hide_password=True)


def open_engine(url: URL) -> Engine:
    """An engine for ``url``; SQLite files get their parent directory created."""
    try:
        if url.get_backend_name() == "sqlite":
            return _sqlite_engine(url)
        return create_engine(url, pool_pre_ping=True, json_serializer=json_dumps)
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        raise InvalidParameterValue(f"catalog URL '{safe_url(url)}': {exc}") from exc


def _sqlite_engine(url: URL) -> Engine:
    db = url.database or ""
    if db and db != ":memory:" and not db.startswith("file:"):
        Path(db).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        json_serializer=json_dumps,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # Take BEGIN away from the sqlite3 module (it would skip it for SELECTs and DDL).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_S * 1000}")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = NORMAL")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        write = conn.get_execution_options().get("petacube_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


@contextmanager
def transaction(engine: Engine, *, write: bool) -> Iterator[Connection]:
    """One database transaction: committed when the block ends, rolled back on error."""
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                conn.execution_options(petacube_write=write)
            elif not write:
                conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
            with conn.begin():
                yield conn
    except OperationalError as exc:
        raise StorageError(
            f"catalog database {safe_url(engine.url)} failed: {exc.orig or exc}"
        ) from exc


def prepare(engine: Engine) -> None:
    """Create the tables on first use and check the catalog's schema version."""
    with transaction(engine, write=False) as conn:
        found = _stored_version(conn)
    if found is None:
        with transaction(engine, write=True) as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_CREATE_LOCK})
            Base.metadata.create_all(conn)
            found = _stored_version(conn)
            if found is None:
                conn.execute(schema_versions.insert().values(name="catalog", version=SCHEMA_VERSION))
                found = SCHEMA_VERSION
    if found > SCHEMA_VERSION:
        raise StorageError(
            f"the catalog at {safe_url(engine.url)} has schema version {found}, newer than this "
            f"petacube's {SCHEMA_VERSION}: upgrade petacube"
        )
    if found < SCHEMA_VERSION:  # no older schema exists yet; migrations go here
        raise StorageError(
            f"the catalog at {safe_url(engine.url)} has schema version {found} and no migration "
            f"to {SCHEMA_VERSION} exists"
        )


def _stored_version(conn: Connection) -> int | None:
    if not inspect(conn).has_table(schema_versions.name):
        return None
    return conn.execute(
        select(schema_versions.c.version).where(schema_versions.c.name == "catalog")
    ).scalar_one_or_none()
