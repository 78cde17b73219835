"""The node-log query on what real logs hold: stamps DuckDB's CSV reader takes and those it
does not, far dates, offsets in a zone with summer time, spellings the query was not given,
the first breaches in file order, and `pilot sql --events --as-of` agreeing with the file."""

from __future__ import annotations

import csv
import statistics
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pytest
from typer.testing import CliRunner

from opsplay.cli import app
from opsplay.errors import InputError
from opsplay.i18n import language
from opsplay.nodes import measures as process_measures
from opsplay.nodes.log import read_events
from opsplay.validate import load_playbook
from opsplay.workdays import WorkdayCalendar
from tests.pilot.test_events_sql import (
    COLUMNS,
    ROWS,
    _playbook,
    _read_figures,
    _same,
    events_in_postgres,
)
from tests.pilot.test_warehouse import postgres  # noqa: F401 (fixture)

runner = CliRunner()
HEADER = "case_id,node,level,started_at,finished_at,status\n"


def _log(tmp_path: Path, lines: list[str], name: str = "log.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + "".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def _read_claims(
    tmp_path: Path, rows: list[list[str]], name: str, **options: Any
) -> tuple[Any, Path]:
    """The claims playbook of test_events_sql read over `rows` (its per-level limits);
    `options` go to read_events (timezone, as_of)."""
    playbook = load_playbook(_playbook(tmp_path))
    log = tmp_path / name
    with log.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([COLUMNS, *rows])
    read = read_events(
        log,
        process_measures.overall_limits(playbook),
        calendar=WorkdayCalendar("official"),
        limit_for=process_measures.limit_for(playbook),
        names={n.name: n.id for n in playbook.nodes},
        **options,
    )
    return read, log


def _canonical(count: int) -> list[str]:
    """`count` rows written as nearly every system writes them (DuckDB's CSV reader reads
    their stamps): row i starts i seconds after 09:00 and takes 30 s, or 90 s when i is a
    multiple of ten (late for node a's 60 seconds); odd rows are P1, even ones P2."""
    start = datetime(2024, 8, 1, 9, 0)
    rows = []
    for i in range(count):
        begun = start + timedelta(seconds=i)
        ended = begun + timedelta(seconds=90 if i % 10 == 0 else 30)
        level = "P1" if i % 2 else "P2"
        rows.append(f"c{i},a,{level},{begun:%Y-%m-%d %H:%M:%S},{ended:%Y-%m-%d %H:%M:%S},ok")
    return rows


def test_a_stamp_the_csv_reader_refuses_late_in_the_log_reads_it_as_text(tmp_path: Path) -> None:
    """The first rows decide the CSV reader reads the stamps; a stamp with an offset on row
    1,500 makes it fail, and the log is read as text, with the same figures as a log that
    was text from its first row."""
    rows = _canonical(1500)
    offset = "x1,a,P1,2024-08-01T10:00:00+08:00,2024-08-01T02:00:40Z,ok"  # 40 s, Beijing
    beijing = ZoneInfo("Asia/Shanghai")
    late = read_events(_log(tmp_path, [*rows, offset]), {"a": 60.0}, timezone=beijing)
    early = read_events(_log(tmp_path, [offset, *rows], "early.csv"), {"a": 60.0}, timezone=beijing)
    (a,) = late.nodes
    assert a.count == 1501 and a.timed == 1501
    assert a.sla_compliance == pytest.approx(1351 / 1501)  # c0, c10, … c1490 are late
    assert (a.p50_s, a.p95_s, a.sla_compliance) == (
        early.nodes[0].p50_s,
        early.nodes[0].p95_s,
        early.nodes[0].sla_compliance,
    )
    # the first ten breaches in file order, overall and per level
    assert a.missed_cases[""] == (150, tuple(f"c{i}" for i in range(0, 100, 10)))
    assert late.facts.missed["a"]["P2"] == (150, tuple(f"c{i}" for i in range(0, 100, 10)))


