"""Rules at the edges of their ranges: the messages a user sees right at a boundary."""

from __future__ import annotations

import json
from pathlib import Path

from .conftest import Cli
from .support import copy_case


def test_a_rate_written_as_a_percentage_gets_the_hint_up_to_100(cli: Cli, project: Path) -> None:
    """35 and 100 read as percentages (write 0.35, write 1); 150 is no percentage at all."""
    case = copy_case("goal-rates-out-of-range.yaml", project)
    text = case.read_text(encoding="utf-8")
    text = text.replace("baseline: 35", "baseline: 100").replace('target: "45"', "target: 150")
    case.write_text(text, encoding="utf-8")
    result = cli("validate", case.name, "--format", "json", "--lang", "en")
    assert result.exit_code == 1, result.output
    messages = {d["path"]: d["message"] for d in json.loads(result.stdout)["diagnostics"]}
    assert messages == {
        "goal.baseline": "`baseline` 100 is a rate of a proportion metric and must lie in "
        "[0, 1] (write 1 for 100%)",
        "goal.target": "`target` 150 is a rate of a proportion metric and must lie in [0, 1]",
    }
