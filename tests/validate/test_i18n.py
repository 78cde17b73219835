"""Validate speaks Chinese and English from one catalogue: every rule's diagnostics, the
summary, `opsplay rules`, `--help` and click's own words, chosen by flag, config or locale."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from opsplay.diagnostics import RULES

from .conftest import Cli
from .support import CASES, REPO, copy_case

CJK = re.compile(r"[\u4e00-\u9fff]")
# Three English words in a row outside backticks: a sentence (or half of one) left untranslated.
ENGLISH_RUN = re.compile(r"[A-Za-z]{2,}(?: [A-Za-z]{2,}){2,}")


def _without_quoted(message: str) -> str:
    """The message without what it quotes from the playbook (`…`, "…", paths, ids)."""
    text = re.sub(r"`[^`]*`", "", message)
    text = re.sub(r'"[^"]*"', "", text)
    text = re.sub(r"\S+\.ya?ml\S*", "", text)
    text = re.sub(r"\b[a-z_]+\[\d+\](?:\.[a-z_]+)*", "", text)
    return text


def _invalid_run(cli: Cli, lang: str, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, str]]:
    monkeypatch.chdir(CASES / "invalid")
    result = cli("validate", ".", "--format", "json", "--lang", lang)
    assert result.exit_code == 1, result.output
    return json.loads(result.stdout)["diagnostics"]


def test_every_rule_speaks_chinese(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    found = _invalid_run(cli, "zh", monkeypatch)
    rules = {d["rule"] for d in found}
    assert {r for r in RULES if not r.startswith("OPS7")} <= rules  # every rule fired
    for d in found:
        assert CJK.search(d["message"]), d
        leftover = ENGLISH_RUN.findall(_without_quoted(d["message"]))
        assert leftover == [], (d["rule"], d["message"])
        assert not re.search(r"[;:,] ", _without_quoted(d["message"])), d  # full-width punctuation


def test_english_is_unchanged_by_the_flag(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPSPLAY_LANG", raising=False)
    english = _invalid_run(cli, "en", monkeypatch)
    monkeypatch.setenv("LANG", "C")
    default = json.loads(cli("validate", ".", "--format", "json").stdout)["diagnostics"]
    assert english == default
    assert any(d["message"].startswith("owner `pn` is not a role id") for d in english)


def test_the_summary_line_has_plurals_in_english_and_chinese(cli: Cli, project: Path) -> None:
    copy_case("unknown-owner.yaml", project)
    english = cli("validate", "unknown-owner.yaml", "--lang", "en").stdout.splitlines()[-1]
    chinese = cli("validate", "unknown-owner.yaml", "--lang", "zh").stdout.splitlines()[-1]
    assert english == "1 file checked: 3 errors, 0 warnings"
    assert chinese == "检查了 1 个文件：3 个错误，0 个警告"
    text = cli("validate", "unknown-owner.yaml", "--lang", "zh").stdout
    assert "错误 OPS201 负责人 `pn` 不是已定义的角色 id" in text


def test_config_lang_makes_validate_chinese(cli: Cli, project: Path) -> None:
    copy_case("unknown-owner.yaml", project)
    (project / ".opsplay.toml").write_text('lang = "zh"\n', encoding="utf-8")
    result = cli("validate", "unknown-owner.yaml", env={"OPSPLAY_LANG": "", "LANG": "C"})
    assert result.exit_code == 1, result.output
    assert result.stdout.splitlines()[-1] == "检查了 1 个文件：3 个错误，0 个警告"
    flagged = cli("validate", "unknown-owner.yaml", "--lang", "en")
    assert flagged.exit_code == 1, flagged.output
    assert flagged.stdout.splitlines()[-1] == "1 file checked: 3 errors, 0 warnings"


def test_rules_are_listed_in_chinese(cli: Cli) -> None:
    lines = cli("rules", "--lang", "zh").stdout.splitlines()
    assert [line.split()[0] for line in lines] == list(RULES)
    assert lines[0].split(None, 2)[1:] == ["错误", "文件不是 UTF-8 文本，读不出来。"]
    assert all(CJK.search(line) for line in lines)


def test_opsplays_own_lang_reaches_validate_rules_and_schema(project: Path) -> None:
    """`opsplay --lang zh validate` as `opsplay validate --lang zh` (a try-out: the flag before
    the command was read by help and `pilot` but not by validate, rules or schema), under an
    English locale; the command's own flag still wins."""
    copy_case("unknown-owner.yaml", project / "playbooks")
    english = {"LANG": "C.UTF-8"}
    validated = _run(["--lang", "zh", "validate"], project, **english)
    assert validated.stdout.splitlines()[-1] == "检查了 1 个文件：3 个错误，0 个警告"
    rules = _run(["--lang", "zh", "rules"], project, **english).stdout.splitlines()
    assert rules[0].split(None, 2)[1:] == ["错误", "文件不是 UTF-8 文本，读不出来。"]
    schema = json.loads(_run(["--lang", "zh", "schema"], project, **english).stdout)
    assert CJK.search(schema["properties"]["metadata"]["description"])
    own = _run(["--lang", "zh", "validate", "--lang", "en"], project, **english)
    assert own.stdout.splitlines()[-1] == "1 file checked: 3 errors, 0 warnings"


