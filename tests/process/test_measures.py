"""SPEC 8 measures from real execution logs, checked against values computed by hand.

The National Day week of 2024: holiday 10-01..10-07; make-up working days Sunday 09-29
and Saturday 10-12 (国务院办公厅关于2024年部分节假日安排的通知).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from opsplay.cli import app
from opsplay.nodes import measures as process_measures
from opsplay.nodes.log import read_events
from opsplay.render.report import render_report
from opsplay.validate import load_playbook
from opsplay.workdays import WorkdayCalendar

CASES = Path(__file__).resolve().parent.parent / "cases"
PLAYBOOK = CASES / "valid" / "zh-incident-levels.yaml"
runner = CliRunner()

HEADER = "case_id,node,level,started_at,finished_at,status\n"
# `inspect` runs 工作日 09:00 with 30 minutes to finish. Working days from 09-27 to 10-14:
# 09-27, 09-29 (make-up Sunday), 09-30, 10-08, 10-09, 10-10, 10-11, 10-12 (make-up
# Saturday), 10-14: nine occurrences.
INSPECTIONS = [
    ("i1", "2024-09-27 09:00:00", "2024-09-27 09:20:00", "ok"),  # met
    ("i2", "2024-09-29 09:00:00", "2024-09-29 09:25:00", "ok"),  # met (make-up Sunday)
    ("i3", "2024-09-30 09:00:00", "2024-09-30 09:45:00", "ok"),  # late
    ("i4", "2024-10-02 09:00:00", "2024-10-02 09:10:00", "ok"),  # holiday: no occurrence
    ("i5", "2024-10-08 09:00:00", "2024-10-08 09:15:00", "failed"),  # not ok
    ("i6", "2024-10-08 09:20:00", "2024-10-08 09:28:00", "ok"),  # met by the retry
    ("i7", "2024-10-09 08:30:00", "2024-10-09 08:50:00", "ok"),  # before the occurrence
    ("i8", "2024-10-10 09:00:00", "2024-10-10 09:10:00", "ok"),  # met
    ("i9", "2024-10-10 09:12:00", "2024-10-10 09:20:00", "ok"),  # serves no other day
    ("i10", "2024-10-12 09:05:00", "2024-10-12 09:25:00", "ok"),  # met (make-up Saturday)
    ("i11", "2024-10-13 09:00:00", "2024-10-13 09:10:00", "ok"),  # Sunday: no occurrence
    ("i12", "2024-10-14 09:00:00", "2024-10-14 09:30:00", "ok"),  # met on the dot
]
# `respond` has {P1: 5分钟, P2: 30分钟, default: 2小时}.
RESPONSES = [
    ("r1", "P1", "2024-10-08 10:00:00", "2024-10-08 10:04:00", "ok"),  # 4m ≤ 5m
    ("r2", "P1", "2024-10-08 11:00:00", "2024-10-08 11:06:00", "ok"),  # 6m > 5m
    ("r3", "P1", "2024-10-09 10:00:00", "2024-10-09 10:05:00", "ok"),  # 5m ≤ 5m
    ("r4", "P1", "2024-10-09 11:00:00", "2024-10-09 11:10:00", "failed"),  # 10m > 5m
    ("r5", "P2", "2024-10-10 10:00:00", "2024-10-10 10:20:00", "ok"),  # 20m ≤ 30m
    ("r6", "P2", "2024-10-10 11:00:00", "2024-10-10 11:40:00", "ok"),  # 40m > 30m
    ("r7", "", "2024-10-11 10:00:00", "2024-10-11 11:30:00", "ok"),  # 90m ≤ default 2h
    ("r8", "", "2024-10-11 12:00:00", "2024-10-11 14:30:00", "ok"),  # 150m > 2h
    ("r9", "P3", "2024-10-12 10:00:00", "2024-10-12 11:40:00", "ok"),  # P3: default, 100m ≤ 2h
]


def _measures(playbook, log: Path):
    """Read the log as `pilot compare` does (per-level limits hooked in), then measure."""
    calendar = WorkdayCalendar("official")
    read = read_events(
        log,
        process_measures.overall_limits(playbook),
        calendar=calendar,
        limit_for=process_measures.limit_for(playbook),
    )
    nodes = {figures.node: figures for figures in read.nodes}
    return nodes, process_measures.measure_process(playbook, read.facts, calendar, 1.0, read.as_of)


def _log(tmp_path: Path, header: str = HEADER) -> Path:
    lines = [f"{c},inspect,,{s},{f},{st}" for c, s, f, st in INSPECTIONS]
    lines += [f"{c},respond,{lv},{s},{f},{st}" for c, lv, s, f, st in RESPONSES]
    path = tmp_path / "events.csv"
    path.write_text(header + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_the_calendar_knows_the_national_day_week() -> None:
    from datetime import date

    working_day = WorkdayCalendar("official").is_working_day
    assert working_day(date(2024, 9, 29)) and working_day(date(2024, 10, 12))
    assert not any(working_day(date(2024, 10, d)) for d in range(1, 8))


def test_schedule_adherence_and_per_level_limits_by_hand(tmp_path: Path) -> None:
    playbook = load_playbook(PLAYBOOK)
    playbook = playbook.model_copy(update={"pilot": None})  # the log's own days
    nodes, measures = _measures(playbook, _log(tmp_path))
    assert measures.schedule_adherence["inspect"] == pytest.approx(6 / 9)
    # P1 2 of 4, P2 1 of 2, no level 1 of 2 (default), P3 1 of 1 (default): 5 of 9.
    assert nodes["respond"].sla_compliance == pytest.approx(5 / 9)
    assert measures.by_level["respond"] == pytest.approx({"P1": 0.5, "P2": 0.5, "P3": 1.0})
    assert measures.alerts["p1-sla"] == pytest.approx(0.5)
    assert measures.alerts["p2-sla"] == pytest.approx(0.5)
    assert measures.alerts["inspect-missed"] == pytest.approx(6 / 9)


def test_a_log_row_after_midnight_misses_no_inspection_not_yet_due(tmp_path: Path) -> None:
    """A response logged at 00:30 on Tue 10-15: that day's 09:00 巡检 is pending, not missed."""
    playbook = load_playbook(PLAYBOOK).model_copy(update={"pilot": None})
    log = _log(tmp_path)
    with log.open("a", encoding="utf-8") as file:
        file.write("r10,respond,P1,2024-10-15 00:30:00,2024-10-15 00:33:00,ok\n")
    _, measures = _measures(playbook, log)
    assert measures.schedule_adherence["inspect"] == pytest.approx(6 / 9)  # not 6 / 10
    assert measures.occurrences["inspect"] == (6, 9)
    assert measures.pending_occurrences["inspect"] == 1
    assert measures.alerts["inspect-missed"] == pytest.approx(6 / 9)


