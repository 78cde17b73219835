"""The review report of the issue 21 try-out's on-call pilot: `render-report --as-of`, the
method note's definition of SLA compliance (SPEC 12), and what `pilot compare` says when only
a node log is given. End to end through typer's CliRunner on real files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from opsplay.cli import app
from opsplay.i18n import language

from .conftest import FIXTURES

PLAYBOOK = FIXTURES / "wms-oncall.yaml"
UNITS = FIXTURES / "wms-oncall-units.csv"
EVENTS = FIXTURES / "wms-oncall-events.csv"


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.chdir(tmp_path)
    for source in (PLAYBOOK, UNITS, EVENTS):
        shutil.copy(source, tmp_path)
    return CliRunner()


def _report(runner: CliRunner, *options: str) -> str:
    result = runner.invoke(
        app,
        ["render-report", PLAYBOOK.name, UNITS.name, "--events", EVENTS.name, "-o", "r.md"]
        + list(options),
    )
    assert result.exit_code == 0, result.output
    return Path("r.md").read_text("utf-8")


def test_render_report_judges_open_cases_as_of_the_time_given(runner: CliRunner) -> None:
    """At 08:45 the P1 处置 opened at 07:10 (due in 2 hours) is pending; at 12:30 breached."""
    morning = _report(runner, "--as-of", "2026-10-13 08:45")
    assert (
        "- 故障处置，截至 2026-10-13 08:45（北京时间）未结 1 单：0 单已过时限（计为未达标），"
        "1 单未到期" in morning
    )
    noon = _report(runner, "--as-of", "2026-10-13 12:30")
    assert (
        "- 故障处置，截至 2026-10-13 12:30（北京时间）未结 1 单：1 单已过时限（计为未达标），"
        "0 单未到期" in noon
    )


def test_the_method_note_defines_sla_compliance_as_spec_12_does(runner: CliRunner) -> None:
    """Open cases past their deadline count as breached; those not yet due are out of the rate
    (the note used to say only finished runs count, against the figure beside it)."""
    report = _report(runner, "--as-of", "2026-10-13 12:30")
    note = next(line for line in report.splitlines() if line.startswith("- 时限达标率 ="))
    assert "已过到期时刻仍未结束的记录（计为未达标）" in note
    assert "尚未到期的未结记录为“未到期”，不计入达标率" in note
    assert "有结束时间的执行记录中" not in report
    english = _report(runner, "--as-of", "2026-10-13 12:30", "--lang", "en")
    assert "plus the open ones already past their deadline at the evaluation time" in english


def test_as_of_with_a_saved_comparison_is_refused(runner: CliRunner) -> None:
    Path("saved.json").write_text("{}", "utf-8")
    with language("zh"):
        result = runner.invoke(
            app,
            ["render-report", PLAYBOOK.name, "--from-json", "saved.json", "-o", "r.md"]
            + ["--as-of", "2026-10-13 08:45"],
        )
    assert result.exit_code == 2
    assert "`--as-of` 要和 DATA 一起用" in result.output


def test_pilot_compare_with_only_a_node_log_says_what_to_pass(runner: CliRunner) -> None:
    with language("zh"):
        result = runner.invoke(app, ["pilot", "compare", PLAYBOOK.name, "--events", EVENTS.name])
    assert result.exit_code == 2
    assert "还要传入指标导出数据（DATA…，或 --db 加 --table）" in result.output
    assert f"opsplay watch {PLAYBOOK.name} --events {EVENTS.name}" in result.output
