"""`pilot sql --events` and the file path agree on every node figure with per-level limits,
calendar limits across 国庆 and 调休, cut-offs and open cases (SPEC 12), in DuckDB, a real
PostgreSQL (pgserver) and a local Spark."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import duckdb
import pytest

from opsplay.nodes import measures as process_measures
from opsplay.nodes.log import read_events
from opsplay.nodes.sql import events_sql_for_playbook
from opsplay.validate import load_playbook
from opsplay.workdays import WorkdayCalendar
from tests.pilot.test_warehouse import postgres, run_in_postgres, spark  # noqa: F401 (fixtures)

COLUMNS = ["case_id", "node", "level", "started_at", "finished_at", "status"]
PLAYBOOK = """\
apiVersion: opsplay/v1
kind: Playbook
metadata: {id: claims, title: 售后理赔, version: "1.0.0", status: pilot, owner: lead, updated: 2024-09-20}
goal: {statement: 理赔3个工作日内完成率提升到95%, metric: done, baseline: 0.7, target: 0.95, deadline: 2024-12-31}
roles: [{id: lead, name: 主管}]
levels: [{id: P1, name: 加急}, {id: P2, name: 普通}]
calendars: [{id: 客服班次, hours: "09:00-12:00,13:30-21:00", days: 工作日}]
metrics: [{id: done, name: 完成率, kind: proportion, column: done, better: higher}]
nodes:
  - {id: review, name: 审核, owner: lead, sla: {P1: 1个工作日, P2: 3个工作日, default: 2小时}, fallback: {when: [timeout], action: 升级}}
  - {id: pay, name: 赔付, owner: lead, sla: T+1, fallback: {when: [timeout], action: 升级}}
  - {id: reply, name: 回复, owner: lead, sla: 当天18点前, fallback: {when: [timeout], action: 升级}}
  - {id: ship, name: 补发, owner: lead, sla: 次日12点前, fallback: {when: [timeout], action: 升级}}
  - {id: call, name: 回访, owner: lead, sla: {P1: 30分钟}, fallback: {when: [timeout], action: 升级}}
  - {id: deliver, name: 送达, owner: lead, sla: 第二天12点前, fallback: {when: [timeout], action: 升级}}
  - {id: cs, name: 客服回复, owner: lead, calendar: 客服班次, sla: {P1: 1小时, P2: 3小时}, fallback: {when: [timeout], action: 升级}, next: []}
