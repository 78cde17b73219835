"""Issue 22: the printed query is reviewable. For the benchmark playbook (and one metric more)
it fits in 80 lines in every dialect; the cell normalisation (full-width fold, trim, missing
words) is written once per dialect, not per column; no dead branches; its comments speak the
message language. That the figures are unchanged is for the agreement tests (test_sql,
test_warehouse, test_cuped_paths, test_cluster_compare, test_cell_oracle)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from opsplay.cli import app
from opsplay.pilot.columns import MetricColumns, Window
from opsplay.pilot.sql import _WIDE, DIALECTS, MISSING_TOKENS, generate_sql

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench-playbook.yaml"
MISSING_LIST = "(" + ", ".join(f"'{w}'" for w in MISSING_TOKENS) + ")"
FOUR = (
    MetricColumns("conversion", "proportion", "converted"),
    MetricColumns("revenue", "mean", "revenue"),
    MetricColumns("aov", "ratio", None, "revenue", "orders"),
    MetricColumns("orders", "mean", "orders"),
)
WINDOW = Window(
    "day",
    period=(dt.date(2026, 11, 1), dt.date(2026, 11, 30)),
    before_period=(dt.date(2026, 10, 1), dt.date(2026, 10, 31)),
    derive_period=True,
)


def printed(dialect: str, *args: str, playbook: Path = BENCH) -> str:
    result = CliRunner().invoke(
        app, ["pilot", "sql", str(playbook), "--table", "t", "--dialect", dialect, *args]
    )
    assert result.exit_code == 0, result.output
    return result.stdout


def said_once(sql: str) -> None:
    assert sql.count(_WIDE) == 1  # the full-width fold
    assert sql.count(MISSING_LIST) == 1  # the missing words
    assert sql.count("TRIM(") == 1 + sql.count("SUBSTR(TRIM(")  # (a day's first 11 characters)
    # a condition on constants only (`CASE WHEN 0 = 2 THEN 'bad_date'`): a branch never taken
    assert not re.search(r"\b(WHEN|OR|AND|NOT \() *\d+ *= *\d+\b", sql)
    assert "WHEN FALSE" not in sql and "WHEN TRUE" not in sql


@pytest.mark.parametrize("dialect", DIALECTS)
def test_the_benchmark_query_fits_in_80_lines_and_says_normalisation_once(dialect: str) -> None:
    sql = printed(dialect)
    assert len(sql.splitlines()) <= 80
    said_once(sql)
    four = generate_sql(FOUR, "t", "arm", None, [], dialect)  # type: ignore[arg-type]
    assert len(four.splitlines()) <= 80
    said_once(four)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_window_and_segments_still_say_it_once(dialect: str) -> None:
    sql = generate_sql(FOUR, "t", "arm", None, ["region", "channel"], dialect, WINDOW)  # type: ignore[arg-type]
    said_once(sql)
    # (7 lines more since the last step reads `g` once, one CASE per figure, not a UNION ALL
    # branch per metric: Spark and BigQuery computed `g`, the whole scan, once per branch)
    assert len(sql.splitlines()) <= 95


@pytest.mark.parametrize("dialect", DIALECTS)
def test_comments_speak_chinese(dialect: str, tmp_path: Path) -> None:
    """With --lang zh, and for a Chinese playbook without it (--lang en then wins)."""
    chinese = tmp_path / "zh.yaml"
    chinese.write_text(BENCH.read_text().replace("  lang: en", "  lang: zh"), encoding="utf-8")
    for sql in (printed(dialect, "--lang", "zh"), printed(dialect, playbook=chinese)):
        comments = [line.split("--", 1)[1] for line in sql.splitlines() if "--" in line]
        assert len(comments) >= 8
        for comment in comments:
            assert re.search(r"[\u4e00-\u9fff]", comment), comment
    english = printed(dialect, "--lang", "en", playbook=chinese)
    assert "-- opsplay sufficient statistics" in english


@pytest.mark.parametrize("dialect", DIALECTS)
def test_the_node_log_query_comments_speak_chinese(dialect: str) -> None:
    """`pilot sql --events` too: header, level rows, evaluation time, each schedule's days
    (a playbook with levels, per-level limits and a scheduled node)."""
    playbook = Path(__file__).resolve().parents[2] / "playbooks" / "incident-response.yaml"
    for as_of in ((), ("--as-of", "2026-10-08 09:05")):
        sql = printed(dialect, "--events", "--lang", "zh", *as_of, playbook=playbook)
        comments = [line.split("--", 1)[1] for line in sql.splitlines() if "-- " in line]
        assert len(comments) >= 12
        for comment in comments:  # formulas (`failed / count`) aside, no English prose
            prose = re.sub(r"`[^`]*`", "", comment)  # commands and names in backquotes aside
            assert not re.search(r"\b[A-Za-z]+ [a-z]+ [a-z]+\b", prose), comment
        assert all(re.search(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]", c) for c in comments)
    english = printed(dialect, "--events", "--lang", "en", playbook=playbook)
    assert english.startswith(f"-- opsplay node figures ({dialect})")