def test_the_occurrences_not_met_are_named_late_or_not_done(tmp_path: Path) -> None:
    """The three of nine not met on time (robot messages name them): 09-30 done late at
    09:45, 10-09 not done (i7 ran before it), 10-11 not done (i9 served 10-10's window)."""
    from datetime import datetime

    playbook = load_playbook(PLAYBOOK).model_copy(update={"pilot": None})
    _, measures = _measures(playbook, _log(tmp_path))
    assert measures.missed_occurrences["inspect"] == (
        3,
        (
            (datetime(2024, 9, 30, 9), datetime(2024, 9, 30, 9, 45)),
            (datetime(2024, 10, 9, 9), None),
            (datetime(2024, 10, 11, 9), None),
        ),
    )


def test_a_run_for_the_next_occurrence_is_not_the_last_ones_late_run(tmp_path: Path) -> None:
    """10-14's 巡检 was not done; 10-15's ran at 09:05, its occurrence not due yet at the
    log's last time: that run is 10-15's, not 10-14's "done late"."""
    from datetime import datetime

    playbook = load_playbook(PLAYBOOK).model_copy(update={"pilot": None})
    path = tmp_path / "events.csv"
    lines = [f"{c},inspect,,{s},{f},{st}" for c, s, f, st in INSPECTIONS if c != "i12"]
    lines.append("i13,inspect,,2024-10-15 09:00:00,2024-10-15 09:05:00,ok")
    path.write_text(HEADER + "\n".join(lines) + "\n", encoding="utf-8")
    _, measures = _measures(playbook, path)
    assert measures.pending_occurrences["inspect"] == 1
    count, first = measures.missed_occurrences["inspect"]
    assert count == 4 and first[-1] == (datetime(2024, 10, 14, 9), None)


