"""Dates in ingredients: ISO 8601, numbers (seconds since 1970) and arrow-style formats
(``YYYY MM DD HH mm ss`` ..., ``[...]`` for literal text), as wcst_import reads them."""

from __future__ import annotations

import calendar
import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from functools import lru_cache
from typing import Any

import numpy as np

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class DateError(ValueError):
    """A date text that does not match its format."""


def _tname(v: Any) -> str:
    return type(v).__name__


def _plain(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    return v


def _short(v: Any) -> str:
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."


_FMT_TOKEN = re.compile(
    r"\[[^\]]*\]|YYYY|YY|MMMM|MMM|MM|M|DDDD|DDD|Do|DD|D|dddd|ddd|d|HH|H|hh|h|mm|m|ss|s|S+|X|ZZZ|ZZ|Z|A|a"
)
_MONTHS = [m.lower() for m in calendar.month_name]
_MONTHS_ABBR = [m.lower() for m in calendar.month_abbr]
_TOKEN_RE = {
    "YYYY": r"\d{4}", "YY": r"\d{2}", "MMMM": r"[A-Za-z]+", "MMM": r"[A-Za-z]{3}", "MM": r"\d{2}",
    "M": r"\d{1,2}", "DDDD": r"\d{3}", "DDD": r"\d{1,3}", "Do": r"\d{1,2}(?:st|nd|rd|th)", "DD": r"\d{2}",
    "D": r"\d{1,2}", "dddd": r"[A-Za-z]+", "ddd": r"[A-Za-z]{3}", "d": r"[1-7]", "HH": r"\d{2}",
    "H": r"\d{1,2}", "hh": r"\d{2}", "h": r"\d{1,2}", "mm": r"\d{2}", "m": r"\d{1,2}", "ss": r"\d{2}",
    "s": r"\d{1,2}", "X": r"-?\d+(?:\.\d+)?", "ZZZ": r"[A-Za-z_/+-]+", "ZZ": r"Z|[+-]\d{2}:?\d{2}",
    "Z": r"Z|[+-]\d{2}:?\d{2}", "A": r"AM|PM|am|pm", "a": r"AM|PM|am|pm",
}


@lru_cache(maxsize=64)
def _compile_format(fmt: str) -> tuple[re.Pattern, tuple[str, ...]]:
    parts, kinds, pos = [], [], 0
    for m in _FMT_TOKEN.finditer(fmt):
        parts.append(re.escape(fmt[pos : m.start()]))
        tok = m.group(0)
        if tok.startswith("["):
            parts.append(re.escape(tok[1:-1]))
        else:
            kind = "S" if tok.startswith("S") else tok
            body = r"\d+" if kind == "S" else _TOKEN_RE[kind]
            parts.append(f"(?P<g{len(kinds)}>{body})")
            kinds.append(kind)
        pos = m.end()
    parts.append(re.escape(fmt[pos:]))
    return re.compile("".join(parts)), tuple(kinds)


def to_datetime(value: Any, fmt: str | None) -> datetime:
    """A timezone-aware datetime from a number, ISO text, or text in ``fmt``."""
    return _datetime(value, fmt)


def _datetime(value: Any, fmt: str | None) -> datetime:
    value = _plain(value)
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        try:
            return _EPOCH + timedelta(seconds=float(value))
        except (OverflowError, ValueError):
            raise DateError(f"datetime({value!r}): {value} seconds since 1970 is out of range") from None
    if not isinstance(value, str):
        raise DateError(f"datetime() needs a text or a number of seconds, got {_tname(value)} {_short(value)}")
    if fmt is None:
        return _iso(value)
    if not isinstance(fmt, str):
        raise DateError(f"datetime(): the format must be a text, got {_tname(fmt)}")
    pattern, kinds = _compile_format(fmt)
    m = pattern.search(value)
    if m is None:
        raise DateError(f"datetime: {value!r} does not match the date format {fmt!r}")
    f = {"year": 1970, "month": 1, "day": 1, "hour": 0, "minute": 0, "second": 0, "us": 0}
    tz, ampm, doy = timezone.utc, None, None
    for i, kind in enumerate(kinds):
        s = m.group(f"g{i}")
        if kind == "YYYY":
            f["year"] = int(s)
        elif kind == "YY":
            f["year"] = 1900 + int(s) if int(s) > 68 else 2000 + int(s)
        elif kind in ("MM", "M"):
            f["month"] = int(s)
        elif kind in ("MMMM", "MMM"):
            names = _MONTHS if kind == "MMMM" else _MONTHS_ABBR
            if s.lower() not in names:
                raise DateError(f"datetime: {s!r} in {value!r} is not a month name (format {fmt!r})")
            f["month"] = names.index(s.lower())
        elif kind in ("DD", "D", "Do"):
            f["day"] = int(re.match(r"\d+", s).group(0))
        elif kind in ("DDDD", "DDD"):
            doy = int(s)
        elif kind in ("HH", "H", "hh", "h"):
            f["hour"] = int(s)
        elif kind in ("mm", "m"):
            f["minute"] = int(s)
        elif kind in ("ss", "s"):
            f["second"] = int(s)
        elif kind == "S":
            f["us"] = int((s + "000000")[:6])
        elif kind == "X":
            return _EPOCH + timedelta(seconds=float(s))
        elif kind in ("ZZ", "Z"):
            tz = _offset(s)
        elif kind == "ZZZ":
            tz = _zone(s, value, fmt)
        elif kind in ("A", "a"):
            ampm = s.lower()
    if ampm == "pm" and f["hour"] < 12:
        f["hour"] += 12
    elif ampm == "am" and f["hour"] == 12:
        f["hour"] = 0
    try:
        if doy is not None:
            out = datetime(f["year"], 1, 1, f["hour"], f["minute"], f["second"], f["us"], tzinfo=tz)
            return out + timedelta(days=doy - 1)
        return datetime(f["year"], f["month"], f["day"], f["hour"], f["minute"], f["second"], f["us"], tzinfo=tz)
    except ValueError as exc:
        raise DateError(f"datetime: {value!r} read with format {fmt!r} is not a valid date ({exc})") from None


def _offset(s: str) -> timezone:
    if s == "Z":
        return timezone.utc
    sign = -1 if s[0] == "-" else 1
    digits = s[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def _zone(name: str, value: str, fmt: str):
    if name.upper() in ("UTC", "GMT", "Z"):
        return timezone.utc
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo(name)
    except Exception:  # noqa: BLE001 - any lookup failure means an unknown zone
        raise DateError(f"datetime: unknown time zone {name!r} in {value!r} (format {fmt!r})") from None


def _iso(text: str) -> datetime:
    s = text.strip()
    try:
        dt = datetime.fromisoformat(s[:-1] + "+00:00" if s.endswith("Z") else s)
    except ValueError:
        try:
            from dateutil import parser as du

            dt = du.isoparse(s)
        except (ValueError, OverflowError):
            raise DateError(
                f"datetime: {text!r} is not an ISO 8601 date; give its format, e.g. datetime('{text}', 'YYYYMMDD')"
            ) from None
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)

