"""Messages an on-call lead met in the issue 21 try-out: what they say, in both languages.

Each playbook is the two-entry warehouse case (tests/cases/valid/zh-two-entries.yaml) with one
mistake the lead made written into it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from opsplay.config import Config, find_config
from opsplay.i18n import language
from opsplay.validate import validate_paths

from .support import CASES

BASE = (CASES / "valid" / "zh-two-entries.yaml").read_text("utf-8")


def _messages(tmp_path: Path, text: str, lang: str, config: Config | None = None) -> list[str]:
    path = tmp_path / "oncall.yaml"
    path.write_text(text, "utf-8")
    with language(lang):
        result = validate_paths([path], config or Config())
    return [f"{d.rule} {d.message}" for d in result.diagnostics]


def _changed(old: str, new: str) -> str:
    assert old in BASE, old
    return BASE.replace(old, new, 1)


@pytest.mark.parametrize(
    ("lang", "says"),
    [
        ("en", "cannot be reached from any entry node (inspect)"),
        ("zh", "从任何入口节点（inspect）都无法到达"),
    ],
)
def test_an_entry_that_is_also_the_first_node_is_named_once(
    tmp_path: Path, lang: str, says: str
) -> None:
    """`entry: true` on the first node only (the 报警 left unmarked): each entry listed once."""
    text = _changed("    schedule: 每日 08:30\n", "    schedule: 每日 08:30\n    entry: true\n")
    text = text.replace("    entry: true\n    sla: {P1: 5分钟", "    sla: {P1: 5分钟", 1)
    (message,) = _messages(tmp_path, text, lang)
    assert message.startswith("OPS207") and says in message


@pytest.mark.parametrize(
    ("key", "value", "line"),
    [
        ("timezone", "Asia/Shanghai", 'timezone = "Asia/Shanghai"'),
        ("calendar", "weekdays", 'calendar = "weekdays"'),
        ("workday_limits", "clock", 'workday_limits = "clock"'),
    ],
)
def test_a_project_setting_in_the_playbook_says_where_it_goes(
    tmp_path: Path, key: str, value: str, line: str
) -> None:
    text = _changed("kind: Playbook\n", f"kind: Playbook\n{key}: {value}\n")
    (english,) = _messages(tmp_path, text, "en")
    assert english.startswith(f"OPS102 `{key}` is a project setting")
    assert "`[tool.opsplay]` in `.opsplay.toml` or `pyproject.toml`" in english
    assert f"(`{line}`)" in english
    (chinese,) = _messages(tmp_path, text, "zh")
    assert f"`{key}` 是项目配置" in chinese and f"（`{line}`）" in chinese


def test_a_calendar_list_at_the_top_is_still_taken_for_calendars(tmp_path: Path) -> None:
    text = _changed("calendars:\n", "calendar:\n")
    messages = _messages(tmp_path, text, "en")
    assert any("unknown key `calendar`; did you mean `calendars`?" in m for m in messages)
    assert not any("project setting" in m for m in messages)


@pytest.mark.parametrize(
    ("lang", "says"),
    [
        (
            "en",
            "unknown key `phone`; did you mean `mobile`? "
            "(allowed here: mobile, dingtalk, feishu, wecom)",
        ),
        (
            "zh",
            "未知的键 `phone`；是不是要写 `mobile`？（这里可以写：mobile、dingtalk、feishu、wecom）",
        ),
    ],
)
def test_contacts_phone_suggests_mobile_and_lists_the_keys(
    tmp_path: Path, lang: str, says: str
) -> None:
    text = _changed('contacts: {mobile: "13900000000"}', 'contacts: {phone: "13900000000"}')
    (message,) = _messages(tmp_path, text, lang)
    assert message == f"OPS102 {says}"


def test_an_unknown_key_of_an_optional_section_lists_the_allowed_keys(tmp_path: Path) -> None:
    """`contacts` and `pilot` are optional sections: their unknown keys list what is allowed."""
    text = _changed(
        "  feedback: [值班工程师访谈]\n", "  feedback: [值班工程师访谈]\n  channels: 1\n"
    )
    (message,) = _messages(tmp_path, text, "en")
    assert "unknown key `channels`" in message and "design" in message and "feedback" in message


def test_a_weekday_cron_is_quiet_when_the_project_counts_monday_to_friday(
    tmp_path: Path,
) -> None:
    """With `calendar = "weekdays"`, 工作日 is Monday–Friday: the cron means the same (no OPS512)."""
    text = _changed("schedule: 每日 08:30", 'schedule: "30 8 * * 1-5"')
    assert [m.split()[0] for m in _messages(tmp_path, text, "en")] == ["OPS512"]
    (tmp_path / ".git").mkdir()
    (tmp_path / ".opsplay.toml").write_text('[tool.opsplay]\ncalendar = "weekdays"\n', "utf-8")
    assert _messages(tmp_path, text, "en", find_config(tmp_path)) == []
