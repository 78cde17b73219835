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


def _with_alert(tmp_path: Path, alert: str) -> Path:
    """The valid case with one more alert line."""
    text = CASE.read_text("utf-8")
    anchor = "alerts:\n"
    assert text.count(anchor) == 1
    path = tmp_path / "durations.yaml"
    path.write_text(text.replace(anchor, anchor + f"  - {alert}\n"), "utf-8")
    return path


def test_a_duration_threshold_may_be_written_as_a_duration(tmp_path: Path) -> None:
    """Issue 20: `threshold: 2小时` on 耗时P95 got the advice to write a share like 0.35."""
    path = _with_alert(
        tmp_path, '{id: slow, node: tag-detect, measure: 耗时P95, op: ">", threshold: 2小时}'
    )
    thresholds = {alert.id: alert.threshold for alert in load_playbook(path).alerts}
    assert thresholds["slow"] == 7200


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("en", "the threshold of `耗时P95` is a time in seconds, got `95%`; write e.g. 7200 or 2h"),
        ("zh", "`耗时P95` 的阈值是以秒计的时长，但写的是 `95%`；写成 7200 这样的秒数"),
    ],
)
def test_a_share_on_a_duration_threshold_is_told_to_be_seconds(
    tmp_path: Path, lang: str, words: str
) -> None:
    """Issue 20: `95%` there was told to be written 0.95; a duration measure counts seconds."""
    from typer.testing import CliRunner

    from opsplay.cli import app

    for threshold in ("95%", "3个工作日"):
        alert = f'{{id: slow, node: tag-detect, measure: 耗时P95, op: ">", threshold: {threshold}}}'
        path = _with_alert(tmp_path, alert)
        result = CliRunner().invoke(app, ["validate", "--lang", lang, str(path)])
        assert result.exit_code == 1, result.output
        expected = words.replace("95%", threshold)
        assert expected in result.output, result.output
        assert "0.95" not in result.output and "0.35" not in result.output
