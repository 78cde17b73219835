"""Fixtures of the rendering tests: repository paths, playbooks, and golden-file comparison.

`--update-goldens` is registered once in tests/conftest.py (shared by every test folder);
the `update_goldens` fixture comes from there.
"""

from __future__ import annotations

import difflib
import json
import os
import subprocess
import sys
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

# Playbook file → the exports `opsplay pilot compare` reads for its report goldens. The
# command runs on the repository's example data at the start of the test run, so report
# goldens render today's JSON, never a saved file that drifted from it.
COMPARE_INPUTS = {
    PLAYBOOKS / "new-user-onboarding.yaml": [
        "examples/onboarding_units.csv",
        "--events",
        "examples/onboarding_events.csv",
    ],
    PLAYBOOKS / "member-recall.yaml": ["examples/recall_did.csv"],
}
# The edge case has no data to compute from: its hand-made comparison (hostile text in every
# field) is checked against the shape of a real result instead (test_report).
EDGE_COMPARISON = FIXTURES / "compare-edge-case.json"
REPORT_CASES = [*COMPARE_INPUTS, EDGE_CASE]


def run_compare(playbook: Path, inputs: list[str], lang: str) -> str:
    """`opsplay pilot compare --format json` on real files, run from the repository root,
    its warnings in `lang` (the language of the report that shows them)."""
    env = {**os.environ, "OPSPLAY_LANG": lang}
    result = subprocess.run(
        [sys.executable, "-m", "opsplay", "pilot", "compare"]
        + [playbook.relative_to(REPO).as_posix(), *inputs, "--format", "json"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="session")
def comparison_files_by_lang(
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[tuple[Path, str], Path]:
    """(playbook, language) → a `pilot compare --format json` file: computed now, or the
    edge case's hand-made one."""
    folder = tmp_path_factory.mktemp("comparisons")
    files = {(EDGE_CASE, lang): EDGE_COMPARISON for lang in ("zh", "en")}
    for playbook, inputs in COMPARE_INPUTS.items():
        for lang in ("zh", "en"):
            path = folder / f"compare-{playbook.stem}.{lang}.json"
            path.write_text(run_compare(playbook, inputs, lang), encoding="utf-8")
            files[(playbook, lang)] = path
    return files


@pytest.fixture(scope="session")
def comparison_files(comparison_files_by_lang: dict[tuple[Path, str], Path]) -> dict[Path, Path]:
    """Playbook → its comparison file with Chinese messages (the playbooks' language)."""
    return {
        playbook: path
        for (playbook, lang), path in comparison_files_by_lang.items()
        if lang == "zh"
    }


def shipped_playbooks() -> list[Path]:
    """The playbooks in the repository's playbooks/ folder (whatever is there today)."""
    return sorted(PLAYBOOKS.glob("*.yaml"))


@pytest.fixture(scope="session")
def onboarding() -> Playbook:
    """The shipped A/B pilot playbook, loaded once."""
    return load_playbook(PLAYBOOKS / "new-user-onboarding.yaml")


@pytest.fixture(scope="session")
def onboarding_comparison(comparison_files: dict[Path, Path]) -> dict[str, Any]:
    """Today's comparison of the onboarding pilot on the example exports."""
    path = comparison_files[PLAYBOOKS / "new-user-onboarding.yaml"]
    data: dict[str, Any] = json.loads(path.read_text("utf-8"))
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
