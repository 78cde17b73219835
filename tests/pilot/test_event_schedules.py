"""Schedule adherence in the query `pilot sql --events` prints (SPEC 8, 12): the file path
takes it from the same CTEs run by DuckDB, and the printed query gives the same due, met and
pending occurrences in DuckDB, a real PostgreSQL (pgserver) and a local Spark; both agree
with the greedy match of opsplay.nodes.measures (the reference semantics) on random runs."""

from __future__ import annotations

import csv
import random
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from opsplay.nodes import measures as process_measures
from opsplay.nodes.log import read_events
from opsplay.nodes.sql import events_sql_for_playbook
from opsplay.validate import load_playbook
from opsplay.workdays import WorkdayCalendar
from tests.pilot.test_events_sql import events_in_postgres
from tests.pilot.test_warehouse import postgres, spark  # noqa: F401 (fixtures)

COLUMNS = ["case_id", "node", "level", "started_at", "finished_at", "status"]
PLAYBOOK = """\
apiVersion: opsplay/v1
kind: Playbook
metadata: {id: wms-check, title: 仓储巡检, version: "1.0.0", status: pilot, owner: lead, updated: 2024-09-20}
goal: {statement: 巡检按时率提升到99%, metric: done, baseline: 0.9, target: 0.99, deadline: 2024-12-31}
roles: [{id: lead, name: 值班负责人}]
levels: [{id: P1, name: 紧急}, {id: P2, name: 普通}]
metrics: [{id: done, name: 完成率, kind: proportion, column: done, better: higher}]
nodes:
  - {id: alarm, name: 报警处置, owner: lead, entry: true, sla: {P1: 30分钟, P2: 2小时}, next: []}
  - {id: inspect, name: 早班巡检, owner: lead, entry: true, schedule: 工作日 09:00, sla: 30分钟, next: []}
  - {id: backup, name: 备份核对, owner: lead, entry: true, schedule: 每日 23:30, sla: 1小时, next: []}
  - {id: weekly, name: 周检, owner: lead, entry: true, schedule: 每周一 10:00, sla: 2小时, next: []}
  - {id: month_end, name: 月末对账, owner: lead, entry: true, schedule: 每月30日, sla: 1天, next: []}
  - {id: quarter, name: 季度演练, owner: lead, entry: true, schedule: 每季度首月8日 14:00, sla: 4小时, next: []}
  - {id: sweep, name: 定时清理, owner: lead, entry: true, schedule: '0 */6 * * *', sla: 1小时, next: []}
  - {id: report, name: 日报, owner: lead, entry: true, schedule: '30 8 * * 1-5', sla: 1个工作日, next: []}
  - {id: handover, name: 交接检查, owner: lead, entry: true, schedule: 每周五 18:00, sla: 1小时, next: []}
"""
# Around National Day 2024: holiday 10-01..10-07, make-up working days Sun 09-29, Sat 10-12.
ROWS = [
    ["a1", "alarm", "P1", "2024-09-27 08:00:00", "2024-09-27 08:20:00", "成功"],
    ["a2", "alarm", "P2", "2024-10-09 10:00:00", "2024-10-09 13:00:00", "成功"],
    # 工作日 09:00 (30分钟): 09-27 Fri, 09-29 Sun (调休), 09-30, 10-08..10-11, 10-12 Sat
    # (调休); the 国庆 days have no occurrence, and 10-14's is not yet due at 00:30
    ["i1", "inspect", "", "2024-09-27 09:00:00", "2024-09-27 09:20:00", "成功"],
    ["i2", "inspect", "", "2024-09-29 09:05:00", "2024-09-29 09:40:00", "成功"],  # late
    ["i3", "inspect", "", "2024-09-30 09:00:00", "2024-09-30 09:30:00", "成功"],  # at the limit
    ["i4", "inspect", "", "2024-10-03 09:00:00", "2024-10-03 09:10:00", "成功"],  # a holiday run
    ["i5", "inspect", "", "2024-10-08 09:00:00", "2024-10-08 09:10:00", "成功"],
    ["i6", "inspect", "", "2024-10-09 09:00:00", "2024-10-09 09:10:00", "失败"],  # not ok
    ["i7", "inspect", "", "2024-10-10 09:00:00", "2024-10-10 09:10:00", "成功"],
    ["i8", "inspect", "", "2024-10-11 09:00:00", "2024-10-11 09:10:00", "成功"],
    ["i9", "inspect", "", "2024-10-12 09:00:00", "2024-10-12 09:25:00", "成功"],
    # 每日 23:30 (1小时): the window crosses midnight
    ["b1", "backup", "", "2024-09-27 23:30:00", "2024-09-28 00:20:00", "ok"],
    ["b2", "backup", "", "2024-10-05 23:30:00", "2024-10-06 00:31:00", "ok"],  # late
    ["b3", "backup", "", "2024-10-13 23:30:00", "2024-10-14 00:10:00", "ok"],
    ["w1", "weekly", "", "2024-09-30 10:00:00", "2024-09-30 11:00:00", "ok"],
    ["w2", "weekly", "", "2024-10-07 10:00:00", "2024-10-07 12:00:01", "ok"],  # late
    ["m1", "month_end", "", "2024-09-30 08:00:00", "2024-09-30 18:00:00", "ok"],
    ["q1", "quarter", "", "2024-10-08 14:00:00", "2024-10-08 15:00:00", "ok"],
    ["s1", "sweep", "", "2024-10-01 00:00:00", "2024-10-01 00:30:00", "ok"],
    ["s2", "sweep", "", "2024-10-01 06:00:00", "2024-10-01 07:00:00", "ok"],  # at the limit
    ["s3", "sweep", "", "2024-10-13 18:00:00", "2024-10-13 18:40:00", "ok"],
    # 30 8 * * 1-5 with 1个工作日: windows overlap (Friday's runs to Monday 24:00)
    ["r1", "report", "", "2024-09-27 08:30:00", "2024-09-27 09:00:00", "ok"],
    ["r2", "report", "", "2024-09-30 08:30:00", "2024-09-30 09:00:00", "ok"],
    # a row after midnight: the evaluation time is 10-14 00:30
    ["a3", "alarm", "P1", "2024-10-14 00:05:00", "2024-10-14 00:30:00", "成功"],
]
FIELDS = ("due", "met", "pending")