"""
# Around National Day 2024 (holiday 10-01..10-07; make-up days Sun 09-29 and Sat 10-12).
ROWS = [
    ["c1", "review", "P1", "2024-09-30 16:30:00", "2024-10-08 23:00:00", "成功"],  # due 10-09 00:00
    ["c2", "review", "P1", "2024-09-30 16:30:00", "2024-10-09 00:00:01", "成功"],  # late
    ["c3", "审核", "P2", "2024-10-10 09:00:00", "2024-10-14 15:30:00", "ok"],  # 3rd working day pm
    ["c4", "review", "P2", "2024-10-09 14:00:00", "2024-10-13 10:00:00", "ok"],  # due 10-13 00:00
    ["c5", "review", "", "2024-10-08 10:00:00", "2024-10-08 11:30:00", "ok"],  # default 2小时
    ["c6", "review", "P3", "2024-10-08 10:00:00", "2024-10-08 12:30:00", "ok"],  # default, late
    ["c7", "review", "P1", "2024-10-10 09:00:00", "", "成功"],  # open: due 10-12 00:00, breached
    ["c8", "pay", "", "2024-10-11 18:00:00", "2024-10-12 23:59:59", "成功"],  # Sat 10-12 works
    ["c9", "pay", "", "2024-10-08 10:00:00", "2024-10-10 00:00:01", "超时"],  # late
    ["c10", "reply", "", "2024-10-09 09:00:00", "2024-10-09 17:59:00", "ok"],
    ["c11", "reply", "", "2024-09-30 19:00:00", "2024-10-08 17:00:00", "ok"],  # after 18:00
    ["c12", "reply", "", "2024-10-12 20:00:00", "2024-10-14 18:30:00", "ok"],  # due 10-14 18:00
    ["c13", "ship", "", "2024-09-30 18:00:00", "2024-10-08 11:00:00", "ok"],  # 10-08 12:00
    ["c14", "ship", "", "2024-10-12 09:00:00", "2024-10-14 12:00:01", "ok"],  # late
    ["c15", "ship", "", "2024-10-14 09:00:00", "", "ok"],  # open, due 10-15 12:00: pending
    ["c16", "call", "P1", "2024-10-14 10:00:00", "2024-10-14 10:20:00", "ok"],
    ["c17", "call", "P2", "2024-10-14 10:00:00", "2024-10-14 13:20:00", "ok"],  # no limit
    ["c18", "call", "", "2024-10-14 10:00:00", "2024-10-14 10:40:00", "ok"],  # the only: late
    ["c19", "review", "P2", "2024-10-14 09:00:00", "", "跳过"],  # skipped: not open
    # 客服班次 09:00-12:00 and 13:30-21:00 on working days
    ["c20", "cs", "P1", "2024-09-30 20:30:00", "2024-10-08 09:30:00", "ok"],  # due 10-08 09:30
    ["c21", "cs", "P1", "2024-10-08 11:30:00", "2024-10-08 14:00:00", "ok"],  # due 14:00
    ["c22", "cs", "P2", "2024-10-08 11:00:00", "2024-10-08 16:00:01", "ok"],  # due 16:00: late
    ["c23", "cs", "P1", "2024-10-13 10:00:00", "", "ok"],  # Sunday: due Mon 10:00, breached
    # 第二天12点前: the next calendar day, holidays and weekends counted
    ["c24", "deliver", "", "2024-09-30 18:00:00", "2024-10-01 11:00:00", "ok"],  # 国庆 10-01
    ["c25", "deliver", "", "2024-10-05 09:00:00", "2024-10-06 12:00:01", "ok"],  # late
    ["c26", "deliver", "", "2024-10-13 22:00:00", "", "ok"],  # due 10-14 12:00: breached
    # written in full width (the query read `Ｏｋ` as no status word: a try-out's 完成率 fell)
    ["c27", "ＰＡＹ", "", "2024-10-14 09:00:00", "2024-10-14 10:00:00", "Ｏｋ"],
    ["c28", "赔付", "", "2024-10-14 09:00:00", "2024-10-14 11:00:00", " ＯＫ "],
]
KEYS = ("count", "ok", "timed", "within_sla", "checked", "open", "breached_open", "pending")


def test_business_hours_in_the_query_match_the_python_calendar(tmp_path: Path) -> None:
    """200 random starts: a finish exactly at opsplay.model.hours' deadline is within, one
    nanosecond later is not, in the query the file path runs."""
    import random
    from datetime import datetime, timedelta

    from opsplay.model.hours import BusinessHours, parse_hours

    hours = BusinessHours("客服班次", parse_hours("09:00-12:00,13:30-21:00"), "workdays")
    calendar = WorkdayCalendar("official")
    rng = random.Random(12)
    rows = [COLUMNS]
    for index in range(100):
        start = datetime(2024, 9, 25) + timedelta(minutes=rng.randrange(0, 30 * 24 * 60))
        length = rng.choice([1800, 3600, 3 * 3600, 10800 + 60])
        level = "P1" if length == 3600 else "P2"
        if length not in (3600, 10800):
            continue
        due = hours.deadline(start, length, calendar.is_working_day)
        late = due + timedelta(microseconds=1)
        rows.append(
            [
                f"w{index}",
                "cs",
                level,
                f"{start:%Y-%m-%d %H:%M:%S}",
                f"{due:%Y-%m-%d %H:%M:%S.%f}",
                "ok",
            ]
        )
        rows.append(
            [
                f"l{index}",
                "cs",
                level,
                f"{start:%Y-%m-%d %H:%M:%S}",
                f"{late:%Y-%m-%d %H:%M:%S.%f}",
                "ok",
            ]
        )
    log = tmp_path / "log.csv"
    with log.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    playbook = load_playbook(_playbook(tmp_path))
    read = read_events(
        log,
        process_measures.overall_limits(playbook),
        calendar=calendar,
        limit_for=process_measures.limit_for(playbook),
    )
    cs = next(node for node in read.nodes if node.node == "cs")
    pairs = (len(rows) - 1) // 2
    assert cs.count == 2 * pairs and cs.sla_compliance == pytest.approx(0.5)
    assert cs.missed_cases[""][0] == pairs
    assert all(case.startswith("l") for case in cs.missed_cases[""][1])


def events_in_postgres(
    uri: str, sql: str, columns: list[str], rows: list[list[str]], out: Path
) -> list[dict]:
    """The rows loaded as they are as table `events` (text columns) in the PostgreSQL at
    `uri`, and the result of `sql` there, one dict a row."""
    import psycopg

    with psycopg.connect(uri) as con:
        con.execute('DROP TABLE IF EXISTS "events"')
        con.execute('CREATE TABLE "events" (' + ", ".join(f'"{c}" TEXT' for c in columns) + ")")
        with con.cursor() as cur:
            marks = ", ".join(["%s"] * len(columns))
            cur.executemany(f'INSERT INTO "events" VALUES ({marks})', rows)
    with run_in_postgres(uri, sql, out).open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _playbook(tmp_path: Path, clock: bool = False) -> Path:
    path = tmp_path / "claims.yaml"
    path.write_text(PLAYBOOK, encoding="utf-8")
    if clock:
        (tmp_path / ".opsplay.toml").write_text('workday_limits = "clock"\n', encoding="utf-8")
    return path


def _file_figures(tmp_path: Path, clock: bool) -> dict[str, dict[str, float]]:
    """The file path's figures (read_events with the playbook's per-level limits)."""
    playbook = load_playbook(_playbook(tmp_path, clock))
    log = tmp_path / "log.csv"
    with log.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([COLUMNS, *ROWS])
    read = read_events(
        log,
        process_measures.overall_limits(playbook),
        calendar=WorkdayCalendar("official", "clock" if clock else "day_end"),
        limit_for=process_measures.limit_for(playbook),
        names={n.name: n.id for n in playbook.nodes},
    )
    return _read_figures(read)


def _read_figures(read: Any) -> dict[str, dict[str, float]]:
    """Each node's figures and each node and level's (`node/level`), as `_same` compares
    them with the query's rows."""
    out: dict[str, dict[str, float]] = {}
    for node in read.nodes:
        ok = round(node.completion_rate * node.count) if node.count else 0
        out[node.node] = {
            "count": node.count,
            "ok": ok,
            "timed": node.timed,
            "open": node.open,
            "breached_open": node.breached_open,
            "pending": node.pending,
            "sla_compliance": node.sla_compliance,
            "p50_s": node.p50_s,
            "p95_s": node.p95_s,
            "sla_s": node.sla_s,
        }
    # the level rows: the query's per-level figures, as `pilot compare --events` reads them
    for node, levels in read.facts.levels.items():
        for level, figures in levels.items():
            out[f"{node}/{level}"] = {
                "count": figures.count,
                "ok": figures.statuses["ok"],
                "timed": figures.timed,
                "open": figures.open,
                "breached_open": figures.breached_open,
                "pending": figures.pending,
                "sla_compliance": figures.within / figures.checked if figures.checked else None,
                "p50_s": figures.p50_s,
                "p95_s": figures.p95_s,
            }
    return out


