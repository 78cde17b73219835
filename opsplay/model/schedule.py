"""Recurring nodes (`schedule`): the Chinese forms operations teams write, and 5-field cron.

Forms (SPEC 8): `每日 09:00` · `工作日 09:00` · `每周一` / `每周一 09:00` · `每月5日` ·
`每季度首月5日` · cron `0 */2 * * *` (every two hours). A form without a time of day falls
at 00:00 of its day, so the node's `sla` counts from the start of that day. `工作日` follows
mainland China's working days (holidays and make-up working days included); every other form
is taken literally (a daily inspection also runs on holidays; cron says what it says, and
OPS512 warns when a cron on Monday–Friday looks meant as `工作日`).
croniter is imported only when a cron schedule is met, so `opsplay validate` stays fast.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

from opsplay.i18n import _

Kind = Literal["daily", "workdays", "weekly", "monthly", "quarterly", "cron"]
EXAMPLES = [
    "工作日 09:00",
    "每日 08:30",
    "每周一 10:00",
    "每月5日",
    "每季度首月10日",
    "0 */2 * * *",
]
FORMS = '每日 09:00 · 工作日 09:00 · 每周一 10:00 · 每月5日 · 每季度首月10日 · cron "0 */2 * * *"'

_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_TIME = r"(?:\s*(\d{1,2}):(\d{2}))"
# compiled when first used, through `re`'s cache (most playbooks have no schedule)
_DAILY = rf"(?:每日|每天){_TIME}"
_WORKDAYS = rf"(?:每个工作日|每工作日|工作日){_TIME}"
_WEEKLY = rf"每(?:周|星期|礼拜)([一二三四五六日天]){_TIME}?"
_MONTHLY = rf"每月(\d{{1,2}})[日号]{_TIME}?"
_QUARTERLY = rf"每季度?首月(\d{{1,2}})[日号]{_TIME}?"
_CRON_FIELD = r"[0-9A-Za-z*/,\-?]+"
# Typed with a Chinese input method: full-width colon, digits and spaces.
_WIDE = str.maketrans("：０１２３４５６７８９\u3000", ":0123456789 ")


@dataclass(frozen=True)
class Schedule:
    """When a recurring node runs: the text as written and what it means."""

    text: str
    kind: Kind
    time: dt.time = dt.time(0, 0)
    weekday: int | None = None  # 0 = Monday (weekly)
    day: int | None = None  # day of the month (monthly, quarterly)

    def __str__(self) -> str:
        return self.text

    def occurrences(
        self, first: dt.date, last: dt.date, is_working_day: Callable[[dt.date], bool]
    ) -> Iterator[dt.datetime]:
        """Each time the node is due on the days `first`..`last` (both included), in order."""
        if self.kind == "cron":
            yield from _cron_occurrences(self.text, first, last)
            return
        day = first
        while day <= last:
            if self._falls_on(day, is_working_day):
                yield dt.datetime.combine(day, self.time)
            day += dt.timedelta(days=1)

    def _falls_on(self, day: dt.date, is_working_day: Callable[[dt.date], bool]) -> bool:
        if self.kind == "daily":
            return True
        if self.kind == "workdays":
            return is_working_day(day)
        if self.kind == "weekly":
            return day.weekday() == self.weekday
        if self.kind == "quarterly" and day.month % 3 != 1:
            return False
        return day.day == _clamped_day(self.day or 1, day)

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> Any:
        return core_schema.no_info_plain_validator_function(
            _validate_schedule,
            serialization=core_schema.plain_serializer_function_ser_schema(lambda s: s.text),
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: Any, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {
            "type": "string",
            "description": (
                "When a recurring node runs: 每日 HH:MM, 工作日 HH:MM (mainland China's working "
                "days), 每周一[ HH:MM], 每月N日, 每季度首月N日, or 5-field cron such as "
                '"0 */2 * * *". The node\'s sla counts from each occurrence.'
            ),
            "examples": EXAMPLES,
        }


def _clamped_day(wanted: int, day: dt.date) -> int:
    """`每月31日` in a 30-day month falls on its last day (month-end work is still due)."""
    following = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return min(wanted, (following - dt.timedelta(days=1)).day)


def parse_schedule(text: str) -> Schedule:
    """Parse a schedule; raise ValueError with a message listing the accepted forms."""
    written = text.strip()
    cleaned = re.sub(r"\s+", " ", written.translate(_WIDE)).strip()
    for pattern, kind in ((_DAILY, "daily"), (_WORKDAYS, "workdays")):
        match = re.fullmatch(pattern, cleaned)
        if match:
            return Schedule(written, kind, _time(match.group(1), match.group(2), written))
    match = re.fullmatch(_WEEKLY, cleaned)
    if match:
        at = _time(match.group(2), match.group(3), written)
        return Schedule(written, "weekly", at, weekday=_WEEKDAYS[match.group(1)])
    for pattern, kind in ((_MONTHLY, "monthly"), (_QUARTERLY, "quarterly")):
        match = re.fullmatch(pattern, cleaned)
        if match:
            day = int(match.group(1))
            if not 1 <= day <= 31:
                raise ValueError(
                    _("`{text}`: a month has days 1 to 31; write for example 每月5日").format(
                        text=written
                    )
                )
            at = _time(match.group(2), match.group(3), written)
            return Schedule(written, kind, at, day=day)  # type: ignore[arg-type]
    # `cron "0 */2 * * *"`, as the docs write it: the word and the quotes are not fields
    quoted = re.fullmatch(r"(?:cron\s*)?[\"'“”‘’](.+?)[\"'“”‘’]|cron\s+(.+)", cleaned, re.I)
    if quoted:
        cleaned = (quoted.group(1) or quoted.group(2)).strip()
    fields = cleaned.split(" ")
    looks_like_cron = len(fields) >= 3 or any(sign in cleaned for sign in "*/")
    if looks_like_cron and all(re.fullmatch(_CRON_FIELD, field) for field in fields):
        if len(fields) != 5:
            raise ValueError(
                _(
                    "`{text}` has {count} fields; a cron schedule has 5: minute hour day "
                    "month weekday (e.g. 0 */2 * * *)"
                ).format(text=written, count=len(fields))
            )
        from croniter import croniter

        if croniter.is_valid(cleaned):
            if _never_due(cleaned):
                raise ValueError(
                    _(
                        "`{text}` never falls due: none of its months has that day (such as "
                        "30 February or 31 April); write a day each chosen month has, e.g. "
                        "`0 9 28 2 *`, or 每月31日 (the last day of shorter months)"
                    ).format(text=written)
                )
            return Schedule(cleaned, "cron")
    raise ValueError(
        _("`{text}` is not a schedule opsplay understands; write one of: {forms}").format(
            text=written, forms=FORMS
        )
    )


def _time(hour: str | None, minute: str | None, written: str) -> dt.time:
    if hour is None or minute is None:
        return dt.time(0, 0)
    if int(hour) > 23 or int(minute) > 59:
        raise ValueError(
            _("`{text}`: the time of day must lie between 00:00 and 23:59").format(text=written)
        )
    return dt.time(int(hour), int(minute))


def _never_due(expression: str) -> bool:
    """Whether a valid cron expression names no date at all (`0 0 30 2 *`): croniter would
    raise CroniterBadDateError at its first occurrence. 29 February falls due in 2000."""
    from croniter import CroniterBadDateError, croniter

    try:
        croniter(expression, dt.datetime(2000, 1, 1)).get_next(dt.datetime)
    except CroniterBadDateError:
        return True
    return False


def _cron_occurrences(expression: str, first: dt.date, last: dt.date) -> Iterator[dt.datetime]:
    from croniter import CroniterBadDateError, croniter

    start = dt.datetime.combine(first, dt.time(0, 0)) - dt.timedelta(seconds=1)
    end = dt.datetime.combine(last, dt.time(23, 59, 59))
    moments = iter(croniter(expression, start, ret_type=dt.datetime))
    while True:
        try:
            moment = next(moments)
        except (CroniterBadDateError, StopIteration):  # no further date (past the year 9999)
            return
        if moment > end:
            return
        yield moment


def _validate_schedule(value: Any) -> Schedule:
    if isinstance(value, Schedule):
        return value
    if not isinstance(value, str):
        shown = getattr(value, "yaml_source", value)
        raise PydanticCustomError(
            "schedule",
            _("`{text}` is not a schedule opsplay understands; write one of: {forms}").format(
                text=str(shown), forms=FORMS
            ),
        )
    try:
        return parse_schedule(value)
    except ValueError as error:
        raise PydanticCustomError("schedule", str(error)) from None