def test_a_duration_of_a_century_keeps_its_place_in_the_quantiles(tmp_path: Path) -> None:
    """Stamps the CSV reader reads are whole seconds, and the quantiles keep them as INTEGER
    seconds (4 bytes a row): a duration beyond INTEGER (68 years, a start typed 1924 for
    2024) is not dropped from them. Figures of the text read (a T in one stamp) and of
    statistics' linear interpolation agree."""
    rows = [
        "c1,a,,1924-08-01 09:00:00,2024-08-01 09:00:00,ok",  # 100 years
        "c2,a,,2024-08-01 09:00:00,2024-08-01 09:00:30,ok",
        "c3,a,,2024-08-01 10:00:00,2024-08-01 10:01:30,ok",
    ]
    typed = read_events(_log(tmp_path, rows), {"a": 60.0})
    text = read_events(
        _log(tmp_path, [*rows[:2], rows[2].replace(" 10:01", "T10:01")], "t.csv"), {"a": 60.0}
    )
    durations = [(datetime(2024, 8, 1) - datetime(1924, 8, 1)).total_seconds(), 30.0, 90.0]
    p50, p95 = (statistics.quantiles(durations, n=20, method="inclusive")[i] for i in (9, 18))
    assert durations[0] > 2**31
    for read in (typed, text):
        (a,) = read.nodes
        assert (a.timed, a.p50_s, a.p95_s) == (3, p50, pytest.approx(p95, rel=1e-12))
        assert a.sla_compliance == pytest.approx(1 / 3)  # c2 within 60 s


def test_an_impossible_date_after_the_rows_the_reader_was_chosen_on(tmp_path: Path) -> None:
    path = _log(tmp_path, [*_canonical(1200), "bad,a,P1,2024-02-30 10:00:00,,ok"])
    with pytest.raises(InputError) as error:
        read_events(path, {"a": 60.0})
    assert f'{path}, line 1202, column "started_at"' in error.value.message
    assert "is not a valid date" in error.value.message


@pytest.mark.parametrize(
    ("column", "stamp"),
    [
        ("finished_at", "9999-12-31 00:00"),  # read as text
        ("finished_at", "9999-12-31 00:00:00"),  # read by the CSV reader
        ("started_at", "1600-01-01T08:00"),
    ],
)
def test_a_far_date_names_file_row_and_column_and_what_to_write(
    tmp_path: Path, column: str, stamp: str
) -> None:
    """`9999-12-31` (a placeholder for "not yet") ended in DuckDB's INT64 overflow message."""
    good = "c1,a,,2024-08-01 09:00:00,2024-08-01 09:00:30,ok"
    far = (
        f"c2,a,,2024-08-01 10:00:00,{stamp},ok" if column == "finished_at" else f"c2,a,,{stamp},,ok"
    )
    path = _log(tmp_path, [good, far])
    with pytest.raises(InputError) as error:
        read_events(path, {"a": 60.0})
    message = error.value.message
    assert f'{path}, line 3, column "{column}"' in message and f'"{stamp}"' in message
    assert "years 1678 to 2261" in message and "leave the finish time blank" in message
    with language("zh"):
        with pytest.raises(InputError) as chinese:
            read_events(path, {"a": 60.0})
    assert (
        "只读 1678 至 2261 年" in chinese.value.message and "结束时间留空" in chinese.value.message
    )
    skipped = read_events(path, {"a": 60.0}, skip_bad_rows=True)
    assert (skipped.source.rows, skipped.source.skipped_rows) == (1, 1)


def test_a_far_date_on_the_command_line_is_exit_2_without_a_traceback(tmp_path: Path) -> None:
    playbook = _playbook(tmp_path)
    with playbook.open("a", encoding="utf-8") as handle:  # a pilot to compare
        handle.write(
            "pilot: {design: ab, arm_column: arm, arms: {baseline: control, pilot: pilot}, "
            "metrics: [done], feedback: [访谈]}\n"
        )
    units = tmp_path / "units.csv"
    units.write_text("arm,done\ncontrol,1\npilot,0\ncontrol,0\npilot,1\n", encoding="utf-8")
    log = tmp_path / "log.csv"
    far = ["c99", "pay", "", "2024-10-08 09:00:00", "9999-12-31 00:00", "ok"]
    with log.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([COLUMNS, *ROWS, far])
    args = ["pilot", "compare", str(playbook), str(units), "--events", str(log)]
    result = runner.invoke(app, ["--lang", "en", *args])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "Overflow" not in result.output
    where = f'{log}, line {len(ROWS) + 2}, column "finished_at": "9999-12-31 00:00"'
    assert where in result.stderr and "years 1678 to 2261" in result.stderr, result.stderr


