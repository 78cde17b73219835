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


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


# Tests that skip when a service is missing (a real PostgreSQL, Spark on Java, headless
# Chromium, the mkdocs-macros plugin): on a developer's machine a skip says what to install;
# in CI (CI=true) the same skip is a failure, so CI cannot pass without having run them.
_NEEDED_IN_CI = ("postgresql", "pgserver", "spark", "java", "chromium", "mkdocs-macros")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> object:
    """With CI=true, a skip for want of PostgreSQL, Spark or Chromium fails the test."""
    report = yield
    if report.skipped and _in_ci() and not hasattr(report, "wasxfail"):
        reason = str(report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr)
        if any(word in reason.lower() for word in _NEEDED_IN_CI):
            report.outcome = "failed"
            report.longrepr = f"CI=true: this test must run in CI, but it skipped: {reason}"
    return report


def _hypothesis_profiles() -> None:
    """CI runs the same examples every time (failures reproduce); a developer's run explores."""
    try:
        from hypothesis import settings
    except ImportError:  # pragma: no cover - hypothesis is in the test extra
        return
    settings.register_profile("ci", derandomize=True, print_blob=True)
    if _in_ci():
        settings.load_profile("ci")


_hypothesis_profiles()


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
