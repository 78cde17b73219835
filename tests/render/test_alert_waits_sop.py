"""The SOP's alert table says how much evidence an alert waits for (`for`, `min_n`)."""

from __future__ import annotations

from pathlib import Path

import yaml
from typer.testing import CliRunner

from opsplay.cli import app

ROOT = Path(__file__).resolve().parents[2]


def _render(tmp_path: Path, lang: str, fmt: str) -> str:
    data = yaml.safe_load((ROOT / "playbooks" / "new-user-onboarding.yaml").read_text("utf-8"))
    data["alerts"][0].update({"for": 3, "min_n": 200})
    data["alerts"][1].update({"for": 1})  # one run: nothing to say
    source = tmp_path / "onboarding.yaml"
    source.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    out = tmp_path / lang / fmt
    args = ["render-sop", str(source), "-o", str(out), "--lang", lang, "--format", fmt]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return (out / f"new-user-onboarding.{fmt}").read_text(encoding="utf-8")


def test_sop_alert_rows_name_for_and_min_n(tmp_path: Path) -> None:
    zh = _render(tmp_path, "zh", "md")
    assert "< 90.0%；连续 3 次运行都成立才触发；至少 200 行或单位才判断 |" in zh
    assert zh.count("次运行都成立才触发") == 1  # `for: 1` adds nothing
    en = _render(tmp_path, "en", "html")
    assert "; fires after 3 runs in a row; judged from 200 rows or units</td>" in en


def test_report_alert_table_says_pending_and_not_enough_data(tmp_path: Path) -> None:
    data = yaml.safe_load((ROOT / "playbooks" / "new-user-onboarding.yaml").read_text("utf-8"))
    data["alerts"] = [
        {"id": "retention-high", "metric": "d1_retention", "op": ">", "threshold": 0.3, "for": 3},
        {"id": "aov-low", "metric": "aov", "op": "<", "threshold": 55, "min_n": 6000},
    ]
    source = tmp_path / "onboarding.yaml"
    source.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    units = str(ROOT / "examples" / "onboarding_units.csv")
    out = tmp_path / "report.md"
    result = CliRunner().invoke(app, ["render-report", str(source), units, "-o", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert "| 待触发（已连续 1 次，需 3 次） |" in text
    assert "| 数据不足（少于 6000） |" in text
