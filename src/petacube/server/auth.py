"""HTTP Basic authentication against the catalog's users, and the rights check the OWS
dispatcher calls before touching data (reads: anonymous unless a coverage or the server
says otherwise; writes: writer or admin)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from petacube.catalog.users import Users, effective_roles
from petacube.ows.dispatch import Operation
from petacube.ows.exceptions import AccessDenied, AuthenticationRequired

REALM = "petacube"
WWW_AUTHENTICATE = f'Basic realm="{REALM}", charset="UTF-8"'
WRITE_ROLES = frozenset({"writer", "admin"})


class Authenticator:
    """Checks Basic credentials; remembers good ones for a minute (scrypt is slow on purpose)."""

    def __init__(self, users: Users, ttl: float = 60.0, size: int = 1024):
        self.users, self.ttl, self.size = users, ttl, size
        self._cache: OrderedDict[bytes, tuple[float, str, frozenset[str]]] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, authorization: str | None) -> tuple[str | None, frozenset[str]]:
        """(user, roles) for an Authorization header; (None, {}) when there is none.
        Wrong or malformed credentials raise `AuthenticationRequired`."""
        if not authorization:
            return None, frozenset()
        scheme, _, value = authorization.strip().partition(" ")
        if scheme.lower() != "basic":
            raise AuthenticationRequired(f"authentication scheme '{scheme}' is not supported; use HTTP Basic")
        try:
            name, sep, password = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise AuthenticationRequired("the Basic credentials are not base64 of user:password") from None
        if not sep:
            raise AuthenticationRequired("the Basic credentials are not base64 of user:password")
        key = hashlib.sha256(f"{name}\0{password}".encode()).digest()
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None and hit[0] > now:
                return hit[1], hit[2]
        user = self.users.authenticate(name, password)
        if user is None:
            raise AuthenticationRequired("wrong user name or password")
        roles = effective_roles(user.roles)
        with self._lock:
            self._cache[key] = (now + self.ttl, user.name, roles)
            while len(self._cache) > self.size:
                self._cache.popitem(last=False)
        return user.name, roles


def authorizer(users: Users, anonymous_read: bool, user: str | None, roles: frozenset[str], *,
               write_from_address: bool = False) -> Callable[[Operation], None]:
    """The rights check for one request's user; ``write_from_address``: the client's address is
    one the administrator allows to write without credentials (setting ``write_addresses``)."""

    def check(op: Operation) -> None:
        if op.write:
            if write_from_address and user is None:
                return
            if user is None:
                raise AuthenticationRequired(
                    f"{op.request} changes data: send the credentials of a user with the writer or admin role")
            if not roles & WRITE_ROLES:
                raise AccessDenied(f"user '{user}' may not {op.request}: it needs the writer or admin role")
            return
        if user is not None:
            return
        if not anonymous_read:
            raise AuthenticationRequired("this server does not allow anonymous reads: send credentials")
        denied = users.anonymous_read_denied(op.coverages)
        if denied:
            raise AuthenticationRequired(f"coverage {denied[0]} is not readable anonymously: send credentials",
                                         locator=denied[0])

    return check
