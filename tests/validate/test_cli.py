"""`opsplay validate / rules / schema / init` end to end through typer's runner, on real files."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
import typer

from opsplay import __version__
from opsplay.cli import app
from opsplay.diagnostics import RULES
from opsplay.errors import UsageError

from .conftest import Cli
from .support import CASES, copy_case

INVALID = sorted((CASES / "invalid").glob("*.yaml"))


def _has_error(case: Path) -> bool:
    expected = case.with_suffix(".expected").read_text(encoding="utf-8")
    rules = re.findall(r"\bOPS\d{3}\b", expected)
    return any(RULES[rule].severity.value == "error" for rule in rules)


# ---- exit codes -----------------------------------------------------------------------------


def test_clean_playbook_exits_0(cli: Cli, project: Path) -> None:
    copy_case("zh-new-user-onboarding.yaml", project, kind="valid")
    result = cli("validate", "zh-new-user-onboarding.yaml")
    assert (result.exit_code, result.stderr) == (0, "")


@pytest.mark.parametrize("case", INVALID, ids=lambda p: p.stem)
def test_invalid_case_exit_code(cli: Cli, project: Path, case: Path) -> None:
    """Exit 1 when an error is expected (unparseable never exits 0), else 0; --strict fails too."""
    copy_case(case.name, project)
    result = cli("validate", case.name)
    assert result.exit_code == (1 if _has_error(case) else 0), result.output
    assert cli("validate", "--strict", case.name).exit_code == 1


@pytest.mark.parametrize(
    "case",
    [
        "syntax-error.yaml",
        "empty.yaml",
        "gbk-encoding.yaml",
        "alias-bomb.yaml",
        "two-documents.yaml",
        "tab-indentation.yaml",
        "top-level-list.yaml",
    ],
)
def test_unparseable_file_never_exits_0(cli: Cli, project: Path, case: str) -> None:
    copy_case(case, project)
    result = cli("validate", case)
    assert result.exit_code == 1
    assert f"{case}:" in result.stdout


def test_warnings_only_exit_0_and_strict_exits_1(cli: Cli, project: Path) -> None:
    copy_case("node-without-sla-or-fallback.yaml", project)
    assert cli("validate", "node-without-sla-or-fallback.yaml").exit_code == 0
    assert cli("validate", "--strict", "node-without-sla-or-fallback.yaml").exit_code == 1


def test_missing_path_exits_2(cli: Cli, project: Path) -> None:
    result = cli("validate", "no-such-playbook.yaml")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "no-such-playbook.yaml: no such file or folder" in result.stderr


def test_default_folder_missing_exits_2(cli: Cli, project: Path) -> None:
    result = cli("validate")
    assert result.exit_code == 2
    assert "playbooks: no such file or folder" in result.stderr


def test_folder_without_playbooks_exits_2(cli: Cli, project: Path) -> None:
    (project / "empty").mkdir()
    result = cli("validate", "empty")
    assert result.exit_code == 2
    assert "no playbook files" in result.stderr


def test_unreadable_file_is_a_finding_and_the_rest_is_checked(
    cli: Cli, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = copy_case("en-incident-response.yaml", project, kind="valid")
    copy_case("zh-new-user-onboarding.yaml", project, kind="valid")
    if os.geteuid() != 0:
        target.chmod(0)
    else:  # root reads anything: make the filesystem refuse (not opsplay's code)
        real = os.open

        def refuse(path: str | os.PathLike[str], *args: object, **kwargs: object) -> int:
            if Path(path).name == target.name:
                raise PermissionError(13, "Permission denied", str(path))
            return real(path, *args, **kwargs)

        monkeypatch.setattr(os, "open", refuse)
    result = cli("validate", ".", "--format", "json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["files"] == 2
    assert [(d["file"], d["rule"]) for d in document["diagnostics"]] == [
        ("en-incident-response.yaml", "OPS010")
    ]
    assert "cannot be read: Permission denied" in document["diagnostics"][0]["message"]


def test_folders_are_searched_recursively_skipping_hidden_ones(cli: Cli, project: Path) -> None:
    copy_case("every-duration-form.yaml", project / "playbooks" / "ops", kind="valid")
    copy_case(
        "merge-keys-and-anchors.yaml", project / "playbooks", kind="valid", as_name="recall.yml"
    )
    copy_case("syntax-error.yaml", project / "playbooks" / ".drafts")
    (project / "playbooks" / "notes.txt").write_text("not a playbook", encoding="utf-8")
    result = cli("validate")
    assert (result.exit_code, result.stdout) == (0, "2 files checked: 0 errors, 0 warnings\n")


# ---- pre-commit: files given, rest of the folder loaded for cross-file checks ----------------


def test_precommit_run_reports_only_given_files_but_sees_the_folder(
    cli: Cli, project: Path
) -> None:
    folder = project / "playbooks"
    copy_case("duplicate-playbook-ids/a-onboarding.yaml", folder, as_name="a.yaml")
    copy_case("duplicate-playbook-ids/b-onboarding-copy.yaml", folder, as_name="b.yaml")
    copy_case("syntax-error.yaml", folder, as_name="c-broken.yaml")
    result = cli("validate", "--format", "json", "playbooks/b.yaml")
    document = json.loads(result.stdout)
    assert document["files"] == 1
    assert [(d["file"], d["rule"], d["path"]) for d in document["diagnostics"]] == [
        ("playbooks/b.yaml", "OPS206", "metadata.id")
    ]
    assert "playbooks/a.yaml" in document["diagnostics"][0]["message"]
    assert result.exit_code == 1
    # The given file is the one reported, whichever sorts first.
    document = json.loads(cli("validate", "-f", "json", "playbooks/a.yaml").stdout)
    assert [(d["file"], d["rule"]) for d in document["diagnostics"]] == [
        ("playbooks/a.yaml", "OPS206")
    ]


def test_precommit_context_is_siblings_and_the_configured_folders(cli: Cli, project: Path) -> None:
    """Neighbours of a given file and playbooks/ (recursively) count; folders below it do not."""
    dup = "duplicate-playbook-ids/a-onboarding.yaml"
    copy_case(dup, project, as_name="given.yaml")
    copy_case(dup, project / "node_modules" / "pkg", as_name="unrelated.yaml")
    result = cli("validate", "given.yaml")
    assert (result.exit_code, result.stdout) == (0, "1 file checked: 0 errors, 0 warnings\n")
    copy_case(dup, project / "playbooks" / "team-a", as_name="copy.yaml")
    assert "OPS206" in cli("validate", "given.yaml").stdout
    (project / "playbooks" / "team-a" / "copy.yaml").unlink()
    copy_case(dup, project, as_name="sibling.yml")
    assert "already used by sibling.yml" in cli("validate", "given.yaml").stdout


def test_precommit_run_skips_unreadable_neighbours(
    cli: Cli, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy_case("en-incident-response.yaml", project / "playbooks", kind="valid")
    copy_case("zh-new-user-onboarding.yaml", project / "playbooks", kind="valid")
    real = Path.read_bytes

    def refuse(self: Path) -> bytes:
        if self.name == "zh-new-user-onboarding.yaml":
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", refuse)
    result = cli("validate", "playbooks/en-incident-response.yaml")
    assert (result.exit_code, result.stdout) == (0, "1 file checked: 0 errors, 0 warnings\n")


# ---- configuration ---------------------------------------------------------------------------


@pytest.fixture
def warned(project: Path) -> Path:
    """A project whose one playbook has two warnings (OPS501, OPS502) and no error."""
    copy_case("node-without-sla-or-fallback.yaml", project / "playbooks", as_name="p.yaml")
    return project


def _rules(cli: Cli) -> list[str]:
    result = cli("validate", "--format", "json")
    return [d["rule"] + ":" + d["severity"] for d in json.loads(result.stdout)["diagnostics"]]


def test_config_disable_and_severity(cli: Cli, warned: Path) -> None:
    assert _rules(cli) == ["OPS501:warning", "OPS502:warning"]
    (warned / ".opsplay.toml").write_text(
        'disable = ["OPS501"]\nseverity = {OPS502 = "error"}\n', encoding="utf-8"
    )
    assert _rules(cli) == ["OPS502:error"]
    assert cli("validate").exit_code == 1


def test_config_in_pyproject_from_a_subfolder(
    cli: Cli, warned: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (warned / "pyproject.toml").write_text(
        '[project]\nname = "ops"\n\n'
        '[tool.opsplay]\ndisable = ["OPS501", "OPS502"]\npaths = ["playbooks"]\n',
        encoding="utf-8",
    )
    monkeypatch.chdir(warned / "playbooks")
    result = cli("validate")
    assert (result.exit_code, result.stdout) == (0, "1 file checked: 0 errors, 0 warnings\n")


def test_dedicated_config_wins_over_pyproject(cli: Cli, warned: Path) -> None:
    (warned / "pyproject.toml").write_text(
        '[tool.opsplay]\ndisable = ["OPS501"]\n', encoding="utf-8"
    )
    (warned / ".opsplay.toml").write_text('disable = ["OPS502"]\n', encoding="utf-8")
    assert _rules(cli) == ["OPS501:warning"]


def test_config_realtime(warned: Path) -> None:
    from opsplay.config import find_config

    assert find_config(warned).realtime_seconds == 1.0
    (warned / ".opsplay.toml").write_text('realtime = "3s"\n', encoding="utf-8")
    assert find_config(warned).realtime_seconds == 3.0
    (warned / ".opsplay.toml").write_text('realtime = "500毫秒"\n', encoding="utf-8")
    with pytest.raises(UsageError, match="realtime"):
        find_config(warned)


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ('disable = ["OPS999"]', "unknown rule id `OPS999`"),
        ('severity = {OPS777 = "error"}', "unknown rule id `OPS777`"),
        ('severity = {OPS501 = "fatal"}', 'must be "error" or "warning"'),
        ("disbale = []", "unknown setting(s) disbale"),
        ('disable = "OPS501"', "write `disable = "),
        ("disable = [[1]]", "write `disable = "),
        ('realtime = "soon"', "realtime"),
        ('realtime = "realtime"', "concrete limit"),
        ("paths = 5", "write `paths = "),
        ("diff = 3", "`diff` must be a table"),
        ("not toml at all", "cannot read configuration"),
    ],
)
def test_bad_config_exits_2(cli: Cli, warned: Path, setting: str, message: str) -> None:
    (warned / ".opsplay.toml").write_text(setting + "\n", encoding="utf-8")
    result = cli("validate")
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stdout == ""


# ---- rules, schema, init, version, help ------------------------------------------------------


def test_rules_lists_the_catalogue(cli: Cli) -> None:
    result = cli("rules")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == list(RULES)
    for line, rule in zip(lines, RULES.values(), strict=True):
        assert line.split()[1] == rule.severity.value and line.endswith(rule.summary)


def test_schema_prints_json(cli: Cli) -> None:
    result = cli("schema")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["$schema"] == "http://json-schema.org/draft-07/schema#"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_init_writes_a_skeleton_that_validates(cli: Cli, project: Path, lang: str) -> None:
    result = cli("init", "member-recall", "--lang", lang)
    assert result.exit_code == 0
    path = project / "playbooks" / "member-recall.yaml"
    said = {
        "en": "wrote playbooks/member-recall.yaml; replace its <…> placeholders, then run "
        "`opsplay validate playbooks/member-recall.yaml`\n",
        "zh": "已生成 playbooks/member-recall.yaml；把其中的 <…> 换成实际内容，然后运行 "
        "`opsplay validate playbooks/member-recall.yaml`\n",
    }
    assert result.stdout == said[lang]
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# yaml-language-server: $schema=")
    for section in (
        "goal:",
        "scope:",
        "roles:",
        "metrics:",
        "scenarios:",
        "nodes:",
        "alerts:",
        "pilot:",
        "rollout:",
        "review:",
    ):
        assert f"\n{section}" in text
    assert ("第1步" in text) == (lang == "zh") and ("Step 1" in text) == (lang == "en")
    checked = cli("validate", "--format", "json")
    assert checked.exit_code == 0, checked.stdout
    assert json.loads(checked.stdout)["errors"] == 0


def test_init_refuses_to_overwrite(cli: Cli, project: Path) -> None:
    assert cli("init", "daily-check", "--dir", "ops").exit_code == 0
    before = (project / "ops" / "daily-check.yaml").read_bytes()
    result = cli("init", "daily-check", "--dir", "ops", "--lang", "en")
    assert result.exit_code == 2
    assert "already exists" in result.stderr
    assert (project / "ops" / "daily-check.yaml").read_bytes() == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["!!!"], "cannot make a playbook id"),
        (["x", "--id", "Bad_ID"], "not a valid playbook id"),
        (["x", "--id", "abc\n"], "not a valid playbook id"),
        (["x", "--id", "a" * 300], "300 characters long; keep it to 64"),
        (["售后退款工单处理"], "pass one with `--id`"),
        (["ok-id", "--lang", "fr"], "--lang must be zh or en"),
    ],
)
def test_init_usage_errors_exit_2(cli: Cli, project: Path, args: list[str], message: str) -> None:
    result = cli("init", *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert not (project / "playbooks").exists()


def test_init_with_a_chinese_title_and_an_id(cli: Cli, project: Path) -> None:
    result = cli("init", "售后退款工单处理", "--id", "refund-tickets", "--lang", "zh")
    assert result.exit_code == 0, result.output
    assert "playbooks/refund-tickets.yaml" in result.stdout
    text = (project / "playbooks" / "refund-tickets.yaml").read_text(encoding="utf-8")
    assert '  title: "售后退款工单处理"\n' in text and "  id: refund-tickets\n" in text
    checked = cli("validate", "--format", "json")
    assert checked.exit_code == 0 and json.loads(checked.stdout)["errors"] == 0


def test_init_derives_the_id_of_an_ascii_title(cli: Cli, project: Path) -> None:
    result = cli("init", "Refund Tickets (East)", "--lang", "en")
    assert result.exit_code == 0, result.output
    text = (project / "playbooks" / "refund-tickets-east.yaml").read_text(encoding="utf-8")
    assert '  title: "Refund Tickets (East)"\n' in text


def test_init_leaves_nothing_behind_on_a_full_disk_and_a_retry_works(project: Path) -> None:
    """A file-size limit makes the write fail half-way, as a full disk does (no 0-byte file)."""
    import resource
    import signal
    import subprocess
    import sys

    def small_files() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of being killed
        resource.setrlimit(resource.RLIMIT_FSIZE, (512, 512))

    command = [sys.executable, "-m", "opsplay", "init", "daily-check", "--lang", "en"]
    full = subprocess.run(
        command, cwd=project, capture_output=True, text=True, preexec_fn=small_files, timeout=60
    )
    assert full.returncode == 2, full.stderr
    assert "cannot write playbooks/daily-check.yaml: File too large" in full.stderr
    assert "Traceback" not in full.stderr
    assert sorted(p.name for p in (project / "playbooks").iterdir()) == []
    retry = subprocess.run(command, cwd=project, capture_output=True, text=True, timeout=60)
    assert retry.returncode == 0, retry.stderr
    assert (project / "playbooks" / "daily-check.yaml").stat().st_size > 512


def test_version(cli: Cli) -> None:
    result = cli("--version")
    assert (result.exit_code, result.stdout) == (0, f"opsplay {__version__}\n")


def _commands() -> list[list[str]]:
    def walk(command: object, prefix: list[str]) -> list[list[str]]:
        found = [prefix]
        for name, sub in getattr(command, "commands", {}).items():
            found += walk(sub, [*prefix, name])
        return found

    return walk(typer.main.get_command(app), [])


@pytest.mark.parametrize("command", _commands(), ids=lambda c: " ".join(c) or "opsplay")
def test_every_help_has_an_example(cli: Cli, command: list[str]) -> None:
    result = cli(*command, "--help")
    assert result.exit_code == 0
    # a command too long to stand beside its label gets a line of its own, unbroken
    assert "Example: opsplay" in " ".join(result.stdout.split())


def test_init_asks_for_the_id_of_a_chinese_title_on_a_terminal(project: Path) -> None:
    """stdin a terminal (a pseudo-terminal here): the id is asked for, then the file written."""
    import subprocess
    import sys

    pty = pytest.importorskip("pty")
    main, replica = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "opsplay", "init", "售后退款工单处理", "--lang", "zh"],
        cwd=project,
        stdin=replica,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "OPSPLAY_LANG": "zh"},
    )
    os.write(main, b"refund-tickets\n")
    out, err = process.communicate(timeout=60)
    os.close(main)
    os.close(replica)
    assert process.returncode == 0, err.decode()
    said = out.decode("utf-8")
    assert "“售后退款工单处理”的流程 id" in said
    assert "已生成 playbooks/refund-tickets.yaml" in said
    text = (project / "playbooks" / "refund-tickets.yaml").read_text(encoding="utf-8")
    assert '  title: "售后退款工单处理"\n' in text