def _query(tmp_path: Path, dialect: str, clock: bool) -> str:
    playbook = load_playbook(_playbook(tmp_path, clock))
    return events_sql_for_playbook(
        playbook,
        table="events",
        dialect=dialect,
        workday_limits="clock" if clock else "day_end",
    )


def _same(file: dict, rows: list[dict]) -> None:
    """The query's node rows (`level` empty) and level rows (`node/level`) are the file's."""
    by_node = {
        row["node"] if row["level"] in (None, "") else f"{row['node']}/{row['level']}": row
        for row in rows
    }
    assert set(by_node) == set(file)
    for node, expected in file.items():
        row = {
            k: (float(v) if v not in (None, "") else None)
            for k, v in by_node[node].items()
            if k not in ("node", "level")
        }
        for key in ("count", "ok", "timed", "open", "breached_open", "pending"):
            assert row[key] == expected[key], (node, key, row[key], expected[key])
        compliance = row["within_sla"] / row["checked"] if row["checked"] else None
        assert compliance == pytest.approx(expected["sla_compliance"]), node
        for key in ("p50_s", "p95_s", "sla_s"):
            if key in expected:
                assert row[key] == pytest.approx(expected[key]), (node, key)


@pytest.mark.parametrize("clock", [False, True])
def test_duckdb_runs_the_printed_query_and_agrees_with_the_file(
    tmp_path: Path, clock: bool
) -> None:
    file = _file_figures(tmp_path, clock)
    # c1, c3 (the afternoon of its 3rd working day) and c5 within, of c1–c6 and the open c7;
    # read at the start's clock time (`workday_limits = "clock"`) only c5 is
    assert file["review"]["sla_compliance"] == pytest.approx(3 / 7 if not clock else 1 / 7)
    assert file["deliver"]["sla_compliance"] == pytest.approx(1 / 3)  # c24 of c24–c26
    assert file["deliver"]["breached_open"] == 1
    con = duckdb.connect()
    con.execute("CREATE TABLE events (" + ", ".join(f"{c} VARCHAR" for c in COLUMNS) + ")")
    con.executemany(
        "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?)",
        [[value or None for value in row] for row in ROWS],
    )
    cursor = con.execute(_query(tmp_path, "duckdb", clock))
    names = [column[0] for column in cursor.description]
    _same(file, [dict(zip(names, row, strict=True)) for row in cursor.fetchall()])


def test_postgres_runs_the_printed_query_and_agrees(tmp_path: Path, postgres: str) -> None:  # noqa: F811
    file = _file_figures(tmp_path, False)
    query = _query(tmp_path, "postgres", False)
    rows = [[value or None for value in row] for row in ROWS]
    _same(file, events_in_postgres(postgres, query, COLUMNS, rows, tmp_path / "pg.csv"))


