"""`opsplay diff` on SPEC 8 parts: per-level limits, escalation ladders, RACI, levels, fallbacks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from opsplay.cli import app
from opsplay.diff import Classification, Level, compare
from opsplay.model.playbook import Playbook

CASE = Path(__file__).resolve().parent.parent / "cases" / "valid" / "zh-incident-levels.yaml"


def _data() -> dict[str, Any]:
    return yaml.safe_load(CASE.read_text(encoding="utf-8"))


def _changes(old: dict[str, Any], new: dict[str, Any]) -> list[tuple[str, str, Level]]:
    """(kind, field or item, level) of every change from `old` to `new`."""
    classify = Classification.from_config(None)
    found = compare(Playbook.model_validate(old), Playbook.model_validate(new))
    return [(c.kind, c.field or c.item or "", classify.level(c.kind)) for c in found]


def _node(data: dict[str, Any], node_id: str) -> dict[str, Any]:
    return next(n for n in data["nodes"] if n["id"] == node_id)


def test_a_level_limit_loosened_is_major_and_tightened_is_minor() -> None:
    old, new = _data(), _data()
    _node(new, "respond")["sla"] = {"P1": "10分钟", "P2": "15分钟", "default": "2小时"}
    assert _changes(old, new) == [
        ("node.sla.loosened", "sla", Level.MAJOR),  # P1 5 → 10 minutes
        ("node.sla.tightened", "sla", Level.MINOR),  # P2 30 → 15 minutes
    ]


def test_a_plain_limit_split_by_level() -> None:
    old, new = _data(), _data()
    _node(old, "review")["sla"] = "3d"
    _node(new, "review")["sla"] = {"P1": "1d", "default": "5d"}
    found = compare(Playbook.model_validate(old), Playbook.model_validate(new))
    shown = [(c.kind, c.old, c.new) for c in found]
    assert shown == [
        ("node.sla.loosened", "3d", "default 5d"),
        ("node.sla.tightened", "3d", "P1 1d"),
    ]


def test_escalation_step_removed_is_major_added_is_minor_wording_is_patch() -> None:
    old, new = _data(), _data()
    ladder = _node(new, "respond")["escalation"]
    ladder.pop()  # 30分钟 → tech-vp
    ladder[0]["action"] = "电话并短信通知运维经理"
    _node(new, "recover")["escalation"].append(
        {"after": "1小时", "to": "tech-vp", "action": "升级至技术副总裁"}
    )
    assert sorted(_changes(old, new)) == [
        ("node.escalation.action", "escalation", Level.PATCH),
        ("node.escalation.added", "escalation", Level.MINOR),
        ("node.escalation.removed", "escalation", Level.MAJOR),
    ]


def test_an_escalation_step_that_waits_longer_is_major() -> None:
    old, new = _data(), _data()
    _node(new, "respond")["escalation"][0]["after"] = "10分钟"
    assert _changes(old, new) == [("node.escalation.loosened", "escalation", Level.MAJOR)]


def test_raci_entries_and_levels_added_are_minor() -> None:
    old, new = _data(), _data()
    _node(new, "respond")["raci"]["informed"].append("tech-vp")
    new["levels"].append({"id": "P4", "name": "四级（咨询类）"})
    new["levels"][0]["name"] = "一级故障（核心交易不可用）"
    assert sorted(_changes(old, new)) == [
        ("level.added", "P4", Level.MINOR),
        ("level.text", "name", Level.PATCH),
        ("node.raci.added", "raci.informed", Level.MINOR),
    ]


def test_several_fallbacks_compared_trigger_by_trigger() -> None:
    old, new = _data(), _data()
    fallbacks = _node(new, "respond")["fallback"]
    fallbacks[0]["when"] = ["timeout"]  # no_response handled by nobody any more
    fallbacks[1]["action"] = "运维经理指定专人介入并拉群"
    assert sorted(_changes(old, new)) == [
        ("node.fallback.action", "action", Level.PATCH),
        ("node.fallback.narrowed", "when", Level.MAJOR),
    ]


def test_schedule_alert_level_and_weight_changes_are_minor() -> None:
    old, new = _data(), _data()
    _node(new, "inspect")["schedule"] = "每日 09:00"
    new["alerts"][1]["level"] = "P3"
    new["metrics"][0]["weight"] = 0.5
    new["metrics"][1]["weight"] = 0.5
    assert sorted(_changes(old, new)) == [
        ("alert.condition", "level", Level.MINOR),
        ("metric.weight", "weight", Level.MINOR),
        ("metric.weight", "weight", Level.MINOR),
        ("node.schedule", "schedule", Level.MINOR),
    ]


@pytest.mark.parametrize(("lang", "words"), [("zh", "删除升级步骤"), ("en", "removed from node")])
def test_the_cli_says_it_in_both_languages(tmp_path: Path, lang: str, words: str) -> None:
    new = _data()
    _node(new, "respond")["escalation"].pop()
    new["metadata"]["version"] = "1.1.1"
    new["metadata"]["changelog"].insert(
        0, {"version": "1.1.1", "date": "2024-10-08", "summary": "去掉技术副总裁一级的升级"}
    )
    (tmp_path / "new.yaml").write_text(yaml.safe_dump(new, allow_unicode=True), "utf-8")
    result = CliRunner().invoke(
        app, ["diff", str(CASE), str(tmp_path / "new.yaml"), "--lang", lang]
    )
    assert result.exit_code == 0, result.output
    assert words in result.stdout, result.stdout
