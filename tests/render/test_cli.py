"""render-sop and render-report end to end through typer's CliRunner, on real files."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import opsplay
from opsplay.cli import app

from .conftest import EDGE_CASE, PLAYBOOKS

ONBOARDING = PLAYBOOKS / "new-user-onboarding.yaml"
EXAMPLES = PLAYBOOKS.parent / "examples"


@pytest.fixture
def onboarding_json(comparison_files: dict[Path, Path]) -> Path:
    """Today's `pilot compare --format json` of the onboarding pilot, as a file."""
    return comparison_files[ONBOARDING]


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.chdir(tmp_path)
    return CliRunner()


def _playbooks(tmp_path: Path) -> Path:
    folder = tmp_path / "playbooks"
    folder.mkdir()
    shutil.copy(ONBOARDING, folder)
    shutil.copy(EDGE_CASE, folder)
    return folder


def test_render_sop_writes_then_reports_unchanged(runner: CliRunner, tmp_path: Path) -> None:
    source = _playbooks(tmp_path)
    result = runner.invoke(app, ["render-sop", str(source), "-o", "site/docs"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "wrote site/docs/edge-case.md",
        "wrote site/docs/index.md",
        "wrote site/docs/new-user-onboarding.md",
    ]
    document = tmp_path / "site/docs/new-user-onboarding.md"
    assert document.read_text(encoding="utf-8").startswith('---\ntitle: "新用户引导优化"\n')
    past = 1_000_000_000
    os.utime(document, (past, past))
    again = runner.invoke(app, ["render-sop", str(source), "-o", "site/docs"])
    assert again.exit_code == 0
    assert again.stdout.splitlines()[-1] == "unchanged site/docs/new-user-onboarding.md"
    assert document.stat().st_mtime == past


def test_render_sop_check_exits_1_when_a_file_would_change(
    runner: CliRunner, tmp_path: Path
) -> None:
    source = _playbooks(tmp_path)
    assert runner.invoke(app, ["render-sop", str(source), "-o", "out"]).exit_code == 0
    assert runner.invoke(app, ["render-sop", str(source), "-o", "out", "--check"]).exit_code == 0
    (tmp_path / "out/index.md").write_text("stale\n", encoding="utf-8")
    result = runner.invoke(app, ["render-sop", str(source), "-o", "out", "--check"])
    assert result.exit_code == 1
    assert "would write out/index.md" in result.stdout
    assert (tmp_path / "out/index.md").read_text(encoding="utf-8") == "stale\n"


def test_render_sop_html_in_english(runner: CliRunner, tmp_path: Path) -> None:
    source = _playbooks(tmp_path)
    result = runner.invoke(
        app,
        [
            "render-sop",
            str(source / "new-user-onboarding.yaml"),
            "-o",
            "out",
            "--format",
            "html",
            "--lang",
            "en",
        ],
    )
    assert result.exit_code == 0, result.output
    page = (tmp_path / "out/new-user-onboarding.html").read_text(encoding="utf-8")
    assert "<h2>Purpose and goal</h2>" in page
    assert (tmp_path / "out/index.html").exists()


def test_render_sop_invalid_playbook_exits_2_without_traceback(
    runner: CliRunner, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: opsplay/v1\nkind: Playbook\nmetadata: {id: x}\n", encoding="utf-8")
    result = runner.invoke(app, ["render-sop", str(bad), "-o", "out"])
    assert result.exit_code == 2
    assert "is not a valid playbook" in result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_render_sop_template_error_names_file_and_line(runner: CliRunner, tmp_path: Path) -> None:
    source = _playbooks(tmp_path)
    templates = tmp_path / "my-templates"
    templates.mkdir()
    (templates / "index.md.j2").write_text("# 索引\n{{ sops[0].nope }}\n", encoding="utf-8")
    result = runner.invoke(
        app, ["render-sop", str(source), "-o", "out", "--templates", str(templates)]
    )
    assert result.exit_code == 2
    assert (
        "index.md.j2, line 2: undefined variable: 'dict object' has no attribute 'nope'"
        in result.stderr
    )
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()  # nothing written when any document fails


def test_render_sop_user_template_overrides_by_name(runner: CliRunner, tmp_path: Path) -> None:
    source = _playbooks(tmp_path)
    templates = tmp_path / "my-templates"
    templates.mkdir()
    (templates / "sop.md.j2").write_text(
        '{% extends "opsplay/sop.md.j2" %}\n{% block footer %}由知识库团队维护{% endblock %}\n',
        encoding="utf-8",
    )
    result = runner.invoke(
        app, ["render-sop", str(source), "-o", "out", "--templates", str(templates)]
    )
    assert result.exit_code == 0, result.output
    assert (
        (tmp_path / "out/new-user-onboarding.md")
        .read_text(encoding="utf-8")
        .endswith("由知识库团队维护\n")
    )


def test_render_report_from_json_md_and_html(
    onboarding_json: Path, runner: CliRunner, tmp_path: Path
) -> None:
    result = runner.invoke(
        app,
        [
            "render-report",
            str(ONBOARDING),
            "--from-json",
            str(onboarding_json),
            "-o",
            "reports/r.md",
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == "wrote reports/r.md\n"
    assert "结论：部分达成；建议：迭代优化后再试点。" in (tmp_path / "reports/r.md").read_text(
        encoding="utf-8"
    )
    html = runner.invoke(
        app,
        [
            "render-report",
            str(ONBOARDING),
            "--from-json",
            str(onboarding_json),
            "-o",
            "reports/r.html",
        ],
    )
    assert html.exit_code == 0, html.output
    assert "<svg" in (tmp_path / "reports/r.html").read_text(encoding="utf-8")
    again = runner.invoke(
        app,
        [
            "render-report",
            str(ONBOARDING),
            "--from-json",
            str(onboarding_json),
            "-o",
            "reports/r.html",
            "--check",
        ],
    )
    assert again.exit_code == 0 and again.stdout == "unchanged reports/r.html\n"


def test_render_report_format_option_overrides_the_suffix(
    onboarding_json: Path, runner: CliRunner, tmp_path: Path
) -> None:
    result = runner.invoke(
        app,
        [
            "render-report",
            str(ONBOARDING),
            "--from-json",
            str(onboarding_json),
            "-o",
            "r.txt",
            "-f",
            "html",
            "--lang",
            "en",
        ],
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "r.txt").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["data.csv", "--from-json", "c.json"], "either DATA files or --from-json"),
        ([], "give the metric exports"),
        (["--from-json", "absent.json"], "absent.json: no such file"),
    ],
)
def test_render_report_usage_errors(runner: CliRunner, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["render-report", str(ONBOARDING), "-o", "r.md", *args])
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_render_report_refuses_a_comparison_of_another_playbook(
    runner: CliRunner, comparison_files: dict[Path, Path]
) -> None:
    other = comparison_files[PLAYBOOKS / "member-recall.yaml"]
    result = runner.invoke(
        app, ["render-report", str(ONBOARDING), "--from-json", str(other), "-o", "r.md"]
    )
    assert result.exit_code == 2
    assert "not `new-user-onboarding`" in result.stderr


def test_render_report_runs_pilot_compare_on_data(runner: CliRunner, tmp_path: Path) -> None:
    """DATA gives the same report as `pilot compare --format json` saved and read back."""
    exports = [str(EXAMPLES / "onboarding_units.csv"), "--by", "region"]
    exports += ["--events", str(EXAMPLES / "onboarding_events.csv")]
    direct = runner.invoke(app, ["render-report", str(ONBOARDING), *exports, "-o", "direct.md"])
    assert direct.exit_code == 0, direct.output
    saved = runner.invoke(app, ["pilot", "compare", str(ONBOARDING), *exports, "--format", "json"])
    assert saved.exit_code == 0, saved.output
    (tmp_path / "compare.json").write_text(saved.stdout, encoding="utf-8")
    from_json = runner.invoke(
        app, ["render-report", str(ONBOARDING), "--from-json", "compare.json", "-o", "saved.md"]
    )
    assert from_json.exit_code == 0, from_json.output
    text = (tmp_path / "direct.md").read_text(encoding="utf-8")
    assert text == (tmp_path / "saved.md").read_text(encoding="utf-8")
    assert "| region为杭州 | 次日留存率 |" in text  # never `region=杭州` in Chinese
    assert "| 个性化内容推送 | 运营专员 | 900 |" in text
    # The export is listed with its shape (as `pilot compare` names its path), `_` escaped.
    assert "onboarding\\_units.csv | 明细数据 | utf-8 | 10,000 | 0 |" in text


def test_render_report_passes_compare_options(runner: CliRunner, tmp_path: Path) -> None:
    summary = str(EXAMPLES / "onboarding_summary.csv")
    result = runner.invoke(
        app,
        [
            "render-report",
            str(ONBOARDING),
            summary,
            "--input-format",
            "summary",
            "--lang",
            "en",
            "--correction",
            "bh",
            "-o",
            "r.html",
        ],
    )
    assert result.exit_code == 0, result.output
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "summary · " not in page  # the shape is a source column, not the method line
    assert "Welch t · Benjamini–Hochberg" in page
    assert "Conclusion: " in page


def test_render_report_bad_export_exits_2(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "bad.csv").write_text("x,y\n1,2\n", encoding="utf-8")
    result = runner.invoke(app, ["render-report", str(ONBOARDING), "bad.csv", "-o", "r.md"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert not (tmp_path / "r.md").exists()


def test_help_has_an_example(runner: CliRunner) -> None:
    for command in ("render-sop", "render-report"):
        result = runner.invoke(app, [command, "--help"])
        assert result.exit_code == 0
        # a command too long for the line beside its label gets a line of its own
        assert "Example: opsplay " + command in " ".join(result.stdout.split())


def test_importing_the_cli_loads_no_heavy_library() -> None:
    code = (
        "import sys, opsplay.cli\n"
        "names = {c.name for c in opsplay.cli.app.registered_commands}\n"
        "assert {'render-sop', 'render-report'} <= names, names\n"
        "heavy = ('jinja2', 'markupsafe', 'pandas', 'numpy')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    root = str(Path(opsplay.__file__).parents[1])
    env = {**os.environ, "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "[]\n"


def _opsplay_zh(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LANG": "zh_CN.UTF-8", "COLUMNS": "200"}
    env.pop("OPSPLAY_LANG", None)
    return subprocess.run(
        [sys.executable, "-m", "opsplay", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )


@pytest.mark.parametrize(
    ("command", "words"),
    [
        ("render-sop", ["生成知识库用的 SOP 文档", "示例：opsplay render-sop", "输出文件夹"]),
        ("render-report", ["生成试点的效果复盘报告", "试点所用的流程文件", "文档格式"]),
        ("diff", ["比较流程文件的两个版本", "旧版本：", "有变更时以退出码 1 结束"]),
    ],
)
def test_help_of_document_commands_speaks_the_locale(
    tmp_path: Path, command: str, words: list[str]
) -> None:
    result = _opsplay_zh(tmp_path, command, "--help")
    assert result.returncode == 0, result.stderr
    for word in words:
        assert word in result.stdout


def test_errors_and_progress_speak_the_locale(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = _opsplay_zh(tmp_path, "render-sop", "empty", "-o", "out")
    assert result.returncode == 2
    assert result.stderr == "opsplay：错误：empty 中没有流程文件（*.yaml、*.yml）\n"
    folder = _playbooks(tmp_path)
    result = _opsplay_zh(tmp_path, "render-sop", str(folder), "-o", "out")
    assert result.returncode == 0, result.stderr
    assert "已写入 " in result.stdout


RUNAWAY = {
    "macro": (
        "{% macro step(node) %}{{ node.id }} → {{ step(node) }}{% endmacro %}\n"
        "# {{ playbook.metadata.title }}\n{{ step(playbook.nodes[0]) }}\n",
        "{template}, line 1: a macro calls itself without end",
        "{template}，第 1 行：宏在无限地调用自身",
    ),
    "number": (
        "# {{ playbook.metadata.title }}\n\n合计：{{ 10**10000 }}\n",
        "{template}, line 3: the template computes a number of more than 4,000 digits",
        "{template}，第 3 行：模板算出的数字超过 4,000 位",
    ),
}


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("mistake", sorted(RUNAWAY))
@pytest.mark.parametrize("command", ["render-sop", "render-report"])
def test_a_runaway_user_template_is_named_for_what_it_does(
    runner: CliRunner,
    tmp_path: Path,
    onboarding_json: Path,
    command: str,
    mistake: str,
    lang: str,
) -> None:
    """A macro calling itself is recursion, not an include loop; a 10,001-digit number is a
    template error in the catalogue's words, not Python's int-limit message in English."""
    template, english, chinese = RUNAWAY[mistake]
    name = "sop.md.j2" if command == "render-sop" else "report.md.j2"
    templates = tmp_path / "my-templates"
    templates.mkdir()
    (templates / name).write_text(template, encoding="utf-8")
    target = ["-o", "out"] if command == "render-sop" else ["--from-json", str(onboarding_json)]
    if command == "render-report":
        target += ["-o", "report.md"]
    result = runner.invoke(
        app,
        ["--lang", lang, command, str(ONBOARDING), *target, "--templates", str(templates)],
    )
    assert result.exit_code == 2, result.output
    expected = (english if lang == "en" else chinese).format(template=f"my-templates/{name}")
    assert expected in result.stderr
    assert "include each other" not in result.stderr and "Exceeds the limit" not in result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists() and not (tmp_path / "report.md").exists()


def test_a_number_too_long_from_the_data_is_a_template_error(tmp_path: Path) -> None:
    """The same words when the long number comes in through the data, not arithmetic."""
    from opsplay.errors import TemplateError
    from opsplay.render.environment import Renderer

    templates = tmp_path / "my-templates"
    templates.mkdir()
    (templates / "total.md.j2").write_text("# 合计\n\n{{ total }}\n", encoding="utf-8")
    with pytest.raises(TemplateError) as caught:
        Renderer("en", templates).render("total.md.j2", {"total": 7**9000})
    assert (
        "total.md.j2, line 3: the template computes a number of more than" in caught.value.message
    )


def test_render_report_reads_an_excel_sheet_and_a_database_as_pilot_compare_does(
    runner: CliRunner, tmp_path: Path
) -> None:
    """`--sheet` and `--db/--table` (which pilot compare's messages point to) work here too."""
    import duckdb
    import openpyxl
    import pandas as pd

    playbook = PLAYBOOKS / "new-user-onboarding.yaml"
    units = pd.read_csv(EXAMPLES / "onboarding_units.csv").head(2000)
    book = openpyxl.Workbook()
    book.active.title = "说明"
    book.active.append(["新用户引导试点导出说明"])
    sheet = book.create_sheet("明细")
    sheet.append(list(units.columns))
    for row in units.itertuples(index=False):
        sheet.append(list(row))
    workbook = tmp_path / "units.xlsx"
    book.save(workbook)
    database = tmp_path / "ops.duckdb"
    con = duckdb.connect(str(database))
    con.register("units_frame", units)
    con.execute("CREATE TABLE units AS SELECT * FROM units_frame")
    con.close()
    reports = {}
    for name, args in {
        "sheet": [str(workbook), "--sheet", "明细"],
        "db": ["--db", str(database), "--table", "units"],
    }.items():
        out = tmp_path / f"{name}.md"
        result = runner.invoke(app, ["render-report", str(playbook), *args, "-o", str(out)])
        assert result.exit_code == 0, result.output
        reports[name] = out.read_text(encoding="utf-8")
    sheet_lines, db_lines = (text.splitlines() for text in (reports["sheet"], reports["db"]))
    differing = [(a, b) for a, b in zip(sheet_lines, db_lines, strict=True) if a != b]
    assert len(differing) == 1 and "units.xlsx" in differing[0][0], differing  # the source line
    assert "ops.duckdb units" in differing[0][1]
