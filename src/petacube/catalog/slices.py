"""Slices and import records: insertion, the region query, shifting, upserts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, and_, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from petacube.catalog.records import ImportRecord, Region, SliceRecord
from petacube.catalog.rows import check_json
from petacube.catalog.schema import imports, slice_extents, slices
from petacube.errors import InvalidParameterValue
from petacube.model import Coverage


def check_slices(cov: Coverage, records: Sequence[SliceRecord]) -> None:
    """Refuse slices whose region does not fit ``cov``'s stored arrays or whose bands do not
    match its bands, before the transaction starts."""
    shape = cov.storage_shape
    for rec in records:
        what = f"coverage {cov.id}: slice {rec.path}"
        if not isinstance(rec.path, str) or not rec.path:
            raise InvalidParameterValue(f"coverage {cov.id}: a slice needs a source path, not {rec.path!r}")
        if len(rec.region) != len(shape):
            raise InvalidParameterValue(
                f"{what} has a {len(rec.region)}-D region but the coverage has {len(shape)} axes ({', '.join(cov.dims)})"
            )
        for (lo, hi), n, label in zip(rec.region, shape, cov.dims):
            if lo < 0 or hi > n:
                raise InvalidParameterValue(
                    f"{what}: region {lo}:{hi} on axis {label} is outside its storage extent 0:{n}"
                )
        if rec.band_indices and (
            len(rec.band_indices) != len(cov.bands) or min(rec.band_indices) < 1
        ):
            raise InvalidParameterValue(
                f"{what}: band_indices {list(rec.band_indices)} must give one GDAL band number "
                f"(1-based) for each of the coverage's {len(cov.bands)} bands"
            )
        check_json(rec.metadata, f"{what}: metadata")


def insert_slices(conn: Connection, cov_id: str, records: Sequence[SliceRecord], now: datetime) -> None:
    if not records:
        return
    # one INSERT per slice and inserted_primary_key instead of RETURNING: netCDF4's wheel
    # bundles an older libsqlite3 (no RETURNING) that may be the one the process loaded
    ids = [
        conn.execute(
            insert(slices).values(
                coverage_id=cov_id, path=r.path, registered=r.registered,
                band_indices=list(r.band_indices), subdataset=r.subdataset,
                metadata=r.metadata, created=now,
            )
        ).inserted_primary_key[0]
        for r in records
    ]
    conn.execute(
        insert(slice_extents),
        [
            {"slice_id": sid, "axis": k, "coverage_id": cov_id, "lo": lo, "hi": hi}
            for sid, r in zip(ids, records)
            for k, (lo, hi) in enumerate(r.region)
        ],
    )


def shift(conn: Connection, cov_id: str, axis: int, offset: int) -> None:
    """Move every stored slice of the coverage by ``offset`` along grid axis ``axis``."""
    e = slice_extents.c
    conn.execute(
        update(slice_extents)
        .where(e.coverage_id == cov_id, e.axis == axis)
        .values(lo=e.lo + offset, hi=e.hi + offset)
    )


def select_slices(
    conn: Connection, cov_id: str, region: Region | None, registered: bool | None
) -> list[SliceRecord]:
    """Slices in arrival order, optionally only those intersecting ``region``."""
    s, e = slices.c, slice_extents.c
    query = select(slices).where(s.coverage_id == cov_id)
    if registered is not None:
        query = query.where(s.registered == registered)
    if region is not None:
        # a slice intersects when its extent overlaps the region on every axis
        overlapping = (
            select(e.slice_id)
            .where(
                e.coverage_id == cov_id,
                or_(*(and_(e.axis == k, e.lo < hi, e.hi > lo) for k, (lo, hi) in enumerate(region))),
            )
            .group_by(e.slice_id)
            .having(func.count() == len(region))
        )
        query = query.where(s.id.in_(overlapping))
    rows = conn.execute(query.order_by(s.id)).mappings().all()
    if not rows:
        return []
    ids = query.with_only_columns(s.id).order_by(None)
    extents: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for sid, lo, hi in conn.execute(
        select(e.slice_id, e.lo, e.hi).where(e.slice_id.in_(ids)).order_by(e.slice_id, e.axis)
    ):
        extents[sid].append((lo, hi))
    return [
        SliceRecord(
            path=r["path"], region=tuple(extents[r["id"]]), registered=bool(r["registered"]),
            band_indices=tuple(r["band_indices"] or ()), subdataset=r["subdataset"],
            metadata=r["metadata"] if r["metadata"] is not None else {}, id=r["id"],
        )
        for r in rows
    ]


def upsert_imports(
    conn: Connection, cov_id: str, records: Sequence[ImportRecord], now: datetime
) -> None:
    if not records:
        return
    # one row per path: PostgreSQL refuses to update a row twice in one statement
    latest = {r.path: r for r in records}
    insert_ = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    stmt = insert_(imports)
    stmt = stmt.on_conflict_do_update(
        index_elements=[imports.c.coverage_id, imports.c.path],
        set_={"fingerprint": stmt.excluded.fingerprint, "status": stmt.excluded.status,
              "finished": stmt.excluded.finished},
    )
    conn.execute(
        stmt,
        [{"coverage_id": cov_id, "path": r.path, "fingerprint": r.fingerprint,
          "status": r.status, "finished": now} for r in latest.values()],
    )
