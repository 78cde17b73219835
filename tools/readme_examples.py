"""The README's example outputs, made by running the commands they show, so they cannot drift.

    python tools/readme_examples.py           # rewrite the example blocks of README.md
    python tools/readme_examples.py --check   # exit 1 when a block is not what the command prints

A block is generated when a marker comment stands right before it:

    <!-- example: opsplay validate tests/cases/invalid/unknown-owner.yaml -->
    <!-- example: opsplay pilot compare … ; keep: ^• -->     (only the lines matching a regex)

The block becomes ```text, `$ <command>`, then what the command prints (stdout, then
stderr), in Chinese (OPSPLAY_LANG=zh), 100 columns wide, run from a scratch folder holding
copies of the repository's playbooks/, examples/ and test cases (so `watch` writes its state
file there, not into the repository, and paths print as they read in the README).
tests/test_docs.py runs `--check`.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
MARKER = re.compile(
    r"^<!-- example: (?P<command>.+?)(?: ; keep: (?P<keep>.+?))? -->\n"
    r"```[a-z]*\n(?P<body>.*?)^```\n",
    re.M | re.S,
)
SHARED = ("playbooks", "examples", "tests/cases", "tests/diff/fixtures")
# How examples run: the same on every machine (language, width, time zone, no colours).
ENVIRONMENT = {"OPSPLAY_LANG": "zh", "COLUMNS": "100", "TZ": "Asia/Shanghai", "NO_COLOR": "1"}


def run(command: str, scratch: Path) -> str:
    """What `command` (an `opsplay …` line) prints, stdout then stderr."""
    words = shlex.split(command)
    assert words[0] == "opsplay", f"an example runs opsplay, not {words[0]}"
    environment = {**os.environ, **ENVIRONMENT, "PYTHONPATH": str(ROOT)}
    environment.pop("OPSPLAY_STATE", None)
    result = subprocess.run(
        [sys.executable, "-m", "opsplay", *words[1:]],
        cwd=scratch,
        env=environment,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
    )
    return result.stdout + result.stderr


def block(command: str, keep: str | None, output: str) -> str:
    """The README block of one example."""
    lines = output.rstrip("\n").splitlines()
    if keep:
        pattern = re.compile(keep)
        lines = ["…"] + [line for line in lines if pattern.search(line)]
    shown = "\n".join(line.rstrip() for line in [f"$ {command}", *lines])
    return (
        f"<!-- example: {command}{f' ; keep: {keep}' if keep else ''} -->\n```text\n{shown}\n```\n"
    )


def generate(text: str) -> str:
    """The README with every marked example block made again."""
    with tempfile.TemporaryDirectory(prefix="opsplay-readme-") as folder:
        scratch = Path(folder)
        for name in SHARED:
            shutil.copytree(ROOT / name, scratch / name)

        def made(match: re.Match[str]) -> str:
            command, keep = match.group("command"), match.group("keep")
            return block(command, keep, run(command, scratch))

        return MARKER.sub(made, text)


def main(argv: list[str]) -> int:
    text = README.read_text("utf-8")
    wanted = generate(text)
    if "--check" in argv:
        if wanted != text:
            print("README.md examples are stale: run python tools/readme_examples.py")
            return 1
        return 0
    README.write_text(wanted, "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
