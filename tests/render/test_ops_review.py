"""What an operations lead read in their own Chinese playbook (Chinese values, limits as teams
write them, a GBK export with Chinese arms and segments) and found wrong: each case here."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from opsplay.render import filters
from opsplay.render.report import render_report
from opsplay.render.sop import render_sop

from .conftest import load_playbook, run_compare

HERE = Path(__file__).parent / "fixtures" / "ops-review"
PLAYBOOK = HERE / "incident-cn.yaml"
EXPORT = HERE / "incident_units_gbk.csv"


@pytest.fixture(scope="module")
def incident() -> Any:
    return load_playbook(PLAYBOOK)


@pytest.fixture(scope="module")
def comparison() -> dict[str, Any]:
    # a real comparison of the GBK export, without the event log the node alerts need
    return json.loads(run_compare(PLAYBOOK, [EXPORT.as_posix()], "zh"))


def test_triggers_read_as_one_chinese_phrase() -> None:
    assert filters.triggers(["timeout", "no_response"], lang="zh") == "超时或无响应"
    assert (
        filters.triggers(["failure", "timeout", "no_response"], lang="zh") == "失败、超时或无响应"
    )
    assert filters.triggers(["failure", "timeout"], lang="en") == "failure or timeout"
    assert filters.triggers(["failure"], lang="zh") == "失败"


def test_sop_uses_the_methods_table_words_and_chinese_punctuation(incident: Any) -> None:
    text = render_sop(incident, lang="zh")
    # Tables 1 and 2 of the six-step method, column for column
    assert "| 场景名称 | 目标用户画像 | 触发条件 |" in text
    assert "| 预期效果（量化指标） |" in text
    assert (
        "| 流程阶段 | 节点名称 | 负责人 | 输入物 | 输出物 | 完成时限 | 工具支持 | 异常处理方案 |"
        in text
    )
    assert "超时或无响应：自动转给备班工程师" in text
    mermaid = text.split("```mermaid", 1)[1].split("```", 1)[0]
    assert '|"超时或无响应"|' in mermaid
    assert "兜底：监控平台异常时由客服按投诉量人工建单" in mermaid
    assert "兜底:" not in mermaid and " / " not in mermaid
    # the alert condition is a phrase, not two words side by side
    assert "故障响应的时限达标率 < 95.0%" in text
    # limits as the team wrote them
    for written in ("5分钟", "30分钟内", "1小时", "3个工作日"):
        assert f"| {written} |" in text


def test_sop_html_flowchart_labels_in_chinese(incident: Any) -> None:
    html = render_sop(incident, lang="zh", fmt="html")
    labels = re.findall(r'stroke-dasharray="5 4"/>.*?paint-order="stroke">([^<]*)</text>', html)
    assert "超时或无响应" in labels and "超时或失败" in labels
    assert not [label for label in labels if "/" in label]


def test_report_says_which_alerts_could_not_be_evaluated(
    incident: Any, comparison: dict[str, Any]
) -> None:
    assert all(alert["value"] is None for alert in comparison["alerts"])
    text = render_report(incident, comparison, lang="zh")
    assert "2 个告警缺少所需数据，未评估。" in text
    rows = [line for line in text.splitlines() if line.startswith(("| p1-sla", "| repair-"))]
    assert len(rows) == 2 and all("| 未评估 |" in row for row in rows), rows
    # a table right below a sentence needs the blank line, or Markdown shows it as text
    assert "未评估。\n\n| 告警 |" in text
    html = render_report(incident, comparison, lang="zh", fmt="html")
    assert "<p>2 个告警缺少所需数据，未评估。</p>" in html
    english = render_report(incident, comparison, lang="en")
    assert "2 alerts could not be evaluated: the data they need was not given." in english
    assert "| not evaluated |" in english


def test_an_evaluated_alert_that_did_not_fire_still_says_no(
    incident: Any, comparison: dict[str, Any]
) -> None:
    evaluated = json.loads(json.dumps(comparison))
    evaluated["alerts"][0]["value"] = 0.99
    text = render_report(incident, evaluated, lang="zh")
    (row,) = [line for line in text.splitlines() if line.startswith("| p1-sla")]
    assert "| 99.0% | 否 |" in row
    assert "1 个告警缺少所需数据，未评估。" in text


def test_report_table3_and_playbook_line_read_as_written_by_a_colleague(
    incident: Any, comparison: dict[str, Any]
) -> None:
    text = render_report(incident, comparison, lang="zh")
    assert "| 试点范围 | 关键指标 | 优化前值 | 试点期间值 | 偏差率 | 原因分析 | 优化措施 |" in text
    assert (
        "优化前值取对照组，试点期间值取试点组；偏差率 =（试点期间值 − 优化前值）÷ 优化前值。"
        in text
    )
    assert "线上故障应急响应（incident-cn），版本 1.1.0" in text
    assert "@1.1.0" not in text
    method = text.split("## 方法说明", 1)[1]
    assert "(试点" not in method and ") /" not in method


def test_ids_quoted_in_a_warning_show_as_code_not_backslashes(
    incident: Any, comparison: dict[str, Any]
) -> None:
    text = render_report(incident, comparison, lang="zh")
    assert "`p1-sla`" in text and "\\`" not in text
    html = render_report(incident, comparison, lang="zh", fmt="html")
    assert "<code>p1-sla</code>" in html


@pytest.mark.parametrize(
    ("message", "markdown", "html"),
    [
        ("节点 `a-b` 没有记录", "节点 `a-b` 没有记录", "节点 <code>a-b</code> 没有记录"),
        # markup inside the quotes stays text; outside it is escaped as before
        (
            "列 `<img src=x>` 与 *x* 不符",
            "列 `<img src=x>` 与 \\*x\\* 不符",
            "列 <code>&lt;img src=x&gt;</code> 与 *x* 不符",
        ),
        # unpaired backticks: the whole message is plain text
        ("a `b c", "a \\`b c", "a `b c"),
    ],
)
def test_message_filters(message: str, markdown: str, html: str) -> None:
    assert filters.message_md(message) == markdown
    assert str(filters.message_html(message)) == html


def test_word_steps_say_where_the_process_ends(incident: Any) -> None:
    from opsplay.render.flowchart import flow_steps
    from opsplay.render.sop import flow, playbook_data

    steps = flow_steps(flow(playbook_data(incident)), "zh")
    assert steps[0].startswith("1. 监控告警（值班工程师）：完成后转第2步「故障响应」；失败时，")
    assert "：下一步：" not in "".join(steps)
    assert steps[1].endswith("超时或无响应时转至第3步「止损恢复」")
    assert steps[-1].startswith("5. 用户安抚与复盘（客服专员）：流程到此结束；被拒绝时，")
    english = flow_steps(flow(playbook_data(incident)), "en")
    assert "this ends the process" in english[-1]


def test_unknown_output_suffix_lists_the_choices_as_chinese_lists_them() -> None:
    from opsplay.errors import UsageError
    from opsplay.i18n import language
    from opsplay.render.documents import format_for_file

    with language("zh"), pytest.raises(UsageError) as caught:
        format_for_file(Path("复盘.pdf"))
    assert "文件名请以 .md、.markdown、.html、.htm、.docx 之一结尾（格式：md、html、docx）" in str(
        caught.value
    )


def test_a_limit_per_level_reads_as_levels_not_a_python_dict() -> None:
    from opsplay.render.flowchart import flow_steps
    from opsplay.render.sop import flow, playbook_data

    levels = load_playbook(HERE / "incident-levels.yaml")
    text = render_sop(levels, lang="zh")
    html = render_sop(levels, lang="zh", fmt="html")
    assert "{'P1'" not in text and "&#39;P1&#39;" not in html
    assert '值班工程师 · P1 5分钟、P2 30分钟内、其他级别 2小时"]' in text
    assert "2. **故障响应** · 值班工程师 · P1 5分钟、P2 30分钟内、其他级别 2小时：" in text
    assert "P1 5分钟、P2 30分钟内、其他级别 2小时" in html
    steps = flow_steps(flow(playbook_data(levels)), "en")
    assert not [step for step in steps if "{'" in step]
    assert "P1 5分钟, P2 30分钟内, other levels 2小时" in render_sop(levels, lang="en")


def test_an_alert_on_one_level_says_which_level() -> None:
    levels = load_playbook(HERE / "incident-levels.yaml")
    assert "| p1-sla | 故障响应（P1 级）的时限达标率 < 95.0% |" in render_sop(levels, lang="zh")
    assert "| p1-sla | 故障响应 (level P1) SLA compliance < 95.0% |" in render_sop(
        levels, lang="en"
    )