def _playbook(tmp_path: Path, text: str = PLAYBOOK) -> Path:
    path = tmp_path / "wms.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _write(tmp_path: Path, rows: list[list[str]]) -> Path:
    log = tmp_path / "log.csv"
    with log.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([COLUMNS, *rows])
    return log


def _file(tmp_path: Path, rows: list[list[str]], text: str = PLAYBOOK) -> tuple[Any, Any, Any]:
    """(the playbook, the file path's facts, its ProcessMeasures)."""
    playbook = load_playbook(_playbook(tmp_path, text))
    calendar = WorkdayCalendar("official")
    read = read_events(
        _write(tmp_path, rows),
        process_measures.overall_limits(playbook),
        calendar=calendar,
        limit_for=process_measures.limit_for(playbook),
        names={n.name: n.id for n in playbook.nodes},
    )
    measures = process_measures.measure_process(playbook, read.facts, calendar, 1.0, read.as_of)
    return playbook, read, measures


def _file_counts(measures: Any) -> dict[str, tuple[int, int, int]]:
    return {
        node: (total, met, measures.pending_occurrences.get(node, 0))
        for node, (met, total) in measures.occurrences.items()
    }


def _greedy(playbook: Any, read: Any) -> dict[str, tuple[int, int, int]]:
    """The reference: process_measures' greedy match in Python over the same runs."""
    calendar = WorkdayCalendar("official")
    as_of = read.as_of.replace(tzinfo=None)
    days = process_measures._log_days(read.facts.span, None, as_of)
    out = {}
    for node in playbook.nodes:
        if node.schedule is None:
            continue
        runs = read.facts.ok_finishes[node.id]
        met, total, _missed = process_measures._matched(node, runs, days, calendar, 1.0, as_of)
        pending = len(process_measures._due_split(node, days, calendar, 1.0, as_of)[1])
        out[node.id] = (total, met, pending)
    return out


