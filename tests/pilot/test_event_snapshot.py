"""The node log as it stood at the evaluation time, and levels written in another case or width
(issue 21 try-out, findings 5 and 6; SPEC 12, 6).

Finding 5: a back-test `--as-of "2026-10-09 21:00"` over a log running to 10-10 01:40 counted
the rows as they stand at the log's end. The lead's hand count of the log as it stood at
21:00 fired the P2 alert (75.0 % < 80 %), opsplay did not (80.0 %). Now a row started after
T is not counted, a case finished after T was still open at T (whatever its status word),
in the file path and in the query `pilot sql --events --as-of` prints (DuckDB, PostgreSQL,
Spark), and `watch --as-of` in the past gives the same figures.

Finding 6: `p1`, `Ｐ１`, ` P1 ` in a log are P1 (unless the playbook declares both `p1` and
`P1`), in the file path and the printed query alike.
"""

from __future__ import annotations

import csv
import json
import statistics
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pytest
from typer.testing import CliRunner

from opsplay.cli import app
from opsplay.nodes import measures as process_measures
from opsplay.nodes.log import read_events
from opsplay.validate import load_playbook
from opsplay.workdays import WorkdayCalendar
from tests.pilot.test_events_sql import _read_figures, _same, events_in_postgres
from tests.pilot.test_warehouse import postgres, spark  # noqa: F401 (fixtures)

runner = CliRunner()
PLAYBOOK = """\
apiVersion: opsplay/v1
kind: Playbook
metadata: {id: oncall, title: 值班故障处置, version: "1.0.0", status: pilot, owner: lead, updated: 2026-09-20}
goal: {statement: 故障处置及时率提升到90%, metric: done, baseline: 0.7, target: 0.9, deadline: 2026-12-31}
roles: [{id: lead, name: 值班主管}]
levels: [{id: P1, name: 一级故障}, {id: P2, name: 二级故障}]
metrics: [{id: done, name: 完成率, kind: proportion, column: done, better: higher}]
nodes:
  - {id: handle, name: 故障处置, owner: lead, sla: {P1: 30分钟, P2: 2小时}, fallback: {when: [timeout], action: 升级}, next: []}
alerts:
  - {id: 处置P2超时, node: handle, level: P2, measure: sla_compliance, op: "<", threshold: 0.8}
"""
HEADER = ["工单号", "节点", "开始时间", "结束时间", "状态", "级别"]
COLUMNS = ["case_id", "node", "started_at", "finished_at", "status", "level"]
# Friday 2026-10-09; the evaluation time is 21:00, the log runs to 10-10 01:40
AS_OF = "2026-10-09 21:00"
ROWS = [
    ["GZ-01", "故障处置", "2026-10-09 09:00", "2026-10-09 09:40", "成功", "P2"],  # 40 min
    ["GZ-02", "故障处置", "2026-10-09 10:00", "2026-10-09 10:50", "成功", "P2"],  # 50
    ["GZ-03", "故障处置", "2026-10-09 11:00", "2026-10-09 12:30", "成功", "P2"],  # 90
    ["GZ-04", "故障处置", "2026-10-09 13:00", "2026-10-09 13:30", "成功", "P2"],  # 30
    ["GZ-05", "故障处置", "2026-10-09 14:00", "2026-10-09 15:45", "成功", "P2"],  # 105
    ["GZ-06", "故障处置", "2026-10-09 16:00", "2026-10-09 17:00", "成功", "P2"],  # 60
    ["GZ-07", "故障处置", "2026-10-09 15:00", "2026-10-09 17:30", "超时", "P2"],  # 150: late
    # finished after 21:00 with 成功: open at 21:00, due 20:00: breached then
    ["GZ-08", "故障处置", "2026-10-09 18:00", "2026-10-09 21:10", "成功", "P2"],
    # finished after 21:00 within its 2 hours: open at 21:00, due 21:30: pending then
    ["GZ-09", "故障处置", "2026-10-09 19:30", "2026-10-09 21:20", "成功", "P2"],
    ["GZ-10", "故障处置", "2026-10-09 20:00", "2026-10-09 20:20", "成功", "P1"],  # 20 of 30
    # started after 21:00: not in the log at 21:00
    ["GZ-11", "故障处置", "2026-10-10 00:25", "2026-10-10 01:40", "成功", "P2"],
]