def test_offsets_move_to_a_zone_with_summer_time(tmp_path: Path) -> None:
    """New York: a stamp with an offset is read on New York's clock, in summer (-04:00) and
    in winter (-05:00); a naive stamp is taken to be on it."""
    path = _log(
        tmp_path,
        [
            "c1,a,,2026-07-08T09:00:00-04:00,2026-07-08T13:30:00Z,ok",  # 09:00 -> 09:30
            "c2,a,,2026-07-08 10:00:00,2026-07-08T14:30:00Z,ok",  # 10:00 -> 10:30
            "c3,a,,2026-12-08T15:00:00+00:00,2026-12-08 10:40:00,ok",  # 10:00 -> 10:40
        ],
    )
    data = read_events(path, {"a": 1800.0}, timezone=ZoneInfo("America/New_York"))
    (a,) = data.nodes
    assert (a.p50_s, a.p95_s) == (1800.0, pytest.approx(2340.0))
    assert a.sla_compliance == pytest.approx(2 / 3)
    assert data.as_of == datetime(2026, 12, 8, 10, 40, tzinfo=ZoneInfo("America/New_York"))
    assert a.as_of == "2026-12-08T10:40:00-05:00"


def test_spellings_the_query_was_not_given_are_read_as_written_ones(tmp_path: Path) -> None:
    """Names, status words and levels in other widths, cases and spaces are mapped in
    Python from the first read's result and the log read again: the same figures."""
    plain = [
        "c1,review,P1,2024-08-01 09:00:00,2024-08-01 09:00:30,ok",
        "c2,review,P2,2024-08-01 09:00:00,2024-08-01 09:02:00,failed",
        "c3,审核,P1,2024-08-01 09:00:00,2024-08-01 09:00:50,成功",
        "c4,other,P1,2024-08-01 09:00:00,2024-08-01 09:00:50,ok",
    ]
    written = [
        "c1,ＲＥＶＩＥＷ,Ｐ１,2024-08-01 09:00:00,2024-08-01 09:00:30,ＯＫ",
        "c2, 审核 , P2 ,2024-08-01 09:00:00,2024-08-01 09:02:00,Failed",
        "c3,审核,P1,2024-08-01 09:00:00,2024-08-01 09:00:50,成功 ",
        "c4,ｏｔｈｅｒ,P1,2024-08-01 09:00:00,2024-08-01 09:00:50,OK",
    ]
    names = {"审核": "review", "REVIEW": "review"}
    expected = read_events(_log(tmp_path, plain), {"review": 60.0}, names=names)
    found = read_events(_log(tmp_path, written, "written.csv"), {"review": 60.0}, names=names)
    assert found.nodes == expected.nodes
    assert dict(found.unknown_nodes) == dict(expected.unknown_nodes) == {"other": 1}
    assert found.facts.levels == expected.facts.levels
    assert sorted(found.facts.levels["review"]) == ["P1", "P2"]


def _figures(read: Any) -> dict[str, dict[str, float]]:
    """Each node's and each node and level's figures, as `_same` compares them."""
    return _read_figures(read)


def _as_of_file(tmp_path: Path, as_of: datetime) -> dict[str, dict[str, float]]:
    """The file path's figures of test_events_sql's log as of `as_of`."""
    read, _log_file = _read_claims(
        tmp_path, ROWS, "log.csv", timezone=ZoneInfo("Asia/Shanghai"), as_of=as_of
    )
    # a node with no row by then (call: all on 10-14) has none in the query either, as a
    # node a log lacks
    return {key: row for key, row in _figures(read).items() if row["count"]}


def _printed(tmp_path: Path, dialect: str, as_of: str) -> str:
    result = runner.invoke(
        app,
        ["pilot", "sql", str(_playbook(tmp_path)), "--table", "events", "--events"]
        + ["--dialect", dialect, "--as-of", as_of],
    )
    assert result.exit_code == 0, result.output
    return result.stdout


