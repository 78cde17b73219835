"""Every output format over a playbook and an export full of payloads comes out neutralised.

Playbook text and export cells are untrusted (they arrive in pull requests and from other
systems). Whatever opsplay writes — terminal text, JSON, SARIF, CSV, Markdown, HTML, Mermaid —
must carry them as text: no raw terminal escape, no live HTML, no spreadsheet formula.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from opsplay.cli import app

ESCAPE = "\x1b]0;pwned\x07\x1b[2J"
HTML = "<img src=x onerror=alert(1)><script>alert(2)</script>"
FORMULA = '=HYPERLINK("http://evil.example","点我")'
MARKDOWN = "| 注入 | 表格 |\n# 标题"
MERMAID = 'a"]-->evil["b'

PLAYBOOK_DATA = {
    "apiVersion": "opsplay/v1",
    "kind": "Playbook",
    "metadata": {
        "id": "payloads",
        "title": f"载荷测试 {HTML}",
        "version": "1.0.0",
        "status": "pilot",
        "owner": "pm",
        "updated": "2024-08-01",
        "lang": "zh",
    },
    "goal": {
        "statement": FORMULA,
        "metric": "d1",
        "baseline": 0.35,
        "target": 0.45,
        "deadline": "2024-12-31",
    },
    "roles": [{"id": "pm", "name": FORMULA}, {"id": "ops", "name": HTML}],
    "metrics": [
        {"id": "d1", "name": FORMULA, "kind": "proportion", "column": FORMULA, "better": "higher"},
        {"id": "rev", "name": HTML, "kind": "mean", "column": "revenue", "better": "higher"},
    ],
    "nodes": [
        {
            "id": "push",
            "name": f"{MERMAID} {HTML}",
            "owner": "ops",
            "sla": "2分钟",
            "standard": MARKDOWN,
            "fallback": {"when": ["failure"], "action": HTML},
        },
        {
            "id": "close",
            "name": f"收尾 {FORMULA}",
            "owner": "pm",
            "sla": "1小时",
            "fallback": {"when": ["timeout"], "action": "人工跟进"},
        },
    ],
    "alerts": [
        {
            "id": "push-done",
            "node": "push",
            "measure": "completion_rate",
            "op": "<",
            "threshold": 0.9,
        }
    ],
    "pilot": {
        "design": "ab",
        "arm_column": "group",
        "arms": {"baseline": "control", "pilot": HTML},
        "metrics": ["d1"],
        "guardrails": ["rev"],
        "min_n": 10,
    },
    "rollout": {"training": ["培训"]},
}


def _yaml(data: dict) -> str:
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    # dates and the version as YAML writes them by hand
    return text.replace("'2024-08-01'", "2024-08-01").replace("'2024-12-31'", "2024-12-31")


PLAYBOOK = _yaml(PLAYBOOK_DATA)


def _units() -> str:
    rows = [["user", "group", "region", FORMULA, "revenue"]]
    for i in range(400):
        arm = HTML if i % 2 else "control"  # an arm label from the data
        rows.append([f"u{i}", arm, HTML if i % 3 else FORMULA, str(int(i % 5 < 2)), str(i % 7)])
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()


def _events() -> str:
    lines = ["case_id,node,started_at,finished_at,status"]
    for i in range(40):
        lines.append(
            f"c{i},push,2024-08-01T09:00:00,2024-08-01T09:01:00,{'ok' if i % 4 else 'failed'}"
        )
    return "\n".join(lines) + "\n"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "payloads.yaml").write_text(PLAYBOOK, encoding="utf-8")
    (tmp_path / "units.csv").write_text(_units(), encoding="utf-8")
    (tmp_path / "events.csv").write_text(_events(), encoding="utf-8")
    return tmp_path


def _run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code in (0, 1), result.output
    return result.output


def _no_raw_escape(text: str, where: str) -> None:
    assert "\x1b" not in text and "\x07" not in text, f"raw terminal escape in {where}"


def _no_live_html(text: str, where: str) -> None:
    assert "<script>alert" not in text and "<img src=x" not in text, f"live HTML in {where}"


def _no_formula_cells(text: str, where: str) -> None:
    for row in csv.reader(io.StringIO(text)):
        for cell in row:
            assert not re.match(r"[=+@]", cell), f"formula cell {cell!r} in {where}"


COMPARE = (
    "pilot",
    "compare",
    "payloads.yaml",
    "units.csv",
    "--events",
    "events.csv",
    "--by",
    "region",
)


def test_validate_outputs(project: Path) -> None:
    for fmt in ("text", "json", "github", "sarif"):
        out = _run("validate", "payloads.yaml", "--format", fmt)
        _no_raw_escape(out, f"validate --format {fmt}")


def test_pilot_compare_outputs(project: Path) -> None:
    text = _run(*COMPARE)
    _no_raw_escape(text, "pilot compare text")
    _no_formula_cells(_run(*COMPARE, "--format", "csv"), "pilot compare csv")
    markdown = _run(*COMPARE, "--format", "markdown")
    _no_live_html(markdown, "pilot compare markdown")
    _run(*COMPARE, "--format", "json")


def test_documents(project: Path) -> None:
    _run("render-sop", "payloads.yaml", "-o", "sop")
    _run("render-sop", "payloads.yaml", "-o", "sop-html", "--format", "html")
    report = ("render-report", "payloads.yaml", "units.csv", "--events", "events.csv")
    _run(*report, "-o", "r.md")
    _run(*report, "-o", "r.html")
    outputs = [*project.glob("sop*/*"), project / "r.md", project / "r.html"]
    assert len(outputs) >= 4
    for path in outputs:
        text = path.read_text(encoding="utf-8")
        _no_raw_escape(text, path.name)
        # front matter is YAML data for the knowledge base's index (themes escape it)
        text = re.sub(r"\A---\n.*?\n---\n", "", text, flags=re.S)
        _no_live_html(text, path.name)
        # a node label cannot close its Mermaid box and add an edge of its own
        assert "-->evil" not in text, f"Mermaid injection in {path.name}"


def test_diff_outputs(project: Path) -> None:
    import copy

    changed = copy.deepcopy(PLAYBOOK_DATA)
    changed["nodes"][0]["sla"] = "5分钟"
    changed["nodes"][1]["name"] = f"{HTML}收尾\u200b"  # pasted from a chat app: a warning
    (project / "new.yaml").write_text(_yaml(changed), encoding="utf-8")
    for fmt in ("text", "json", "markdown"):
        out = _run("diff", "payloads.yaml", "new.yaml", "--format", fmt)
        _no_raw_escape(out, f"diff --format {fmt}")
        assert "\u200b" not in out, f"raw zero-width space in diff --format {fmt}"
        if fmt == "markdown":
            _no_live_html(out, "diff markdown")
    # A terminal escape fails validate (OPS011): diff refuses the file, echoing it escaped.
    changed["nodes"][1]["name"] = f"{ESCAPE}收尾"
    (project / "new.yaml").write_text(_yaml(changed), encoding="utf-8")
    result = CliRunner().invoke(app, ["diff", "payloads.yaml", "new.yaml"])
    assert result.exit_code == 2 and "OPS011" in result.output
    _no_raw_escape(result.output, "diff refusing a playbook")
