"""Fixtures of the diff and version-check tests: goldens and real git repositories.

Golden files are compared whole; rewrite them with `pytest --update-goldens` or
`OPSPLAY_UPDATE_GOLDENS=1 pytest tests/diff`, and review the change in git.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from .helpers import GOLDEN, GitRepo, git


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    """An empty repository on branch main."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    return GitRepo(root)


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