def test_spark_runs_the_printed_query_and_agrees(tmp_path: Path, spark: object) -> None:  # noqa: F811
    from pyspark.sql.types import StringType, StructField, StructType

    file = _file_figures(tmp_path, False)
    schema = StructType([StructField(c, StringType(), True) for c in COLUMNS])
    rows = [[value or None for value in row] for row in ROWS]
    spark.createDataFrame(rows, schema).createOrReplaceTempView("events")  # type: ignore[attr-defined]
    result = spark.sql(_query(tmp_path, "spark", False).strip().rstrip(";"))  # type: ignore[attr-defined]
    _same(file, [row.asDict() for row in result.collect()])


def test_blank_times_written_as_empty_text_read_as_no_time(tmp_path: Path, postgres: str) -> None:  # noqa: F811
    """Issue 21 try-out: loaders of text tables write a blank finish time as '' (not NULL);
    the printed query read it as a timestamp and failed. In DuckDB and PostgreSQL it is now
    no time, as NULL is, and the figures are the file's."""

    file = _file_figures(tmp_path, False)
    blanked = [["" if value is None else value for value in row] for row in ROWS]
    con = duckdb.connect()
    con.execute("CREATE TABLE events (" + ", ".join(f"{c} VARCHAR" for c in COLUMNS) + ")")
    con.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?)", blanked)
    cursor = con.execute(_query(tmp_path, "duckdb", False))
    names = [column[0] for column in cursor.description]
    _same(file, [dict(zip(names, row, strict=True)) for row in cursor.fetchall()])
    query = _query(tmp_path, "postgres", False)
    _same(file, events_in_postgres(postgres, query, COLUMNS, blanked, tmp_path / "pg.csv"))


def test_db_reads_the_tables_chinese_column_names(tmp_path: Path) -> None:
    """`pilot sql --events --db`: a table whose columns are 工单号/节点/级别/开始时间/结束时间/
    状态 (as teams export them) gets a query that reads them, and agrees with the file path;
    without --db the query reads the English names (and fails on this table)."""
    from typer.testing import CliRunner

    from opsplay.cli import app

    file = _file_figures(tmp_path, clock=False)
    database = tmp_path / "ops.duckdb"
    chinese = ["工单号", "节点", "级别", "开始时间", "结束时间", "状态"]
    with duckdb.connect(str(database)) as con:
        con.execute("CREATE TABLE 理赔日志 (" + ", ".join(f"{c} VARCHAR" for c in chinese) + ")")
        con.executemany(
            "INSERT INTO 理赔日志 VALUES (?, ?, ?, ?, ?, ?)",
            [[value or None for value in row] for row in ROWS],
        )
    command = ["pilot", "sql", str(tmp_path / "claims.yaml"), "--events", "--table", "理赔日志"]
    printed = CliRunner().invoke(app, [*command, "--db", str(database)])
    assert printed.exit_code == 0, printed.output
    assert '"节点"' in printed.stdout and '"开始时间"' in printed.stdout
    with duckdb.connect(str(database), read_only=True) as con:
        cursor = con.execute(printed.stdout)
        names = [column[0] for column in cursor.description]
        _same(file, [dict(zip(names, row, strict=True)) for row in cursor.fetchall()])
        plain = CliRunner().invoke(app, command)
        with pytest.raises(duckdb.BinderException):
            con.execute(plain.stdout)
    missing = CliRunner().invoke(app, [*command[:-1], "没有这张表", "--db", str(database)])
    assert missing.exit_code != 0 and "没有这张表" in missing.output


def test_the_query_says_which_years_its_calendar_covers() -> None:
    """`cal`'s holidays are bare day numbers: the query says what they are and which years the
    official calendar covers (a try-out: a log reaching 2027 was counted Monday to Friday in
    silence), in the message language; a `weekdays` calendar says so instead."""
    import chinese_calendar

    from opsplay.i18n import language

    years = sorted({day.year for day in chinese_calendar.holidays})
    playbook = load_playbook(
        Path(__file__).resolve().parents[2] / "playbooks" / "complaint-handling.yaml"
    )
    with language("zh"):
        chinese = events_sql_for_playbook(playbook, table="t", dialect="duckdb")
    assert f"-- `cal`：{years[0]}–{years[-1]} 年中国大陆的法定节假日与调休上班日" in chinese
    with language("en"):
        weekdays = events_sql_for_playbook(
            playbook, table="t", dialect="postgres", calendar="weekdays"
        )
    assert "-- `cal`: Monday to Friday are working days" in weekdays
    assert "12418" not in weekdays  # no holidays listed
