"""The address clients use to reach the server, when it runs behind a reverse proxy.

Capabilities documents, DescribeCoverage links and CRS resolver URLs must name the public
address (``https://maps.example.org/datacube/rasdaman/ows``), not the loopback port the
proxy forwards to. Two ways, in this order:

1. the ``public_url`` setting (``https://maps.example.org/datacube``) — always wins;
2. the proxy's headers — RFC 7239 ``Forwarded: proto=https;host=maps.example.org`` or the
   de-facto ``X-Forwarded-Proto``/``X-Forwarded-Host``/``X-Forwarded-Port``/
   ``X-Forwarded-Prefix`` — honoured only when the TCP peer is one of ``trusted_proxies``
   (a client talking to the server directly cannot make it advertise another host).

``X-Forwarded-For`` likewise names the real client for the access log and the per-client
query slots.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence

from starlette.requests import Request

_TOKEN = re.compile(r'\s*([A-Za-z]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;,\s]*)\s*')
_HOST = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.\-]+)(:\d{1,5})?$")
_PREFIX = re.compile(r"^(/[A-Za-z0-9._~!$&'()*+,;=:@%\-]*)*$")


def is_trusted(peer: str | None, trusted: Sequence[str]) -> bool:
    """Whether the TCP peer ``peer`` is one of the ``trusted`` addresses or networks."""
    if not peer or not trusted:
        return False
    try:
        addr = ipaddress.ip_address(peer)
    except ValueError:
        return False
    for item in trusted:
        try:
            if addr in ipaddress.ip_network(item.strip(), strict=False):
                return True
        except ValueError:
            continue
    return False


def _first_forwarded(header: str) -> dict[str, str]:
    """The first element of an RFC 7239 ``Forwarded`` header (the one the client-side proxy added)."""
    element = header.split(",", 1)[0]
    pairs: dict[str, str] = {}
    for part in element.split(";"):
        m = _TOKEN.fullmatch(part)
        if m:
            value = m.group(2)
            if value.startswith('"'):
                value = re.sub(r"\\(.)", r"\1", value[1:-1])
            pairs[m.group(1).lower()] = value
    return pairs


def _first(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.split(",", 1)[0].strip()
    return value or None


def public_base(request: Request, public_url: str | None, trusted: Sequence[str]) -> str:
    """``scheme://host[:port][/prefix]`` as clients see this server (no trailing slash)."""
    if public_url:
        return public_url.rstrip("/")
    scheme, netloc, prefix = request.url.scheme, request.url.netloc, ""
    peer = request.client.host if request.client else None
    if is_trusted(peer, trusted):
        headers = request.headers
        fwd = _first_forwarded(headers["forwarded"]) if "forwarded" in headers else {}
        proto = fwd.get("proto") or _first(headers.get("x-forwarded-proto"))
        host = fwd.get("host") or _first(headers.get("x-forwarded-host"))
        port = _first(headers.get("x-forwarded-port"))
        forwarded_prefix = _first(headers.get("x-forwarded-prefix"))
        if proto and proto.lower() in ("http", "https"):
            scheme = proto.lower()
        if host and _HOST.match(host):
            netloc = host
            if port and port.isdigit() and ":" not in host.rsplit("]", 1)[-1]:
                default = "443" if scheme == "https" else "80"
                netloc = host if port == default else f"{host}:{port}"
        if forwarded_prefix and _PREFIX.match(forwarded_prefix):
            prefix = forwarded_prefix.rstrip("/")
    return f"{scheme}://{netloc}{prefix}"


def client_address(request: Request, trusted: Sequence[str]) -> str:
    """The real client's address: the left-most ``X-Forwarded-For`` (or ``Forwarded: for=``) entry
    when the peer is a trusted proxy, else the peer."""
    peer = request.client.host if request.client else "-"
    if not is_trusted(peer, trusted):
        return peer
    fwd = _first_forwarded(request.headers["forwarded"]) if "forwarded" in request.headers else {}
    named = fwd.get("for") or _first(request.headers.get("x-forwarded-for"))
    if not named:
        return peer
    named = named.strip('"')
    if named.startswith("["):
        named = named[1:].split("]", 1)[0]
    elif named.count(":") == 1:
        named = named.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(named))
    except ValueError:
        return peer
