"""`for` and `min_n` count runs and rows: a wrong value is told to be a whole number, once
(issue 18 try-out: `for: 1.5` and `min_n: "五百"` got the advice "写成 0.35 这样的小数")."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from opsplay.cli import app

CASE = Path(__file__).parents[1] / "cases" / "invalid" / "bad-alert-waits.yaml"


@pytest.mark.parametrize(
    ("lang", "fraction", "text"),
    [
        (
            "en",
            "`for: 1.5` is not a positive whole number of runs",
            "expected a whole number, got `五百`; write digits, e.g. `min_n: 200`",
        ),  # fmt: skip
        (
            "zh",
            "`for: 1.5` 不是正整数的运行次数",
            "这里应填整数，但写的是 `五百`；请写阿拉伯数字，例如 `min_n: 200`",
        ),  # fmt: skip
    ],
)
def test_counts_get_a_whole_number_hint_once(lang: str, fraction: str, text: str) -> None:
    output = CliRunner().invoke(app, ["validate", str(CASE), "--lang", lang]).output
    lines = [line for line in output.splitlines() if ":39:" in line or ":40:" in line]
    assert len(lines) == 2, output  # 1.5 once (OPS309), not also as a wrong type (OPS103)
    assert fraction in lines[0] and text in lines[1], lines
    assert "0.35" not in output, output