def _project(tmp_path: Path, rows: list[list[str]] = ROWS, playbook: str = PLAYBOOK) -> Path:
    (tmp_path / ".opsplay.toml").write_text(
        '[tool.opsplay]\ntimezone = "Asia/Shanghai"\n', encoding="utf-8"
    )
    path = tmp_path / "oncall.yaml"
    path.write_text(playbook, encoding="utf-8")
    with (tmp_path / "值班日志.csv").open("w", encoding="gbk", newline="") as handle:
        csv.writer(handle).writerows([HEADER, *rows])
    return path


def _file(tmp_path: Path, as_of: datetime | None) -> Any:
    playbook = load_playbook(tmp_path / "oncall.yaml")
    return read_events(
        tmp_path / "值班日志.csv",
        process_measures.overall_limits(playbook),
        calendar=WorkdayCalendar("official"),
        limit_for=process_measures.limit_for(playbook),
        names={n.name: n.id for n in playbook.nodes},
        timezone=ZoneInfo("Asia/Shanghai"),
        as_of=as_of,
    )


def _table_rows(rows: list[list[str]]) -> list[list[str | None]]:
    """The log's rows in the warehouse's column order (case_id, node, started_at, …)."""
    return [
        [row[0], row[1], row[2] + ":00", row[3] + ":00" if row[3] else None, *row[4:]]
        for row in rows
    ]


def _printed(playbook: Path, dialect: str, *more: str) -> str:
    args = ["pilot", "sql", str(playbook), "--events", "--table", "events", "--dialect", dialect]
    result = runner.invoke(app, [*args, *more])
    assert result.exit_code == 0, result.output
    return result.stdout


def _in_duckdb(sql: str, rows: list[list[str | None]]) -> list[dict[str, Any]]:
    con = duckdb.connect()
    con.execute("CREATE TABLE events (" + ", ".join(f"{c} VARCHAR" for c in COLUMNS) + ")")
    con.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?)", rows)
    cursor = con.execute(sql)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def test_the_log_as_it_stood_at_the_evaluation_time(tmp_path: Path) -> None:
    """The lead's hand count at 21:00: GZ-11 not there yet; GZ-08 and GZ-09 still open."""
    _project(tmp_path)
    read = _file(tmp_path, datetime(2026, 10, 9, 21, 0))
    handle = read.nodes[0]
    assert (handle.count, handle.timed, handle.open) == (10, 8, 2)
    assert (handle.breached_open, handle.pending) == (1, 1)  # GZ-08, GZ-09
    # within: GZ-01..06 and GZ-10; checked: the 8 finished and GZ-08
    assert handle.sla_compliance == pytest.approx(7 / 9)
    p2 = read.facts.levels["handle"]["P2"]
    assert (p2.count, p2.within, p2.checked) == (9, 6, 8)  # 75.0 %: the alert fires
    # the rows finished by 21:00, checked against Python's own quantiles
    minutes = [40, 50, 90, 30, 105, 60, 150, 20]
    assert handle.p50_s == pytest.approx(statistics.median(minutes) * 60)
    p95 = statistics.quantiles(minutes, n=20, method="inclusive")[-1]
    assert handle.p95_s == pytest.approx(p95 * 60)
    # (ok counts only what had finished ok by then: GZ-08 and GZ-09 said 成功 later)
    assert handle.completion_rate == pytest.approx(7 / 10)
    assert "1 row started after" in read.notices[0] or "1 行" in read.notices[0]

    # the default evaluation time, the log's last timestamp: every row as it stands
    whole = _file(tmp_path, None).nodes[0]
    assert (whole.count, whole.open) == (11, 0)
    assert whole.as_of.startswith("2026-10-10T01:40:00")
    p2_whole = _file(tmp_path, None).facts.levels["handle"]["P2"]
    assert (p2_whole.within, p2_whole.checked) == (8, 10)  # 80.0 %: what opsplay said before
    assert _file(tmp_path, None).notices == ()


