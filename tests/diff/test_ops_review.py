"""What a Chinese operations lead reads in `opsplay diff` of a process with levels and an
escalation ladder: role names, not ids; 其他级别, not `default`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from opsplay.diff import compare
from opsplay.diff.wording import describe
from opsplay.model.playbook import Playbook

CASE = Path(__file__).resolve().parent.parent / "cases" / "valid" / "zh-incident-levels.yaml"


def _data() -> dict[str, Any]:
    return yaml.safe_load(CASE.read_text(encoding="utf-8"))


def _node(data: dict[str, Any], node_id: str) -> dict[str, Any]:
    return next(n for n in data["nodes"] if n["id"] == node_id)


def _lines(old: dict[str, Any], new: dict[str, Any], lang: str) -> list[str]:
    found = compare(Playbook.model_validate(old), Playbook.model_validate(new))
    return [describe(change, lang).line for change in found]


def test_an_escalation_step_shows_the_role_name() -> None:
    old, new = _data(), _data()
    ladder = _node(new, "respond")["escalation"]
    removed = ladder.pop()
    assert removed["to"] == "tech-vp"
    (line,) = _lines(old, new, "zh")
    assert line.endswith("删除升级步骤 " + str(removed["after"]) + " → 技术副总裁")
    assert "tech-vp" not in line
    ladder.append({**removed, "after": "45分钟"})
    (line,) = _lines(old, new, "en")
    assert line.endswith("→ 45分钟 → 技术副总裁 (loosened)"), line


def test_the_limit_of_unlisted_levels_reads_other_levels() -> None:
    old, new = _data(), _data()
    _node(old, "review")["sla"] = "3d"
    _node(new, "review")["sla"] = {"P1": "1d", "default": "5d"}
    zh = _lines(old, new, "zh")
    assert any(line.endswith("3d → 其他级别 5d（放宽）") for line in zh), zh
    assert not [line for line in zh if "default" in line]
    en = _lines(old, new, "en")
    assert any(line.endswith("3d → other levels 5d (loosened)") for line in en), en
