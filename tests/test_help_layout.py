"""`--help` of every command at 80 and 100 columns, in Chinese and English: nothing cut, no
line too wide or starting with closing punctuation, no token split, metavars as words."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from opsplay.cli.helpformat import NO_LINE_START, width_of, wrap

ROOT = Path(__file__).resolve().parents[1]
COLLECT = r"""
import json, sys
from typer.testing import CliRunner
import typer.main
from opsplay.cli import app

root = typer.main.get_command(app)
found = []

def walk(command, path):
    texts = [command.help or ""]
    for param in command.params:
        texts.append(getattr(param, "help", None) or "")
    output = CliRunner().invoke(app, [*path, "--help"]).output
    found.append({"path": path, "output": output, "texts": [t for t in texts if t]})
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        walk(sub, [*path, name])

walk(root, [])
print(json.dumps(found, ensure_ascii=False))
"""
# Latin tokens that must never be split across lines (options, URLs, variables, file names)
TOKEN = re.compile(r"[A-Za-z0-9_./:+@=?&%-]*[A-Za-z0-9_]{2,}[A-Za-z0-9_./:+@=?&%-]*")


@pytest.fixture(scope="module", params=[("zh", 80), ("zh", 100), ("en", 80), ("en", 100)])
def helps(request: pytest.FixtureRequest) -> tuple[int, list[dict[str, object]]]:
    lang, width = request.param
    env = {**os.environ, "OPSPLAY_LANG": lang, "COLUMNS": str(width), "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", COLLECT],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        cwd=ROOT,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return width, json.loads(result.stdout)


def test_every_command_has_help_and_lines_fit(helps) -> None:
    width, found = helps
    assert len(found) >= 14  # the root, pilot and every command
    for entry in found:
        for line in entry["output"].splitlines():
            stripped = line.strip()
            if stripped.startswith("opsplay "):  # an example command is never broken
                assert line.startswith("    ") and width_of(line[4:]) > width - 4, line
                continue
            assert width_of(line) <= width, (entry["path"], line)
            if re.match(r"\.\w", stripped):  # a file suffix (.docx) may start a line
                continue
            assert not stripped or stripped[0] not in NO_LINE_START, (entry["path"], line)


def test_nothing_is_cut_and_no_token_is_split(helps) -> None:
    _width, found = helps
    for entry in found:
        output = entry["output"]
        flat = re.sub(r"\s+", "", output)
        words = set(re.findall(r"\S+", output))
        for text in entry["texts"]:
            paragraph = re.split(r"\n\s*\n", text)[0] if not entry["path"] else text
            assert re.sub(r"\s+", "", paragraph) in flat, (entry["path"], paragraph)
            for token in TOKEN.findall(text):
                assert any(token in word for word in words), (entry["path"], token)


def test_metavars_are_words_not_python_types(helps) -> None:
    _width, found = helps
    for entry in found:
        output = entry["output"]
        for leak in ("<bool>", "<list[", "<path>", "<str>", "<int", "[x>=", "{PLAYBOOK}"):
            assert leak not in output, (entry["path"], leak)
        assert "\u2502" not in output and "\u256d" not in output  # no box drawing


def test_wrap_keeps_latin_runs_and_punctuation_rules() -> None:
    text = "钉钉、飞书机器人的加签密钥（环境变量 OPSPLAY_NOTIFY_SECRET）。读 duckdb:///file.duckdb 文件。"
    for width in range(26, 70):  # wider than the longest unit (`OPSPLAY_NOTIFY_SECRET）。`)
        lines = wrap(text, width)
        assert "".join(lines).replace(" ", "") == text.replace(" ", "")
        for line in lines:
            assert width_of(line) <= width or " " not in line.strip()
            assert not line or line[0] not in NO_LINE_START
            assert not line or line[-1] not in "（「『“‘《"
        assert any("OPSPLAY_NOTIFY_SECRET" in line for line in lines)
        assert any("duckdb:///file.duckdb" in line for line in lines)


def test_example_commands_and_bracketed_notes_stay_whole(helps) -> None:
    """Issue 20: at 80 columns an example command was split across lines (copy-paste broke)
    and a note split inside its brackets (`[范` / `围：≥ 1…]`)."""
    _width, found = helps
    examples = 0
    for entry in found:
        output = entry["output"]
        for text in entry["texts"]:
            for command in re.findall(r"(?:Example: |示例：)(opsplay [^\n]*)", text):
                examples += 1
                assert any(line.strip().endswith(command) for line in output.splitlines()), (
                    entry["path"],
                    command,
                )
        for line in output.splitlines():
            if line.strip().startswith("opsplay "):
                continue
            assert line.count("[") == line.count("]"), (entry["path"], line)
    assert examples >= 8
