"""Timestamps as teams write them, read in Python for `--as-of` (the log's own cells are
read by the node-log query, opsplay.nodes.query, in the same forms).

Timestamps are ISO 8601 (`T` or a space, with or without fractional seconds or a UTC
offset); `2024/8/5 9:30`, as Excel re-saves them, and `2024年10月8日 09:05` or
`2024.10.8 9:05`, as Chinese WPS and ticket systems write them, are accepted too.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone, tzinfo

_TIMESTAMP = re.compile(
    r"^(\d{4})(?:-|/|\.|年)(\d{1,2})(?:-|/|\.|月)(\d{1,2})日?"
    r"(?:(?:T|\s+|(?<=日))(\d{1,2})[:：](\d{2})(?:[:：](\d{2})(?:[.,](\d{1,9}))?)?)?"
    r"\s*(Z|[+-]\d{2}(?::?\d{2})?)?$"
)
_DAY_NS = 86400 * 10**9
# The years a log time may have: times and deadlines are counted in nanoseconds since 1970,
# which 64 bits hold from 1677-09-21 to 2262-04-11; a year 9999 is a placeholder for "not
# yet", not a time.
FIRST_YEAR, LAST_YEAR = 1678, 2261


class BadTimestamp(ValueError):
    """A cell that is not a timestamp; `problem` says which way."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem  # "format" | "date" | "time"


def parse_timestamp(text: str) -> tuple[int, int | None] | None:
    """(ns since 0001-01-01 in the stated zone, UTC offset in ns or None); None when blank."""
    if not text:
        return None
    match = _TIMESTAMP.match(text)
    if match is None:
        raise BadTimestamp("format")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        days = date(int(year), int(month), int(day)).toordinal()
    except ValueError:
        raise BadTimestamp("date") from None
    hour_i, minute_i, second_i = int(hour or 0), int(minute or 0), int(second or 0)
    if hour_i > 23 or minute_i > 59 or second_i > 59:
        raise BadTimestamp("time")
    nanos = int((fraction or "").ljust(9, "0"))
    total = ((days * 24 + hour_i) * 60 + minute_i) * 60 + second_i
    offset = None
    if zone:
        if zone == "Z":
            offset = 0
        else:
            digits = zone[1:].replace(":", "")
            minutes = int(digits[:2]) * 60 + int(digits[2:4] or 0)
            offset = (-1 if zone[0] == "-" else 1) * minutes * 60 * 10**9
    return total * 10**9 + nanos, offset


def parse_moment(text: str, zone: tzinfo | None) -> datetime:
    """`--as-of`: a timestamp as logs write it; naive ones read in `zone` (ValueError if
    unreadable)."""
    try:
        parsed = parse_timestamp(text.strip())
    except BadTimestamp:
        parsed = None
    if parsed is None:
        raise ValueError(text)
    local_ns, offset = parsed
    moment = _as_datetime(local_ns)
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise ValueError(text)
    if offset is not None:
        return moment.replace(tzinfo=timezone(timedelta(microseconds=offset // 1000)))
    return moment if zone is None else moment.replace(tzinfo=zone)


def as_datetime(ns: int) -> datetime:
    """Nanoseconds since 0001-01-01 as a naive datetime."""
    return _as_datetime(ns)


def _as_datetime(ns: int) -> datetime:
    days, rest = divmod(ns, _DAY_NS)
    return datetime.fromordinal(days) + timedelta(microseconds=rest // 1000)
