"""A pipe or a device where a playbook, an export or a saved comparison belongs: named for what
it is, exit 2, never waited on. Opening a FIFO for reading blocks until a writer comes (for
ever, in CI), `/dev/zero` never ends, and "no such file" sent users looking for a typo."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOK = "playbooks/complaint-handling.yaml"
EXPORT = "examples/complaints_before_after.csv"
WORDS = {"en": "a device, pipe or socket, not a regular file", "zh": "不是普通文件"}

# (command with PIPE where the pipe goes, the argument named in the message)
COMMANDS = {
    "render-sop playbook": (["render-sop", "PIPE", "-o", "out"], "PIPE"),
    "render-report playbook": (
        ["render-report", "PIPE", "--from-json", "x.json", "-o", "r.md"],
        "PIPE",
    ),
    "render-report --from-json": (
        ["render-report", PLAYBOOK, "--from-json", "PIPE", "-o", "r.md"],
        "PIPE",
    ),
    "pilot compare export": (["pilot", "compare", PLAYBOOK, "PIPE"], "PIPE"),
    "pilot compare --events": (["pilot", "compare", PLAYBOOK, EXPORT, "--events", "PIPE"], "PIPE"),
    "pilot plan playbook": (["pilot", "plan", "PIPE"], "PIPE"),
    "diff": (["diff", PLAYBOOK, "PIPE"], "PIPE"),
    "render-sop /dev/zero": (["render-sop", "/dev/zero", "-o", "out"], "/dev/zero"),
    "pilot compare /dev/zero": (["pilot", "compare", PLAYBOOK, "/dev/zero"], "/dev/zero"),
}


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("case", sorted(COMMANDS))
def test_a_pipe_or_a_device_is_refused_for_what_it_is(tmp_path: Path, case: str, lang: str) -> None:
    for folder in ("playbooks", "examples"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    pipe = tmp_path / "incoming.yaml"
    os.mkfifo(pipe)
    args, named = COMMANDS[case]
    args = [str(pipe) if a == "PIPE" else a for a in args]
    result = subprocess.run(
        [sys.executable, "-m", "opsplay", "--lang", lang, *args],
        capture_output=True,
        text=True,
        timeout=60,  # a blocked read would hang here
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 2, result.stderr
    shown = str(pipe) if named == "PIPE" else named
    assert shown in result.stderr and WORDS[lang] in result.stderr, result.stderr
    assert "no such" not in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists() and not (tmp_path / "r.md").exists()
