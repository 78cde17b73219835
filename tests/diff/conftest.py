"""Fixtures of the diff and version-check tests: playbook fixtures, goldens, real git repositories.

Golden files are compared whole; rewrite them with `pytest --update-goldens` or
`OPSPLAY_UPDATE_GOLDENS=1 pytest tests/diff`, and review the change in git.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

HERE = Path(__file__).parent
FIXTURES = HERE / "fixtures"
GOLDEN = HERE / "golden"

# git without the machine's global or system configuration, so tests behave the same everywhere.
GIT_ENV = {
    **os.environ,
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_DATE": "2024-09-02T10:00:00+08:00",
    "GIT_COMMITTER_DATE": "2024-09-02T10:00:00+08:00",
}


def git(cwd: Path, *args: str) -> str:
    """Run git in `cwd` with a fixed identity; return stdout."""
    result = subprocess.run(
        [
            "git",
            "-c",
            "user.email=ops@example.com",
            "-c",
            "user.name=Ops Team",
            "-c",
            "commit.gpgsign=false",
            *args,
        ],
        cwd=cwd,
        env=GIT_ENV,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"git {' '.join(args)} failed: {result.stderr}"
    return result.stdout


class GitRepo:
    """A real repository in a temporary folder."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def git(self, *args: str) -> str:
        return git(self.root, *args)

    def write(self, relative: str, text: str) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    def copy(self, fixture: str, relative: str) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(FIXTURES / fixture, path)
        return path

    def read(self, relative: str) -> str:
        return (self.root / relative).read_text(encoding="utf-8")

    def commit(self, message: str) -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD").strip()


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    """An empty repository on branch main."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    return GitRepo(root)


def fixture_text(name: str) -> str:
    """A fixture playbook's text."""
    return (FIXTURES / name).read_text(encoding="utf-8")


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Callable[[str, str], None]:
    """Compare text with a golden file (or rewrite it when asked to)."""
    update = os.environ.get("OPSPLAY_UPDATE_GOLDENS") == "1" or bool(
        request.config.getoption("--update-goldens", default=False)
    )

    def check(name: str, actual: str) -> None:
        path = GOLDEN / name
        if update:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(actual, encoding="utf-8", newline="\n")
            return
        assert path.exists(), f"{path} is missing; run with OPSPLAY_UPDATE_GOLDENS=1 and review it"
        assert actual == path.read_text(encoding="utf-8"), f"output differs from {path.name}"

    return check
