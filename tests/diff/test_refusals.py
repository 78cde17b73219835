"""`opsplay diff` on what it must refuse (a playbook validate rejects) and on what it must
cut (a rewrite with hundreds of changes), in both languages."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from opsplay.cli import app

from .helpers import FIXTURES

runner = CliRunner()


def invoke(*args: str, lang: str = "en") -> tuple[int, str, str]:
    result = runner.invoke(app, ["--lang", lang, "diff", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def incident(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The incident playbook's two versions in an empty project folder (the cwd)."""
    for name in ("incident-2.3.0.yaml", "incident-3.0.0.yaml"):
        shutil.copyfile(FIXTURES / name, tmp_path / name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize(
    ("lang", "words"),
    [("en", "is not a valid playbook, so it cannot be compared"), ("zh", "不是有效的流程文件")],
)
def test_a_playbook_validate_rejects_is_refused_with_its_errors(
    incident: Path, lang: str, words: str
) -> None:
    """The schema passes, the rules do not: an owner renamed without renaming the role."""
    new = incident / "incident-3.0.0.yaml"
    text = new.read_text("utf-8")
    assert text.count("    owner: oncall\n") >= 2
    new.write_text(text.replace("    owner: oncall\n", "    owner: on-call\n"), "utf-8")
    code, out, err = invoke("incident-2.3.0.yaml", "incident-3.0.0.yaml", lang=lang)
    assert (code, out) == (2, "")
    assert words in err
    lines = [line for line in err.splitlines() if "OPS201" in line]
    first = text.splitlines().index("    owner: oncall") + 1
    assert lines[0].strip().startswith(f"incident-3.0.0.yaml:{first}:12: OPS201")
    assert "`on-call`" in lines[0]


def test_a_playbook_with_warnings_only_is_compared(incident: Path) -> None:
    new = incident / "incident-3.0.0.yaml"
    text = new.read_text("utf-8")
    new.write_text(text.replace("    sla: 1m\n", "", 1), "utf-8")  # OPS501: a warning
    code, out, err = invoke("incident-2.3.0.yaml", "incident-3.0.0.yaml")
    assert (code, err) == (0, "")
    assert "time limit removed from node" in out


def test_more_than_twenty_errors_say_how_many_more(incident: Path) -> None:
    new = incident / "incident-3.0.0.yaml"
    text = new.read_text("utf-8")
    broken = text.replace(
        "nodes:\n",
        "nodes:\n"
        + "".join(
            f"  - {{id: step-{i}, name: Step {i}, owner: nobody, sla: 1h}}\n" for i in range(25)
        ),
        1,
    )
    new.write_text(broken, "utf-8")
    code, _, err = invoke("incident-2.3.0.yaml", "incident-3.0.0.yaml")
    assert code == 2
    assert err.count(": OPS201 ") == 20
    assert "… and 5 more errors (`opsplay validate` lists every one)" in err


def _inspection(version: str, wording: str, rooms: int = 300, long_room: str = "") -> str:
    """A machine-room inspection process, one node per room (a rewrite touches them all)."""
    nodes = "\n".join(
        f"  - {{id: room-{i:03d}, name: 巡检{i:03d}号机房, owner: 值班工程师, sla: 30分钟, "
        f"standard: {wording}{i:03d}号机房的温度、湿度与UPS状态{long_room if i == 0 else ''}, "
        "fallback: {when: [failure], action: 电话通知运维经理}}"
        for i in range(rooms)
    )
    return f"""apiVersion: opsplay/v1
kind: Playbook
metadata:
  id: machine-room-inspection
  title: 机房日常巡检
  version: "{version}"
  status: draft
  owner: 运维经理
  updated: 2024-09-01
  changelog:
    - {{version: "{version}", date: 2024-09-01, summary: 巡检标准改写}}
goal:
  statement: 将巡检按时完成率从80%提升至95%
  metric: 按时完成率
  baseline: 0.80
  target: 0.95
  deadline: 2024-12-31
roles:
  - {{id: 运维经理, name: 运维经理}}
  - {{id: 值班工程师, name: 值班工程师}}
metrics:
  - {{id: 按时完成率, name: 巡检按时完成率, kind: proportion, column: 是否按时, better: higher}}
nodes:
{nodes}
"""


@pytest.mark.parametrize(
    ("lang", "note"),
    [
        ("en", "… and 100 more changes, not listed to keep the output readable"),
        ("zh", "另有 100 项变更未列出"),
    ],
)
def test_a_rewrite_lists_two_hundred_changes_and_says_how_many_more(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lang: str, note: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "old.yaml").write_text(_inspection("1.0.0", "记录"), "utf-8")
    (tmp_path / "new.yaml").write_text(_inspection("1.0.1", "逐项拍照记录"), "utf-8")
    code, text, err = invoke("old.yaml", "new.yaml", "--lang", lang, lang=lang)
    assert (code, err) == (0, "")
    assert text.count(" room-") == 200 and "room-199" in text and "room-200" not in text
    assert note in text and "`--format json`" in text
    _, markdown, _ = invoke("old.yaml", "new.yaml", "-f", "markdown", "--lang", lang, lang=lang)
    assert markdown.count("`room-") == 200 and note in markdown
    _, data, _ = invoke("old.yaml", "new.yaml", "-f", "json")
    assert len(json.loads(data)["playbooks"][0]["changes"]) == 300


def test_a_pull_request_comment_stays_under_githubs_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Long texts rewritten in 190 rooms (fewer than 200 changes): the comment stops before
    65,536 characters all the same, and one text of 30,000 characters is shown cut."""
    monkeypatch.chdir(tmp_path)
    long_room = "；" + "检查空调冷凝水排水管是否堵塞" * 2000
    (tmp_path / "old.yaml").write_text(
        _inspection("1.0.0", "记录" * 100, rooms=190, long_room=long_room), "utf-8"
    )
    (tmp_path / "new.yaml").write_text(
        _inspection("1.0.1", "拍照" * 100, rooms=190, long_room=long_room), "utf-8"
    )
    code, markdown, _ = invoke("old.yaml", "new.yaml", "-f", "markdown", "--lang", "zh")
    assert code == 0
    assert len(markdown) < 65_536
    assert "另有" in markdown and "项变更未列出" in markdown
    assert "…" in markdown.split("room-001")[0]  # the first room's long text, cut
    _, text, _ = invoke("old.yaml", "new.yaml", "--lang", "zh")
    assert len(text) < 65_536


@pytest.mark.parametrize(
    ("lang", "words"),
    [("en", "a device, pipe or socket, not a regular file"), ("zh", "不是普通文件")],
)
def test_a_device_or_a_pipe_is_named_for_what_it_is_never_waited_on(
    incident: Path, lang: str, words: str
) -> None:
    """`/dev/zero` and a FIFO exist: "no such file or folder" was wrong, and a FIFO opened
    for reading waits for a writer for ever."""
    os.mkfifo(incident / "pipe.yaml")
    for old, new in (
        ("/dev/zero", "incident-3.0.0.yaml"),
        ("incident-2.3.0.yaml", "pipe.yaml"),
        ("/dev/null", "incident-3.0.0.yaml"),
    ):
        code, out, err = invoke(old, new, lang=lang)
        assert (code, out) == (2, "")
        assert words in err and (old if old.startswith("/dev") else new) in err
        assert "no such file" not in err and "没有这个文件" not in err


def test_a_pipe_in_a_folder_is_skipped_and_named(incident: Path) -> None:
    for folder in ("old", "new"):
        (incident / folder).mkdir()
        shutil.copyfile(FIXTURES / "incident-2.3.0.yaml", incident / folder / "incident.yaml")
    os.mkfifo(incident / "new" / "pipe.yaml")
    code, out, _ = invoke("old", "new", "-f", "json")
    assert code == 0
    skipped = json.loads(out)["skipped"]
    assert [s["file"] for s in skipped] == ["new/pipe.yaml"]
    assert "not a regular file" in skipped[0]["problem"]


def test_a_file_above_the_size_limit_is_refused_before_it_is_parsed(incident: Path) -> None:
    (incident / "pyproject.toml").write_text("[tool.opsplay]\nmax_file_kb = 8\n", "utf-8")
    code, _, err = invoke("incident-2.3.0.yaml", "incident-3.0.0.yaml")
    assert code == 2
    assert "incident-2.3.0.yaml: the file is larger than 8 KB" in err
