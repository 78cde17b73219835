"""`render-report REF:path`: the playbook read from git, as `opsplay diff` reads it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from opsplay.cli import app

from .conftest import PLAYBOOKS

runner = CliRunner()


def _git(folder: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        cwd=folder,
        check=True,
        capture_output=True,
    )


@pytest.fixture
def repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OPSPLAY_STATE", raising=False)
    (tmp_path / "playbooks").mkdir()
    shutil.copy(PLAYBOOKS / "member-recall.yaml", tmp_path / "playbooks" / "member-recall.yaml")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", "playbooks")
    _git(tmp_path, "commit", "-q", "-m", "playbook")
    return tmp_path


def test_render_report_reads_the_playbook_from_a_git_ref(
    repository: Path, comparison_files: dict[Path, Path]
) -> None:
    saved = comparison_files[PLAYBOOKS / "member-recall.yaml"]
    # the file in the working tree is gone: only git has it
    (repository / "playbooks" / "member-recall.yaml").unlink()
    result = runner.invoke(
        app,
        ["render-report", "HEAD:playbooks/member-recall.yaml", "--from-json", str(saved)]
        + ["-o", "report.md"],
    )
    assert result.exit_code == 0, result.output
    text = (repository / "report.md").read_text("utf-8")
    assert 'playbook: "HEAD:playbooks/member-recall.yaml"' in text
    assert "# 会员流失召回" in text


def test_a_folder_or_a_missing_path_in_git_is_a_clear_usage_error(
    repository: Path, comparison_files: dict[Path, Path]
) -> None:
    saved = comparison_files[PLAYBOOKS / "member-recall.yaml"]
    for argument in ("HEAD:playbooks", "HEAD:playbooks/nothing.yaml"):
        result = runner.invoke(
            app, ["render-report", argument, "--from-json", str(saved), "-o", "report.md"]
        )
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output
        assert not (repository / "report.md").exists()
