"""Time limits (`sla`, escalation `after`) in the forms operations people write them.

Lengths: `30s`, `2m`, `1h30m`, `1w`, `PT2M`, `30 min`, `2 hours`, `30秒`, `半小时`, `两小时`,
`二十分钟`, `一天`, `1周`, `2分钟内`; `realtime` / `实时` / `立即` (the configured realtime
limit); and calendar limits, due at a time of day rather than after a length:
`N个工作日` / `N working days`, `T+N`, `次日` (= T+1), `当天` / `当日` (see opsplay.workdays
for their deadlines). The text is kept exactly as written (`Duration.as_written`): documents
show a limit the way the user wrote it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

from opsplay.i18n import N_, _

if TYPE_CHECKING:
    from datetime import datetime

    from opsplay.workdays import WorkdayCalendar

ACCEPTED_FORMS = N_(
    "30s, 2m, 24h, 3d, 1w, 1h30m, 30 min, 2 hours, 1 day; ISO 8601 such as PT2M; "
    "30秒, 2分钟, 半小时, 两小时, 二十分钟, 3天, 1周, 2分钟内; realtime, 实时 or 立即; "
    "calendar limits 3个工作日, 3 working days, T+1, 次日, 当天; cut-offs 次日12点前, "
    "当天18点前, T+1 12:00, 下一个工作日10点前, by 12:00 next day; the next calendar day "
    "第二天12点前, 明天18点前"
)

_DAY = 86400.0
_MAX_DAYS = 3660  # ten years: longer limits are typos, and walking working days would not end
_NUMBER = r"(\d+(?:\.\d+)?)"
_COMPACT = re.compile(
    rf"(?:{_NUMBER}w)?(?:{_NUMBER}d)?(?:{_NUMBER}h)?(?:{_NUMBER}m)?(?:{_NUMBER}s)?"
)
_ISO = re.compile(
    rf"P(?:{_NUMBER}W)?(?:{_NUMBER}D)?(?:T(?:{_NUMBER}H)?(?:{_NUMBER}M)?(?:{_NUMBER}S)?)?"
)
# weeks, days, hours, minutes, seconds: the groups of both patterns
_UNIT_SECONDS = (7 * _DAY, _DAY, 3600, 60, 1)
_CHINESE_UNITS = {
    "个自然日": _DAY,  # 3个自然日: calendar days, said to set them apart from working days
    "自然日": _DAY,
    "周": 7 * _DAY,
    "个星期": 7 * _DAY,
    "星期": 7 * _DAY,
    "天": _DAY,
    "日": _DAY,
    "个小时": 3600,
    "小时": 3600,
    "个钟头": 3600,
    "钟头": 3600,
    "时": 3600,
    "分钟": 60,
    "分": 60,
    "秒钟": 1,
    "秒": 1,
}
_CHINESE_PART = re.compile(_NUMBER + "(" + "|".join(_CHINESE_UNITS) + ")")
_ENGLISH_UNITS = {
    "w": 7 * _DAY,
    "d": _DAY,
    "h": 3600,
    "m": 60,
    "s": 1,
}
_ENGLISH_PART = re.compile(
    _NUMBER + r"(weeks?|wks?|days?|hours?|hrs?|minutes?|mins?|seconds?|secs?)(?:and)?"
)
_REALTIME_WORDS = {"realtime", "real-time", "实时", "立即"}
_CHINESE_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CHINESE_MULTIPLIERS = {"十": 10, "百": 100, "千": 1000}
_CHINESE_NUMERAL = re.compile("[零〇一二两三四五六七八九十百千]+")
# A well-formed number below 10000: 十五, 二十, 一百零五, 两千零一十; not 十十十 or 一一一.
_D = "[一二两三四五六七八九]"
_WELL_FORMED = re.compile(
    f"[零〇]|(?:{_D}千(?:[零〇](?={_D}))?)?(?:{_D}百(?:[零〇](?={_D}))?)?(?:{_D}?十)?{_D}?"
)
_WITHIN = ("以内", "之内", "内")
_WORKING_DAYS = re.compile(r"(\d+)(?:个工作日|工作日|(?:working|business)days?)")
_T_PLUS = re.compile(r"t\+(\d+)(?:天|日|day|days)?")
_SAME_DAY = {"当天", "当日", "同日", "sameday", "thesameday"}
_NEXT_DAY = {
    "次日",
    "隔日",
    "隔天",
    "nextday",
    "thenextday",
    "下1个工作日",  # 下一个工作日 once its numeral is read
    "下个工作日",
    "下1工作日",
    "nextworkingday",
    "thenextworkingday",
    "nextbusinessday",
    "thenextbusinessday",
}
# A cut-off: a time of day (12点, 12:00, 12点30分, 12点半, 18时; 12:00 in English) before
# which the day's limit falls due, written after the day (次日12点前, T+1 12:00) or, in
# English, before it (by 12:00 next day).
_CLOCK = r"(\d{1,2})(?:[:：](\d{2})|[点时](?:(\d{1,2})分?|(0\.5))?)"
_BEFORE = r"(?:之前|以前|前)?"
_CUTOFF_AFTER = re.compile(rf"(.+?)\s*(?:的)?\s*(?:by|at|before)?\s*{_CLOCK}\s*{_BEFORE}")
_CUTOFF_BEFORE = re.compile(rf"(?:by|at|before)\s*{_CLOCK}\s*(?:on\s*)?(?:the\s*)?(.+)")

# The next calendar day (第二天, 明天), counted over weekends and holidays, unlike 次日 (the
# next working day, SPEC 6), and the day after it: for teams that work every day.
_CALENDAR_DAYS = {
    "第2天": 1,  # 第二天 once its numeral is read
    "第2日": 1,
    "明天": 1,
    "明日": 1,
    "翌日": 1,
    "tomorrow": 1,
    "后天": 2,
    "第3天": 2,
}

CalendarKind = Literal["working_days", "t_plus", "same_day", "calendar_days"]


@dataclass(frozen=True)
class CalendarRule:
    """A limit due at a time of day: N working days, T+N (次日 = T+1), the same day, or N
    calendar days (第二天, 明天: weekends and holidays counted); `cutoff` (minutes after
    midnight) for a cut-off such as `次日12点前`, else 24:00."""

    kind: CalendarKind
    days: int  # N; 0 for the same day
    cutoff: int | None = None  # minutes after 00:00 of the due day; None: 24:00


@dataclass(frozen=True)
class Duration:
    """A time limit: the text exactly as the user wrote it, and how long it lasts.

    `seconds` is None for realtime (resolved from configuration). For a calendar limit
    (`calendar` set) the deadline depends on the start and the working-day calendar
    (`deadline()`); `seconds` is then only a nominal length for ordering limits (N working
    days: 1.4·N days, so `3个工作日` is longer than `3天`; T+N: 1.4·N + ½ days; 当天: ½ day).
    """

    as_written: str
    seconds: float | None
    calendar: CalendarRule | None = None

    @property
    def text(self) -> str:
        """The limit as written (older name of `as_written`)."""
        return self.as_written

    @property
    def realtime(self) -> bool:
        """True for `realtime` / `实时` / `立即`, whose limit comes from configuration."""
        return self.seconds is None

    @property
    def is_calendar(self) -> bool:
        """True for limits due at a time of day on a working day (`3个工作日`, `T+1`, `当天`)."""
        return self.calendar is not None

    def resolve(self, realtime_seconds: float = 1.0) -> float:
        """Length in seconds, with realtime meaning `realtime_seconds` (nominal for calendar limits)."""
        return realtime_seconds if self.seconds is None else self.seconds

    def deadline(self, start: datetime, calendar: WorkdayCalendar) -> datetime:
        """When this calendar limit, started at `start`, falls due."""
        from opsplay.workdays import deadline

        return deadline(self, start, calendar)

    def __str__(self) -> str:
        return self.as_written

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> Any:
        return core_schema.no_info_plain_validator_function(
            _validate_duration,
            serialization=core_schema.plain_serializer_function_ser_schema(lambda d: d.as_written),
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: Any, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {
            "type": "string",
            "description": f"A time limit. Accepted forms: {ACCEPTED_FORMS}.",
            "examples": [
                "2m",
                "24h",
                "1h30m",
                "PT2M",
                "2分钟内",
                "半小时",
                "3个工作日",
                "T+1",
                "实时",
            ],
        }


def parse_duration(text: str) -> Duration:
    """Parse a time limit; raise ValueError quoting the accepted forms."""
    written = text.strip()
    # Full-width digits, letters and ＋ as an IME types them read as their ASCII forms.
    lowered = unicodedata.normalize("NFKC", written).lower().replace(" ", "")
    if not lowered:
        raise ValueError(
            _("the time limit is empty; write one of: {forms}").format(forms=_(ACCEPTED_FORMS))
        )
    if lowered in _REALTIME_WORDS:
        return Duration(written, None)
    stripped = _strip_within(lowered)  # `24h内` as much as `48小时内`
    for numeral in _CHINESE_NUMERAL.findall(stripped):
        if not _WELL_FORMED.fullmatch(numeral):
            raise ValueError(
                _("`{text}`: `{numeral}` is not a Chinese number; write it as 十五 or 15").format(
                    text=text, numeral=numeral
                )
            )
    chinese = _arabic(stripped)
    # Cut-offs are read with their spaces: `T+10 9:00` is T+10 at 09:00, not T+1 at 09:00.
    spaced = _arabic(
        _strip_within(" ".join(unicodedata.normalize("NFKC", written).lower().split()))
    )
    rule = _calendar_rule(chinese, spaced)
    if rule is not None:
        if rule.kind == "working_days" and rule.days == 0:
            raise ValueError(
                _("`{text}` is zero; a time limit must be longer than that (e.g. 30s, 2m)").format(
                    text=text
                )
            )
        # A working day lasts 7/5 calendar days on average; a limit ending at midnight ends
        # half a day after an average start, a cut-off earlier in proportion (次日12点前 is
        # shorter than 次日). Only for ordering limits (diff), never deadlines.
        end = 1440 if rule.cutoff is None else rule.cutoff
        extra = 0.5 * end / 1440
        per_day = 1.0 if rule.kind == "calendar_days" else 1.4
        if rule.days * per_day > _MAX_DAYS:
            raise ValueError(_too_long(text))
        return Duration(written, (rule.days * per_day + extra) * _DAY, rule)
    seconds = _parse_seconds(stripped, chinese)
    if seconds == 0:
        raise ValueError(
            _("`{text}` is zero; a time limit must be longer than that (e.g. 30s, 2m)").format(
                text=text
            )
        )
    if seconds is None:
        raise ValueError(
            _("`{text}` is not a time limit opsplay understands; write one of: {forms}").format(
                text=text, forms=_(ACCEPTED_FORMS)
            )
        )
    if not seconds <= _MAX_DAYS * _DAY:  # also infinity and NaN from a thousand-digit number
        raise ValueError(_too_long(text))
    return Duration(written, seconds)


def _too_long(text: str) -> str:
    return _(
        "`{text}` is longer than ten years; no time limit is that long, so check it for a typo"
    ).format(text=text)


def _strip_within(text: str) -> str:
    """`2分钟内`, `3个工作日以内` mean the same as without the suffix."""
    for suffix in _WITHIN:
        if text.endswith(suffix) and len(text) > len(suffix):
            return text[: -len(suffix)]
    return text


def _arabic(text: str) -> str:
    """Chinese numerals and halves as digits: 两小时 → 2小时, 一个半小时 → 1.5小时, 半天 → 0.5天."""
    text = _CHINESE_NUMERAL.sub(lambda m: str(_chinese_number(m.group())), text)
    text = re.sub(r"(\d+)个半", r"\1.5个", text)
    return re.sub(r"(?<![\d.])半个?", "0.5", text)


def _chinese_number(numeral: str) -> int:
    """二十 → 20, 十五 → 15, 一百零五 → 105, 两 → 2."""
    total = current = 0
    for char in numeral:
        if char in _CHINESE_DIGITS:
            current = _CHINESE_DIGITS[char]
        else:
            total += (current or 1) * _CHINESE_MULTIPLIERS[char]
            current = 0
    return total + current


def _calendar_rule(text: str, spaced: str) -> CalendarRule | None:
    """The calendar limit a normalised text names, if it names one, cut-off included
    (`spaced`: the same text with its spaces, one between words)."""
    rule = _day_rule(text)
    if rule is not None:
        return rule
    for pattern, day_group in ((_CUTOFF_AFTER, 1), (_CUTOFF_BEFORE, 5)):
        match = pattern.fullmatch(spaced)
        if match is None:
            continue
        clock = match.groups()[1:5] if day_group == 1 else match.groups()[0:4]
        day = _day_rule(match.group(day_group).replace(" ", ""))
        minutes = _minutes(*clock)
        if day is not None and minutes is not None:
            return CalendarRule(day.kind, day.days, minutes)
    return None


def _minutes(hour: str, colon: str | None, minute: str | None, half: str | None) -> int | None:
    """Minutes after midnight of 12:00, 12点30分, 12点半 (None when not a time of day)."""
    minutes = int(hour) * 60 + int(colon or minute or 0) + (30 if half else 0)
    if int(hour) > 24 or int(colon or minute or 0) > 59 or minutes > 1440 or minutes == 0:
        return None
    return minutes


def _day_rule(text: str) -> CalendarRule | None:
    """The calendar limit a day form names (当天, 次日, T+N, N个工作日), if it names one."""
    if text in _SAME_DAY:
        return CalendarRule("same_day", 0)
    if text in _NEXT_DAY:
        return CalendarRule("t_plus", 1)
    if text in _CALENDAR_DAYS:
        return CalendarRule("calendar_days", _CALENDAR_DAYS[text])
    match = _WORKING_DAYS.fullmatch(text)
    if match:
        return CalendarRule("working_days", int(match.group(1)))
    match = _T_PLUS.fullmatch(text)
    if match:
        return CalendarRule("t_plus", int(match.group(1)))
    return None


def _parse_seconds(text: str, chinese: str) -> float | None:
    """Seconds of a compact, ISO 8601, English-word or Chinese length; None if it is none of them."""
    for pattern in (_COMPACT, _ISO):
        match = pattern.fullmatch(text.upper() if pattern is _ISO else text)
        if match and any(match.groups()):
            return sum(
                float(part) * unit
                for part, unit in zip(match.groups(), _UNIT_SECONDS, strict=True)
                if part
            )
    words = _ENGLISH_PART.findall(text)
    if words and _joined(_ENGLISH_PART, text) == text:
        return sum(float(number) * _ENGLISH_UNITS[unit[0]] for number, unit in words)
    parts = _CHINESE_PART.findall(chinese)
    if parts and "".join(number + unit for number, unit in parts) == chinese:
        return sum(float(number) * _CHINESE_UNITS[unit] for number, unit in parts)
    return None


def _joined(pattern: re.Pattern[str], text: str) -> str:
    """The parts of `text` the pattern matches, joined: equal to `text` when it is all parts."""
    return "".join(match.group() for match in pattern.finditer(text))


def _validate_duration(value: Any) -> Duration:
    if isinstance(value, Duration):
        return value
    if isinstance(value, bool) or not isinstance(value, str):
        shown = getattr(value, "yaml_source", value)
        raise PydanticCustomError(
            "duration",
            _("`{value}` has no unit; write a time limit such as {forms}"),
            {"value": str(shown), "forms": _(ACCEPTED_FORMS)},
        )
    try:
        return parse_duration(value)
    except ValueError as error:
        raise PydanticCustomError("duration", str(error)) from None
