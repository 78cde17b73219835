"""Shared pytest configuration for every test folder (keep it minimal)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register options shared by several test folders (defined once, here)."""
    parser.addoption(
        "--update-goldens",
        action="store_true",
        default=False,
        help="rewrite golden files (text output, rendered documents) instead of comparing",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Refuse the retired way of rewriting goldens: it used to rewrite them silently and pass."""
    if "OPSPLAY_UPDATE_GOLDENS" in os.environ:
        raise pytest.UsageError(
            "OPSPLAY_UPDATE_GOLDENS is no longer read: unset it, run pytest with "
            "--update-goldens (one flag for every golden file) and review the diff"
        )


@pytest.fixture
def update_goldens(request: pytest.FixtureRequest) -> bool:
    """Whether golden files should be rewritten rather than compared."""
    return bool(request.config.getoption("--update-goldens"))


def _subprocesses_run_the_working_tree() -> None:
    """Point `python -m opsplay`, the console script and pre-commit hooks at this tree.

    Without it a subprocess imports whatever opsplay is installed in the environment, so a
    bug in the tree could pass the tests that start one. Set at import, before any test
    module copies `os.environ`.
    """
    root = str(Path(__file__).resolve().parent.parent)
    paths = [root, *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    os.environ["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))


_subprocesses_run_the_working_tree()
