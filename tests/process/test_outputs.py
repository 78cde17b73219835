"""SPEC 8 figures shown through every command: per-level compliance and schedule adherence
in `pilot compare` text and Markdown and in the review report, by node name, zh and en.

The log is test_measures' (figures there computed by hand): `respond` P1 2 of 4 within 5分钟,
P2 1 of 2 within 30分钟, P3 1 of 1 under `default` 2小时; `inspect` 6 of 9 occurrences met.
"""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from opsplay.cli import app
from opsplay.render.report import render_report
from opsplay.validate import load_playbook
from tests.process.test_measures import PLAYBOOK, _log

runner = CliRunner()

# each level's p50/p95, interpolated: P1 took 4, 5, 6 and 10 minutes (p50 5.5, p95 6 + 0.85 x 4
# = 9.4 minutes), P2 20 and 40 (30 and 39), P3 100
ZH = [
    "故障响应与定级，级别 P1：时限达标率 50.0%（限时 5分钟；中位耗时 5分钟30秒，P95 耗时 9分钟24秒）",
    "故障响应与定级，级别 P2：时限达标率 50.0%（限时 30分钟；中位耗时 30分钟，P95 耗时 39分钟）",
    # P3 is not named in the node's `sla`: judged by its `default`, and the line says so
    "故障响应与定级，级别 P3：时限达标率 100.0%（限时 2小时；中位耗时 1小时40分钟，P95 耗时 1小时40分钟），"
    "按其他级别的时限判定",
    "核心系统巡检，按时执行率 66.7%（应执行 9 次，按时完成 6 次）",
]
EN = [
    "故障响应与定级 — level P1: SLA compliance 50.0% (limit 5分钟; p50 5 minutes 30 seconds, "
    "p95 9 minutes 24 seconds)",
    "故障响应与定级 — level P2: SLA compliance 50.0% (limit 30分钟; p50 30 minutes, p95 39 minutes)",
    "故障响应与定级 — level P3: SLA compliance 100.0% (limit 2小时; p50 1 hour 40 minutes, "
    "p95 1 hour 40 minutes), judged by the limit for other levels",
    "核心系统巡检 — runs on schedule 66.7% (6 of 9 occurrences on time)",
]


def _inputs(tmp_path: Path) -> list[str]:
    playbook = tmp_path / "incident.yaml"
    text = PLAYBOOK.read_text(encoding="utf-8")
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
    return ["pilot", "compare", str(playbook), str(export), "--events", str(_log(tmp_path))]


def _compare(args: list[str], *more: str) -> str:
    result = runner.invoke(app, [*args, *more])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_text_and_markdown_show_each_level_and_schedule(tmp_path: Path) -> None:
    args = _inputs(tmp_path)
    for lang, lines, heading in (
        ("zh", ZH, "分级别时限与按时执行"),
        ("en", EN, "By level and schedule"),
    ):
        text = _compare(args, "--lang", lang)
        assert heading in text
        for line in lines:
            assert f"  {line}\n" in text
        markdown = _compare(args, "--lang", lang, "--format", "markdown")
        assert f"### {heading}" in markdown
        for line in lines:
            assert f"- {line}\n" in markdown


def test_the_text_keeps_the_lines_when_the_node_table_becomes_blocks(tmp_path: Path) -> None:
    result = runner.invoke(app, [*_inputs(tmp_path), "--lang", "zh"], env={"COLUMNS": "60"})
    assert result.exit_code == 0, result.output
    assert "  完成率：" in result.stdout  # the node table fell back to label: value blocks
    for line in ZH:
        assert line in result.stdout


def test_the_json_carries_limits_and_occurrences(tmp_path: Path) -> None:
    document = json.loads(_compare(_inputs(tmp_path), "--format", "json"))
    assert document["process"]["sla_by_level"]["respond"] == {
        "P1": "5分钟",
        "P2": "30分钟",
        "P3": "2小时",
    }
    assert document["process"]["schedule_occurrences"]["inspect"] == {
        "met": 6,
        "total": 9,
        "pending": 0,
    }


def test_the_report_shows_each_level_and_schedule(tmp_path: Path) -> None:
    args = _inputs(tmp_path)
    document = json.loads(_compare(args, "--format", "json"))
    loaded = load_playbook(Path(args[2]))
    for lang, lines in (("zh", ZH), ("en", EN)):
        markdown = render_report(loaded, document, lang=lang, fmt="md")
        for line in lines:
            assert f"- {line}\n" in markdown
        html = render_report(loaded, document, lang=lang, fmt="html")
        for line in lines:
            assert f"<li>{line}</li>" in html


# The quarterly drill (每季度首月15日 14:00) has no occurrence in the log's days (09-27 to
# 10-14): its adherence is unknown for that reason, and every output says so.
NOTHING_DUE = {
    "zh": (
        "季度应急演练，按时执行率 —（日志覆盖的日期内没有应执行的次数）",
        "日志覆盖的日期内没有应执行的次数",
    ),
    "en": (
        "季度应急演练 — runs on schedule — (nothing was due in the log's days)",
        "nothing was due in the log's days",
    ),
}


def _with_drill_alert(args: list[str]) -> list[str]:
    playbook = Path(args[2])
    text = playbook.read_text("utf-8")
    alert = '  - {id: inspect-missed, node: inspect, measure: schedule_adherence, op: "<", threshold: 1.0}\n'
    drill = '  - {id: drill-missed, node: drill, measure: schedule_adherence, op: "<", threshold: 1.0}\n'
    assert alert in text
    playbook.write_text(text.replace(alert, alert + drill), "utf-8")
    return args


def test_a_schedule_with_nothing_due_says_so_everywhere(tmp_path: Path) -> None:
    import io

    import docx
    from markupsafe import escape

    from opsplay.render.documents import render_report_document

    args = _with_drill_alert(_inputs(tmp_path))
    document = json.loads(_compare(args, "--format", "json"))
    assert document["process"]["schedule_adherence"]["drill"] is None  # null stays in JSON
    assert document["process"]["schedule_occurrences"]["drill"] == {
        "met": 0,
        "total": 0,
        "pending": 0,
    }
    drill_alert = next(a for a in document["alerts"] if a["id"] == "drill-missed")
    assert (drill_alert["value"], drill_alert["fired"]) == (None, False)
    loaded = load_playbook(Path(args[2]))
    for lang, (line, words) in NOTHING_DUE.items():
        text = _compare(args, "--lang", lang)
        assert f"  {line}\n" in text
        assert "drill-missed" in text and words.split("没有")[0] in text  # the alert's warning
        assert "告警 `drill-missed`：执行日志中没有" not in text
        assert "alert `drill-missed`: the execution log has no rows" not in text
        markdown = _compare(args, "--lang", lang, "--format", "markdown")
        assert f"- {line}\n" in markdown
        report = render_report(loaded, document, lang=lang, fmt="md")
        assert f"- {line}\n" in report
        row = next(r for r in report.splitlines() if r.startswith("| drill-missed |"))
        assert f"| — | {words} |" in row
        page = render_report(loaded, document, lang=lang, fmt="html")
        assert f"<li>{escape(line)}</li>" in page
        assert f"<td>{words}</td>" in page.replace("&#39;", "'")
        word = docx.Document(
            io.BytesIO(render_report_document(loaded, document, fmt="docx", lang=lang))
        )  # type: ignore[arg-type]
        paragraphs = [p.text for p in word.paragraphs]
        cells = [c.text for t in word.tables for r in t.rows for c in r.cells]
        assert line in paragraphs and words in cells
