"""Fixtures for the validate tests (`--update-goldens` is defined once, in tests/conftest.py)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_github_summary(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests run in GitHub Actions too; never append to the real step summary."""
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
