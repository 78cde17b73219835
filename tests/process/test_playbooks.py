"""The shipped playbooks run their processes as teams do: levels, ladders, RACI, schedules."""

from __future__ import annotations

from pathlib import Path

from opsplay.config import Config
from opsplay.validate import load_playbook, validate_paths

PLAYBOOKS = Path(__file__).resolve().parents[2] / "playbooks"


def test_shipped_playbooks_validate_clean() -> None:
    result = validate_paths([PLAYBOOKS], Config())
    assert result.files >= 7
    assert [(d.file, d.line, d.rule, d.message) for d in result.diagnostics] == []


def test_incident_response_has_severities_ladders_and_a_game_day() -> None:
    playbook = load_playbook(PLAYBOOKS / "incident-response.yaml")
    assert [level.id for level in playbook.levels] == ["SEV1", "SEV2", "SEV3", "SEV4"]
    triage = playbook.node("triage")
    assert [step.to for step in triage.escalation] == ["secondary-oncall", "ic", "eng-director"]
    assert playbook.node("game-day").schedule.kind == "cron"
    assert all(node.raci is not None for node in playbook.nodes)


def test_daily_inspection_runs_on_its_clock() -> None:
    playbook = load_playbook(PLAYBOOKS / "daily-inspection.yaml")
    schedules = {n.id: str(n.schedule) for n in playbook.nodes if n.schedule}
    assert schedules == {
        "prepare": "每日 08:30",
        "restore-drill": "每周三 15:00",
        "capacity-review": "每月5日 10:00",
    }
    assert [level.id for level in playbook.levels] == ["P1", "P2", "P3"]


def test_monthly_kpi_review_weights_its_pilot_metrics() -> None:
    playbook = load_playbook(PLAYBOOKS / "monthly-kpi-review.yaml")
    weights = {m: playbook.metric(m).weight for m in playbook.pilot.metrics}
    assert weights == {"retention": 0.4, "conversion": 0.3, "complaint_rate": 0.2, "csat": 0.1}
    assert playbook.pilot.feedback
