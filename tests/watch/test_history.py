"""Iteration history: `pilot compare --record`, `opsplay history`, and the report's trend.

Figures are checked against pandas on the raw exports, not against opsplay's own output."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from opsplay.cli import app
from tests.watch.conftest import EXAMPLES, write_playbook

runner = CliRunner()
V1_DATA = EXAMPLES / "onboarding_units.csv"
V2_DATA = EXAMPLES / "onboarding_units_gbk.csv"


def pilot_rate(path: Path, column: str, encoding: str = "utf-8") -> float:
    frame = pd.read_csv(path, encoding=encoding)
    return float(frame.loc[frame["group"] == "pilot", column].mean())


@pytest.fixture
def recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """Version 1.2.0 piloted on one export, 1.3.0 on another, both recorded."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OPSPLAY_STATE", raising=False)
    state = tmp_path / "history.db"
    v1 = write_playbook(tmp_path, version="1.2.0")
    v2 = write_playbook(tmp_path, version="1.3.0")
    for playbook, data in ((v1, V1_DATA), (v2, V2_DATA)):
        result = runner.invoke(
            app, ["pilot", "compare", str(playbook), str(data), "--record", "--state", str(state)]
        )
        assert result.exit_code == 0, result.output
    return {"v1": v1, "v2": v2, "state": state}