def test_the_printed_query_agrees_in_duckdb_and_postgres(
    tmp_path: Path,
    postgres: str,  # noqa: F811
) -> None:
    playbook = _project(tmp_path)
    file = _read_figures(_file(tmp_path, datetime(2026, 10, 9, 21, 0)))
    assert file["handle/P2"]["sla_compliance"] == pytest.approx(6 / 8)
    rows = _table_rows(ROWS)
    sql = _printed(playbook, "duckdb", "--as-of", AS_OF)
    assert "-- 按评估时刻时表的样子读取：在 as_of 之后开始的行不计入" in sql
    _same(file, _in_duckdb(sql, rows))
    sql = _printed(playbook, "postgres", "--as-of", AS_OF)
    _same(file, events_in_postgres(postgres, sql, COLUMNS, rows, tmp_path / "pg.csv"))
    # without --as-of, the table's last timestamp: nothing cut, as the file path
    whole = _read_figures(_file(tmp_path, None))
    assert whole["handle"]["count"] == 11
    _same(whole, _in_duckdb(_printed(playbook, "duckdb"), rows))


def test_the_printed_query_agrees_in_spark(tmp_path: Path, spark: object) -> None:  # noqa: F811
    from pyspark.sql.types import StringType, StructField, StructType

    playbook = _project(tmp_path)
    file = _read_figures(_file(tmp_path, datetime(2026, 10, 9, 21, 0)))
    schema = StructType([StructField(c, StringType(), True) for c in COLUMNS])
    view = spark.createDataFrame(_table_rows(ROWS), schema)  # type: ignore[attr-defined]
    view.createOrReplaceTempView("events")
    sql = _printed(playbook, "spark", "--as-of", AS_OF).strip().rstrip(";")
    _same(file, [row.asDict() for row in spark.sql(sql).collect()])  # type: ignore[attr-defined]


def test_watch_as_of_in_the_past_fires_the_alert(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`watch --as-of` at the lead's back-test time: the file path's figures, the P2 alert
    fires, and a note on stderr says the log was read as it stood at 21:00."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OPSPLAY_STATE", raising=False)
    playbook = _project(tmp_path)
    args = ["watch", str(playbook), "--events", "值班日志.csv", "--as-of", AS_OF]
    state = ["--state", str(tmp_path / "s.db")]
    result = runner.invoke(app, ["--lang", "zh", *args, *state, "--format", "json"])
    document = json.loads(result.stdout)
    handle = next(node for node in document["nodes"] if node["node"] == "handle")
    assert (handle["count"], handle["open"], handle["breached_open"]) == (10, 2, 1)
    assert [a["id"] for a in document["alerts"] if a["fired"]] == ["处置P2超时"]
    assert "opsplay：提示：" in result.stderr and "1 行在评估时刻" in result.stderr
    assert "2026-10-09 21:00" in result.stderr
    english = runner.invoke(app, ["--lang", "en", *args, "--state", str(tmp_path / "e.db")])
    assert "opsplay: note: " in english.stderr and "1 row started after" in english.stderr
    # at the log's end (no --as-of would be now: given as its last time) nothing is said
    late = runner.invoke(app, [*args[:-1], "2026-10-10 01:40", "--state", str(tmp_path / "l.db")])
    assert "提示" not in late.stderr and "note" not in late.stderr


LEVELS = [
    ["L-1", "故障处置", "2026-10-09 09:00", "2026-10-09 09:20", "成功", "p1"],  # 20 min: within
    ["L-2", "故障处置", "2026-10-09 10:00", "2026-10-09 10:45", "成功", "Ｐ１"],  # 45: late
    ["L-3", "故障处置", "2026-10-09 11:00", "2026-10-09 11:10", "成功", " P1 "],  # within
    ["L-4", "故障处置", "2026-10-09 12:00", "2026-10-09 13:00", "成功", "p2"],  # 60 of 120
    ["L-5", "故障处置", "2026-10-09 13:00", "2026-10-09 13:50", "成功", "P3"],  # no limit
]


def test_levels_in_another_case_or_width_are_the_declared_level(
    tmp_path: Path,
    postgres: str,  # noqa: F811
) -> None:
    playbook = _project(tmp_path, LEVELS)
    read = _file(tmp_path, None)
    levels = read.facts.levels["handle"]
    assert sorted(levels) == ["P1", "P2", "P3"]
    assert (levels["P1"].count, levels["P1"].within, levels["P1"].checked) == (3, 2, 3)
    assert (levels["P2"].count, levels["P2"].within) == (1, 1)
    assert [w for w in read.warnings if "P3" in w and "p1" not in w]  # P3 still named
    file = _read_figures(read)
    rows = _table_rows(LEVELS)
    _same(file, _in_duckdb(_printed(playbook, "duckdb"), rows))
    sql = _printed(playbook, "postgres")
    _same(file, events_in_postgres(postgres, sql, COLUMNS, rows, tmp_path / "pg.csv"))


