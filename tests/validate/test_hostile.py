"""Hostile and extreme input on the validate path (issue 13): a clear finding, the rest still
checked, nothing read that should not be, nothing echoed raw, never a traceback."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from opsplay.errors import InputError
from opsplay.validate import load_playbook

from .conftest import Cli
from .support import CASES, copy_case

VALID = CASES / "valid" / "en-incident-response.yaml"


def _playbook(project: Path, name: str, **replace: str) -> Path:
    text = VALID.read_text(encoding="utf-8")
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    path = project / name
    path.write_text(text, encoding="utf-8")
    return path


def _json(cli: Cli, *args: str) -> tuple[int, list[dict[str, object]], str]:
    result = cli("validate", *args, "--format", "json")
    return result.exit_code, json.loads(result.stdout)["diagnostics"], result.stdout


def _deep(kind: str, depth: int) -> str:
    if kind == "flow":
        return "apiVersion: opsplay/v1\nkind: Playbook\nmetadata: " + "[" * depth + "]" * depth
    lines = ["apiVersion: opsplay/v1", "kind: Playbook", "metadata:"]
    lines += ["  " * (level + 1) + "a:" for level in range(depth)]
    return "\n".join(lines) + " 1\n"


@pytest.mark.parametrize("kind", ["flow", "block"])
@pytest.mark.parametrize("depth", [150, 500, 990])
def test_deep_nesting_is_a_finding(cli: Cli, project: Path, kind: str, depth: int) -> None:
    (project / "deep.yaml").write_text(_deep(kind, depth), encoding="utf-8")
    code, found, _ = _json(cli, "deep.yaml")
    assert code == 1
    assert [(d["rule"], d["line"]) for d in found] == [("OPS008", 3)]
    assert "nested more than 100 levels" in str(found[0]["message"])


@pytest.mark.parametrize("kind", ["flow", "block"])
def test_a_deep_sibling_loaded_for_the_id_check_does_not_break_validate(
    cli: Cli, project: Path, kind: str
) -> None:
    copy_case("en-incident-response.yaml", project, kind="valid")
    (project / "deep.yaml").write_text(_deep(kind, 500), encoding="utf-8")
    code, found, _ = _json(cli, "en-incident-response.yaml")  # a pre-commit run: one file
    assert (code, found) == (0, [])


def test_a_version_with_thousands_of_digits(cli: Cli, project: Path) -> None:
    huge = "1.2." + "9" * 5000
    _playbook(project, "huge.yaml", **{'version: "2.3.0"': f'version: "{huge}"'})  # both places
    code, found, _ = _json(cli, "huge.yaml")
    assert code == 1
    assert sorted((d["rule"], d["path"]) for d in found) == [
        ("OPS401", "metadata.changelog[0].version"),
        ("OPS401", "metadata.version"),
    ]
    assert "more than 15 digits" in str(found[0]["message"])
    with pytest.raises(InputError, match="not a valid playbook"):  # render-sop's way in
        load_playbook(project / "huge.yaml")


@pytest.mark.parametrize(
    ("old", "new", "path"),
    [
        ("target: 30", "target: .inf", "goal.target"),
        ("target: 30", "target: .nan", "goal.target"),
        ("baseline: 52", "baseline: .NaN", "goal.baseline"),
        ("baseline: 52", "baseline: -.inf", "goal.baseline"),
        ("value: 30}", "value: .nan}", "scenarios[0].expected[1].value"),
    ],
)
def test_infinity_and_nan_are_errors_on_a_mean_metric(
    cli: Cli, project: Path, old: str, new: str, path: str
) -> None:
    _playbook(project, "nan.yaml", **{old: new})
    code, found, _ = _json(cli, "nan.yaml")
    assert code == 1
    assert [(d["rule"], d["path"]) for d in found] == [("OPS103", path)]
    assert "finite number" in str(found[0]["message"])


def test_a_fifo_and_a_device_are_findings_and_never_opened(cli: Cli, project: Path) -> None:
    copy_case("en-incident-response.yaml", project / "playbooks", kind="valid")
    os.mkfifo(project / "playbooks" / "pipe.yaml")  # opening it would wait for a writer forever
    (project / "playbooks" / "null.yaml").symlink_to("/dev/null")
    code, found, _ = _json(cli, "--follow-symlinks")
    assert code == 1
    assert [(d["file"], d["rule"]) for d in found] == [
        ("playbooks/null.yaml", "OPS010"),
        ("playbooks/pipe.yaml", "OPS010"),
    ]
    assert all("not a regular file" in str(d["message"]) for d in found)


def test_symlinks_leaving_the_folder_are_not_followed_and_never_echoed(
    cli: Cli, project: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    outside = tmp_path_factory.mktemp("home") / "id_rsa"
    outside.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nsecretkeymaterial\n", "utf-8")
    copy_case("en-incident-response.yaml", project / "playbooks", kind="valid")
    (project / "playbooks" / "key.yaml").symlink_to(outside)
    (project / "playbooks" / "env.yaml").symlink_to("/proc/self/environ")
    (project / "playbooks" / "inside.yaml").symlink_to(
        project / "playbooks" / "en-incident-response.yaml"
    )
    for args in (["--format", "text"], ["--format", "json"], ["--format", "sarif"]):
        result = cli("validate", *args)
        assert result.exit_code == 1
        assert "secretkeymaterial" not in result.stdout and "PATH=" not in result.stdout
    code, found, _ = _json(cli)
    assert [(d["file"], d["rule"]) for d in found] == [
        ("playbooks/env.yaml", "OPS010"),
        ("playbooks/key.yaml", "OPS010"),
    ]
    assert "--follow-symlinks" in str(found[1]["message"])
    # asked for, the outside file is read: as text that is not YAML it is never echoed either
    followed = cli("validate", "--follow-symlinks", "playbooks/key.yaml")
    assert followed.exit_code == 1 and "secretkeymaterial" not in followed.stdout


def test_a_file_given_directly_that_leaves_the_project_is_not_followed(
    cli: Cli, project: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    outside = tmp_path_factory.mktemp("secrets") / "token.yaml"
    outside.write_text("token: hunter2-very-secret\n", "utf-8")
    (project / "evil.yaml").symlink_to(outside)
    result = cli("validate", "evil.yaml")
    assert result.exit_code == 1 and "OPS010" in result.stdout
    assert "hunter2" not in result.stdout


def test_source_lines_of_a_file_that_is_not_text_are_never_echoed(cli: Cli, project: Path) -> None:
    (project / "binary.yaml").write_bytes(b"AWS_SECRET=abc123secret\x00\x01\x02\nkind: x\n")
    (project / "latin.yaml").write_bytes("password: geheim\xa7\xff\n".encode("latin-1"))
    result = cli("validate", "binary.yaml", "latin.yaml")
    assert result.exit_code == 1
    assert "abc123secret" not in result.stdout and "geheim" not in result.stdout
    assert result.stdout.count("OPS001") == 2


def test_files_above_the_size_limit_are_refused_before_parsing(cli: Cli, project: Path) -> None:
    copy_case("en-incident-response.yaml", project, kind="valid")
    (project / "big.yaml").write_text("title: " + "x" * 10_000 + "\n", encoding="utf-8")
    (project / ".opsplay.toml").write_text("max_file_kb = 8\n", encoding="utf-8")
    code, found, _ = _json(cli, ".")
    assert [(d["file"], d["rule"]) for d in found] == [("big.yaml", "OPS010")]
    assert "`max_file_kb`" in str(found[0]["message"])
    (project / ".opsplay.toml").write_text("max_file_kb = 16\n", encoding="utf-8")
    code, found, _ = _json(cli, ".")
    assert "OPS010" not in [d["rule"] for d in found]


def test_control_characters_are_reported_and_never_printed_raw(cli: Cli, project: Path) -> None:
    copy_case("control-characters.yaml", project)
    for lang in ("en", "zh"):
        for output in ("text", "json", "github", "sarif"):
            result = cli("validate", "control-characters.yaml", "-f", output, "--lang", lang)
            assert result.exit_code == 1
            raw = [
                ch
                for ch in result.stdout
                if ord(ch) < 32 and ch not in "\n\t" or 0x7F <= ord(ch) <= 0x9F
            ]
            assert raw == [], output
            assert "OPS011" in result.stdout


def test_a_broken_yaml_with_escapes_is_echoed_escaped(cli: Cli, project: Path) -> None:
    (project / "escape.yaml").write_text("apiVersion: opsplay/v1\n\x1b]0;owned\x07: 1\n", "utf-8")
    result = cli("validate", "escape.yaml")
    assert result.exit_code == 1
    assert "\x1b" not in result.stdout and "\\x1b" in result.stdout


def test_a_symlinked_folder_above_the_checked_file_is_fine(
    cli: Cli, project: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Only links below what was named are judged; a symlinked path to it is the user's choice."""
    real = tmp_path_factory.mktemp("real")
    copy_case("en-incident-response.yaml", real, kind="valid")
    (project / "linked").symlink_to(real)
    for target in ("linked/en-incident-response.yaml", "linked"):
        code, found, _ = _json(cli, str(project / target))
        assert (code, found) == (0, []), target
