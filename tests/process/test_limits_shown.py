"""How `pilot compare` text and Markdown and the review report show a node's limits, open
cases and per-level lines, for an on-call lead's playbook (data/pay-oncall.yaml: two entry
nodes, business hours, P1/P2 limits and ladders) and a GBK log read at 21:30 on a Friday.

- a limit per level is shown as written, each level (`P1 5分钟`, `其他级别 2小时`), never
  `时限：—`; a length counted in business hours names its calendar, as the SOP shows both;
- the open-cases lines have their own heading, and `分级别时限与按时执行` is shown only for a
  process with levels or schedules;
- a level of the log the node's `sla` does not name (`P3`) says it was judged by the limit
  for other levels; `p1`, `Ｐ２` and ` P2` are P1 and P2 written in another case or width.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from typer.testing import CliRunner

from opsplay.cli import app
from opsplay.render.report import render_report
from opsplay.validate import load_playbook

PLAYBOOK = Path(__file__).resolve().parent / "data" / "pay-oncall.yaml"
runner = CliRunner()

# 2026-11-16 (Mon) … 11-20 (Fri). 巡检 runs 工作日 09:00 within 30分钟; 报警 has
# {P1: 5分钟, P2: 30分钟, default: 2小时}; 处置 {P1: 30分钟, P2: 当天18点前}; 客服通知 2小时
# in 客服营业时间 (09:00-18:00 working days); 复盘 {P1: T+1, P2: 下一个工作日10点前}.
LOG = """工单号,节点,开始时间,结束时间,状态,级别
XJ-1116,巡检,2026-11-16 09:00,2026-11-16 09:20,完成,
XJ-1117,巡检,2026-11-17 09:02,2026-11-17 09:25,完成,
XJ-1118,巡检,2026-11-18 09:00,2026-11-18 09:45,完成,
XJ-1120,巡检,2026-11-20 09:01,2026-11-20 09:18,完成,
GZ-001,报警,2026-11-16 14:00,2026-11-16 14:03,完成,P1
GZ-001,处置,2026-11-16 14:03,2026-11-16 14:25,完成,P1
GZ-001,客服通知,2026-11-16 14:10,2026-11-16 15:00,完成,P1
GZ-001,复盘,2026-11-16 15:00,2026-11-17 11:00,完成,P1
GZ-002,报警,2026-11-17 20:30,2026-11-17 20:42,完成,p1
GZ-002,处置,2026-11-17 20:42,2026-11-17 21:40,超时,P1
GZ-002,客服通知,2026-11-17 21:00,2026-11-18 10:30,完成,P1
GZ-002,复盘,2026-11-18 10:00,2026-11-19 09:00,完成,P1
GZ-003,报警,2026-11-18 11:00,2026-11-18 11:10,完成,P2
GZ-003,处置,2026-11-18 11:10,2026-11-18 16:00,完成,P2
GZ-003,复盘,2026-11-18 16:30,2026-11-19 09:30,完成,P2
GZ-004,报警,2026-11-19 15:00,2026-11-19 15:20,完成,Ｐ２
GZ-004,处置,2026-11-19 15:20,2026-11-19 19:00,完成, P2
GZ-005,报警,2026-11-20 19:10,2026-11-20 19:13,完成,P1
GZ-005,处置,2026-11-20 19:13,,处理中,P1
GZ-005,客服通知,2026-11-20 19:20,,处理中,P1
GZ-006,报警,2026-11-20 20:40,,处理中,P2
GZ-007,报警,2026-11-20 21:00,2026-11-20 21:30,完成,P3
"""
AS_OF = "2026-11-20 21:30"


def _inputs(tmp_path: Path, playbook: Path = PLAYBOOK) -> list[str]:
    log = tmp_path / "值班日志.csv"
    log.write_bytes(LOG.encode("gbk"))
    units = tmp_path / "units.csv"
    rows = [f"前,{i % 3 != 0:d}" for i in range(60)] + [f"后,{i % 8 != 0:d}" for i in range(60)]
    units.write_bytes(("阶段,p1_ok\n" + "\n".join(rows) + "\n").encode("gbk"))
    return ["pilot", "compare", str(playbook), str(units), "--events", str(log), "--as-of", AS_OF]


def _run(args: list[str], *more: str, columns: int = 220) -> str:
    result = runner.invoke(app, [*args, *more], env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.output
    return result.stdout


def _row(text: str, name: str) -> list[str]:
    """The lines of a terminal table row: the node's line and the lines under it."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"│ {name} "))
    rows = [lines[start]]
    for line in lines[start + 1 :]:
        if not line.startswith("│  "):  # the next row starts with a node name
            break
        rows.append(line)
    return rows


def test_the_node_table_shows_each_levels_limit_as_written(tmp_path: Path) -> None:
    args = _inputs(tmp_path)
    for lang, other in (("zh", "其他级别"), ("en", "other levels")):
        text = _run(args, "--lang", lang)
        cells = [line.split("│")[9].strip() for line in _row(text, "报警认领")]
        assert cells == ["P1 5分钟", "P2 30分钟", f"{other} 2小时"]
        assert [line.split("│")[9].strip() for line in _row(text, "故障处置")] == [
            "P1 30分钟",
            "P2 当天18点前",
        ]
        calendar = "2小时（客服营业时间）" if lang == "zh" else "2小时 (客服营业时间)"
        assert _row(text, "通知商户")[0].split("│")[9].strip() == calendar
    # a narrow terminal: label: value blocks, the levels on one line
    blocks = _run(args, "--lang", "zh", columns=80)
    assert "  时限：P1 5分钟，P2 30分钟，其他级别 2小时\n" in blocks
    assert "  时限：P1 T+1，P2 下一个工作日10点前\n" in blocks
    assert "时限：—" not in blocks
    english = _run(args, "--lang", "en", columns=80)
    assert "  time limit: P1 5分钟, P2 30分钟, other levels 2小时\n" in english


