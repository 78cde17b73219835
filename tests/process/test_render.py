"""The SOP shows levels with their limits, escalation ladders, a RACI matrix, schedules in
words and several fallbacks, in both languages (goldens: tests/render/golden/sop)."""

from __future__ import annotations

from pathlib import Path

import pytest

from opsplay.render.process import schedule_words
from opsplay.render.sop import render_sop
from opsplay.validate import load_playbook

CASE = Path(__file__).resolve().parent.parent / "cases" / "valid" / "zh-incident-levels.yaml"


@pytest.mark.parametrize(
    ("text", "zh", "en"),
    [
        ("工作日 09:00", "每个工作日 09:00", "every working day at 09:00"),
        ("每日 08:30", "每天 08:30", "every day at 08:30"),
        ("每周一", "每周一", "every Monday"),
        ("每周三 15:00", "每周三 15:00", "every Wednesday at 15:00"),
        ("每月5日 10:00", "每月5日 10:00", "on day 5 of every month at 10:00"),
        ("每季度首月15日", "每季度首月15日", "on day 15 of each quarter's first month"),
        ("0 9 * * 1-5", "按 cron 表达式 0 9 * * 1-5 执行", "cron schedule 0 9 * * 1-5"),
    ],
)
def test_schedules_in_words(text: str, zh: str, en: str) -> None:
    assert schedule_words(text, "zh") == zh
    assert schedule_words(text, "en") == en


def test_chinese_sop_shows_every_spec8_part() -> None:
    sop = render_sop(load_playbook(CASE), fmt="md", lang="zh")
    assert "**分级时限**" in sop
    assert "| P1 | 一级故障（核心系统不可用） | 5分钟 | 30分钟 |" in sop
    assert "| P3 | 三级故障（无用户影响） | 2小时 | 1d |" in sop  # respond: the default applies
    assert "| 核心系统巡检 | 值班工程师 | 每个工作日 09:00 | 30分钟 |" in sop
    assert "| 故障响应与定级 | 5分钟 | 运维经理 | 电话通知运维经理 |" in sop
    assert "|  | 30分钟 | 技术副总裁 | 升级至技术副总裁 |" in sop
    assert "| 运维经理 | A | A | R/A | A |" in sop  # roles × nodes with a RACI
    assert "R 执行 · A 审批（负总责） · C 咨询 · I 知会" in sop
    assert "超时或无响应：自动呼叫备岗值班工程师<br>失败：运维经理指定专人介入" in sop
    assert "P1 5分钟<br>P2 30分钟<br>其他级别 2小时" in sop


def test_english_sop_says_the_same() -> None:
    sop = render_sop(load_playbook(CASE), fmt="md", lang="en")
    assert "**Levels and time limits**" in sop
    assert "every working day at 09:00" in sop
    assert "**Escalation ladders**" in sop and "**RACI matrix**" in sop
    assert "R responsible · A accountable · C consulted · I informed" in sop
    assert "timeout or no response: 自动呼叫备岗值班工程师<br>failure: 运维经理指定专人介入" in sop


def test_html_sop_has_the_tables() -> None:
    html = render_sop(load_playbook(CASE), fmt="html", lang="zh")
    for caption in ("分级时限", "定时执行的节点", "升级阶梯", "RACI 矩阵"):
        assert f"<caption>{caption}</caption>" in html
    assert '<td rowspan="2">故障响应与定级</td>' in html


ONCALL = CASE.parent.parent.parent / "render" / "fixtures" / "wms-oncall.yaml"


def test_ladders_per_level_lead_with_the_level_id() -> None:
    """Issue 21 try-out: a ladder row read `一级故障（出库作业中断或全仓PDA不可用）：15分钟`; it
    reads `P1：15分钟`, as the flowchart's arrow and the levels table (id beside its meaning)."""
    sop = render_sop(load_playbook(ONCALL), fmt="md", lang="zh")
    assert "| 故障处置 | P1：15分钟 | 值班经理 | 超过15分钟未恢复，电话升级至值班经理 |" in sop
    assert "|  | P2：4小时 | 值班经理 | 超过4小时未恢复，升级至值班经理 |" in sop
    assert '-.->|"P1：15分钟"|' in sop
    ladders = sop.split("**升级阶梯**")[1].split("**RACI")[0]
    assert "一级故障" not in ladders and "二级故障" not in ladders
    english = render_sop(load_playbook(ONCALL), fmt="md", lang="en")
    assert "| 故障处置 | P1: 15分钟 | 值班经理 |" in english


def test_business_hours_are_named_beside_the_limit_everywhere() -> None:
    """The node counting `2小时` in 客服班次 says so in Table 2, the flowchart, the execution
    standards; its calendar limits elsewhere (次日12点前) never get the calendar."""
    sop = render_sop(load_playbook(ONCALL), fmt="md", lang="zh")
    assert "| 仓储客服专员 | — | — | 2小时（客服班次） |" in sop
    assert 'n4["通知受影响商家<br>仓储客服专员 · 2小时（客服班次）"]' in sop
    assert "**通知受影响商家** · 仓储客服专员 · 2小时（客服班次）：" in sop
    assert sop.count("（客服班次）") == 3
