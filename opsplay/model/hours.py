"""Business-hour calendars (SPEC 12): `calendars: [{id: 客服班次, hours: "09:00-21:00",
days: 工作日}]`, and a node's `calendar: 客服班次`, whose duration limits then count only
those hours, as service desks keep SLA calendars.

Hours: one or more ranges in a day, `09:00-21:00`, `9:00–21:00`, `09:00~12:00,13:30-18:00`,
`9点-21点`; a range ends after it starts (an overnight shift is two ranges, `22:00-24:00,
00:00-06:00`). Days: `工作日` / `workdays` (the working-day calendar, 调休 included),
`每天` / `每日` / `daily`, `周一至周五` / `weekdays` (Monday–Friday, holidays or not).
Floor: model (standard library and opsplay.i18n only).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from opsplay.i18n import _

DAYS = {
    "workdays": ("workdays", "working days", "工作日", "每个工作日"),
    "daily": ("daily", "every day", "每天", "每日", "全天"),
    "weekdays": ("weekdays", "monday-friday", "周一至周五", "周一到周五"),
}
_DAY_OF = {word: key for key, words in DAYS.items() for word in words}
_CLOCK = r"(\d{1,2})(?:[:：](\d{2})|点(?:(\d{1,2})分?|半)?)?"
_RANGE = re.compile(rf"{_CLOCK}\s*(?:-|–|—|~|～|至|到)\s*{_CLOCK}")
_MAX_DAYS = 3660  # as for limits: a longer walk is a typo


@dataclass(frozen=True)
class Hours:
    """Daily opening ranges in minutes after midnight, as written."""

    as_written: str
    ranges: tuple[tuple[int, int], ...]

    def __str__(self) -> str:
        return self.as_written


def parse_hours(text: str) -> Hours:
    """`09:00-21:00` (several joined by `,` `，` `、` `;`) as Hours; ValueError in words."""
    written = str(text).strip()
    normal = unicodedata.normalize("NFKC", written)
    parts = [p.strip() for p in re.split(r"[,，、;；]", normal) if p.strip()]
    ranges = []
    for part in parts:
        match = _RANGE.fullmatch(part)
        start = end = None
        if match:
            start = _minutes(*match.groups()[:3], half="半" in part.split("-")[0])
            end = _minutes(*match.groups()[3:], half=part.rstrip().endswith("半"))
        if start is None or end is None or end <= start:
            raise ValueError(
                _(
                    "`{text}` is not business hours; write ranges such as 09:00-21:00 or "
                    "09:00-12:00,13:30-18:00 (an overnight shift as 22:00-24:00,00:00-06:00)"
                ).format(text=written)
            )
        ranges.append((start, end))
    if not ranges:
        raise ValueError(_("the business hours are empty; write for example 09:00-21:00"))
    return Hours(written, tuple(sorted(ranges)))


def _minutes(hour: str, colon: str | None, minute: str | None, half: bool = False) -> int | None:
    value = int(hour) * 60 + int(colon or minute or 0) + (30 if half and not minute else 0)
    if int(colon or minute or 0) > 59 or value > 1440:
        return None
    return value


def parse_days(text: str) -> str:
    """`工作日` → workdays, `每天` → daily, `周一至周五` → weekdays; ValueError otherwise."""
    key = _DAY_OF.get(unicodedata.normalize("NFKC", str(text)).strip().lower())
    if key is None:
        raise ValueError(
            _(
                "`{text}` is not a set of days; write 工作日 (workdays), 每天 (daily) or "
                "周一至周五 (weekdays)"
            ).format(text=text)
        )
    return key


@dataclass(frozen=True)
class BusinessHours:
    """When a node's duration limit runs: these hours on these days."""

    id: str
    hours: Hours
    days: str  # workdays | daily | weekdays

    def counts(self, day: date, is_working_day: Callable[[date], bool]) -> bool:
        """Whether the hours apply on `day`."""
        if self.days == "daily":
            return True
        if self.days == "weekdays":
            return day.weekday() < 5
        return is_working_day(day)

    def deadline(
        self, start: datetime, seconds: float, is_working_day: Callable[[date], bool]
    ) -> datetime:
        """`start` plus `seconds` of business time (a start outside the hours waits for the
        next opening)."""
        remaining = timedelta(seconds=seconds)
        day = start.date()
        for _step in range(_MAX_DAYS):
            if self.counts(day, is_working_day):
                midnight = datetime.combine(day, time(), start.tzinfo)
                for opens, closes in self.hours.ranges:
                    begin = max(start, midnight + timedelta(minutes=opens))
                    end = midnight + timedelta(minutes=closes)
                    if begin >= end:
                        continue
                    if remaining <= end - begin:
                        return begin + remaining
                    remaining -= end - begin
            day += timedelta(days=1)
        return datetime.max.replace(tzinfo=start.tzinfo)


@dataclass(frozen=True)
class HoursLimit:
    """A node's duration limit counted in its business hours (`calendar: 客服班次`)."""

    limit: Any  # opsplay.model.duration.Duration
    hours: BusinessHours

    @property
    def as_written(self) -> str:
        """The limit as the playbook writes it."""
        return str(self.limit.as_written)

    def deadline(
        self, start: datetime, is_working_day: Callable[[date], bool], realtime: float
    ) -> datetime:
        """When a case started at `start` falls due: its limit in business time (a calendar
        limit such as 3个工作日 keeps its own deadline, computed by the caller)."""
        return self.hours.deadline(start, self.limit.resolve(realtime), is_working_day)


def in_hours(limit: Any, hours: BusinessHours | None) -> Any:
    """`limit` counted in business hours `hours` (None, or no limit: the limit itself)."""
    if limit is None or hours is None:
        return limit
    return HoursLimit(limit, hours)


def written_in_hours(sla: Any, hours: BusinessHours | None) -> Any:
    """A node's `sla` as written (one limit, or per level), each limit counted in business
    hours `hours` when the node has a `calendar`."""
    if sla is None or hours is None or getattr(sla, "root", None) is None:
        return in_hours(sla, hours)
    from opsplay.model.process import LevelLimits

    return LevelLimits({level: in_hours(limit, hours) for level, limit in sla.root.items()})
