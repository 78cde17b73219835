"""Working days for calendar time limits (`3个工作日`, `T+1`, `次日`, `当天`).

The official calendar is mainland China's, holidays and make-up working days (调休)
included, from the maintained `chinese-calendar` package; `calendar = "weekdays"` in
`[tool.opsplay]` counts Monday–Friday instead. A date outside the package's years falls
back to Monday–Friday and is remembered, so the caller can warn once. The package is
imported the first time a day is looked up: parsing a limit (validate) never loads it.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from opsplay.model.duration import Duration

CalendarName = Literal["official", "weekdays"]
CALENDARS: tuple[CalendarName, ...] = ("official", "weekdays")


class WorkdayCalendar:
    """Which days are working days; remembers the years it had to guess (Monday–Friday)."""

    def __init__(self, name: CalendarName = "official") -> None:
        if name not in CALENDARS:
            raise ValueError(f"unknown calendar {name!r}")
        self.name = name
        self.outside_years: set[int] = set()  # dates the official calendar does not cover
        self._known: dict[date, bool] = {}

    def is_working_day(self, day: date) -> bool:
        """Whether `day` is a working day in this calendar."""
        known = self._known.get(day)
        if known is None:
            known = self._known[day] = self._look_up(day)
        return known

    def _look_up(self, day: date) -> bool:
        if self.name == "official":
            import chinese_calendar

            try:
                return bool(chinese_calendar.is_workday(day))
            except NotImplementedError:  # a year the package has no official calendar for
                self.outside_years.add(day.year)
        return day.weekday() < 5

    def working_day_after(self, day: date, count: int) -> date:
        """The `count`-th working day strictly after `day` (`day` itself when count is 0)."""
        found = day
        while count > 0:
            found += timedelta(days=1)
            if self.is_working_day(found):
                count -= 1
        return found


def deadline(limit: Duration, start: datetime, calendar: WorkdayCalendar) -> datetime:
    """When a calendar limit started at `start` falls due (SPEC 6).

    - N working days: the same clock time on the N-th working day after the start day; a
      start on a non-working day counts from 00:00 of the next working day;
    - T+N (次日 = T+1): 24:00 of the N-th working day after the start day;
    - 当天 / 当日: 24:00 of the start day.
    """
    rule = limit.calendar
    if rule is None:
        raise ValueError(f"`{limit.as_written}` is not a calendar limit")
    day = start.date()
    if rule.kind == "working_days":
        if not calendar.is_working_day(day):
            first = calendar.working_day_after(day, 1)
            return datetime.combine(
                calendar.working_day_after(first, rule.days), time(), start.tzinfo
            )
        due = calendar.working_day_after(day, rule.days)
        return datetime.combine(due, start.timetz())
    if rule.kind == "t_plus":
        due = calendar.working_day_after(day, rule.days)
        return datetime.combine(due + timedelta(days=1), time(), start.tzinfo)
    return datetime.combine(day + timedelta(days=1), time(), start.tzinfo)  # same_day
