"""The message catalogue is whole: every marked message has Chinese, the .mo is current."""

from __future__ import annotations

import subprocess
import sys

import pytest

from opsplay import i18n
from tools import catalogue


def test_every_message_has_a_chinese_translation_with_the_same_placeholders() -> None:
    problems = catalogue.problems(catalogue.load(), catalogue.extracted())
    assert problems == []


def test_no_message_id_written_twice() -> None:
    assert catalogue.duplicate_ids(catalogue.PO.read_text("utf-8")) == []


def test_no_f_string_inside_a_marker() -> None:
    assert catalogue.f_string_markers((catalogue.ROOT / "opsplay").rglob("*.py")) == []


def test_compiled_catalogue_matches_the_po_file() -> None:
    assert catalogue.MO.read_bytes() == catalogue.compiled(catalogue.load()), (
        "run python tools/catalogue.py compile"
    )


@pytest.mark.parametrize(
    ("flag", "env", "config", "expected"),
    [
        ("en", {"OPSPLAY_LANG": "zh", "LANG": "zh_CN.UTF-8"}, "zh", "en"),
        (None, {"OPSPLAY_LANG": "zh", "LANG": "en_US.UTF-8"}, "en", "zh"),
        (None, {"LANG": "en_US.UTF-8"}, "zh", "zh"),
        (None, {"LANG": "zh_CN.UTF-8"}, None, "zh"),
        (None, {"LC_ALL": "C", "LANG": "zh_CN.UTF-8"}, None, "en"),
        (None, {"LC_MESSAGES": "zh_TW.UTF-8"}, None, "zh"),
        (None, {}, None, "en"),
        ("中文", {}, None, "zh"),
    ],
)
def test_message_language_follows_spec_order(
    flag: str | None, env: dict[str, str], config: str | None, expected: str
) -> None:
    assert i18n.resolve_message_language(flag, config, env) == expected


def test_translate_and_language_block() -> None:
    message = "opsplay: error: {message}"
    assert i18n.translate(message, "zh") == "opsplay：错误：{message}"
    assert i18n.translate(message, "en") == message
    with i18n.language("zh"):
        assert i18n._(message).startswith("opsplay：错误")
    assert i18n.message_language() == "en"


def test_locale_alone_makes_help_chinese(tmp_path) -> None:
    env = {"PATH": "", "LANG": "zh_CN.UTF-8", "PYTHONPATH": str(catalogue.ROOT), "COLUMNS": "120"}
    result = subprocess.run(
        [sys.executable, "-m", "opsplay", "--help"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
    )
    assert result.returncode == 0
    assert "显示版本号" in result.stdout


def test_every_chinese_stderr_prefix_uses_the_full_width_colon() -> None:
    """`opsplay：错误：` on every line a Chinese user reads, not `opsplay: 错误：` on some."""
    po = (catalogue.ROOT / "opsplay/locale/zh_CN/LC_MESSAGES/opsplay.po").read_text("utf-8")
    prefixed = [line for line in po.splitlines() if line.startswith('msgstr "opsplay')]
    assert len(prefixed) > 5
    assert not [line for line in prefixed if line.startswith('msgstr "opsplay: ')]
