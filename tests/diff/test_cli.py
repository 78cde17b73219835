"""`opsplay diff` end to end through typer's runner: formats, languages, goldens, exit codes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from opsplay.cli import app

from .helpers import FIXTURES, GitRepo

runner = CliRunner()
PAIRS = {
    "onboarding": ("onboarding-1.2.0.yaml", "onboarding-1.3.0.yaml"),
    "incident": ("incident-2.3.0.yaml", "incident-3.0.0.yaml"),
}
SUFFIX = {"text": "txt", "json": "json", "markdown": "md"}


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["diff", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("pair", sorted(PAIRS))
@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("output_format", ["text", "json", "markdown"])
def test_golden_outputs(
    pair: str,
    lang: str,
    output_format: str,
    golden: Callable[[str, str], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(FIXTURES)
    old, new = PAIRS[pair]
    code, out, err = invoke(old, new, "--format", output_format, "--lang", lang)
    assert (code, err) == (0, "")
    golden(f"{pair}.{lang}.{SUFFIX[output_format]}", out)


def test_folder_diff_golden(
    tmp_path: Path, golden: Callable[[str, str], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    for folder, names in {
        "old": ["onboarding-1.2.0.yaml", "incident-2.3.0.yaml"],
        "new": ["onboarding-1.3.0.yaml", "member-recall.yaml"],
    }.items():
        (tmp_path / folder).mkdir()
        for name in names:
            shutil.copyfile(FIXTURES / name, tmp_path / folder / name)
    monkeypatch.chdir(tmp_path)
    for output_format in ("text", "markdown"):
        code, out, _ = invoke("old", "new", "--format", output_format)
        assert code == 0
        golden(f"folders.zh.{SUFFIX[output_format]}", out)
    code, out, _ = invoke("old", "new", "--format", "text", "--lang", "en")
    golden("folders.en.txt", out)


def test_folder_diff_skips_an_invalid_playbook_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One broken file must not hide the changes to every other playbook."""
    for folder, name in (("old", "onboarding-1.2.0.yaml"), ("new", "onboarding-1.3.0.yaml")):
        (tmp_path / folder).mkdir()
        shutil.copyfile(FIXTURES / name, tmp_path / folder / name)
    (tmp_path / "new" / "broken.yaml").write_text("apiVersion: opsplay/v1\nkind: [\n")
    monkeypatch.chdir(tmp_path)
    code, out, _ = invoke("old", "new", "--format", "json")
    document = json.loads(out)
    assert code == 0
    assert [p["id"] for p in document["playbooks"]] == ["new-user-onboarding"]
    assert document["playbooks"][0]["changes"]
    assert [s["file"] for s in document["skipped"]] == ["new/broken.yaml"]
    _, text, _ = invoke("old", "new", "--lang", "en")
    assert "new/broken.yaml is not a valid playbook and was not compared" in text


def test_default_language_is_the_new_playbooks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(FIXTURES)
    zh_code, zh, _ = invoke(*PAIRS["onboarding"])
    en_code, en, _ = invoke(*PAIRS["incident"])
    assert (zh_code, en_code) == (0, 0)
    assert "建议版本 2.0.0" in zh
    assert "suggested version 3.0.0" in en