def _printed_counts(rows: list[dict[str, Any]]) -> dict[str, tuple[int, int, int]]:
    out = {}
    for row in rows:
        if row["level"] not in (None, "") or row["schedule_due"] in (None, ""):
            continue
        if float(row["schedule_shared_runs"]):  # the query leaves these to the file path
            continue
        out[row["node"]] = tuple(int(float(row[f"schedule_{name}"])) for name in FIELDS)
    return out


def _duckdb_rows(sql: str, rows: list[list[str]]) -> list[dict[str, Any]]:
    con = duckdb.connect()
    con.execute("CREATE TABLE events (" + ", ".join(f"{c} VARCHAR" for c in COLUMNS) + ")")
    con.executemany(
        "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?)", [[v or None for v in row] for row in rows]
    )
    cursor = con.execute(sql)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _query(tmp_path: Path, dialect: str, text: str = PLAYBOOK) -> str:
    return events_sql_for_playbook(
        load_playbook(_playbook(tmp_path, text)), table="events", dialect=dialect
    )


def test_schedules_by_hand_across_national_day_and_a_row_after_midnight(tmp_path: Path) -> None:
    playbook, read, measures = _file(tmp_path, ROWS)
    counts = _file_counts(measures)
    # 工作日 09:00: 8 due (09-27, 09-29 调休, 09-30, 10-08..10-12 调休), not 10-01..10-07;
    # 10-14 09:00 is pending at 00:30, never missed. Met: all but 09-29 (late), 10-09 (失败)
    assert counts["inspect"] == (8, 6, 1)
    # 每日 23:30 from 09-27 to 10-13 (17 due); 10-14 23:30 pending; met 09-27 and 10-13
    assert counts["backup"] == (17, 2, 1)
    # 每周一 10:00: 09-30 and 10-07 (late): 1 of 2; Monday 10-14 pending
    assert counts["weekly"] == (2, 1, 1)
    # 每月30日 (1天): 09-30 00:00, met by a run finishing at 18:00
    assert counts["month_end"] == (1, 1, 0)
    assert counts["quarter"] == (1, 1, 0)  # 每季度首月8日 14:00: 10-08 only
    # 每周五 18:00 with no row in the log: 09-27, 10-04 and 10-11 all missed
    assert counts["handover"] == (3, 0, 0)
    # 0 */6: 4 a day over 09-27..10-13 (68 due), 10-14's four pending (00:00 due at 01:00)
    assert counts["sweep"] == (68, 3, 4)
    assert measures.schedule_adherence["inspect"] == pytest.approx(6 / 8)
    # the first missed occurrences are named, the late run beside the late one
    count, first = measures.missed_occurrences["inspect"]
    assert count == 2
    assert first[0] == (datetime(2024, 9, 29, 9, 0), datetime(2024, 9, 29, 9, 40))
    assert first[1] == (datetime(2024, 10, 9, 9, 0), None)
    # the query's count is the greedy match's, for every node (report's windows overlap, and
    # with no run in two of them it is still exact)
    assert counts == _greedy(playbook, read)


def test_printed_query_gives_the_file_schedule_figures_in_duckdb(tmp_path: Path) -> None:
    _playbook_, _read, measures = _file(tmp_path, ROWS)
    sql = _query(tmp_path, "duckdb")
    assert "schedule_adherence" in sql and "工作日 09:00" in sql
    printed = _printed_counts(_duckdb_rows(sql, ROWS))
    assert printed == _file_counts(measures)
    assert printed["inspect"] == (8, 6, 1)


def test_printed_query_gives_the_file_schedule_figures_in_postgres(
    tmp_path: Path,
    postgres: str,  # noqa: F811
) -> None:
    _playbook_, _read, measures = _file(tmp_path, ROWS)
    rows = [[value or None for value in row] for row in ROWS]
    found = events_in_postgres(
        postgres, _query(tmp_path, "postgres"), COLUMNS, rows, tmp_path / "pg.csv"
    )
    assert _printed_counts(found) == _file_counts(measures)


