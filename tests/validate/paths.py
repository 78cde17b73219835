"""Where the validate tests find their data."""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent
CASES = TESTS / "cases"
DATA = HERE / "data"
REPO = TESTS.parent
PLAYBOOKS = REPO / "playbooks"