def test_an_open_ticket_past_its_deadline_counts_as_breached(tmp_path: Path) -> None:
    """A P1 response started 10-14 10:00 with no finish time: due 10:05, the log runs to
    10-14 10:30 (breached); one started 10:28 is due 10:33 (pending, out of the rate)."""
    playbook = load_playbook(PLAYBOOK).model_copy(update={"pilot": None})
    log = _log(tmp_path)
    with log.open("a", encoding="utf-8") as file:
        file.write("r10,respond,P1,2024-10-14 10:00:00,,ok\n")
        file.write("r11,respond,P1,2024-10-14 10:28:00,,ok\n")
        file.write("r12,respond,P2,2024-10-14 10:00:00,2024-10-14 10:30:00,ok\n")
    nodes, measures = _measures(playbook, log)
    respond = nodes["respond"]
    assert (respond.open, respond.breached_open, respond.pending) == (2, 1, 1)
    # 5 of 9 as before, r12 (30m ≤ 30m) met, r10 breached: 6 of 11.
    assert respond.sla_compliance == pytest.approx(6 / 11)
    assert measures.by_level["respond"]["P1"] == pytest.approx(2 / 5)


def test_the_pilot_window_clips_the_days(tmp_path: Path) -> None:
    """Pilot 10-08..10-31, log up to 10-14: 10-08..10-12 and 10-14, four met."""
    playbook = load_playbook(PLAYBOOK)
    window = playbook.pilot.model_copy(
        update={"period": playbook.pilot.period.model_copy(update={"start": _d("2024-10-08")})}
    )
    _, measures = _measures(playbook.model_copy(update={"pilot": window}), _log(tmp_path))
    assert measures.schedule_adherence["inspect"] == pytest.approx(4 / 6)


def test_chinese_level_header_and_a_node_with_only_per_level_limits(tmp_path: Path) -> None:
    """`recover` has {P1: 30分钟, P2: 2小时, P3: 1d}: a row without a level has no limit."""
    log = tmp_path / "events.csv"
    log.write_text(
        "case_id,node,级别,started_at,finished_at,status\n"
        "a,recover,P1,2024-10-08 10:00,2024-10-08 10:20,ok\n"  # 20m ≤ 30m
        "b,recover,P2,2024-10-08 10:00,2024-10-08 12:30,ok\n"  # 150m > 2h
        "c,recover,,2024-10-08 10:00,2024-10-08 10:10,ok\n",  # no level, no default: left out
        encoding="utf-8",
    )
    nodes, measures = _measures(load_playbook(PLAYBOOK), log)
    assert nodes["recover"].sla_compliance == pytest.approx(0.5)
    assert measures.by_level["recover"] == {"P1": 1.0, "P2": 0.0}


