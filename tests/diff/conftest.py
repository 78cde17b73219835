"""Fixtures of the diff and version-check tests: goldens and real git repositories.

Golden files are compared whole; rewrite them with `pytest --update-goldens` (the one flag
for every golden file, registered in tests/conftest.py) and review the change in git.
"""

from __future__ import annotations

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
def golden(update_goldens: bool) -> Callable[[str, str], None]:
    """Compare text with a golden file (or rewrite it with --update-goldens)."""
    update = update_goldens

    def check(name: str, actual: str) -> None:
        path = GOLDEN / name
        if update:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(actual, encoding="utf-8", newline="\n")
            return
        assert path.exists(), f"{path} is missing; run pytest --update-goldens and review it"
        assert actual == path.read_text(encoding="utf-8"), f"output differs from {path.name}"

    return check