def test_printed_query_gives_the_file_schedule_figures_in_spark(
    tmp_path: Path,
    spark: Any,  # noqa: F811
) -> None:
    from pyspark.sql.types import StringType, StructField, StructType

    _playbook_, _read, measures = _file(tmp_path, ROWS)
    schema = StructType([StructField(c, StringType(), True) for c in COLUMNS])
    rows = [[value or None for value in row] for row in ROWS]
    spark.createDataFrame(rows, schema).createOrReplaceTempView("events")
    result = spark.sql(_query(tmp_path, "spark").strip().rstrip(";"))
    assert _printed_counts([row.asDict() for row in result.collect()]) == _file_counts(measures)


def test_a_run_in_two_windows_is_matched_greedily_and_the_query_says_so(tmp_path: Path) -> None:
    """`30 8 * * 1-5` with 1个工作日: Friday's window runs to Monday 24:00, so a run on Monday
    morning lies in Friday's and Monday's. The greedy match gives it to Friday; the query
    does not guess: it counts the shared run and leaves schedule_adherence empty."""
    rows = [
        ["r1", "report", "", "2024-10-17 08:30:00", "2024-10-17 08:40:00", "ok"],  # Thu
        ["r2", "report", "", "2024-10-21 08:30:00", "2024-10-21 08:40:00", "ok"],  # Mon
        ["r3", "report", "", "2024-10-21 09:00:00", "2024-10-21 09:10:00", "ok"],  # Mon
        ["a1", "alarm", "P1", "2024-10-23 08:00:00", "2024-10-23 08:10:00", "ok"],
    ]
    playbook, read, measures = _file(tmp_path, rows)
    assert _file_counts(measures)["report"] == _greedy(playbook, read)["report"]
    result = _duckdb_rows(_query(tmp_path, "duckdb"), rows)
    report = next(r for r in result if r["node"] == "report" and r["level"] is None)
    assert report["schedule_shared_runs"] > 0 and report["schedule_adherence"] is None
    assert "schedule_shared_runs > 0" in _query(tmp_path, "duckdb")


@pytest.mark.parametrize("seed", range(6))
def test_random_runs_agree_with_the_greedy_match(tmp_path: Path, seed: int) -> None:
    """Random `ok` runs (some early, late, doubled, after midnight) over six weeks around
    国庆: the query's counts equal process_measures' greedy match, node by node."""
    rng = random.Random(seed)
    start = datetime(2024, 9, 20)
    rows = [["a0", "alarm", "P1", "2024-09-20 00:00:00", "2024-09-20 00:01:00", "ok"]]
    nodes = ["inspect", "backup", "weekly", "month_end", "quarter", "sweep", "report"]
    for index in range(400):
        node = rng.choice(nodes)
        begin = start + timedelta(minutes=rng.randrange(0, 42 * 24 * 60))
        length = timedelta(minutes=rng.choice([1, 10, 29, 30, 31, 59, 60, 61, 200, 1500]))
        status = rng.choice(["ok", "ok", "ok", "成功", "失败"])
        rows.append(
            [
                f"x{index}",
                node,
                "",
                f"{begin:%Y-%m-%d %H:%M:%S}",
                f"{begin + length:%Y-%m-%d %H:%M:%S}",
                status,
            ]
        )
    playbook, read, measures = _file(tmp_path, rows)
    assert _file_counts(measures) == _greedy(playbook, read)
    assert (
        _printed_counts(_duckdb_rows(_query(tmp_path, "duckdb"), rows)).items()
        <= _file_counts(measures).items()
    )


def test_a_playbook_without_schedules_prints_no_schedule_ctes(tmp_path: Path) -> None:
    text = "\n".join(line for line in PLAYBOOK.splitlines() if "schedule:" not in line) + "\n"
    sql = _query(tmp_path, "duckdb", text)
    assert "sd AS" not in sql and "ok_runs" not in sql
    rows = _duckdb_rows(sql, ROWS[:2])
    assert all(row["schedule_due"] is None for row in rows)