def test_pilot_compare_reports_levels_schedules_and_the_weighted_attainment(
    tmp_path: Path,
) -> None:
    playbook = tmp_path / "incident.yaml"
    text = PLAYBOOK.read_text(encoding="utf-8")
    if "\nscenarios:" not in text:  # the case gives ack_5m its target already (OPS317)
        text = text.replace(
            "levels:\n",
            "scenarios:\n"
            "  - {id: p1, name: 核心故障, persona: 值班工程师, trigger: 核心系统告警, demand: 5分钟内响应,\n"
            '     expected: [{metric: ack_5m, op: ">=", value: 0.95}]}\n'
            "levels:\n",
            1,
        )
    playbook.write_text(
        text.replace("  period: {start: 2024-09-23, end: 2024-10-20}\n", ""), "utf-8"
    )
    export = tmp_path / "incidents.csv"
    export.write_text(
        "period,mttr_min,acked_5m,repeat_30d\n"
        "before,100,1,0\nbefore,80,0,0\nbefore,95,1,1\nbefore,85,0,0\n"
        "after,50,1,0\nafter,60,1,0\nafter,40,1,0\nafter,70,0,0\n",
        encoding="utf-8",
    )
    result = runner.invoke(
        app,
        [
            "pilot",
            "compare",
            str(playbook),
            str(export),
            "--events",
            str(_log(tmp_path)),
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    # mttr: baseline 90 → 55 against target 45: 35/45; ack_5m: 0.5 → 0.75 against 0.95: 0.25/0.45.
    weighted = document["weighted_attainment"]
    assert weighted["value"] == pytest.approx(0.6 * 35 / 45 + 0.4 * 0.25 / 0.45)
    assert [(p["metric"], p["weight"]) for p in weighted["parts"]] == [
        ("mttr", 0.6),
        ("ack_5m", 0.4),
    ]
    nodes = {n["node"]: n for n in document["nodes"]}
    assert nodes["respond"]["sla_compliance"] == pytest.approx(5 / 9)
    assert document["process"]["schedule_adherence"]["inspect"] == pytest.approx(6 / 9)
    alerts = {a["id"]: a for a in document["alerts"]}
    assert alerts["p1-sla"]["value"] == pytest.approx(0.5) and alerts["p1-sla"]["fired"]
    assert alerts["inspect-missed"]["value"] == pytest.approx(6 / 9)
    text_out = runner.invoke(
        app, ["pilot", "compare", str(playbook), str(export), "--events", str(_log(tmp_path))]
    )
    assert text_out.exit_code == 0, text_out.output
    assert "综合达成度 69%（平均恢复时长 0.6 × 78% + 5分钟响应率 0.4 × 56%）" in text_out.stdout
    loaded = load_playbook(playbook)
    report = render_report(loaded, document, lang="zh", fmt="md")
    assert "**综合达成度 69%（平均恢复时长 0.6 × 78% + 5分钟响应率 0.4 × 56%）**" in report
    english = render_report(loaded, document, lang="en", fmt="html")
    assert "Weighted attainment 69% (平均恢复时长 0.6 × 78% + 5分钟响应率 0.4 × 56%)" in english


def _d(text: str):
    from datetime import date

    return date.fromisoformat(text)


def test_business_hours_count_only_open_time_in_compliance(tmp_path: Path) -> None:
    """客服班次 09:00-21:00 on working days, `2小时`: started Monday 09-30 20:30 (30 minutes
    that day, then 国庆), due Tuesday 10-08 10:30; without the calendar both would be late."""
    from opsplay.validate import load_playbook as load

    playbook = load(CASES / "valid" / "zh-two-entries.yaml")
    log = tmp_path / "events.csv"
    log.write_text(
        "case_id,node,started_at,finished_at,status\n"
        "c1,notify-cs,2024-09-30 20:30:00,2024-10-08 10:30:00,ok\n"  # exactly 2h of open time
        "c2,notify-cs,2024-10-08 20:00:00,2024-10-09 10:30:00,ok\n"  # 1h + 1.5h: late
        "c3,notify-cs,2024-10-12 08:00:00,2024-10-12 10:00:00,ok\n"  # Sat 调休: 09:00-10:00
        "c4,notify-cs,2024-10-13 08:00:00,2024-10-14 10:59:00,ok\n",  # Sunday: from Mon 09:00
        encoding="utf-8",
    )
    nodes, _process = _measures(playbook, log)
    assert nodes["notify-cs"].sla_compliance == pytest.approx(3 / 4)
    assert nodes["notify-cs"].sla == "2小时" and nodes["notify-cs"].sla_s is None
    assert {case for case in nodes["notify-cs"].missed_cases[""][1]} == {"c2"}
