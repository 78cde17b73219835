"""Behaviour a careful user (or an adversarial file) relies on beyond the rule cases."""

from __future__ import annotations

import json
from pathlib import Path

from .conftest import Cli
from .support import copy_case


def test_unreadable_file_rules_cannot_be_configured_away(cli: Cli, project: Path) -> None:
    copy_case("syntax-error.yaml", project / "playbooks")
    for setting in ('disable = ["OPS002"]', 'severity = {OPS002 = "warning"}'):
        (project / ".opsplay.toml").write_text(setting + "\n", encoding="utf-8")
        result = cli("validate")
        assert result.exit_code == 2
        assert "OPS002 cannot be disabled" in result.stderr


def test_unreadable_file_rules_cannot_be_suppressed(cli: Cli, project: Path) -> None:
    (project / "broken.yaml").write_text(
        "apiVersion: [  # opsplay: disable=OPS002 -- trying\n", encoding="utf-8"
    )
    result = cli("validate", "broken.yaml", "--format", "json")
    rules = [d["rule"] for d in json.loads(result.stdout)["diagnostics"]]
    assert result.exit_code == 1 and "OPS002" in rules and "OPS602" in rules


def test_strict_reports_warnings_as_errors(cli: Cli, project: Path) -> None:
    copy_case("node-without-sla-or-fallback.yaml", project)
    plain = json.loads(
        cli("validate", "node-without-sla-or-fallback.yaml", "--format", "json").stdout
    )
    assert plain["errors"] == 0 and plain["warnings"] > 0
    result = cli("validate", "--strict", "node-without-sla-or-fallback.yaml", "--format", "json")
    strict = json.loads(result.stdout)
    assert result.exit_code == 1
    assert (strict["errors"], strict["warnings"]) == (plain["warnings"], 0)
    assert {d["severity"] for d in strict["diagnostics"]} == {"error"}


def _chain(nodes: int, back_to: int) -> str:
    lines = [
        "apiVersion: opsplay/v1",
        "kind: Playbook",
        "metadata: {id: long-chain, title: Long chain, version: '1.0.0', status: draft,"
        " owner: pm, updated: 2024-01-01}",
        "goal: {statement: x, metric: m, baseline: 0.1, target: 0.2, deadline: 2024-12-31}",
        "roles: [{id: pm, name: PM}]",
        "metrics: [{id: m, name: M, kind: proportion, column: c, better: higher}]",
        "nodes:",
    ]
    lines += [
        f"  - {{id: n{i}, name: n, owner: pm, sla: 2m, fallback: {{when: [failure], action: x}}}}"
        for i in range(nodes)
    ]
    lines.append(
        f"  - {{id: last, name: l, owner: pm, sla: 2m, fallback: {{when: [failure], action: x}},"
        f" next: [n{back_to}]}}"
    )
    return "\n".join(lines) + "\n"


def test_a_process_of_thousands_of_nodes_is_checked_without_recursion_limits(
    cli: Cli, project: Path
) -> None:
    (project / "chain.yaml").write_text(_chain(3000, 5), encoding="utf-8")
    result = cli("validate", "chain.yaml", "--format", "json")
    assert result.exit_code == 1, result.output
    found = json.loads(result.stdout)["diagnostics"]
    assert [(d["rule"], d["path"], d["line"]) for d in found] == [
        ("OPS508", "nodes", 7),  # more than 12 nodes: the hygiene warning, nothing else
        ("OPS208", "nodes[3000].next[0]", 3008),
    ]


def test_numeric_playbook_ids_are_compared_as_written(cli: Cli, project: Path) -> None:
    text = project / "chain.yaml"
    base = _chain(2, 0).replace("id: long-chain", "id: 2024").replace("next: [n0]", "next: []")
    text.write_text(base, encoding="utf-8")
    (project / "copy.yaml").write_text(base, encoding="utf-8")
    result = cli("validate", "chain.yaml", "copy.yaml", "--format", "json")
    assert result.exit_code == 1, result.output
    assert "OPS206" in [d["rule"] for d in json.loads(result.stdout)["diagnostics"]]


def test_init_into_a_file_or_an_unwritable_place_is_a_usage_error(cli: Cli, project: Path) -> None:
    assert cli("init", "first").exit_code == 0
    result = cli("init", "second", "--dir", "playbooks/first.yaml")
    assert result.exit_code == 2 and "is a file" in result.stderr
    result = cli("init", "third", "--dir", "/proc/1/nope")
    assert result.exit_code == 2 and "cannot write" in result.stderr


def test_sarif_uris_are_percent_encoded(cli: Cli, project: Path) -> None:
    copy_case("node-without-sla-or-fallback.yaml", project, as_name="新 流程#1.yaml")
    sarif = json.loads(cli("validate", "新 流程#1.yaml", "--format", "sarif").stdout)
    uri = sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert uri["uri"] == "%E6%96%B0%20%E6%B5%81%E7%A8%8B%231.yaml"


def _messages(cli: Cli, project: Path, text: str) -> list[tuple[int, int, str, str]]:
    (project / "draft.yaml").write_text(text, encoding="utf-8")
    result = cli("validate", "draft.yaml", "--format", "json")
    return [
        (d["line"], d["column"], d["rule"], d["message"])
        for d in json.loads(result.stdout)["diagnostics"]
    ]


DRAFT = """\
apiVersion: opsplay/v1
kind: Playbook
metadata: {id: refund, title: 售后退款, version: "1.0.0", status: draft, owner: 售后主管, updated: 2024-09-01}
goal: {statement: 提升闭环率, metric: done, baseline: 0.7, target: 85%, deadline: 2024-12-31}
roles: [{id: lead, name: 售后主管}]
metrics: [{id: done, name: 闭环率, kind: proportion, column: closed, better: higher}]
nodes:
  - {id: audit, name: 审核, owner: lead, sla: 2 hours, standard: "金额<50元 & 信用分>600 自动通过",
     fallback: {when: [failure], action: 转人工}}
alerts:
  - {id: slow, metric: done, op: "≤", threshold: 0.6}
"""


def test_common_slips_get_the_exact_fix(cli: Cli, project: Path) -> None:
    """What a Chinese ops person types by habit is answered with what to write instead."""
    found = {(line, rule): message for line, _, rule, message in _messages(cli, project, DRAFT)}
    assert found[(3, "OPS201")].endswith("is the name of role `lead`; write `owner: lead`")
    assert (4, "OPS103") not in found  # `target: 85%` of a proportion metric reads as 0.85
    assert (8, "OPS105") not in found  # SPEC 6: `2 hours` is a time limit as written
    assert found[(11, "OPS104")].endswith("write `<=`")
    assert not [rule for _, rule in found if rule == "OPS507"]  # business text with < and >


def test_yaml_slips_point_at_their_cause(cli: Cli, project: Path) -> None:
    colon = _messages(cli, project, "apiVersion: opsplay/v1\nmetadata:\n  title： 退款\n  id: x\n")
    assert colon[0][:3] == (3, 8, "OPS002") and "full-width colon" in colon[0][3]
    brackets = _messages(cli, project, "nodes:\n  - {id: a, action: 次日重试 [最多3次] 并通知}\n")
    assert brackets[0][2] == "OPS002" and "must be quoted" in brackets[0][3]