def test_opsplays_own_lang_sets_the_results_language(project: Path) -> None:
    """`opsplay --lang en pilot compare` as `pilot compare --lang en`: results, plans and
    documents of a Chinese playbook in English (a re-check: the flag before the command set
    the messages only, so results stayed Chinese)."""
    onboarding = str(REPO / "playbooks" / "new-user-onboarding.yaml")
    summary = str(REPO / "examples" / "onboarding_summary.csv")
    english = {"LANG": "C.UTF-8"}
    compared = _run(["--lang", "en", "pilot", "compare", onboarding, summary], project, **english)
    assert "randomised A/B test" in compared.stdout and "随机对照" not in compared.stdout
    plan = _run(["--lang", "en", "pilot", "plan", onboarding], project, **english).stdout
    assert plan.startswith("次日留存率: from 35.0% to 45.0%") and "how the figures were" in plan
    sop = project / "sop.md"
    _run(["--lang", "en", "render-sop", onboarding, "-o", str(sop)], project, **english)
    assert "## Purpose and goal" in sop.read_text(encoding="utf-8")
    chinese = _run(["pilot", "compare", onboarding, summary], project, **english).stdout
    assert "随机对照（A/B 测试）" in chinese  # without a flag: the playbook's language


def _run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "LANG", "OPSPLAY"))}
    return subprocess.run(
        [sys.executable, "-m", "opsplay", *args],
        cwd=cwd,
        env={**base, "COLUMNS": "200", **env},
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=60,
    )


def test_the_locale_alone_makes_validate_chinese(project: Path) -> None:
    copy_case("unknown-owner.yaml", project / "playbooks")
    result = _run(["validate"], project, LANG="zh_CN.UTF-8")
    assert result.returncode == 1
    assert result.stdout.splitlines()[-1] == "检查了 1 个文件：3 个错误，0 个警告"
    english = _run(["validate"], project, LANG="zh_CN.UTF-8", OPSPLAY_LANG="en")
    assert english.returncode == 1, english.stderr
    assert english.stdout.splitlines()[-1] == "1 file checked: 3 errors, 0 warnings"