def test_a_playbook_with_both_p1_and_P1_matches_only_as_written(
    tmp_path: Path,
    postgres: str,  # noqa: F811
) -> None:
    both = PLAYBOOK.replace(
        "levels: [{id: P1, name: 一级故障}, {id: P2, name: 二级故障}]",
        "levels: [{id: P1, name: 一级故障}, {id: p1, name: 一级（旧）}, {id: P2, name: 二级故障}]",
    ).replace("sla: {P1: 30分钟, P2: 2小时}", "sla: {P1: 30分钟, p1: 10分钟, P2: 2小时}")
    playbook = _project(tmp_path, LEVELS, both)
    read = _file(tmp_path, None)
    levels = read.facts.levels["handle"]
    # `p1` is p1 (10 minutes: L-1 late); Ｐ１ and ` P1 ` fold to P1 exactly; `p2` is P2
    assert sorted(levels) == ["P1", "P2", "P3", "p1"]
    assert (levels["p1"].count, levels["p1"].within) == (1, 0)
    assert (levels["P1"].count, levels["P1"].within) == (2, 1)
    file = _read_figures(read)
    rows = _table_rows(LEVELS)
    _same(file, _in_duckdb(_printed(playbook, "duckdb"), rows))
    sql = _printed(playbook, "postgres")
    _same(file, events_in_postgres(postgres, sql, COLUMNS, rows, tmp_path / "pg.csv"))


def test_compare_says_once_that_the_log_runs_past_as_of(tmp_path: Path) -> None:
    """`pilot compare --as-of` on the payment on-call log of tests/process: 20:50 is before
    GZ-007 (报警 21:00-21:30, P3) started; it is not counted, and a note says so once."""
    from tests.process.test_limits_shown import _inputs

    args = [*_inputs(tmp_path)[:-1], "2026-11-20 20:50", "--format", "json"]
    for lang, prefix, note in (
        (
            "zh",
            "opsplay：提示：",
            "值班日志.csv：日志中有 1 行在评估时刻 2026-11-20 20:50 之后开始",
        ),
        ("en", "opsplay: note: ", "值班日志.csv: 1 row started after the evaluation time"),
    ):
        result = runner.invoke(app, ["--lang", lang, *args])
        assert result.exit_code == 0, result.output
        assert result.stderr.startswith(prefix) and result.stderr.count(note) == 1, result.stderr
        nodes = {node["node"]: node for node in json.loads(result.stdout)["nodes"]}
        assert nodes["报警"]["count"] == 6  # GZ-001 … GZ-006


def test_the_hint_stays_for_a_spelling_the_playbook_declares_elsewhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`levels` declares `p1` (an old level) while the node's `sla` names only P1: `p1` rows
    are p1, judged by the node's `default`, and watch still says `p1` may mean P1."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OPSPLAY_STATE", raising=False)
    old = PLAYBOOK.replace(
        "levels: [{id: P1, name: 一级故障}, {id: P2, name: 二级故障}]",
        "levels: [{id: P1, name: 一级故障}, {id: p1, name: 一级（旧）}, {id: P2, name: 二级故障}]",
    ).replace("sla: {P1: 30分钟, P2: 2小时}", "sla: {P1: 30分钟, P2: 2小时, default: 2小时}")
    playbook = _project(tmp_path, LEVELS, old)
    levels = _file(tmp_path, None).facts.levels["handle"]
    assert (levels["p1"].count, levels["P1"].count) == (1, 2)  # L-1; L-2 and L-3
    args = ["--lang", "zh", "watch", str(playbook), "--events", "值班日志.csv"]
    result = runner.invoke(app, [*args, "--as-of", "2026-10-09 18:00", "--state", "s.db"])
    assert "日志中的级别 p1 不算作 P1" in result.stdout, result.stdout
    assert "Ｐ１" not in result.stdout and "级别  P1" not in result.stdout
