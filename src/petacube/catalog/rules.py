"""Fine-grained read rules (what rasdaman offers through triggers) and the daily usage they
meter, kept in the catalog database.

A rule restricts reads of one coverage (or every coverage, ``*``) by a role, a user
(``user:alice``) or anonymous clients (``anonymous``): an allowed area (a WKT polygon in any
CRS), an allowed time range, the finest and coarsest resolution that may be read, a daily
quota of bytes read and a cap on cells read per request. Every rule that matches a request
must hold; admins are exempt. The server checks them on the request's read plan, before any
tile is read (`petacube.server.read_guard`)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, date, datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from petacube.catalog import database
from petacube.catalog.schema import Base, access_rules, daily_usage
from petacube.errors import InvalidParameterValue

ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class AccessRule:
    """One restriction; ``None`` fields do not restrict."""

    subject: str
    coverage: str = "*"
    area_wkt: str | None = None
    area_crs: str | None = None  # default EPSG:4326 (longitude, latitude)
    time_min: str | None = None
    time_max: str | None = None
    finest_resolution: float | None = None
    coarsest_resolution: float | None = None
    daily_bytes: int | None = None
    max_cells: int | None = None
    id: int | None = None

    def describe(self) -> str:
        parts = [f"#{self.id}" if self.id is not None else "", f"{self.subject} on {self.coverage}:"]
        if self.area_wkt:
            parts.append(f"area {self.area_wkt[:60]}{'…' if len(self.area_wkt) > 60 else ''} ({self.area_crs or 'EPSG:4326'})")
        if self.time_min or self.time_max:
            parts.append(f"time {self.time_min or '*'}..{self.time_max or '*'}")
        if self.finest_resolution is not None:
            parts.append(f"finest resolution {self.finest_resolution:g}")
        if self.coarsest_resolution is not None:
            parts.append(f"coarsest resolution {self.coarsest_resolution:g}")
        if self.daily_bytes is not None:
            parts.append(f"daily quota {self.daily_bytes} bytes")
        if self.max_cells is not None:
            parts.append(f"at most {self.max_cells} cells per request")
        return " ".join(p for p in parts if p)


_COLUMNS = [f.name for f in fields(AccessRule) if f.name != "id"]


def validate(rule: AccessRule) -> AccessRule:
    """Check a rule's parts (WKT, CRS, times, numbers) so a bad rule is refused when added."""
    from petacube.model.crs import parse_time

    if not rule.subject or not rule.subject.strip():
        raise InvalidParameterValue("a rule needs a subject: a role (reader, writer), user:<name> or anonymous")
    if rule.area_wkt:
        import shapely
        from shapely.errors import GEOSException

        try:
            geom = shapely.from_wkt(rule.area_wkt)
        except (GEOSException, ValueError) as exc:
            raise InvalidParameterValue(f"area '{rule.area_wkt[:80]}' is not valid WKT: {exc}", locator="area") from None
        if geom.geom_type not in ("Polygon", "MultiPolygon") or geom.is_empty:
            raise InvalidParameterValue(f"area must be a POLYGON or MULTIPOLYGON, not {geom.geom_type}", locator="area")
    if rule.area_crs:
        import pyproj

        try:
            pyproj.CRS.from_user_input(rule.area_crs)
        except pyproj.exceptions.CRSError:
            raise InvalidParameterValue(f"area CRS '{rule.area_crs}' is unknown; write e.g. EPSG:4326",
                                        locator="area_crs") from None
    for name in ("time_min", "time_max"):
        value = getattr(rule, name)
        if value:
            try:
                parse_time(value)
            except Exception:
                raise InvalidParameterValue(f"{name}={value} is not an ISO 8601 time", locator=name) from None
    for name in ("finest_resolution", "coarsest_resolution", "daily_bytes", "max_cells"):
        value = getattr(rule, name)
        if value is not None and value <= 0:
            raise InvalidParameterValue(f"{name}={value} must be positive", locator=name)
    if (rule.finest_resolution and rule.coarsest_resolution
            and rule.finest_resolution > rule.coarsest_resolution):
        raise InvalidParameterValue("the finest resolution is coarser than the coarsest one", locator="finest_resolution")
    return rule


def matching_rules(rules: list[AccessRule], user: str | None, roles, coverage: str) -> list[AccessRule]:
    """Those of ``rules`` that apply to ``user`` (with effective ``roles``) reading ``coverage``."""
    if "admin" in roles:
        return []
    subjects = {ANONYMOUS} if user is None else {f"user:{user}", *roles}
    return [r for r in rules if r.subject in subjects and r.coverage in ("*", coverage)]


class Rules:
    """The read rules and daily usage of one catalog."""

    def __init__(self, catalog):
        self._engine = catalog._engine
        if not getattr(catalog, "_rules_tables_ready", False):
            with database.transaction(self._engine, write=True) as conn:
                Base.metadata.create_all(conn, tables=[access_rules, daily_usage])
            catalog._rules_tables_ready = True

    def add(self, rule: AccessRule) -> AccessRule:
        validate(rule)
        values = {c: getattr(rule, c) for c in _COLUMNS}
        with database.transaction(self._engine, write=True) as conn:
            conn.execute(insert(access_rules).values(**values, created=datetime.now(UTC)))
            new_id = conn.execute(select(access_rules.c.id).order_by(access_rules.c.id.desc()).limit(1)).scalar_one()
        return AccessRule(**values, id=int(new_id))

    def list(self) -> list[AccessRule]:
        with database.transaction(self._engine, write=False) as conn:
            rows = conn.execute(select(access_rules).order_by(access_rules.c.id)).mappings().all()
        return [AccessRule(**{c: row[c] for c in _COLUMNS}, id=int(row["id"])) for row in rows]

    def remove(self, rule_id: int) -> None:
        with database.transaction(self._engine, write=True) as conn:
            gone = conn.execute(delete(access_rules).where(access_rules.c.id == rule_id)).rowcount
        if not gone:
            raise InvalidParameterValue(f"there is no rule #{rule_id}; `petacube rule list` shows them", locator="id")

    def matching(self, user: str | None, roles, coverage: str) -> list[AccessRule]:
        """The rules that apply to ``user`` (with effective ``roles``) reading ``coverage``."""
        return matching_rules(self.list(), user, roles, coverage)

    def used_today(self, subject: str, today: date | None = None) -> int:
        day = (today or datetime.now(UTC).date()).isoformat()
        with database.transaction(self._engine, write=False) as conn:
            used = conn.execute(select(daily_usage.c.bytes_read).where(
                daily_usage.c.subject == subject, daily_usage.c.day == day)).scalar()
        return int(used or 0)

    def add_usage(self, subject: str, nbytes: int, today: date | None = None) -> None:
        if nbytes <= 0:
            return
        day = (today or datetime.now(UTC).date()).isoformat()
        where = (daily_usage.c.subject == subject) & (daily_usage.c.day == day)
        for _ in range(3):  # a concurrent first insert of the day: retry as an update
            try:
                with database.transaction(self._engine, write=True) as conn:
                    done = conn.execute(update(daily_usage).where(where).values(
                        bytes_read=daily_usage.c.bytes_read + nbytes)).rowcount
                    if not done:
                        conn.execute(insert(daily_usage).values(subject=subject, day=day, bytes_read=nbytes))
                return
            except IntegrityError:
                continue
