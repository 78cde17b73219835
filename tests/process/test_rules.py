"""SPEC 8 rules beyond the cases-as-data: configurable hygiene limits, both languages."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from opsplay.config import Config, Hygiene, find_config
from opsplay.errors import UsageError
from opsplay.i18n import language
from opsplay.validate import validate_paths

CASES = Path(__file__).resolve().parent.parent / "cases"
CROWDED = CASES / "invalid" / "process-for-its-own-sake.yaml"


def _rules(path: Path, config: Config) -> list[tuple[str, str]]:
    return [(d.rule, d.path) for d in validate_paths([path], config).diagnostics]


def _project(tmp_path: Path, settings: str) -> Path:
    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_text(f"[tool.opsplay.hygiene]\n{settings}\n", "utf-8")
    target = tmp_path / "playbooks" / CROWDED.name
    target.parent.mkdir()
    shutil.copyfile(CROWDED, target)
    return target


def test_hygiene_limits_come_from_the_project(tmp_path: Path) -> None:
    target = _project(tmp_path, "max_nodes = 13\nmax_handovers = 9")
    config = find_config(target.parent)
    assert config.hygiene == Hygiene(max_nodes=13, max_handovers=9)
    assert _rules(target, config) == []


def test_tighter_limits_warn_earlier(tmp_path: Path) -> None:
    target = _project(tmp_path, "max_nodes = 20\nmax_handovers = 2")
    found = _rules(target, find_config(target.parent))
    assert found == [("OPS509", "nodes[3]")]  # the third hand-over: s3 → s4


def test_the_defaults_are_twelve_nodes_and_six_handovers() -> None:
    assert _rules(CROWDED, Config()) == [("OPS508", "nodes"), ("OPS509", "nodes[8]")]


@pytest.mark.parametrize(
    ("settings", "says"),
    [
        ("max_nodes = 0", "at least 1"),
        ('max_nodes = "many"', "at least 1"),
        ("max_steps = 5", "unknown hygiene setting(s) max_steps"),
    ],
)
def test_bad_hygiene_settings_are_usage_errors(tmp_path: Path, settings: str, says: str) -> None:
    target = _project(tmp_path, settings)
    with pytest.raises(UsageError, match=r"pyproject\.toml: .*" + re.escape(says)):
        find_config(target.parent)


@pytest.mark.parametrize(
    ("case", "english", "chinese"),
    [
        ("bad-levels", "is not declared", "未在 `levels` 中声明"),
        ("bad-escalation", "no longer than the step before it", "不长于上一级"),
        ("bad-raci", "exactly one role answers for a node", "只能有一个"),
        (
            "repeated-fallback-triggers",
            "give each trigger one action",
            "每种触发情形只对应一种处理",
        ),
        ("bad-weights", "make them add up to 1", "权重之和须为1"),
        ("process-for-its-own-sake", "避免为流程而流程", "避免为流程而流程"),
        ("pilot-without-feedback", "数据驱动与用户反馈并重", "数据驱动与用户反馈并重"),
        ("bad-schedules", "write one of", "可写成"),
        ("bad-schedules", "`0 0 30 2 *` never falls due", "`0 0 30 2 *` 从不到期"),
        (
            "calendars-not-meant",
            "write `schedule: 工作日 08:30`",
            "请写成 `schedule: 工作日 08:30`",
        ),
        ("calendars-not-meant", "give each time of day its own node", "每个时刻请单独设一个节点"),
        (
            "calendars-not-meant",
            "`calendar: 客服班次` has no effect on node `review`: its time limits (次日12点前, "
            "1个工作日)",
            "`calendar: 客服班次` 对节点 `review` 不起作用：它的时限（次日12点前、1个工作日）",
        ),
    ],
)
def test_messages_in_both_languages(
    case: str, english: str, chinese: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(CASES / "invalid")
    path = Path(f"{case}.yaml")
    messages = " ".join(d.message for d in validate_paths([path], Config()).diagnostics)
    assert english in messages
    with language("zh"):
        chinese_messages = " ".join(d.message for d in validate_paths([path], Config()).diagnostics)
    assert chinese in chinese_messages
    assert "exactly one" not in chinese_messages and "not declared" not in chinese_messages