def test_history_lists_both_versions_with_their_figures(recorded) -> None:
    result = runner.invoke(
        app, ["history", str(recorded["v2"]), "--state", str(recorded["state"]), "-f", "json"]
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["playbook"] == "new-user-onboarding"
    assert [v["version"] for v in document["versions"]] == ["1.2.0", "1.3.0"]
    expected = {
        "1.2.0": pilot_rate(V1_DATA, "retained_d1"),
        "1.3.0": pilot_rate(V2_DATA, "retained_d1", "gbk"),
    }
    for entry in document["versions"]:
        rows = {m["metric"]: m for m in entry["metrics"]}
        assert set(rows) == {"d1_retention", "first_order", "core_usage"}, "primary metrics only"
        assert rows["d1_retention"]["pilot"]["value"] == pytest.approx(expected[entry["version"]])
        assert rows["d1_retention"]["verdict"] in {"met", "improved", "no_change"}
        assert entry["runs"] == 1 and len(entry["fingerprint"]) == 64
    assert document["versions"][0]["fingerprint"] != document["versions"][1]["fingerprint"]


def test_history_text_and_markdown(recorded) -> None:
    for fmt in ("text", "markdown"):
        result = runner.invoke(
            app, ["history", str(recorded["v2"]), "--state", str(recorded["state"]), "-f", fmt]
        )
        assert result.exit_code == 0, result.output
        assert "1.2.0" in result.stdout and "1.3.0" in result.stdout
        assert "次日留存率" in result.stdout
        assert f"{pilot_rate(V1_DATA, 'retained_d1'):.1%}" in result.stdout
    assert result.stdout.count("| 1.") == 2  # one table block per version


def test_recording_the_same_version_again_keeps_one_entry(recorded) -> None:
    again = runner.invoke(
        app,
        ["pilot", "compare", str(recorded["v2"]), str(V2_DATA), "--record",
         "--state", str(recorded["state"])],
    )  # fmt: skip
    assert again.exit_code == 0
    with sqlite3.connect(recorded["state"]) as db:
        rows = db.execute("SELECT version, fingerprint, command FROM runs ORDER BY id").fetchall()
    assert [r[0] for r in rows] == ["1.2.0", "1.3.0", "1.3.0"]
    assert rows[1][1] == rows[2][1], "the same data has the same fingerprint"
    assert rows[0][2] == "pilot compare"
    result = runner.invoke(
        app, ["history", str(recorded["v2"]), "--state", str(recorded["state"]), "-f", "json"]
    )
    assert result.exit_code == 0, result.output
    versions = json.loads(result.stdout)["versions"]
    assert [(v["version"], v["runs"]) for v in versions] == [("1.2.0", 1), ("1.3.0", 2)]


def test_history_without_a_state_file(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    playbook = write_playbook(tmp_path)
    result = runner.invoke(app, ["history", str(playbook), "--state", "missing.db"])
    assert result.exit_code == 0, result.output
    # the playbook is Chinese, so its history speaks Chinese; --lang en switches it
    assert result.stdout == (
        "还没有 `new-user-onboarding` 的运行记录（用 `pilot compare --record` 或 `watch` 记录）\n"
    )
    english = runner.invoke(
        app, ["history", str(playbook), "--state", "missing.db", "--lang", "en"]
    )
    assert english.exit_code == 0, english.output
    assert english.stdout.startswith("no recorded runs of `new-user-onboarding` yet")
    assert not (tmp_path / "missing.db").exists()


def test_report_shows_the_trend(recorded, monkeypatch) -> None:
    monkeypatch.setenv("OPSPLAY_STATE", str(recorded["state"]))
    v1_value = f"{pilot_rate(V1_DATA, 'retained_d1'):.1%}"
    v2_value = f"{pilot_rate(V2_DATA, 'retained_d1', 'gbk'):.1%}"
    md = runner.invoke(
        app, ["render-report", str(recorded["v2"]), str(V2_DATA), "-o", "report.md", "--lang", "en"]
    )
    assert md.exit_code == 0, md.output
    text = Path("report.md").read_text(encoding="utf-8")
    section = text[text.index("## Iteration trend") :]
    table = [line for line in section.splitlines() if line.startswith("| 1.")]
    assert len(table) == 2
    assert table[0].startswith("| 1.2.0 |") and v1_value in table[0]
    assert table[1].startswith("| 1.3.0 |") and v2_value in table[1]

    html = runner.invoke(
        app, ["render-report", str(recorded["v2"]), str(V2_DATA), "-o", "report.html"]
    )
    assert html.exit_code == 0, html.output
    page = Path("report.html").read_text(encoding="utf-8")
    chart = page[page.index("<svg", page.index("trend") if "trend" in page else 0) :]
    assert "<script" not in page.lower()
    assert "<polyline" in chart and ">1.2.0</text>" in chart and ">1.3.0</text>" in chart
    assert f">{v1_value}</text>" in chart


def test_report_without_history_has_no_trend(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OPSPLAY_STATE", raising=False)
    playbook = write_playbook(tmp_path, lang="en")
    result = runner.invoke(app, ["render-report", str(playbook), str(V1_DATA), "-o", "r.md"])
    assert result.exit_code == 0, result.output
    assert "Iteration trend" not in Path("r.md").read_text(encoding="utf-8")
    assert not (tmp_path / ".opsplay").exists(), "rendering a report creates no state file"


def test_watch_records_a_run_once_per_data(tmp_path: Path, monkeypatch) -> None:
    from tests.watch.conftest import write_events

    monkeypatch.chdir(tmp_path)
    playbook = write_playbook(tmp_path)
    state = tmp_path / "s.db"
    log = write_events(tmp_path / "e.csv", ok=95, failed=5)
    command = ["watch", str(playbook), str(V1_DATA), "--events", str(log), "--state", str(state)]
    for _ in range(2):
        assert runner.invoke(app, command).exit_code == 0
    write_events(log, ok=96, failed=4)
    assert runner.invoke(app, command).exit_code == 0
    with sqlite3.connect(state) as db:
        rows = db.execute("SELECT version, command, result FROM runs").fetchall()
    assert len(rows) == 2, "the same data twice is one record; new data is another"
    document = json.loads(rows[-1][2])
    assert {m["metric"] for m in document["metrics"]} >= {"d1_retention", "aov"}
    nodes = {n["node"]: n for n in document["nodes"]}
    assert nodes["push-content"]["completion_rate"] == pytest.approx(0.96)


def test_state_path_problems_are_clear(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    playbook = write_playbook(tmp_path)
    (tmp_path / "a-file").write_text("x")
    for state, words in (
        ("a-file/state.db", "cannot create the folder"),
        (".", "is a folder"),
    ):
        result = runner.invoke(
            app, ["pilot", "compare", str(playbook), str(V1_DATA), "--record", "--state", state]
        )
        assert result.exit_code == 2, result.output
        assert words in result.stderr and "Traceback" not in result.stderr
    (tmp_path / "broken.db").write_bytes(b"\x00garbage" * 512)
    result = runner.invoke(app, ["history", str(playbook), "--state", "broken.db"])
    assert result.exit_code == 2 and "not a readable opsplay state file" in result.stderr


def test_history_reads_as_chinese_with_a_clock_time(recorded) -> None:
    args = ["history", str(recorded["v2"]), "--state", str(recorded["state"]), "--lang", "zh"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    text = result.stdout
    lines = text.splitlines()
    # full-width punctuation, a time people read (no ISO `T…+00:00`), runs counted in words
    assert lines[0].startswith("版本 1.2.0：记录于 ") and "，共 1 次运行，" in lines[0]
    assert "T" not in lines[0].split("记录于 ")[1].split("，")[0]
    rate = f"{pilot_rate(V1_DATA, 'retained_d1'):.1%}"
    assert any(line.startswith("  次日留存率：") and f"→ {rate}（" in line for line in lines)
    assert ": " not in text and ", " not in text
    markdown = runner.invoke(app, [*args, "-f", "markdown"]).stdout
    assert markdown.startswith("# 新用户引导优化（new-user-onboarding）迭代历史")
    english = runner.invoke(app, [*args[:-1], "en"]).stdout
    assert "1 run," in english and "run(s)" not in english


def test_old_data_reported_after_a_bump_keeps_its_recorded_version(
    recorded, monkeypatch, tmp_path: Path
) -> None:
    """1.2.0's export, reported once the playbook says 2.0.0, is 1.2.0's result in the trend."""
    monkeypatch.setenv("OPSPLAY_STATE", str(recorded["state"]))
    bumped = write_playbook(tmp_path, version="2.0.0")
    result = runner.invoke(
        app, ["render-report", str(bumped), str(V1_DATA), "-o", "report.md", "--lang", "en"]
    )
    assert result.exit_code == 0, result.output
    text = Path("report.md").read_text(encoding="utf-8")
    section = text[text.index("## Iteration trend") :]
    rows = [line for line in section.splitlines() if re.match(r"\| \d+\.\d+\.\d+ \|", line)]
    # no 2.0.0 row holding 1.2.0's data: that data was recorded under 1.2.0
    assert [row.split("|")[1].strip() for row in rows] == ["1.2.0", "1.3.0"]
    assert "version 1.2.0" in section


def test_history_lists_every_alert_that_fired_in_a_version(recorded) -> None:
    """An alert that fired in an earlier run of the version and resolved later is still listed."""
    with sqlite3.connect(recorded["state"]) as db:
        (result,) = db.execute("SELECT result FROM runs WHERE version = '1.3.0'").fetchone()
        document = json.loads(result)
        document["alerts"] = [{"id": "early-alert", "fired": True}]
        db.execute(
            "INSERT INTO runs (playbook, version, fingerprint, recorded, command, result) "
            "SELECT playbook, version, fingerprint, recorded, command, ? FROM runs "
            "WHERE version = '1.3.0'",
            (json.dumps(document),),
        )
        document["alerts"] = [{"id": "early-alert", "fired": False}, {"id": "late", "fired": True}]
        db.execute(
            "INSERT INTO runs (playbook, version, fingerprint, recorded, command, result) "
            "SELECT playbook, version, fingerprint, recorded, command, ? FROM runs "
            "WHERE version = '1.3.0' LIMIT 1",
            (json.dumps(document),),
        )
    from opsplay.watch.history import versions
    from opsplay.watch.state import open_state

    state = open_state(recorded["state"], create=False)
    assert state is not None
    try:
        entry = next(e for e in versions(state, "new-user-onboarding") if e.version == "1.3.0")
    finally:
        state.close()
    assert "early-alert" in entry.fired and "late" in entry.fired


def test_dashboard_values_cannot_be_tested_not_too_little_data() -> None:
    from opsplay.i18n import language
    from opsplay.watch.history import verdict_word

    with language("zh"):
        assert verdict_word("inconclusive", "point") == "无法检验（看板数值）"
        assert verdict_word("inconclusive", "welch") != "无法检验（看板数值）"
