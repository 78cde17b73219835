"""Working days for calendar time limits (`3个工作日`, `T+1`, `次日`, `当天`, cut-offs).

The official calendar is mainland China's, holidays and make-up working days (调休)
included, from the maintained `chinese-calendar` package; `calendar = "weekdays"` in
`[tool.opsplay]` counts Monday–Friday instead. A date outside the package's years falls
back to Monday–Friday and is remembered, so the caller can warn once. The package is
imported the first time a day is looked up: parsing a limit (validate) never loads it.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any, Literal, Protocol


class CalendarLimit(Protocol):
    """What a deadline needs of a time limit (`opsplay.model.duration.Duration` is one): its
    calendar rule and how it was written. A protocol, so that the model's time builds on the
    working-day calendar and not the other way round."""

    @property
    def calendar(self) -> Any: ...

    @property
    def as_written(self) -> str: ...


CalendarName = Literal["official", "weekdays"]
CALENDARS: tuple[CalendarName, ...] = ("official", "weekdays")
# How `N个工作日` is read: due at 24:00 of the N-th working day (teams' "3个工作日内"), or at
# the start's clock time on it (`workday_limits = "clock"` in `[tool.opsplay]`).
WorkdayLimits = Literal["day_end", "clock"]
WORKDAY_LIMITS: tuple[WorkdayLimits, ...] = ("day_end", "clock")


class WorkdayCalendar:
    """Which days are working days; remembers the years it had to guess (Monday–Friday)."""

    def __init__(self, name: CalendarName = "official", limits: WorkdayLimits = "day_end") -> None:
        if name not in CALENDARS:
            raise ValueError(f"unknown calendar {name!r}")
        if limits not in WORKDAY_LIMITS:
            raise ValueError(f"unknown workday_limits {limits!r}")
        self.name = name
        self.limits = limits
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


def deadline(limit: CalendarLimit, start: datetime, calendar: WorkdayCalendar) -> datetime:
    """When a calendar limit started at `start` falls due (see `_due`); an InputError in words
    when that is after the year 9999 (a log line dated 9999-12-31 with `T+1`)."""
    try:
        return _due(limit, start, calendar)
    except OverflowError:
        from opsplay.errors import InputError
        from opsplay.i18n import _

        raise InputError(
            _(
                "a case started {start} with the time limit `{limit}` would be due after the "
                "year 9999; check the dates in the execution log"
            ).format(start=start.isoformat(sep=" ", timespec="minutes"), limit=limit.as_written)
        ) from None


def _due(limit: CalendarLimit, start: datetime, calendar: WorkdayCalendar) -> datetime:
    """When a calendar limit started at `start` falls due (SPEC 6 and 12).

    - N working days and T+N (次日 = T+1, 下一个工作日): 24:00 of the N-th working day after
      the start day; with `workday_limits = "clock"`, N working days are due at the start's
      clock time on that day instead (a start on a non-working day then counts from 00:00
      of the next working day);
    - 当天 / 当日: 24:00 of the start day;
    - a cut-off (`次日12点前`, `当天18点前`, `T+1 12:00`) is due at its time of day on that
      day instead of 24:00; a case started after the day's cut-off has passed (当天18点前
      started at 19:00) is due at the cut-off of the next working day, as a bank's cut-off
      time moves a late transfer to the next working day;
    - 第二天 / 明天 (N calendar days): 24:00, or the cut-off, of the N-th day after the start
      day, weekends and holidays counted.
    """
    rule = limit.calendar
    if rule is None:
        raise ValueError(f"`{limit.as_written}` is not a calendar limit")
    day = start.date()
    if rule.kind == "working_days" and calendar.limits == "clock" and rule.cutoff is None:
        if not calendar.is_working_day(day):
            first = calendar.working_day_after(day, 1)
            return datetime.combine(
                calendar.working_day_after(first, rule.days), time(), start.tzinfo
            )
        due = calendar.working_day_after(day, rule.days)
        return datetime.combine(due, start.timetz())
    if rule.kind == "same_day":
        due = day
    elif rule.kind == "calendar_days":  # 第二天, 明天: every day counts
        due = day + timedelta(days=rule.days)
    else:
        due = calendar.working_day_after(day, rule.days)
    if rule.cutoff is None:
        return datetime.combine(due + timedelta(days=1), time(), start.tzinfo)
    at = datetime.combine(due, time(), start.tzinfo) + timedelta(minutes=rule.cutoff)
    if at < start:  # started after the cut-off: the next working day's
        at = datetime.combine(calendar.working_day_after(due, 1), time(), start.tzinfo) + timedelta(
            minutes=rule.cutoff
        )
    return at