CRON = """\
apiVersion: opsplay/v1
kind: Playbook
metadata: {id: cron-check, title: 定时任务, version: "1.0.0", status: pilot, owner: lead, updated: 2024-09-20}
goal: {statement: 定时任务按时率提升到99%, metric: done, baseline: 0.9, target: 0.99, deadline: 2024-12-31}
roles: [{id: lead, name: 值班负责人}]
metrics: [{id: done, name: 完成率, kind: proportion, column: done, better: higher}]
nodes:
  - {id: alarm, name: 报警处置, owner: lead, entry: true, sla: 30分钟, next: []}
  - {id: job, name: 定时任务, owner: lead, entry: true, schedule: 'CRON', sla: 45分钟, next: []}
"""


@pytest.mark.parametrize(
    "cron",
    [
        "0 9 1,15 * 1",  # the 1st, the 15th or a Monday (cron reads both days as either)
        "0 9 L * *",  # the month's last day
        "30 17 * 9,10 5",  # Fridays of September and October
        "*/30 8-9 * * *",  # four times a morning
        "0 9 31 * *",  # the 31st (no clamping in cron: 30-day months have none)
        "0 12 * * 0,6",  # weekends, 国庆 or not
    ],
)
def test_cron_forms_agree_with_croniter_and_the_greedy_match(tmp_path: Path, cron: str) -> None:
    rng = random.Random(cron)
    rows = [["a0", "alarm", "", "2024-09-01 00:00:00", "2024-09-01 00:10:00", "ok"]]
    for _index in range(150):
        begin = datetime(2024, 9, 1) + timedelta(minutes=rng.randrange(0, 75 * 24 * 60))
        end = begin + timedelta(minutes=rng.choice([5, 44, 45, 46, 90]))
        rows.append(
            ["j", "job", "", f"{begin:%Y-%m-%d %H:%M:%S}", f"{end:%Y-%m-%d %H:%M:%S}", "ok"]
        )
    # runs on the hour of most occurrences, so that many are met
    for day in range(75):
        at = datetime(2024, 9, 1, 9, 10) + timedelta(days=day)
        rows.append(["k", "job", "", f"{at:%Y-%m-%d %H:%M:%S}", f"{at:%Y-%m-%d %H:%M:%S}", "ok"])
    text = CRON.replace("CRON", cron)
    playbook, read, measures = _file(tmp_path, rows, text)
    counts = _file_counts(measures)
    assert counts == _greedy(playbook, read)
    assert counts["job"][0] > 0
    printed = _printed_counts(_duckdb_rows(_query(tmp_path, "duckdb", text), rows))
    if cron.startswith("*/30"):  # 45 minutes past an occurrence 30 minutes apart: shared
        assert printed == {}
    else:
        assert printed == counts


def test_the_pilot_window_clips_the_days_in_the_printed_query_too(tmp_path: Path) -> None:
    """test_measures' incident playbook has a pilot window: occurrences before it (and
    after it) are not counted, in the file path and in the printed query alike."""
    from tests.process.test_measures import PLAYBOOK as INCIDENT
    from tests.process.test_measures import _log

    text = INCIDENT.read_text(encoding="utf-8")
    log = _log(tmp_path)
    with log.open(encoding="utf-8") as handle:
        rows = [[cell for cell in row] for row in csv.reader(handle)]
    header, body = rows[0], rows[1:]
    playbook = load_playbook(_playbook(tmp_path, text))
    calendar = WorkdayCalendar("official")
    read = read_events(
        log,
        process_measures.overall_limits(playbook),
        calendar=calendar,
        limit_for=process_measures.limit_for(playbook),
        names={n.name: n.id for n in playbook.nodes},
    )
    measures = process_measures.measure_process(playbook, read.facts, calendar, 1.0, read.as_of)
    assert measures.schedule_adherence["inspect"] == pytest.approx(6 / 9)
    sql = events_sql_for_playbook(playbook, table="events", dialect="duckdb")
    assert "GREATEST" in sql  # the window's first day
    con = duckdb.connect()
    con.execute("CREATE TABLE events (" + ", ".join(f'"{c}" VARCHAR' for c in header) + ")")
    con.executemany(
        f"INSERT INTO events VALUES ({', '.join('?' * len(header))})",
        [[cell or None for cell in row] for row in body],
    )
    cursor = con.execute(sql)
    names = [column[0] for column in cursor.description]
    result = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    assert _printed_counts(result) == _file_counts(measures)
