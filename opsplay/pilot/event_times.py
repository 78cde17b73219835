"""Timestamps of execution logs, and whether a row finished within its time limit.

Timestamps are ISO 8601 (`T` or a space, with or without fractional seconds or a UTC
offset, mixed in one file); `2024/8/5 9:30`, as Excel re-saves them, and `2024年10月8日 09:05` or
`2024.10.8 9:05`, as Chinese WPS and ticket systems write them, are accepted too. When
only one of a row's two timestamps carries an offset, the other is taken to be in the same
zone. A calendar limit (`3个工作日`, `T+1`, `当天`) is judged on the clock of the start's zone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo

from opsplay.model.duration import Duration
from opsplay.model.hours import HoursLimit
from opsplay.workdays import WorkdayCalendar

_TIMESTAMP = re.compile(
    r"^(\d{4})(?:-|/|\.|年)(\d{1,2})(?:-|/|\.|月)(\d{1,2})日?"
    r"(?:(?:T|\s+|(?<=日))(\d{1,2})[:：](\d{2})(?:[:：](\d{2})(?:[.,](\d{1,9}))?)?)?"
    r"\s*(Z|[+-]\d{2}(?::?\d{2})?)?$"
)
_DAY_NS = 86400 * 10**9


class BadTimestamp(ValueError):
    """A cell that is not a timestamp; `problem` says which way."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem  # "format" | "date" | "time"


@dataclass(frozen=True)
class Span:
    """A row's start and finish: local nanoseconds since 0001-01-01 in the start's zone."""

    start_ns: int
    finish_ns: int

    @property
    def seconds(self) -> float:
        """How long the row took."""
        return (self.finish_ns - self.start_ns) / 1e9

    def within(
        self, limit: Duration | HoursLimit | float, calendar: WorkdayCalendar, realtime: float
    ) -> bool:
        """Whether it finished within `limit` (a duration exactly equal to it is within)."""
        if isinstance(limit, HoursLimit):
            if limit.limit.is_calendar:
                limit = limit.limit
            else:  # counted in business hours only
                due = limit.deadline(_as_datetime(self.start_ns), calendar.is_working_day, realtime)
                return self.finish_ns <= _as_ns(due)
        if isinstance(limit, Duration) and limit.is_calendar:
            due = limit.deadline(_as_datetime(self.start_ns), calendar)
            return self.finish_ns <= _as_ns(due)
        seconds = limit.resolve(realtime) if isinstance(limit, Duration) else limit
        return self.finish_ns - self.start_ns <= round(seconds * 1e9)


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


def span(started: tuple[int, int | None], finished: tuple[int, int | None]) -> Span:
    """Both stamps on the start's clock (an offset-less stamp takes the other's zone)."""
    (start_ns, start_offset), (finish_ns, finish_offset) = started, finished
    start_offset = finish_offset if start_offset is None else start_offset
    finish_offset = start_offset if finish_offset is None else finish_offset
    return Span(start_ns, finish_ns - (finish_offset or 0) + (start_offset or 0))


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
    if offset is not None:
        return moment.replace(tzinfo=timezone(timedelta(microseconds=offset // 1000)))
    return moment if zone is None else moment.replace(tzinfo=zone)


def on_clock(stamp: tuple[int, int | None], zone: tzinfo) -> tuple[int, None]:
    """A parsed stamp on `zone`'s clock: one with a UTC offset moved there, a naive one kept."""
    local_ns, offset = stamp
    if offset is None:
        return local_ns, None
    utc_ns = local_ns - offset
    return utc_ns + _zone_offset_ns(zone, utc_ns // 3_600_000_000_000), None


_OFFSETS: dict[tuple[tzinfo, int], int] = {}


def _zone_offset_ns(zone: tzinfo, utc_hour: int) -> int:
    """The zone's UTC offset during a UTC hour (zones change offset on the hour at most)."""
    key = (zone, utc_hour)
    found = _OFFSETS.get(key)
    if found is None:
        moment = _as_datetime(utc_hour * 3_600_000_000_000).replace(tzinfo=timezone.utc)
        offset = moment.astimezone(zone).utcoffset() or timedelta()
        found = _OFFSETS[key] = round(offset.total_seconds()) * 10**9
    return found


def as_datetime(ns: int) -> datetime:
    """Nanoseconds since 0001-01-01 as a naive datetime."""
    return _as_datetime(ns)


def as_ns(moment: datetime) -> int:
    """A naive datetime as nanoseconds since 0001-01-01."""
    return _as_ns(moment)


def _as_datetime(ns: int) -> datetime:
    days, rest = divmod(ns, _DAY_NS)
    return datetime.fromordinal(days) + timedelta(microseconds=rest // 1000)


def _as_ns(moment: datetime) -> int:
    seconds = (moment.hour * 60 + moment.minute) * 60 + moment.second
    return (moment.toordinal() * 86400 + seconds) * 10**9 + moment.microsecond * 1000
