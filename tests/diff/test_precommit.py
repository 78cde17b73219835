"""The hooks of `.pre-commit-hooks.yaml`, run by pre-commit itself against a temporary repository.

pre-commit's `language: python` would build an isolated virtualenv and pip-install opsplay
with all its dependencies from the index (slow, and it needs the network). The fast tests
therefore run the same hook definitions (files pattern, args, stages, serial) as a
`repo: local` hook with `language: system` and this interpreter's opsplay. The real
install path (`pre-commit try-repo`: a fresh virtualenv, `pip install` of this checkout and
its dependencies from the package index; 1–2 minutes, most of it downloading wheels) runs
when OPSPLAY_PRECOMMIT_INSTALL=1, which `.ci/run` sets; OPSPLAY_HOOKS_REPO points it at
another checkout. try-repo builds a commit of the checkout (uncommitted changes included in
a temporary one), so ROOT must be a git repository.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from .helpers import GIT_ENV, GitRepo

ROOT = Path(os.environ.get("OPSPLAY_HOOKS_REPO") or Path(__file__).resolve().parents[2])
HOOKS: list[dict[str, Any]] = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text("utf-8"))


def hook(hook_id: str) -> dict[str, Any]:
    return next(h for h in HOOKS if h["id"] == hook_id)


def local_config(*hooks: dict[str, Any]) -> str:
    local = []
    for definition in hooks:
        entry = definition["entry"].replace(
            "opsplay", f"{shlex.quote(sys.executable)} -m opsplay", 1
        )
        local.append({**definition, "entry": entry, "language": "system"})
    return yaml.safe_dump({"repos": [{"repo": "local", "hooks": local}]}, sort_keys=False)


def pre_commit(
    repo: GitRepo, tmp_path: Path, *args: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    env = {
        **GIT_ENV,
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-cache"),
        "PRE_COMMIT_COLOR": "never",
    }
    env.pop("GITHUB_STEP_SUMMARY", None)
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", *args],
        cwd=repo.root,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def hooked(repo: GitRepo) -> GitRepo:
    """A repository with two playbooks committed and the opsplay hooks configured."""
    repo.copy("incident-2.3.0.yaml", "playbooks/incident-response.yaml")
    repo.copy("member-recall.yaml", "playbooks/member-recall.yaml")
    repo.write(
        ".pre-commit-config.yaml",
        local_config(
            hook("opsplay-validate"), {**hook("opsplay-version-bump"), "args": ["--base", "main"]}
        ),
    )
    repo.write("docs/notes.yaml", "not: a playbook\n")
    repo.commit("playbooks and hooks")
    return repo


def test_hook_definitions() -> None:
    validate, bump = hook("opsplay-validate"), hook("opsplay-version-bump")
    assert validate["entry"] == "opsplay validate" and validate["language"] == "python"
    assert validate["require_serial"] is True  # one process sees every file given
    assert bump["args"] == ["--base", "origin/main"] and bump["stages"] == ["pre-push"]


def test_validate_hook_passes_clean_playbooks(hooked: GitRepo, tmp_path: Path) -> None:
    result = pre_commit(hooked, tmp_path, "run", "opsplay-validate", "--all-files")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "opsplay validate" in result.stdout and "Passed" in result.stdout


def test_validate_hook_checks_changed_file_against_the_folder(
    hooked: GitRepo, tmp_path: Path
) -> None:
    """Only the new file is passed, yet its id clashes with a committed one: cross-file check."""
    text = hooked.read("playbooks/member-recall.yaml").replace(
        "  id: member-recall\n", "  id: incident-response\n"
    )
    hooked.write("playbooks/copy.yaml", text)
    hooked.git("add", "playbooks/copy.yaml")
    result = pre_commit(
        hooked,
        tmp_path,
        "run",
        "opsplay-validate",
        "--files",
        "playbooks/copy.yaml",
        "docs/notes.yaml",
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "playbooks/copy.yaml:4:7: error OPS206" in result.stdout
    assert "docs/notes.yaml" not in result.stdout  # outside the hook's files pattern


def test_validate_hook_skips_when_no_playbook_changed(hooked: GitRepo, tmp_path: Path) -> None:
    result = pre_commit(hooked, tmp_path, "run", "opsplay-validate", "--files", "docs/notes.yaml")
    assert result.returncode == 0
    assert "no files to check" in result.stdout.lower()


def test_version_bump_hook_on_push(hooked: GitRepo, tmp_path: Path) -> None:
    hooked.git("checkout", "-q", "-b", "feature")
    text = hooked.read("playbooks/incident-response.yaml")
    hooked.write(
        "playbooks/incident-response.yaml", text.replace("    sla: 5m\n", "    sla: 3m\n", 1)
    )
    hooked.commit("tighter triage")
    args = [
        "run",
        "opsplay-version-bump",
        "--hook-stage",
        "pre-push",
        "--files",
        "playbooks/incident-response.yaml",
    ]
    result = pre_commit(hooked, tmp_path, *args)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "OPS701" in result.stdout
    hooked.write(
        "playbooks/incident-response.yaml",
        hooked.read("playbooks/incident-response.yaml")
        .replace('version: "2.3.0"\n  status', 'version: "2.4.0"\n  status')
        .replace(
            "  changelog:\n",
            '  changelog:\n    - {version: "2.4.0", date: 2024-11-18, summary: ack in 3m}\n',
        ),
    )
    hooked.commit("2.4.0")
    result = pre_commit(hooked, tmp_path, *args)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(
    os.environ.get("OPSPLAY_PRECOMMIT_INSTALL") != "1",
    reason="set OPSPLAY_PRECOMMIT_INSTALL=1 to run it (.ci/run does): it pip-installs opsplay "
    "and its dependencies from the package index into a fresh virtualenv, 1-2 minutes",
)
def test_try_repo_installs_the_hook(hooked: GitRepo, tmp_path: Path) -> None:
    """The hook as users get it (`language: python`, installed by pre-commit into its own
    virtualenv) runs opsplay on the playbooks and stops a broken one with the rule's finding.
    One try-repo run: each builds its virtualenv afresh, nothing is cached between runs."""
    text = hooked.read("playbooks/member-recall.yaml").replace(
        "  id: member-recall\n", "  id: incident-response\n"
    )
    hooked.write("playbooks/copy.yaml", text)
    hooked.git("add", "playbooks/copy.yaml")
    result = pre_commit(
        hooked, tmp_path, "try-repo", str(ROOT), "opsplay-validate", "--all-files", timeout=1200
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "opsplay validate" in result.stdout and "Failed" in result.stdout, output
    # the three playbooks reach opsplay; the second file with the id is the one reported
    assert "error OPS206 playbook id `incident-response` is already used by" in output, output
    assert "3 files checked: 1 error," in result.stdout, output  # warnings come and go
    assert "docs/notes.yaml" not in result.stdout  # outside the hook's files pattern
