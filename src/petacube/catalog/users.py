"""Server users (salted scrypt password hashes, roles) and per-coverage access settings,
kept in the catalog database beside the coverages."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, insert, select, update

from petacube.catalog import database
from petacube.catalog.schema import Base, coverage_access, coverages, users
from petacube.errors import InvalidParameterValue, NoSuchCoverage

ROLES = ("reader", "writer", "admin")
# A role includes the rights of the roles before it.
_IMPLIED = {"reader": ("reader",), "writer": ("reader", "writer"), "admin": ("reader", "writer", "admin")}
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}
_NAME_RE = re.compile(r"[A-Za-z0-9_.@-]{1,64}")


@dataclass(frozen=True)
class User:
    name: str
    roles: tuple[str, ...]  # as assigned
    created: datetime

    @property
    def rights(self) -> frozenset[str]:
        """The assigned roles and the ones they imply (admin → writer → reader)."""
        return effective_roles(self.roles)


def effective_roles(roles) -> frozenset[str]:
    return frozenset(r for role in roles for r in _IMPLIED.get(role, (role,)))


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, **_SCRYPT)
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        got = hashlib.scrypt(password.encode("utf-8"), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, bytes.fromhex(digest))


class Users:
    """Users and coverage access settings of one catalog."""

    def __init__(self, catalog):
        self._engine = catalog._engine
        if not getattr(catalog, "_users_tables_ready", False):
            # catalogs created before these tables existed get them here (create_all skips existing ones)
            with database.transaction(self._engine, write=True) as conn:
                Base.metadata.create_all(conn, tables=[users, coverage_access])
            catalog._users_tables_ready = True

    # ---- users ---------------------------------------------------------------------
    def add(self, name: str, password: str, roles, *, replace: bool = False) -> User:
        roles = tuple(dict.fromkeys(roles))
        if not _NAME_RE.fullmatch(name or ""):
            raise InvalidParameterValue(
                f"user name '{name}': use 1-64 letters, digits and _ . @ -", locator="name")
        for role in roles:
            if role not in ROLES:
                raise InvalidParameterValue(f"role '{role}' is unknown; use one of {', '.join(ROLES)}", locator="role")
        if not roles:
            raise InvalidParameterValue(f"user '{name}' needs a role: one of {', '.join(ROLES)}", locator="role")
        if not password:
            raise InvalidParameterValue(f"user '{name}' needs a non-empty password", locator="password")
        now = datetime.now(UTC)
        row = {"password_hash": hash_password(password), "roles": list(roles)}
        with database.transaction(self._engine, write=True) as conn:
            exists = conn.execute(select(users.c.name).where(users.c.name == name)).first() is not None
            if exists and not replace:
                raise InvalidParameterValue(f"user '{name}' exists already; remove it first to change it",
                                            locator="name")
            if exists:
                conn.execute(update(users).where(users.c.name == name).values(**row))
            else:
                conn.execute(insert(users).values(name=name, created=now, **row))
        return User(name, roles, now)

    def remove(self, name: str) -> None:
        with database.transaction(self._engine, write=True) as conn:
            if conn.execute(delete(users).where(users.c.name == name)).rowcount == 0:
                raise InvalidParameterValue(f"there is no user '{name}'", locator="name")

    def list(self) -> list[User]:
        with database.transaction(self._engine, write=False) as conn:
            rows = conn.execute(select(users.c.name, users.c.roles, users.c.created).order_by(users.c.name)).all()
        return [User(r.name, tuple(r.roles), r.created) for r in rows]

    def authenticate(self, name: str, password: str) -> User | None:
        """The user when the password matches, else None (unknown users cost the same time)."""
        with database.transaction(self._engine, write=False) as conn:
            row = conn.execute(select(users).where(users.c.name == name)).first()
        if row is None:
            check_password(password, _DUMMY_HASH)
            return None
        if not check_password(password, row.password_hash):
            return None
        return User(row.name, tuple(row.roles), row.created)

    # ---- coverage access -----------------------------------------------------------------
    def set_anonymous_read(self, coverage_id: str, allowed: bool) -> None:
        with database.transaction(self._engine, write=True) as conn:
            if conn.execute(select(coverages.c.id).where(coverages.c.id == coverage_id)).first() is None:
                raise NoSuchCoverage(f"coverage '{coverage_id}' does not exist", locator=coverage_id)
            conn.execute(delete(coverage_access).where(coverage_access.c.coverage_id == coverage_id))
            conn.execute(insert(coverage_access).values(coverage_id=coverage_id, anonymous_read=allowed))

    def anonymous_read_denied(self, coverage_ids) -> list[str]:
        """Those of ``coverage_ids`` that anonymous users may not read."""
        ids = list(dict.fromkeys(coverage_ids))
        if not ids:
            return []
        with database.transaction(self._engine, write=False) as conn:
            denied = set(conn.execute(
                select(coverage_access.c.coverage_id).where(
                    coverage_access.c.coverage_id.in_(ids), coverage_access.c.anonymous_read.is_(False))
            ).scalars())
        return [i for i in ids if i in denied]


_DUMMY_HASH = hash_password(secrets.token_hex(8))
