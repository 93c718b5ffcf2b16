"""The catalog: coverage descriptions, their slices and import records, in SQL."""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from petacube.catalog import coefficients, database, rows
from petacube.catalog import slices as slice_table
from petacube.catalog.records import CatalogConflict, ImportRecord, SliceRecord, normalise_region
from petacube.catalog.schema import (
    axes,
    bands,
    coverages,
    imports,
    slice_extents,
    slices,
)
from petacube.catalog.schema import coefficients as coefficient_table
from petacube.errors import CoverageExists, InvalidParameterValue, NoSuchCoverage
from petacube.model import Coverage, IrregularAxis

Shift = tuple[int, int]


class Catalog:
    """Coverage metadata in a SQLite file or a PostgreSQL database.

    Every write is one transaction; each coverage carries a version that ``commit``
    bumps, so a writer can detect that someone else committed since it read."""

    def __init__(self, url: str):
        self.url = url
        self._url = database.parse_url(url)
        self._engine = database.open_engine(self._url)
        self.dialect: str = self._engine.dialect.name
        try:
            database.prepare(self._engine)
        except BaseException:
            self._engine.dispose()
            raise

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> "Catalog":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Catalog({database.safe_url(self._url)!r})"

    # ---- reading -------------------------------------------------------------------

    def coverage_ids(self) -> list[str]:
        with self._read() as conn:
            return list(conn.execute(select(coverages.c.id).order_by(coverages.c.id)).scalars())

    def exists(self, cov_id: str) -> bool:
        with self._read() as conn:
            return self._version(conn, cov_id) is not None

    def version(self, cov_id: str) -> int:
        """The coverage's version: 1 after its first commit, +1 for each later one."""
        with self._read() as conn:
            return self._require(conn, cov_id)

    def stamp(self, cov_id: str) -> tuple[int, str]:
        """(version, time of the last commit): changes with every commit, also when a coverage
        is deleted and created again under the same id. For caching descriptions."""
        with self._read() as conn:
            row = conn.execute(
                select(coverages.c.version, coverages.c.updated).where(coverages.c.id == cov_id)
            ).first()
            if row is None:
                raise self._no_such(conn, cov_id)
            return int(row[0]), str(row[1])

    def get(self, cov_id: str) -> Coverage:
        """The coverage description exactly as last committed."""
        return self.get_with_version(cov_id)[0]

    def get_with_version(self, cov_id: str) -> tuple[Coverage, int]:
        """The coverage and its version, read in one snapshot: pass the version to
        ``commit(expected_version=...)`` for a safe read-modify-write."""
        with self._read() as conn:
            row = conn.execute(select(coverages).where(coverages.c.id == cov_id)).mappings().first()
            if row is None:
                raise self._no_such(conn, cov_id)
            axis_rows = conn.execute(
                select(axes).where(axes.c.coverage_id == cov_id).order_by(axes.c.position)
            ).mappings().all()
            band_rows = conn.execute(
                select(bands).where(bands.c.coverage_id == cov_id).order_by(bands.c.position)
            ).mappings().all()
            coeffs = {
                a["label"]: coefficients.load(conn, cov_id, a["label"])
                for a in axis_rows
                if a["kind"] == "irregular"
            }
        return rows.coverage_from_rows(row, axis_rows, coeffs, band_rows), row["version"]

    def slices(
        self,
        cov_id: str,
        region: Sequence[tuple[int, int]] | None = None,
        registered: bool | None = None,
    ) -> list[SliceRecord]:
        """Slices in arrival order; with ``region`` (half-open storage-index pairs in grid
        order) only those intersecting it; with ``registered`` only (non-)registered ones."""
        if region is not None:
            region = normalise_region(region, f"slices of coverage {cov_id}")
        with self._read() as conn:
            self._require(conn, cov_id)
            if region is not None:
                ndim = conn.execute(
                    select(func.count()).select_from(axes).where(axes.c.coverage_id == cov_id)
                ).scalar_one()
                if len(region) != ndim:
                    raise InvalidParameterValue(
                        f"coverage {cov_id} has {ndim} axes but the region {list(region)} has {len(region)} pairs"
                    )
                if any(lo == hi for lo, hi in region):
                    return []  # an empty region intersects nothing
            return slice_table.select_slices(conn, cov_id, region, registered)

    def slice_count(self, cov_id: str) -> int:
        with self._read() as conn:
            self._require(conn, cov_id)
            return self._count(conn, slices, slices.c.coverage_id == cov_id)

    def imported(self, cov_id: str) -> dict[str, ImportRecord]:
        """Finished imports of the coverage, by source path."""
        with self._read() as conn:
            self._require(conn, cov_id)
            result = conn.execute(
                select(imports.c.path, imports.c.fingerprint, imports.c.status)
                .where(imports.c.coverage_id == cov_id)
                .order_by(imports.c.path)
            )
            return {path: ImportRecord(path, fp, status) for path, fp, status in result}

    def size_summary(self, cov_id: str) -> dict[str, Any]:
        """Counts for ``petacube describe``: slices, registered slices, imported files."""
        with self._read() as conn:
            version = self._require(conn, cov_id)
            last = conn.execute(
                select(func.max(imports.c.finished)).where(imports.c.coverage_id == cov_id)
            ).scalar()
            return {
                "version": version,
                "slices": self._count(conn, slices, slices.c.coverage_id == cov_id),
                "registered_slices": self._count(
                    conn, slices, slices.c.coverage_id == cov_id, slices.c.registered.is_(True)
                ),
                "imported_files": self._count(conn, imports, imports.c.coverage_id == cov_id),
                "last_import": _utc(last).isoformat() if last is not None else None,
            }

    # ---- writing -------------------------------------------------------------------

    def commit(
        self,
        cov: Coverage,
        *,
        new_slices: Sequence[SliceRecord] = (),
        imported: Sequence[ImportRecord] = (),
        expected_version: int | None = None,
        shift: Shift | Sequence[Shift] | None = None,
    ) -> int:
        """Store ``cov`` (insert or replace its description), add ``new_slices``, record
        ``imported`` files, in one transaction; returns the new version.

        ``expected_version``: None commits whatever is stored; 0 requires that the coverage
        does not exist yet (else CoverageExists); n > 0 requires the stored version to be n
        (else CatalogConflict). ``shift``: ``(axis position, offset)`` or a sequence of them;
        existing slices move by ``offset`` storage indices on that axis before
        ``new_slices`` (whose regions are in the new grid) are added."""
        shifts = _normalise_shifts(shift, cov)
        slice_table.check_slices(cov, new_slices)
        values = rows.coverage_values(cov)
        axis_rows, band_rows = rows.axis_rows(cov), rows.band_rows(cov)
        now = datetime.now(timezone.utc)
        with self._write() as conn:
            version = self._claim(conn, cov.id, values, expected_version, now)
            conn.execute(delete(axes).where(axes.c.coverage_id == cov.id))
            conn.execute(delete(bands).where(bands.c.coverage_id == cov.id))
            conn.execute(insert(axes), axis_rows)
            conn.execute(insert(bands), band_rows)
            coefficients.sync(conn, cov)
            for axis, offset in shifts:
                slice_table.shift(conn, cov.id, axis, offset)
            slice_table.insert_slices(conn, cov.id, new_slices, now)
            slice_table.upsert_imports(conn, cov.id, imported, now)
        return version

    def delete(self, cov_id: str) -> None:
        """Remove the coverage and everything recorded about it."""
        with self._write() as conn:
            self._require(conn, cov_id)
            for table in (slice_extents, slices, coefficient_table, imports, bands, axes):
                conn.execute(delete(table).where(table.c.coverage_id == cov_id))
            conn.execute(delete(coverages).where(coverages.c.id == cov_id))

    def forget_imports(self, cov_id: str) -> None:
        """Drop the coverage's import records, so the next import reads every file again."""
        with self._write() as conn:
            self._require(conn, cov_id)
            conn.execute(delete(imports).where(imports.c.coverage_id == cov_id))

    # ---- internals -----------------------------------------------------------------

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with database.transaction(self._engine, write=False) as conn:
            yield conn

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with database.transaction(self._engine, write=True) as conn:
            yield conn

    def _claim(
        self, conn: Connection, cov_id: str, values: dict, expected: int | None, now: datetime
    ) -> int:
        """Lock the coverage row (insert or conditional update) and return its new version."""
        c = coverages.c
        if expected is not None and expected < 0:
            raise InvalidParameterValue(f"expected_version must be 0 or more, not {expected}")
        current = self._version(conn, cov_id)
        if current is None:
            if expected:
                raise self._no_such(conn, cov_id)
            try:
                with conn.begin_nested():
                    conn.execute(insert(coverages).values(**values, version=1, created=now, updated=now))
                return 1
            except IntegrityError:  # a concurrent writer inserted it first
                if expected == 0:
                    raise CoverageExists(f"coverage {cov_id} already exists") from None
                current = self._version(conn, cov_id)  # theirs is committed: update it
        if expected == 0:
            raise CoverageExists(
                f"coverage {cov_id} already exists (version {current}); delete it first or update it"
            )
        stmt = update(coverages).where(c.id == cov_id)
        if expected is not None:
            stmt = stmt.where(c.version == expected)
        # no RETURNING: netCDF4's wheel bundles an older libsqlite3 that may be the one loaded
        changed = conn.execute(
            stmt.values(**{k: v for k, v in values.items() if k != "id"},
                        version=c.version + 1, updated=now)
        ).rowcount
        new = self._version(conn, cov_id) if changed else None
        if new is None:
            now_at = self._version(conn, cov_id)
            if now_at is None:
                raise self._no_such(conn, cov_id)
            raise CatalogConflict(
                f"coverage {cov_id} was changed by another writer: it is at version {now_at}, "
                f"not the expected {expected}; reload it and retry"
            )
        return new

    @staticmethod
    def _version(conn: Connection, cov_id: str) -> int | None:
        return conn.execute(
            select(coverages.c.version).where(coverages.c.id == cov_id)
        ).scalar_one_or_none()

    def _require(self, conn: Connection, cov_id: str) -> int:
        version = self._version(conn, cov_id)
        if version is None:
            raise self._no_such(conn, cov_id)
        return version

    @staticmethod
    def _count(conn: Connection, table, *where) -> int:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()

    @staticmethod
    def _no_such(conn: Connection, cov_id: str) -> NoSuchCoverage:
        ids = list(conn.execute(select(coverages.c.id).order_by(coverages.c.id)).scalars())
        if not ids:
            return NoSuchCoverage(f"coverage '{cov_id}' does not exist; the catalog holds no coverages")
        close = difflib.get_close_matches(cov_id, ids, n=3, cutoff=0.6)
        shown = close + [i for i in ids if i not in close][: 5 - len(close)]
        more = f" and {len(ids) - len(shown)} more" if len(ids) > len(shown) else ""
        return NoSuchCoverage(
            f"coverage '{cov_id}' does not exist; existing coverages include {', '.join(shown)}{more}",
            locator=cov_id,
        )


def _normalise_shifts(shift: Shift | Sequence[Shift] | None, cov: Coverage) -> list[Shift]:
    if shift is None:
        return []
    pairs = [shift] if len(shift) == 2 and all(isinstance(v, int) for v in shift) else list(shift)
    out = []
    for pair in pairs:
        try:
            axis, offset = (int(v) for v in pair)
        except (TypeError, ValueError):
            raise InvalidParameterValue(
                f"coverage {cov.id}: shift {shift!r} is not (axis position, offset)"
            ) from None
        if not 0 <= axis < len(cov.axes):
            raise InvalidParameterValue(
                f"coverage {cov.id}: shift axis {axis} is not a grid position 0..{len(cov.axes) - 1}"
            )
        if isinstance(cov.axes[axis], IrregularAxis) and offset:
            raise InvalidParameterValue(
                f"coverage {cov.id}: axis {cov.axes[axis].label} is irregular; its slices keep their storage slots"
            )
        out.append((axis, offset))
    return out


def _utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; they were written in UTC
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
