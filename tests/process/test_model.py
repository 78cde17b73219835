"""SPEC 8 model parts: schedules, per-level limits, fallbacks written as one or a list."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from opsplay.model.playbook import Node
from opsplay.model.process import level_limit
from opsplay.model.schedule import parse_schedule
from opsplay.schema import playbook_schema
from opsplay.validate import load_playbook

CASES = Path(__file__).resolve().parent.parent / "cases"
NATIONAL_DAY = (dt.date(2024, 9, 28), dt.date(2024, 10, 13))


def _weekdays(day: dt.date) -> bool:
    return day.weekday() < 5


def _china(day: dt.date) -> bool:
    import chinese_calendar

    return chinese_calendar.is_workday(day)


@pytest.mark.parametrize(
    ("text", "kind", "time", "weekday", "day"),
    [
        ("每日 09:00", "daily", dt.time(9), None, None),
        ("每天08:30", "daily", dt.time(8, 30), None, None),
        ("工作日 9:00", "workdays", dt.time(9), None, None),
        ("每个工作日 09：30", "workdays", dt.time(9, 30), None, None),
        ("每周一", "weekly", dt.time(0), 0, None),
        ("每周五 18:00", "weekly", dt.time(18), 4, None),
        ("每星期日", "weekly", dt.time(0), 6, None),
        ("每月5日", "monthly", dt.time(0), None, 5),
        ("每月1号 10:00", "monthly", dt.time(10), None, 1),
        ("每季度首月15日", "quarterly", dt.time(0), None, 15),
        ("0 9 * * 1-5", "cron", dt.time(0), None, None),
    ],
)
def test_every_form_parses(text: str, kind: str, time: dt.time, weekday: int, day: int) -> None:
    schedule = parse_schedule(text)
    assert (schedule.kind, schedule.time, schedule.weekday, schedule.day) == (
        kind,
        time,
        weekday,
        day,
    )
    assert str(schedule) == text


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("每天早上九点", "每日 09:00 · 工作日 09:00"),
        ("0 9 * *", "has 4 fields"),
        ("0 9 * * 1-5 2024", "has 6 fields"),
        ("0 25 * * *", "is not a schedule"),
        ("每月0日", "days 1 to 31"),
        ("工作日 24:00", "between 00:00 and 23:59"),
        ("工作日", "is not a schedule"),
        # valid cron that names no date: croniter raised CroniterBadDateError in `watch`
        ("0 0 30 2 *", "never falls due"),
        ("0 9 31 4,6,9,11 *", "never falls due"),
    ],
)
def test_bad_schedules_say_what_to_write(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_schedule(text)


def test_a_cron_day_that_only_some_years_have_is_a_schedule() -> None:
    leap = parse_schedule("0 0 29 2 *").occurrences(
        dt.date(2023, 1, 1), dt.date(2028, 12, 31), _china
    )
    assert [m.date() for m in leap] == [dt.date(2024, 2, 29), dt.date(2028, 2, 29)]
    assert parse_schedule("0 0 30 2 1").kind == "cron"  # or a Monday: due every week


def test_workdays_follow_the_official_calendar_in_the_national_day_week() -> None:
    """Holiday 10-01..10-07; make-up working days Sun 09-29 and Sat 10-12."""
    got = [m.date() for m in parse_schedule("工作日 09:00").occurrences(*NATIONAL_DAY, _china)]
    expected = [
        dt.date(2024, 9, 29),
        dt.date(2024, 9, 30),
        dt.date(2024, 10, 8),
        dt.date(2024, 10, 9),
        dt.date(2024, 10, 10),
        dt.date(2024, 10, 11),
        dt.date(2024, 10, 12),
    ]
    assert got == expected


def test_daily_weekly_and_cron_are_literal() -> None:
    first, last = NATIONAL_DAY
    assert len(list(parse_schedule("每日 09:00").occurrences(first, last, _china))) == 16
    mondays = list(parse_schedule("每周一 10:00").occurrences(first, last, _china))
    assert mondays == [dt.datetime(2024, 9, 30, 10), dt.datetime(2024, 10, 7, 10)]
    cron = list(parse_schedule("30 9 * * 1-5").occurrences(first, last, _china))
    assert len(cron) == 10 and cron[0] == dt.datetime(2024, 9, 30, 9, 30)
    assert all(m.weekday() < 5 for m in cron)


def test_month_end_and_quarters() -> None:
    month_end = parse_schedule("每月31日").occurrences(
        dt.date(2024, 1, 1), dt.date(2024, 4, 30), _weekdays
    )
    assert [m.date() for m in month_end] == [
        dt.date(2024, 1, 31),
        dt.date(2024, 2, 29),
        dt.date(2024, 3, 31),
        dt.date(2024, 4, 30),
    ]
    quarterly = parse_schedule("每季度首月10日 14:00").occurrences(
        dt.date(2024, 1, 1), dt.date(2024, 12, 31), _weekdays
    )
    assert [m.month for m in quarterly] == [1, 4, 7, 10]


def test_per_level_limits() -> None:
    node = Node.model_validate(
        {"id": "a", "name": "响应", "owner": "oncall", "sla": {"P1": "5分钟", "default": "2小时"}}
    )
    assert level_limit(node.sla, "P1").seconds == 300
    assert level_limit(node.sla, "P3").seconds == 7200  # default
    assert level_limit(node.sla, None).seconds == 7200
    assert node.sla.resolve() == 7200 and node.sla.text == "P1 5分钟, default 2小时"
    assert node.model_dump(mode="json")["sla"] == {"P1": "5分钟", "default": "2小时"}
    only = Node.model_validate({"id": "b", "name": "恢复", "owner": "o", "sla": {"P1": "30分钟"}})
    assert level_limit(only.sla, None).seconds == 1800  # the node's only limit
    assert level_limit(only.sla, "P2") is None
    plain = Node.model_validate({"id": "c", "name": "复盘", "owner": "o", "sla": "3天"})
    assert level_limit(plain.sla, "P1").seconds == 3 * 86400


def test_fallback_one_or_a_list() -> None:
    one = Node.model_validate(
        {"id": "a", "name": "x", "owner": "o", "fallback": {"when": ["failure"], "action": "人工"}}
    )
    several = Node.model_validate(
        {
            "id": "a",
            "name": "x",
            "owner": "o",
            "fallback": [
                {"when": ["timeout"], "action": "切换备用链路"},
                {"when": ["failure"], "action": "人工介入"},
            ],
        }
    )
    assert [f.action for f in one.fallbacks] == ["人工"]
    assert [f.action for f in several.fallbacks] == ["切换备用链路", "人工介入"]
    assert isinstance(one.model_dump(mode="json")["fallback"], dict)  # kept as written


def test_every_new_field_has_a_description_and_an_example() -> None:
    schema = playbook_schema()
    definitions = schema["definitions"]
    node = definitions["Node"]["properties"]
    for key in ("sla", "escalation", "raci", "schedule", "fallback"):
        text = json.dumps(node[key], ensure_ascii=False)
        assert '"description"' in text and '"examples"' in text, key
    for model in ("Level", "EscalationStep", "Raci"):
        for key, prop in definitions[model]["properties"].items():
            assert prop.get("description") and prop.get("examples"), f"{model}.{key}"
    assert "schedule_adherence" in json.dumps(definitions["Alert"])
    assert definitions["Alert"]["properties"]["level"]["examples"] == ["P1"]
    assert definitions["Pilot"]["properties"]["feedback"]["examples"]
    assert schema["properties"]["levels"]["examples"]
    weight = json.dumps(definitions["ProportionMetric"]["properties"]["weight"])
    assert '"examples"' in weight


def test_a_playbook_using_every_new_field_loads() -> None:
    playbook = load_playbook(CASES / "valid" / "zh-incident-levels.yaml")
    respond = playbook.node("respond")
    assert respond is not None and respond.raci is not None
    assert respond.raci.accountable_role == "ops-manager"
    assert [step.to for step in respond.escalation] == ["ops-manager", "tech-vp"]
    assert playbook.node("inspect").schedule.kind == "workdays"
    assert [level.id for level in playbook.levels] == ["P1", "P2", "P3"]
    assert playbook.pilot.feedback == ["值班工程师访谈", "客服工单分析"]


@pytest.mark.parametrize(
    "written", ['cron "30 8 * * 1-5"', "cron 30 8 * * 1-5", "“30 8 * * 1-5”", "30 8 * * 1-5"]
)
def test_cron_is_read_as_the_docs_write_it(written: str) -> None:
    """Issue 21 try-out: `cron "30 8 * * 1-5"` (SPEC 8, docs/format.md) was refused (OPS107)."""
    schedule = parse_schedule(written)
    assert schedule.kind == "cron" and schedule.text == "30 8 * * 1-5"
