"""Time limits in the forms ops people write (SPEC 6), and calendar deadlines on China's
official working days (National Day 2024: holiday 10-01..10-07, make-up working days
Sunday 2024-09-29 and Saturday 2024-10-12)."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime

import pytest

from opsplay.i18n import language
from opsplay.model.duration import CalendarRule, parse_duration
from opsplay.workdays import WorkdayCalendar


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("半小时", 1800),
        ("半个小时", 1800),
        ("一个半小时", 5400),
        ("两小时", 7200),
        ("两个小时", 7200),
        ("二十分钟", 1200),
        ("十五分钟", 900),
        ("一百二十秒", 120),
        ("一天", 86400),
        ("1周", 7 * 86400),
        ("一周", 7 * 86400),
        ("1w", 7 * 86400),
        ("P1W", 7 * 86400),
        ("30 min", 1800),
        ("30mins", 1800),
        ("2 hours", 7200),
        ("1 day", 86400),
        ("1 hour 30 minutes", 5400),
        ("３０分钟", 1800),  # full-width digits, as an IME types them
        ("2分钟内", 120),
        ("30s", 30),
        ("1h30m", 5400),
        ("PT2M", 120),
    ],
)
def test_lengths(text: str, seconds: float) -> None:
    duration = parse_duration(text)
    assert duration.seconds == seconds
    assert duration.as_written == text
    assert not duration.is_calendar


@pytest.mark.parametrize("text", ["立即", "实时", "realtime"])
def test_realtime_words(text: str) -> None:
    duration = parse_duration(text)
    assert duration.realtime and duration.resolve(5.0) == 5.0


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("3个工作日", CalendarRule("working_days", 3)),
        ("三个工作日", CalendarRule("working_days", 3)),
        ("3个工作日内", CalendarRule("working_days", 3)),
        ("3 working days", CalendarRule("working_days", 3)),
        ("1 working day", CalendarRule("working_days", 1)),
        ("T+1", CalendarRule("t_plus", 1)),
        ("t＋2", CalendarRule("t_plus", 2)),
        ("次日", CalendarRule("t_plus", 1)),
        ("当天", CalendarRule("same_day", 0)),
        ("当日", CalendarRule("same_day", 0)),
    ],
)
def test_calendar_limits_keep_the_text_as_written(text: str, rule: CalendarRule) -> None:
    duration = parse_duration(text)
    assert duration.calendar == rule
    assert duration.as_written == text == str(duration)


def test_nominal_lengths_order_calendar_limits() -> None:
    order = ["当天18点前", "当天", "1天", "次日12点前", "T+1", "3天", "T+2", "3个工作日"]
    lengths = [parse_duration(text).resolve() for text in order]
    assert lengths == sorted(lengths) and len(set(lengths)) == len(lengths)
    # N working days and T+N fall due at the same moment, so they are equally long.
    assert parse_duration("2个工作日").resolve() == parse_duration("T+2").resolve()


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("次日12点前", CalendarRule("t_plus", 1, 720)),
        ("次日十二点之前", CalendarRule("t_plus", 1, 720)),
        ("次日12点半前", CalendarRule("t_plus", 1, 750)),
        ("当天18点前", CalendarRule("same_day", 0, 1080)),
        ("当日18:00前", CalendarRule("same_day", 0, 1080)),
        ("T+1 12:00", CalendarRule("t_plus", 1, 720)),
        ("T+10 9:00", CalendarRule("t_plus", 10, 540)),
        ("下一个工作日10点前", CalendarRule("t_plus", 1, 600)),
        ("3个工作日17点前", CalendarRule("working_days", 3, 1020)),
        ("by 12:00 next day", CalendarRule("t_plus", 1, 720)),
        ("next day by 12:00", CalendarRule("t_plus", 1, 720)),
        ("by 18:00 same day", CalendarRule("same_day", 0, 1080)),
        ("by 10:00 next working day", CalendarRule("t_plus", 1, 600)),
        ("next business day by 10:00", CalendarRule("t_plus", 1, 600)),
    ],
)
def test_cut_offs_keep_the_text_as_written(text: str, rule: CalendarRule) -> None:
    duration = parse_duration(text)
    assert duration.calendar == rule and str(duration) == text


@pytest.mark.parametrize("text", ["次日25点前", "当天12:75前", "次日0点前", "T+1 12:61"])
def test_cut_offs_outside_a_day_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a time limit"):
        parse_duration(text)


@pytest.mark.parametrize("text", ["soon", "0个工作日", "0s", "工作日", "半", "3个", ""])
def test_refused_forms_name_the_accepted_ones_in_both_languages(text: str) -> None:
    with pytest.raises(ValueError) as english:
        parse_duration(text)
    with language("zh"), pytest.raises(ValueError) as chinese:
        parse_duration(text)
    assert str(english.value) != str(chinese.value)
    if text.strip() and text != "0s" and text != "0个工作日":
        assert "3个工作日" in str(english.value) and "T+1" in str(english.value)
        assert "时限" in str(chinese.value)


OFFICIAL = WorkdayCalendar("official")


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2024, 9, 29), True),  # Sunday, make-up working day
        (date(2024, 9, 30), True),
        (date(2024, 10, 1), False),
        (date(2024, 10, 7), False),  # Monday, still the holiday
        (date(2024, 10, 8), True),
        (date(2024, 10, 12), True),  # Saturday, make-up working day
        (date(2024, 10, 13), False),
    ],
)
def test_official_calendar_around_national_day_2024(day: date, working: bool) -> None:
    assert OFFICIAL.is_working_day(day) is working


@pytest.mark.parametrize(
    ("limit", "start", "due"),
    [
        # Sunday 09-29 is a make-up working day: 1st working day after it is Mon 09-30,
        # then the holiday; Tue 10-08 is the 2nd and Wed 10-09 the 3rd: due at its 24:00.
        ("3个工作日", datetime(2024, 9, 29, 10, 0), datetime(2024, 10, 10, 0, 0)),
        ("1个工作日", datetime(2024, 9, 30, 16, 30), datetime(2024, 10, 9, 0, 0)),
        # A start inside the holiday: 10-08, 10-09, 10-10 → due Fri 10-11 00:00.
        ("3个工作日", datetime(2024, 10, 3, 15, 0), datetime(2024, 10, 11, 0, 0)),
        # From Thu 10-10: Fri 10-11, Sat 10-12 (make-up), Mon 10-14 → Tue 10-15 00:00.
        ("3个工作日", datetime(2024, 10, 10, 9, 0), datetime(2024, 10, 15, 0, 0)),
        ("2个工作日", datetime(2024, 10, 10, 9, 0), datetime(2024, 10, 13, 0, 0)),
        # T+1 from Fri 10-11: the make-up Saturday 10-12, due at its 24:00.
        ("T+1", datetime(2024, 10, 11, 18, 0), datetime(2024, 10, 13, 0, 0)),
        ("次日", datetime(2024, 9, 30, 18, 0), datetime(2024, 10, 9, 0, 0)),
        ("T+2", datetime(2024, 9, 28, 12, 0), datetime(2024, 10, 1, 0, 0)),
        ("当天", datetime(2024, 10, 1, 8, 0), datetime(2024, 10, 2, 0, 0)),
        ("当日", datetime(2024, 10, 12, 23, 59), datetime(2024, 10, 13, 0, 0)),
        # Cut-offs: the time of day on the same working day as the day form.
        ("次日12点前", datetime(2024, 9, 30, 18, 0), datetime(2024, 10, 8, 12, 0)),
        ("T+1 12:00", datetime(2024, 10, 11, 9, 0), datetime(2024, 10, 12, 12, 0)),
        ("下一个工作日10点前", datetime(2024, 9, 29, 20, 0), datetime(2024, 9, 30, 10, 0)),
        ("by 12:00 next day", datetime(2024, 10, 12, 9, 0), datetime(2024, 10, 14, 12, 0)),
        ("当天18点前", datetime(2024, 10, 9, 9, 0), datetime(2024, 10, 9, 18, 0)),
        # Started after the day's cut-off: the next working day's cut-off (10-01 is 国庆).
        ("当天18点前", datetime(2024, 9, 30, 19, 0), datetime(2024, 10, 8, 18, 0)),
    ],
)
def test_deadlines_on_the_official_calendar(limit: str, start: datetime, due: datetime) -> None:
    assert parse_duration(limit).deadline(start, WorkdayCalendar("official")) == due


@pytest.mark.parametrize(
    ("limit", "start", "due"),
    [
        ("3个工作日", datetime(2024, 9, 29, 10, 0), datetime(2024, 10, 9, 10, 0)),
        ("1个工作日", datetime(2024, 9, 30, 16, 30), datetime(2024, 10, 8, 16, 30)),
        ("3个工作日", datetime(2024, 10, 3, 15, 0), datetime(2024, 10, 11, 0, 0)),
        ("T+1", datetime(2024, 10, 11, 18, 0), datetime(2024, 10, 13, 0, 0)),  # unchanged
    ],
)
def test_workday_limits_clock_keeps_the_start_time(
    limit: str, start: datetime, due: datetime
) -> None:
    calendar = WorkdayCalendar("official", limits="clock")
    assert parse_duration(limit).deadline(start, calendar) == due


def test_a_case_finishing_on_the_afternoon_of_its_third_working_day_is_within() -> None:
    # Started Thu 10-10 09:00; the 3rd working day after is Mon 10-14 (Sat 10-12 is 调休).
    due = parse_duration("3个工作日内").deadline(datetime(2024, 10, 10, 9), OFFICIAL)
    assert datetime(2024, 10, 14, 15, 30) <= due


def test_weekday_calendar_ignores_holidays_and_make_up_days() -> None:
    weekdays = WorkdayCalendar("weekdays")
    # Mon 09-30 + 1 weekday = Tue 10-01 (a holiday in the official calendar), at its 24:00.
    assert parse_duration("1个工作日").deadline(
        datetime(2024, 9, 30, 16, 30), weekdays
    ) == datetime(2024, 10, 2)
    # Fri 10-11 + T+1 = Mon 10-14 24:00 (the make-up Saturday does not count).
    assert parse_duration("T+1").deadline(datetime(2024, 10, 11, 18), weekdays) == datetime(
        2024, 10, 15
    )


def test_years_outside_the_official_calendar_fall_back_to_weekdays() -> None:
    calendar = WorkdayCalendar("official")
    # 2099-01-02 is a Friday: the next working day is Monday 01-05.
    due = parse_duration("1个工作日").deadline(datetime(2099, 1, 2, 9), calendar)
    assert due == datetime(2099, 1, 6)
    assert calendar.outside_years == {2099}


def test_parsing_never_imports_the_calendar_package() -> None:
    code = (
        "import sys; from opsplay.model.duration import parse_duration; "
        "parse_duration('3个工作日'); parse_duration('T+1'); import opsplay.cli; "
        "assert 'chinese_calendar' not in sys.modules, 'chinese_calendar imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


@pytest.mark.parametrize(
    ("written", "seconds"),
    [
        ("24h内", 86400),
        ("30min以内", 1800),
        ("1d之内", 86400),
        ("3个自然日", 3 * 86400),
        ("3个自然日内", 3 * 86400),
        ("两个自然日", 2 * 86400),
    ],
)
def test_within_after_latin_units_and_natural_days(written: str, seconds: float) -> None:
    limit = parse_duration(written)
    assert limit.resolve() == seconds and not limit.is_calendar and str(limit) == written


def test_ge_tian_is_the_next_day_like_ci_ri() -> None:
    start = datetime(2024, 9, 30, 18, 0)
    calendar = WorkdayCalendar("official")
    assert parse_duration("隔天").deadline(start, calendar) == datetime(2024, 10, 9, 0, 0)


@pytest.mark.parametrize(
    ("text", "start", "due"),
    [
        # 国庆 2024: started on the eve of the holiday, 次日 waits for 10-08, 第二天 does not
        ("第二天12点前", datetime(2024, 9, 30, 18, 0), datetime(2024, 10, 1, 12, 0)),
        ("明天", datetime(2024, 9, 30, 18, 0), datetime(2024, 10, 2, 0, 0)),
        ("明日18:00前", datetime(2024, 10, 5, 9, 0), datetime(2024, 10, 6, 18, 0)),
        ("后天12点前", datetime(2026, 10, 9, 23, 0), datetime(2026, 10, 11, 12, 0)),
        ("by 12:00 tomorrow", datetime(2026, 9, 19, 8, 0), datetime(2026, 9, 20, 12, 0)),
    ],
)
def test_next_calendar_day_counts_weekends_and_holidays(
    text: str, start: datetime, due: datetime
) -> None:
    """Issue 21 try-out: a 7-day warehouse writes 第二天12点前 (the next calendar day), which
    次日12点前 (the next working day, SPEC 6) cannot say."""
    limit = parse_duration(text)
    assert limit.is_calendar and str(limit) == text
    assert limit.deadline(start, OFFICIAL) == due
    working = parse_duration(text.replace("第二天", "次日").replace("明天", "次日"))
    if working.calendar and working.calendar.kind == "t_plus":  # the working-day reading waits
        assert working.deadline(start, OFFICIAL) >= due


def test_next_calendar_day_is_shorter_than_the_next_working_day() -> None:
    """Limits are ordered by a nominal length (diff): 第二天 ≤ 次日, 后天 > 明天."""
    assert parse_duration("第二天12点前").resolve() < parse_duration("次日12点前").resolve()
    assert parse_duration("后天").resolve() > parse_duration("明天").resolve()


# National Day 2026 per chinese-calendar 1.11: 中秋 09-25..09-27, 国庆 10-01..10-07, make-up
# working days Sunday 09-20 and Saturday 10-10 (the worked example of docs/format.md).
@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 9, 19), False),  # Saturday
        (date(2026, 9, 20), True),  # Sunday, make-up working day
        (date(2026, 9, 25), False),  # Friday, 中秋
        (date(2026, 9, 30), True),
        (date(2026, 10, 1), False),
        (date(2026, 10, 7), False),  # Wednesday, still the holiday
        (date(2026, 10, 8), True),
        (date(2026, 10, 10), True),  # Saturday, make-up working day
        (date(2026, 10, 11), False),
    ],
)
def test_official_calendar_around_national_day_2026(day: date, working: bool) -> None:
    assert OFFICIAL.is_working_day(day) is working


@pytest.mark.parametrize(
    ("limit", "start", "due"),
    [
        ("T+1", datetime(2026, 9, 19, 10, 0), datetime(2026, 9, 21, 0, 0)),
        ("1个工作日", datetime(2026, 9, 30, 16, 30), datetime(2026, 10, 9, 0, 0)),
        ("次日12点前", datetime(2026, 9, 30, 18, 0), datetime(2026, 10, 8, 12, 0)),
        ("下一个工作日10点前", datetime(2026, 9, 30, 11, 0), datetime(2026, 10, 8, 10, 0)),
        ("当天18点前", datetime(2026, 9, 30, 19, 0), datetime(2026, 10, 8, 18, 0)),
        ("3个工作日", datetime(2026, 10, 8, 9, 0), datetime(2026, 10, 13, 0, 0)),
        ("T+1 12:00", datetime(2026, 10, 9, 9, 0), datetime(2026, 10, 10, 12, 0)),
        ("by 12:00 next day", datetime(2026, 10, 10, 9, 0), datetime(2026, 10, 12, 12, 0)),
        ("当天", datetime(2026, 10, 1, 8, 0), datetime(2026, 10, 2, 0, 0)),
    ],
)
def test_the_2026_worked_example(limit: str, start: datetime, due: datetime) -> None:
    assert parse_duration(limit).deadline(start, OFFICIAL) == due
    clock = WorkdayCalendar("official", limits="clock")
    if limit == "1个工作日":
        assert parse_duration(limit).deadline(start, clock) == datetime(2026, 10, 8, 16, 30)


def test_the_2026_worked_example_schedules() -> None:
    """工作日 08:30 falls on the make-up days and on no holiday; the weekday cron (OPS512) the
    other way round."""
    from opsplay.model.schedule import parse_schedule

    def days(schedule: str) -> set[str]:
        moments = parse_schedule(schedule).occurrences(
            date(2026, 9, 19), date(2026, 10, 12), OFFICIAL.is_working_day
        )
        return {moment.strftime("%m-%d") for moment in moments}

    working, cron = days("工作日 08:30"), days("30 8 * * 1-5")
    assert working - cron == {"09-20", "10-10"}
    assert cron - working == {"09-25", "10-01", "10-02", "10-05", "10-06", "10-07"}