def test_markdown_and_the_report_list_the_levels(tmp_path: Path) -> None:
    args = _inputs(tmp_path)
    markdown = _run(args, "--lang", "zh", "--format", "markdown")
    # 报警: 5 of 7 within (GZ-002's `p1` 12 minutes over P1's 5; GZ-006 open past 30 minutes)
    assert "| P1 5分钟、P2 30分钟、其他级别 2小时 | 71.4% |" in markdown
    assert "| 2小时（客服营业时间） | 100.0% |" in markdown
    english = _run(args, "--lang", "en", "--format", "markdown")
    assert "| P1 30分钟, P2 当天18点前 | 40.0% |" in english
    document = json.loads(_run(args, "--format", "json"))
    report = render_report(load_playbook(PLAYBOOK), document, lang="zh", fmt="md")
    assert "| P1 5分钟、P2 30分钟、其他级别 2小时 | 71.4% |" in report


def test_open_cases_and_levels_under_headings_true_of_them(tmp_path: Path) -> None:
    text = _run(_inputs(tmp_path), "--lang", "zh")
    open_cases = text.index("未结工单：\n")
    by_level = text.index("分级别时限与按时执行：\n")
    assert (
        open_cases < text.index("  报警认领，截至 2026-11-20 21:30（北京时间）未结 1 单") < by_level
    )
    assert by_level < text.index("  报警认领，级别 P1：时限达标率 66.7%（限时 5分钟；")
    assert "  早班巡检，按时执行率 60.0%（应执行 5 次，按时完成 3 次）\n" in text
    english = _run(_inputs(tmp_path), "--lang", "en", "--format", "markdown")
    assert "### Open cases\n" in english and "### By level and schedule\n" in english

    # the same process without levels or schedules: open cases, and no per-level heading
    data = yaml.safe_load(PLAYBOOK.read_text(encoding="utf-8"))
    data.pop("levels")
    for node in data["nodes"]:
        node.pop("schedule", None)
        node.pop("escalation", None)
        if isinstance(node.get("sla"), dict):
            node["sla"] = "2小时"
    data["alerts"] = [a for a in data["alerts"] if "level" not in a and a["node"] != "巡检"]
    plain = tmp_path / "plain.yaml"
    plain.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    for fmt, heading in (
        ("text", "分级别时限与按时执行"),
        ("markdown", "### 分级别时限与按时执行"),
    ):
        shown = _run(_inputs(tmp_path, plain), "--lang", "zh", "--format", fmt)
        assert "未结工单" in shown and "截至 2026-11-20 21:30（北京时间）未结 1 单" in shown
        assert heading not in shown


def test_levels_judged_by_the_default_limit_say_so(tmp_path: Path) -> None:
    args = _inputs(tmp_path)
    text = _run(args, "--lang", "zh")
    # `p1` is P1 in another case (try-out finding 6): GZ-001 3, GZ-002 12, GZ-005 3 minutes
    # over P1's 5 minutes: 2 of 3; p95 3 + 0.9 x 9 minutes (linear)
    assert (
        "  报警认领，级别 P1：时限达标率 66.7%（限时 5分钟；中位耗时 3分钟，P95 耗时 11分钟6秒）\n"
    ) in text
    assert "级别 p1" not in text and "若指 P1" not in text
    assert (
        "  报警认领，级别 P3：时限达标率 100.0%（限时 2小时；中位耗时 30分钟，P95 耗时 30分钟），"
        "按其他级别的时限判定\n"
    ) in text
    # full-width and padded spellings are read as P2 already: no line of their own
    assert "级别 Ｐ２" not in text and "级别  P2" not in text
    assert (
        "  报警认领，级别 P2：时限达标率 66.7%（限时 30分钟；中位耗时 15分钟，P95 耗时 19分钟30秒）\n"
    ) in text
    english = _run(args, "--lang", "en")
    assert (
        "  报警认领 — level P1: SLA compliance 66.7% (limit 5分钟; p50 3 minutes, "
        "p95 11 minutes 6 seconds)\n"
    ) in english
    assert "level p1" not in english and "if it means" not in english
    assert "  报警认领（P1 级）的时限达标率 66.7% 低于 90.0%（告警 报警认领P1超时）\n" in text


def test_a_level_alert_names_its_level(tmp_path: Path) -> None:
    args = _inputs(tmp_path)
    # 处置 P1: GZ-001 22 min within 30, GZ-002 58 min late, GZ-005 open since 19:13 (breached)
    zh = _run(args, "--lang", "zh")
    assert "  故障处置（P1 级）的时限达标率 33.3% 低于 80.0%（告警 处置P1超时）\n" in zh
    en = _run(args, "--lang", "en")
    assert "故障处置 (level P1): " in en and "(alert 处置P1超时)" in en