def test_help_and_click_words_are_chinese_under_a_chinese_locale(tmp_path: Path) -> None:
    result = _run(["validate", "--help"], tmp_path, LANG="zh_CN.UTF-8")
    assert result.returncode == 0, result.stderr
    for words in ("用法：", "选项", "参数", "显示本帮助后退出。", "校验流程文件", "示例："):
        assert words in result.stdout, words
    for english in ("Usage:", "Options", "Arguments", "Show this message", "Output format"):
        assert english not in result.stdout, english
    wrong = _run(["validate", "--bogus"], tmp_path, LANG="zh_CN.UTF-8")
    assert wrong.returncode == 2
    assert "没有 --bogus 这个选项" in wrong.stderr and "错误" in wrong.stderr
    # the usage line above the error speaks as --help does (it said `[OPTIONS] {PLAYBOOK}`)
    assert wrong.stderr.splitlines()[0].endswith("validate [选项] [PATH]…"), wrong.stderr
    group = _run(["pilot", "nosuch"], tmp_path, LANG="zh_CN.UTF-8")
    assert group.returncode == 2 and "pilot [选项] 命令 [参数]…" in group.stderr
    assert "查看帮助" in wrong.stderr and "No such option" not in wrong.stderr
    choice = _run(["validate", "-f", "xml"], tmp_path, LANG="zh_CN.UTF-8")
    assert choice.returncode == 2, choice.stderr
    assert "的值不对：'xml' 不在可选范围内" in choice.stderr
    missing = _run(["init"], tmp_path, LANG="zh_CN.UTF-8")
    assert missing.returncode == 2, missing.stderr
    assert "缺少参数 'TITLE'。" in missing.stderr
    english = _run(["validate", "--help", "--lang", "en"], tmp_path, LANG="zh_CN.UTF-8")
    assert english.returncode == 0, english.stderr
    assert "Usage:" in english.stdout and "Show this message and exit." in english.stdout
    assert not CJK.search(english.stdout)


def test_every_owned_command_accepts_lang(cli: Cli, project: Path) -> None:
    for args in (["rules"], ["schema"], ["--lang", "zh", "rules"]):
        assert cli(*args, "--lang", "zh").exit_code == 0, args


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252"])
def test_a_narrow_output_encoding_degrades_instead_of_failing(project: Path, encoding: str) -> None:
    copy_case("unknown-owner.yaml", project)
    for args in (["validate", "unknown-owner.yaml", "--lang", "zh"], ["rules", "--lang", "zh"]):
        result = subprocess.run(
            [sys.executable, "-m", "opsplay", *args],
            cwd=project,
            env={**os.environ, "PYTHONIOENCODING": encoding},
            capture_output=True,
            timeout=60,
        )
        assert b"Traceback" not in result.stderr and b"UnicodeEncodeError" not in result.stderr
        assert result.returncode in (0, 1)
        assert b"OPS201" in result.stdout and b"?" in result.stdout


def test_the_readme_says_where_init_writes() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "playbooks/refund-tickets.yaml" in readme


@pytest.mark.parametrize(("written", "lang"), [("推广", "zh"), ("推广", "en"), ("rollout", "zh")])
def test_ops510_names_the_status_as_written(
    cli: Cli, tmp_path: Path, written: str, lang: str
) -> None:
    """Issue 20: OPS510 said 状态为 `rollout` to an author who wrote `status: 推广`."""
    path = copy_case("active-without-feedback.yaml", tmp_path)
    text = path.read_text("utf-8")
    assert text.count("  status: active\n") == 1
    path.write_text(text.replace("  status: active\n", f"  status: {written}\n"), "utf-8")
    result = cli("validate", str(path), "--format", "json", "--lang", lang)
    found = [d for d in json.loads(result.stdout)["diagnostics"] if d["rule"] == "OPS510"]
    assert len(found) == 1, result.stdout
    assert f"`{written}`" in found[0]["message"], found[0]["message"]
    if written == "推广":
        assert "rollout" not in found[0]["message"]


def test_one_weight_is_not_listed_again_as_its_parts(cli: Cli, project: Path) -> None:
    """A try-out's typo left one weighted pilot metric: `权重之和为 0.4（0.4）` repeated it."""
    source = (REPO / "playbooks" / "new-user-onboarding.yaml").read_text(encoding="utf-8")
    text = source.replace(
        "column: retained_d1, better: higher}", "column: retained_d1, better: higher, weight: 0.4}"
    )
    (project / "one.yaml").write_text(text, encoding="utf-8")
    for lang, words in (
        ("zh", "只有一个权重 0.4；权重之和须为1"),
        ("en", "the only weight is 0.4"),
    ):
        out = cli("validate", "one.yaml", "--lang", lang).stdout
        assert words in out and "0.4 (0.4)" not in out and "0.4（0.4）" not in out, out