# 2024-10-11 12:00 in Beijing, the log as it stood then (SPEC 12): review's c7 (P1, due
# 10-12 00:00) is open and not yet due, and so are c3 (finished 10-14) and c4 (finished
# 10-13, due 10-13 00:00), still open then; c19 (started 10-14) and cs's c23 (started
# 10-13) did not exist yet
AS_OF = ("2024-10-11 12:00", "2024-10-11T04:00:00Z")


@pytest.mark.parametrize("as_of", AS_OF)
def test_printed_query_as_of_agrees_with_the_file_in_duckdb(tmp_path: Path, as_of: str) -> None:
    file = _as_of_file(tmp_path, datetime(2024, 10, 11, 12, 0))
    review = [file["review"][key] for key in ("count", "open", "breached_open", "pending")]
    assert review == [7, 3, 0, 3]  # c1-c7, not c19; c1, c2, c5, c6 finished
    assert [file["cs"][key] for key in ("count", "open", "pending")] == [3, 0, 0]
    text = _printed(tmp_path, "duckdb", as_of)
    # (a Chinese playbook: its comments are Chinese, as the units query's)
    assert "-- 评估时刻（as_of）：2024-10-11 12:00:00（按日志的时钟）。" in text
    con = duckdb.connect()
    con.execute("CREATE TABLE events (" + ", ".join(f"{c} VARCHAR" for c in COLUMNS) + ")")
    con.executemany(
        "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?)",
        [[value or None for value in row] for row in ROWS],
    )
    cursor = con.execute(text)
    names = [column[0] for column in cursor.description]
    _same(file, [dict(zip(names, row, strict=True)) for row in cursor.fetchall()])


def test_printed_query_as_of_agrees_with_the_file_in_postgres(
    tmp_path: Path,
    postgres: str,  # noqa: F811
) -> None:
    file = _as_of_file(tmp_path, datetime(2024, 10, 11, 12, 0))
    rows = [[value or None for value in row] for row in ROWS]
    query = _printed(tmp_path, "postgres", AS_OF[0])
    _same(file, events_in_postgres(postgres, query, COLUMNS, rows, tmp_path / "pg.csv"))


def test_as_of_without_events_is_a_usage_error(tmp_path: Path) -> None:
    args = ["pilot", "sql", str(_playbook(tmp_path)), "--table", "units", "--as-of", "2024-10-11"]
    result = runner.invoke(app, ["--lang", "en", *args])
    assert result.exit_code == 2 and "--as-of goes with --events" in result.stderr
    assert "Traceback" not in result.output


def test_open_cases_written_as_ticket_systems_export_them(tmp_path: Path) -> None:
    """Issue 21 try-out: open tickets exported as 处理中 / 进行中 / open or with a blank status
    are open cases (breached or pending as of the log's end), not bad rows; the warehouse
    query counts them alike. A blank status on a finished row is still named."""
    open_rows = {"c7": "处理中", "c15": "", "c23": "In Progress", "c26": "进行中"}
    rows = [[*row[:5], open_rows.get(row[0], row[5])] for row in ROWS]
    read, _log_file = _read_claims(tmp_path, rows, "open.csv")
    nodes = {node.node: node for node in read.nodes}
    assert (nodes["review"].open, nodes["review"].breached_open) == (1, 1)  # c7
    assert (nodes["ship"].open, nodes["ship"].pending) == (1, 1)  # c15, due 10-15 12:00
    assert (nodes["cs"].breached_open, nodes["deliver"].breached_open) == (1, 1)  # c23, c26
    assert nodes["review"].sla_compliance == pytest.approx(3 / 7)  # as with status 成功
    file = _figures(read)
    assert file["review"]["ok"] == 6  # c1–c6: 处理中 is no outcome
    from opsplay.nodes.sql import events_sql_for_playbook

    con = duckdb.connect()
    con.execute("CREATE TABLE events (" + ", ".join(f"{c} VARCHAR" for c in COLUMNS) + ")")
    con.executemany(
        "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?)", [[v or None for v in row] for row in rows]
    )
    playbook = load_playbook(_playbook(tmp_path))
    cursor = con.execute(events_sql_for_playbook(playbook, table="events", dialect="duckdb"))
    names = [column[0] for column in cursor.description]
    _same(file, [dict(zip(names, row, strict=True)) for row in cursor.fetchall()])

    finished_blank = [[*row[:5], "" if row[0] == "c10" else row[5]] for row in ROWS]
    with pytest.raises(InputError, match="blank finish time"):
        _read_claims(tmp_path, finished_blank, "finished_blank.csv")


