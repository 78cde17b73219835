"""Fixtures of the rendering tests: repository paths, playbooks, and golden-file comparison.

`--update-goldens` is registered once in tests/conftest.py (shared by every test folder);
the `update_goldens` fixture comes from there.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from opsplay.model.playbook import Playbook
from opsplay.validate import load_playbook

HERE = Path(__file__).parent
REPO = HERE.parents[1]
PLAYBOOKS = REPO / "playbooks"
FIXTURES = HERE / "fixtures"
GOLDEN = HERE / "golden"
EDGE_CASE = FIXTURES / "edge-case.yaml"

# Playbook file → saved `pilot compare --format json` output used for its report goldens.
REPORT_CASES = {
    PLAYBOOKS / "new-user-onboarding.yaml": FIXTURES / "compare-new-user-onboarding.json",
    PLAYBOOKS / "member-recall.yaml": FIXTURES / "compare-member-recall.json",
    EDGE_CASE: FIXTURES / "compare-edge-case.json",
}


def shipped_playbooks() -> list[Path]:
    """The playbooks in the repository's playbooks/ folder (whatever is there today)."""
    return sorted(PLAYBOOKS.glob("*.yaml"))


@pytest.fixture(scope="session")
def onboarding() -> Playbook:
    """The shipped A/B pilot playbook, loaded once."""
    return load_playbook(PLAYBOOKS / "new-user-onboarding.yaml")


@pytest.fixture(scope="session")
def onboarding_comparison() -> dict[str, Any]:
    """The saved comparison of the onboarding pilot."""
    data: dict[str, Any] = json.loads(
        REPORT_CASES[PLAYBOOKS / "new-user-onboarding.yaml"].read_text("utf-8")
    )
    return data


@pytest.fixture
def golden(update_goldens: bool) -> Callable[[str, str], None]:
    """Compare text with golden file `name` (whole, trailing newline included), or rewrite it."""

    def check(name: str, text: str) -> None:
        path = GOLDEN / name
        if update_goldens:
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists() or path.read_bytes() != text.encode("utf-8"):
                path.write_bytes(text.encode("utf-8"))
            return
        if not path.exists():
            pytest.fail(
                f"golden file {path.relative_to(REPO)} is missing; "
                "run pytest tests/render --update-goldens"
            )
        expected = path.read_bytes().decode("utf-8")
        if expected != text:
            diff = "".join(
                list(
                    difflib.unified_diff(
                        expected.splitlines(keepends=True),
                        text.splitlines(keepends=True),
                        fromfile=f"golden/{name}",
                        tofile="rendered",
                    )
                )[:80]
            )
            pytest.fail(
                f"rendered output differs from golden/{name}; review the diff and run "
                f"`pytest tests/render --update-goldens` if the change is intended:\n{diff}"
            )

    return check
