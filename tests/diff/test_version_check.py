"""`validate --base REF`: the version-bump check against real temporary git repositories."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from opsplay.cli import app
from opsplay.config import Config
from opsplay.diagnostics import Severity
from opsplay.errors import UsageError
from opsplay.version_check import VERSION_RULES, check_version_bumps, precedence

from .helpers import FIXTURES, GitRepo, fixture_text, git

PLAYBOOK = "playbooks/incident-response.yaml"
TIGHTER_TRIAGE = (
    "    sla: 5m\n    tools: [PagerDuty, Grafana",
    "    sla: 3m\n    tools: [PagerDuty, Grafana",
)
LOOSER_TRIAGE = (
    "    sla: 5m\n    tools: [PagerDuty, Grafana",
    "    sla: 15m\n    tools: [PagerDuty, Grafana",
)


def edit(repo: GitRepo, *pairs: tuple[str, str], path: str = PLAYBOOK) -> None:
    text = repo.read(path)
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new, 1)
    repo.write(path, text)


def bump_to(
    version: str, summary: str = "Triage acknowledgement within 3 minutes"
) -> tuple[str, str]:
    return (
        'version: "2.3.0"\n  status: active',
        f'version: "{version}"\n  status: active',
    ), (
        "  changelog:\n",
        f'  changelog:\n    - version: "{version}"\n'
        f"      date: 2024-11-18\n      summary: {summary}\n",
    )


@pytest.fixture
def branch(repo: GitRepo, monkeypatch: pytest.MonkeyPatch) -> GitRepo:
    """main holds incident-response 2.3.0; HEAD is a feature branch started from it."""
    repo.copy("incident-2.3.0.yaml", PLAYBOOK)
    repo.commit("incident response 2.3.0")
    repo.git("checkout", "-q", "-b", "feature")
    monkeypatch.chdir(repo.root)
    return repo


def check(
    repo: GitRepo, base: str = "main", config: Config | None = None
) -> list[tuple[str, str, int]]:
    found = check_version_bumps([repo.root / "playbooks"], base, config or Config(root=repo.root))
    return [(d.rule, d.severity.value, d.line) for d in found]


def messages(repo: GitRepo, base: str = "main") -> list[str]:
    return [
        d.message
        for d in check_version_bumps([repo.root / "playbooks"], base, Config(root=repo.root))
    ]


def test_change_without_bump_fails(branch: GitRepo) -> None:
    edit(branch, TIGHTER_TRIAGE)
    assert check(branch) == [("OPS701", "error", 6)]
    (message,) = messages(branch)
    assert "metadata.version is still 2.3.0" in message
    assert "set it to 2.4.0" in message
    assert "node triage (Acknowledge and assign severity) time limit 5m → 3m (tightened)" in message
    # the same once committed
    branch.commit("tighter triage")
    assert check(branch) == [("OPS701", "error", 6)]


def test_bump_passes(branch: GitRepo) -> None:
    edit(branch, TIGHTER_TRIAGE, *bump_to("2.4.0"))
    branch.commit("tighter triage, 2.4.0")
    assert check(branch) == []


def test_larger_bump_passes(branch: GitRepo) -> None:
    edit(branch, TIGHTER_TRIAGE, *bump_to("3.0.0"))
    assert check(branch) == []


def test_format_and_comment_only_change_passes(branch: GitRepo) -> None:
    edit(
        branch,
        ("goal:\n", "# step 1: the SMART goal\ngoal:  # reviewed 2024-11\n"),
        ("  baseline: 0.68\n  target: 0.90\n", "  target: 0.9\n  baseline: 0.680\n"),
        (
            "    sla: 5m\n    tools: [PagerDuty, Grafana, Deploy log]",
            "    sla: 5分钟\n    tools:\n      - PagerDuty\n      - Grafana\n      - Deploy log",
        ),
        (
            "  stages: [detection, triage, escalation,",
            "  stages: ['triage', \"detection\", escalation,",
        ),
        (
            '  - {id: mttm-high, metric: time_to_mitigate_min, op: ">", threshold: 45, '
            "severity: warning}",
            "  - id: mttm-high\n    severity: warning\n    metric: time_to_mitigate_min\n"
            "    op: '>'\n    threshold: 45.0",
        ),
    )
    branch.commit("reformat")
    assert check(branch) == []


def test_new_playbook_is_exempt(branch: GitRepo) -> None:
    branch.copy("member-recall.yaml", "playbooks/member-recall.yaml")
    assert check(branch) == []  # untracked
    branch.commit("member recall")
    assert check(branch) == []  # committed


def test_version_decrease_fails(branch: GitRepo) -> None:
    edit(
        branch,
        ('version: "2.3.0"\n  status', 'version: "2.2.9"\n  status'),
        (
            '    - version: "2.3.0"\n      date: 2024-10-14\n',
            '    - version: "2.2.9"\n      date: 2024-10-14\n',
        ),
    )
    assert check(branch) == [("OPS702", "error", 6)]
    assert "went down from 2.3.0" in messages(branch)[0]


def test_smaller_bump_than_suggested_warns(branch: GitRepo) -> None:
    edit(branch, LOOSER_TRIAGE, *bump_to("2.4.0", "Triage within 15 minutes"))
    assert check(branch) == [("OPS703", "warning", 6)]
    (message,) = messages(branch)
    assert "2.3.0 → 2.4.0 is a minor bump but the changes are major" in message
    assert "use 3.0.0" in message


def test_changelog_dropped_with_bump_fails(branch: GitRepo) -> None:
    text = branch.read(PLAYBOOK)
    start, end = text.index("  changelog:\n"), text.index("\ngoal:")
    branch.write(PLAYBOOK, text[:start] + text[end + 1 :])
    edit(branch, TIGHTER_TRIAGE, ('version: "2.3.0"', 'version: "2.4.0"'))
    assert [rule for rule, _, _ in check(branch)] == ["OPS704"]


def test_rename_is_followed(branch: GitRepo) -> None:
    branch.git("mv", PLAYBOOK, "playbooks/incident.yaml")
    edit(branch, TIGHTER_TRIAGE, path="playbooks/incident.yaml")
    branch.commit("rename and tighten")
    found = check_version_bumps([branch.root / "playbooks"], "main", Config(root=branch.root))
    assert [(d.file, d.rule) for d in found] == [("playbooks/incident.yaml", "OPS701")]


def test_compares_with_the_merge_base_not_the_tip(branch: GitRepo) -> None:
    branch.git("checkout", "-q", "main")
    edit(branch, LOOSER_TRIAGE, *bump_to("3.0.0", "Triage within 15 minutes"))
    branch.commit("main moves on to 3.0.0")
    branch.git("checkout", "-q", "feature")
    branch.write("notes.md", "unrelated change\n")
    branch.commit("unrelated")
    assert check(branch) == []  # the playbook did not change since the branch started


def test_files_given_one_by_one(branch: GitRepo) -> None:
    edit(branch, TIGHTER_TRIAGE)
    found = check_version_bumps([branch.root / PLAYBOOK], "main", Config(root=branch.root))
    assert [d.rule for d in found] == ["OPS701"]


def test_invalid_base_version_warns(repo: GitRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    repo.write(
        PLAYBOOK, "apiVersion: opsplay/v1\nkind: Playbook\nmetadata: {id: incident-response}\n"
    )
    repo.commit("work in progress")
    repo.copy("incident-2.3.0.yaml", PLAYBOOK)
    monkeypatch.chdir(repo.root)
    assert check(repo) == [("OPS705", "warning", 6)]


def test_configuration_disables_and_relevels(branch: GitRepo) -> None:
    edit(branch, LOOSER_TRIAGE, *bump_to("2.4.0"))
    assert check(branch, config=Config(root=branch.root, disable=frozenset({"OPS703"}))) == []
    strict = Config(root=branch.root, severity={"OPS703": Severity.ERROR})
    assert check(branch, config=strict) == [("OPS703", "error", 6)]
    relaxed = Config(root=branch.root, diff={"levels": {"node.sla.loosened": "minor"}})
    assert check(branch, config=relaxed) == []


def test_missing_ref_is_a_usage_error(branch: GitRepo) -> None:
    with pytest.raises(UsageError) as error:
        check(branch, base="origin/main")
    assert error.value.exit_code == 2
    assert "git ref `origin/main` not found" in error.value.message
    assert "git fetch origin main" in error.value.message


def test_shallow_clone_is_detected(
    branch: GitRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    edit(branch, TIGHTER_TRIAGE)
    branch.commit("tighter triage")
    clone = tmp_path / "shallow"
    git(
        tmp_path,
        "clone",
        "-q",
        "--depth",
        "1",
        "--branch",
        "feature",
        f"file://{branch.root}",
        str(clone),
    )
    monkeypatch.chdir(clone)
    for base in ("origin/main", "origin/feature"):
        with pytest.raises(UsageError) as error:
            check_version_bumps([clone / "playbooks"], base, Config(root=clone))
        assert error.value.exit_code == 2
        assert "shallow" in error.value.message
        assert "fetch-depth: 0" in error.value.message
        assert "GIT_DEPTH: 0" in error.value.message


def test_not_a_git_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "playbooks").mkdir()
    (tmp_path / PLAYBOOK).write_text(fixture_text("incident-2.3.0.yaml"), "utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    with pytest.raises(UsageError, match="not inside a git repository"):
        check_version_bumps([tmp_path / "playbooks"], "main", Config(root=tmp_path))


def test_validate_base_end_to_end(branch: GitRepo) -> None:
    runner = CliRunner()
    edit(branch, TIGHTER_TRIAGE)
    result = runner.invoke(app, ["validate", "--base", "main"])
    assert result.exit_code == 1
    assert "OPS701" in result.stdout
    result = runner.invoke(app, ["validate", "--base", "nosuch"])
    assert result.exit_code == 2
    assert "git ref `nosuch` not found" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    edit(branch, *bump_to("2.4.0"))
    assert runner.invoke(app, ["validate", "--base", "main"]).exit_code == 0


@pytest.mark.parametrize(
    "lower, higher",
    [
        ("1.2.3", "1.2.4"),
        ("1.2.3", "1.10.0"),
        ("1.0.0-rc.1", "1.0.0"),
        ("1.0.0-alpha", "1.0.0-alpha.1"),
        ("1.0.0-alpha.1", "1.0.0-beta"),
        ("1.0.0-2", "1.0.0-10"),
        ("1.0.0-rc.1", "1.0.0-rc.1a"),
    ],
)
def test_semver_precedence(lower: str, higher: str) -> None:
    assert precedence(lower) < precedence(higher)  # type: ignore[operator]


def test_rule_ids() -> None:
    assert sorted(VERSION_RULES) == ["OPS701", "OPS702", "OPS703", "OPS704", "OPS705"]
    assert FIXTURES.is_dir()
