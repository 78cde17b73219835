"""`opsplay init` shows SPEC 8's fields as a team fills them, and they validate cleanly."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from opsplay.cli import app
from opsplay.validate import load_playbook

runner = CliRunner()


def _validate(path: Path) -> dict:
    result = runner.invoke(app, ["validate", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_skeleton_has_levels_raci_escalation_weights_and_feedback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lang: str
) -> None:
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    assert runner.invoke(app, ["init", "demo", "--lang", lang]).exit_code == 0
    path = tmp_path / "playbooks" / "demo.yaml"
    checked = _validate(path)
    assert checked["errors"] == 0
    # only init's placeholders are flagged: nothing the new fields bring in
    assert {d["rule"] for d in checked["diagnostics"]} == {"OPS507"}
    playbook = load_playbook(path)
    assert [level.id for level in playbook.levels] == ["P1", "P2"]
    step = playbook.node("step-1")
    assert {level: limit.text for level, limit in step.sla.root.items()} == (
        {"P1": "30分钟", "P2": "2小时", "default": "4小时"}
        if lang == "zh"
        else {"P1": "30m", "P2": "2h", "default": "4h"}
    )
    assert step.raci.accountable == "owner" and step.raci.responsible == ["executor"]
    assert [e.to for e in step.escalation] == ["owner"]
    assert [m.weight for m in playbook.metrics] == [1.0]
    assert len(playbook.pilot.feedback) == 2
    assert any(a.level == "P1" for a in playbook.alerts)

    # The commented schedule example, uncommented as a team would, validates as well.
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"(?m)^  # (- id: daily-check|  \w+: )", r"  \1", text)
    text = re.sub(r"(?m)^  # [^{\n]*(\{id: daily-check-missed.*\})$", r"  - \1", text)
    path.write_text(text, encoding="utf-8")
    checked = _validate(path)
    assert checked["errors"] == 0, checked["diagnostics"]
    assert {d["rule"] for d in checked["diagnostics"]} == {"OPS507"}
    scheduled = load_playbook(path)
    assert scheduled.node("daily-check").schedule is not None
    assert any(a.measure == "schedule_adherence" for a in scheduled.alerts)