def test_exit_code_option(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(FIXTURES)
    assert invoke(*PAIRS["incident"])[0] == 0
    assert invoke(*PAIRS["incident"], "--exit-code")[0] == 1
    same = PAIRS["incident"][0]
    code, out, _ = invoke(same, same, "--exit-code", "--lang", "en")
    assert code == 0
    assert "no changes" in out


def test_ref_path_from_git(repo: GitRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    repo.copy("incident-2.3.0.yaml", "playbooks/incident-response.yaml")
    repo.commit("first version")
    repo.copy("incident-3.0.0.yaml", "playbooks/incident-response.yaml")
    monkeypatch.chdir(repo.root)
    code, out, _ = invoke(
        "main:playbooks/incident-response.yaml",
        "playbooks/incident-response.yaml",
        "--format",
        "json",
    )
    assert code == 0
    assert '"old": "main:playbooks/incident-response.yaml"' in out
    assert '"suggested_version": "3.0.0"' in out
    code, out, _ = invoke("main:playbooks", "playbooks", "--exit-code")
    assert code == 1
    assert "incident-response (Production incident response) 2.3.0 → 3.0.0" in out
    # a path relative to the current folder, as git writes it
    monkeypatch.chdir(repo.root / "playbooks")
    code, out, _ = invoke("main:./incident-response.yaml", "incident-response.yaml")
    assert code == 0 and "suggested version 3.0.0" in out


@pytest.mark.parametrize(
    "args, message",
    [
        (("missing.yaml", "incident-2.3.0.yaml"), "missing.yaml: no such file or folder"),
        (("incident-2.3.0.yaml", "."), "compare a file with a file or a folder with a folder"),
        (("incident-2.3.0.yaml", "broken.yaml"), "broken.yaml is not a valid playbook"),
        (("incident-2.3.0.yaml", "incident-3.0.0.yaml", "--format", "html"), "Invalid value"),
    ],
)
def test_bad_input_exits_2_without_traceback(
    args: tuple[str, ...], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("incident-2.3.0.yaml", "incident-3.0.0.yaml"):
        shutil.copyfile(FIXTURES / name, tmp_path / name)
    (tmp_path / "broken.yaml").write_text(
        "apiVersion: opsplay/v1\nkind: Playbook\nmetadata: {id: x\n", "utf-8"
    )
    monkeypatch.chdir(tmp_path)
    code, out, err = invoke(*args)
    assert code == 2
    assert message in err
    assert "Traceback" not in err + out


def test_bad_ref_and_duplicate_ids(repo: GitRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    repo.copy("incident-2.3.0.yaml", "playbooks/a.yaml")
    repo.copy("incident-3.0.0.yaml", "playbooks/b.yaml")
    repo.commit("two files, one id")
    monkeypatch.chdir(repo.root)
    code, _, err = invoke("nosuchbranch:playbooks/a.yaml", "playbooks/a.yaml")
    assert code == 2 and "git ref `nosuchbranch` not found" in err
    code, _, err = invoke("main:playbooks/zzz.yaml", "playbooks/a.yaml")
    assert code == 2 and "`playbooks/zzz.yaml` does not exist in main" in err
    code, _, err = invoke("main:playbooks", "playbooks")
    assert code == 2 and "share metadata.id `incident-response`" in err


def test_bad_diff_configuration_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copyfile(FIXTURES / "incident-2.3.0.yaml", tmp_path / "a.yaml")
    (tmp_path / "pyproject.toml").write_text(
        '[tool.opsplay.diff]\nlevels = {"node.gone" = "minor"}\n', "utf-8"
    )
    monkeypatch.chdir(tmp_path)
    code, _, err = invoke("a.yaml", "a.yaml")
    assert code == 2
    assert "`node.gone` matches no change kind" in err


def test_configured_levels_change_the_suggestion(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in PAIRS["incident"]:
        shutil.copyfile(FIXTURES / name, tmp_path / name)
    (tmp_path / "pyproject.toml").write_text(
        '[tool.opsplay.diff]\nlevels = {"role.*" = "minor", "scenario.removed" = "minor", '
        '"node.renamed" = "minor", "node.fallback.*" = "minor", "alert.loosened" = "patch"}\n',
        "utf-8",
    )
    monkeypatch.chdir(tmp_path)
    code, out, _ = invoke(*PAIRS["incident"])
    assert code == 0
    assert "minor · suggested version 2.4.0" in out


def test_format_choices_match_the_registry() -> None:
    from opsplay.cli.diff import DiffFormat
    from opsplay.diff import FORMATS

    assert {f.value for f in DiffFormat} == set(FORMATS)


def test_light_imports() -> None:
    code = (
        "import sys, opsplay.cli, opsplay.cli.diff, opsplay.diff, opsplay.gitfiles\n"
        "import opsplay.version_check\n"
        "heavy = {'pandas', 'numpy', 'scipy', 'jinja2'} & set(sys.modules)\n"
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_python_dash_m(monkeypatch: pytest.MonkeyPatch) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "opsplay",
            "diff",
            *PAIRS["incident"],
            "--exit-code",
            "--format",
            "json",
        ],
        cwd=FIXTURES,
        capture_output=True,
        text=True,
        encoding="utf-8",
    )
    assert result.returncode == 1
    assert '"level": "major"' in result.stdout


def test_the_retired_goldens_variable_fails_the_run_loudly(tmp_path: Path) -> None:
    """OPSPLAY_UPDATE_GOLDENS used to rewrite the diff goldens silently and pass."""
    import os

    golden = Path(__file__).parent / "golden" / "onboarding.en.txt"
    before = golden.read_bytes()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
        + [f"{Path(__file__).parent / 'test_cli.py'}::test_golden_outputs"],
        cwd=Path(__file__).parents[2],
        env={**os.environ, "OPSPLAY_UPDATE_GOLDENS": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode != 0
    assert "OPSPLAY_UPDATE_GOLDENS is no longer read" in result.stdout + result.stderr
    assert "--update-goldens" in result.stdout + result.stderr
    assert golden.read_bytes() == before
