"""`95%` is read as 0.95 where a proportion is meant (tests/cases hold the valid and invalid files)."""

from __future__ import annotations

from pathlib import Path

import pytest

from opsplay.model.percent import as_share, read_percentages
from opsplay.validate import load_playbook

CASE = Path(__file__).parents[1] / "cases" / "valid" / "percentages-where-shares-are-meant.yaml"


def test_the_playbook_holds_the_shares() -> None:
    playbook = load_playbook(CASE)
    assert (playbook.goal.baseline, playbook.goal.target) == (0.35, 0.45)
    assert playbook.pilot is not None
    assert (playbook.pilot.alpha, playbook.pilot.split) == (0.05, 0.5)
    thresholds = {alert.id: alert.threshold for alert in playbook.alerts}
    assert thresholds["tag-sla"] == pytest.approx(0.95)
    assert thresholds["retention-drop"] == pytest.approx(0.33)
    assert playbook.scenarios[0].expected[0].value == pytest.approx(0.40)


@pytest.mark.parametrize(
    ("text", "share"), [("95%", 0.95), ("68 %", 0.68), ("12.5％", 0.125), ("-3%", -0.03)]
)
def test_as_share(text: str, share: float) -> None:
    assert as_share(text) == pytest.approx(share)


def test_other_places_and_values_stay_as_written() -> None:
    data = {
        "metrics": [{"id": "aov", "kind": "mean"}],
        "goal": {"metric": "aov", "baseline": "68%"},
        "alerts": [{"id": "slow", "measure": "p95_s", "threshold": "95%"}],
        "pilot": {"min_n": "10%"},
    }
    assert read_percentages(data) is data
    assert as_share("95") == "95" and as_share("abc%") == "abc%"