def test_rows_of_a_level_without_a_limit_are_named_not_dropped_in_silence(
    tmp_path: Path,
) -> None:
    """Issue 21 try-out: `P3` or a blank level on a node with only P1/P2 limits (回访:
    P1 30分钟) left the rate with no word; each is named, with what to write instead. `p1`
    is P1 (levels are matched ignoring case and width)."""
    rows = [
        ["d1", "call", "P1", "2024-10-14 10:00:00", "2024-10-14 10:20:00", "ok"],
        ["d2", "call", "P3", "2024-10-14 10:00:00", "2024-10-14 10:20:00", "ok"],
        ["d3", "call", "p1", "2024-10-14 10:00:00", "2024-10-14 11:20:00", "ok"],
        ["d4", "call", "p1", "2024-10-14 10:00:00", "2024-10-14 11:20:00", "ok"],
        ["d5", "review", "P9", "2024-10-14 10:00:00", "2024-10-14 11:00:00", "ok"],  # default
        # call's only limit is a blank level's too; 客服回复 (P1, P2, no default) has none
        # for a blank level, which has no row of its own in the query (second try-out)
        ["d6", "call", "", "2024-10-14 10:00:00", "2024-10-14 10:20:00", "ok"],
        ["d7", "cs", "", "2024-10-14 10:00:00", "2024-10-14 10:20:00", "ok"],
        ["d8", "cs", " ", "2024-10-14 10:00:00", "2024-10-14 10:20:00", "ok"],
        ["d9", "cs", "P1", "2024-10-14 10:00:00", "2024-10-14 10:20:00", "ok"],
    ]
    with language("zh"):
        read, _log_file = _read_claims(tmp_path, rows, "levels.csv")
    named = [w for w in read.warnings if "`回访`" in w]  # (named as the playbook names the node)
    assert len(named) == 1, read.warnings
    assert "`P3`（1 行）" in named[0] and "P1" in named[0]
    assert "空白" not in named[0]  # the node's only limit is a blank level's as well
    blank = [w for w in read.warnings if "`客服回复`" in w]
    assert len(blank) == 1 and "`空白`（2 行）" in blank[0] and "P1、P2" in blank[0], blank
    # `p1` is P1 written in another case (try-out finding 6): judged by P1's 30 minutes
    assert "p1" not in named[0]
    # review has a default limit: P9 is judged by it, not left out, and is named as a level
    # the playbook does not declare (it may be a typo for P1)
    (review,) = [w for w in read.warnings if "`审核`" in w]
    assert "`P9`（1 行）" in review and "`default`" in review and "没有计入" not in review
    call = next(node for node in read.nodes if node.node == "call")
    assert call.sla_compliance == pytest.approx(2 / 4)  # d1, d6 within; d3, d4 (80 min) late
    assert read.facts.levels["call"]["P1"].count == 3


def test_an_excel_log_with_a_title_row_above_its_header(tmp_path: Path) -> None:
    """Issue 21 try-out: an .xlsx node log exported with a report title above the header was
    refused (缺少“工单号”列), while metric exports with one were read. Same figures as the CSV."""
    from openpyxl import Workbook

    playbook = load_playbook(_playbook(tmp_path))
    book = Workbook()
    sheet = book.active
    sheet.append(["售后理赔节点日志（2024年10月）"])
    sheet.append(["工单号", "节点", "级别", "开始时间", "结束时间", "状态"])
    for row in ROWS:
        sheet.append(row)
    book.save(tmp_path / "log.xlsx")
    from_excel = read_events(
        tmp_path / "log.xlsx",
        process_measures.overall_limits(playbook),
        calendar=WorkdayCalendar("official"),
        limit_for=process_measures.limit_for(playbook),
        names={n.name: n.id for n in playbook.nodes},
    )
    from_csv, _log_file = _read_claims(tmp_path, [list(row) for row in ROWS], "log.csv")
    assert _figures(from_excel) == _figures(from_csv)
