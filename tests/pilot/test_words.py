"""`pilot compare` / `pilot plan` words and hostile input: every message in both languages,
tables that never drop a column, plain sentences, and text from playbooks and exports
neutralised in every output (issues 8, 11, 13)."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from opsplay.cli import app
from opsplay.i18n import language

ROOT = Path(__file__).resolve().parents[2]
ONBOARDING = ROOT / "playbooks" / "new-user-onboarding.yaml"
COMPLAINTS = ROOT / "playbooks" / "complaint-handling.yaml"
RECALL = ROOT / "playbooks" / "member-recall.yaml"
EXAMPLES = ROOT / "examples"
UNITS = EXAMPLES / "onboarding_units.csv"
runner = CliRunner()

# What may stay Latin in Chinese text: ids and values in backticks, option names, field
# paths, file paths, method names and units of figures.
_ALLOWED = re.compile(
    r"`[^`]*`|[\w-]+@[\d.]+|（[a-z0-9-]+）|--[a-z][a-z-]*|\b[a-z_]+\.[a-z_.]+\b|/[^\s，；（）：]*|\b(?:[A-Za-z]*[0-9][\w,.%+-]*)\b"
    r"|Welch|Holm|Fieller|Benjamini|Hochberg|Cohen's|ISO|A/B|SQL|CSV|utf-8|gb18030|gbk|min_n|pp|P95"
    r"|opsplay|p=|α=|n=|control|pilot|before|after|region|上海"  # the tool and data values
)


def english_words(text: str) -> list[str]:
    """Latin words left in a Chinese text once the allowed ones are taken out."""
    return re.findall(r"[A-Za-z]{3,}", _ALLOWED.sub(" ", text))


def compare(*args: str | Path, lang: str = "en", columns: int | None = None) -> tuple[int, str]:
    env = {"COLUMNS": str(columns)} if columns else {}
    with language(lang):  # the message language of errors
        result = runner.invoke(app, ["pilot", "compare", *map(str, args), "--lang", lang], env=env)
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout + result.stderr


def playbook_with(
    tmp_path: Path, *replacements: tuple[str, str], source: Path = ONBOARDING
) -> Path:
    text = source.read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / source.name
    path.write_text(text, encoding="utf-8")
    return path


# --- every warning and error of the pilot path, in both languages ------------------------


def _scenarios(tmp_path: Path) -> dict[str, tuple[list[str | Path], int, str, str]]:
    """name -> (arguments, exit code, English words, Chinese words) of each message."""
    frame = pd.read_csv(UNITS)
    small = tmp_path / "small.csv"
    frame.head(60).to_csv(small, index=False)  # fewer than min_n units per group
    wrong_arm = tmp_path / "arms.csv"
    frame.replace({"group": {"pilot": "treatment"}}).to_csv(wrong_arm, index=False)
    lopsided = tmp_path / "lopsided.csv"
    pd.concat([frame, frame[frame.group == "pilot"]]).to_csv(lopsided, index=False)
    one_arm = tmp_path / "one_arm.csv"
    frame[~((frame.region == "上海") & (frame.group == "pilot"))].to_csv(one_arm, index=False)
    summary = tmp_path / "summary.csv"
    summary.write_text(
        "arm,metric,value\ncontrol,revenue,11.0\npilot,revenue,12.5\n"
        # every primary metric must be in an export, whatever its shape (issue 9)
        + "".join(
            f"{arm},{metric},{value}\n"
            for metric in ("d1_retention", "first_order", "core_usage")
            for arm, value in (("control", "35%"), ("pilot", "38%"))
        ),
        encoding="utf-8",
    )
    no_pilot = playbook_with(tmp_path, ("\npilot:\n", "\nx_pilot:\n"))
    no_pilot.write_text(
        no_pilot.read_text(encoding="utf-8").split("\nx_pilot:\n")[0]
        + "\n"
        + "\n".join(
            line
            for line in no_pilot.read_text(encoding="utf-8").split("\nx_pilot:\n")[1].splitlines()
            if not line.startswith("  ")
        ),
        encoding="utf-8",
    )
    return {
        "too few units": ([ONBOARDING, small], 0, "fewer units than min_n", "少于 min_n"),
        "sample ratio": ([ONBOARDING, lopsided], 0, "planned split", "分流比例"),
        "one group in a segment": (
            [ONBOARDING, one_arm, "--by", "region"],
            0,
            "one group only",
            "只有一组",
        ),
        "node alerts need a log": ([ONBOARDING, UNITS], 0, "--events", "执行日志"),
        "dashboard without n": ([ONBOARDING, summary], 0, "deviation only", "只能算偏差"),
        "before/after": (
            [COMPLAINTS, EXAMPLES / "complaints_before_after.csv"],
            0,
            "cause and effect",
            "因果",
        ),
        "same group twice": (
            [ONBOARDING, UNITS, "--baseline", "pilot"],
            2,
            "both `pilot`",
            "都是 `pilot`",
        ),
        "too many segments": (
            [ONBOARDING, UNITS, "--by", "region", "--max-segments", "2"],
            2,
            "coarser column",
            "更粗的列",
        ),
    }


def test_every_pilot_message_in_both_languages(tmp_path: Path) -> None:
    for name, (args, code, english, chinese) in _scenarios(tmp_path).items():
        exit_en, out_en = compare(*args, lang="en")
        exit_zh, out_zh = compare(*args, lang="zh")
        assert (exit_en, exit_zh) == (code, code), (name, out_en)
        assert english in out_en, (name, out_en)
        assert chinese in out_zh, (name, out_zh)
        # Warnings that start with the export's path are the readers' (their own tests).
        ours = "\n".join(line for line in out_zh.splitlines() if not line.startswith("! /"))
        assert english_words(ours) == [], (name, english_words(ours), out_zh)


def test_plan_errors_and_output_in_both_languages(tmp_path: Path) -> None:
    mean_goal = playbook_with(
        tmp_path,
        ("  metric: d1_retention\n  baseline: 0.35", "  metric: revenue\n  baseline: 0.35"),
    )
    for lang, words in (("en", "standard deviation"), ("zh", "标准差")):
        with language(lang):
            result = runner.invoke(app, ["pilot", "plan", str(mean_goal), "--lang", lang])
        assert result.exit_code == 2 and words in result.stderr, result.output
    chinese = runner.invoke(
        app,
        ["pilot", "plan", str(RECALL), "--lang", "zh", "--daily", "300", "--icc", "0.01"]
        + ["--cluster-size", "2500"],
    )
    assert chinese.exit_code == 0, chinese.output
    assert "所需样本" in chinese.stdout and "天" in chinese.stdout
    assert english_words(chinese.stdout) == [], chinese.stdout


@pytest.mark.parametrize(("baseline", "target"), [("-1.0e308", "1.0e308"), ("-1.7e308", "1.7e308")])
def test_plan_near_the_float_range_says_so(tmp_path: Path, baseline: str, target: str) -> None:
    path = playbook_with(
        tmp_path,
        (
            "  metric: d1_retention\n  baseline: 0.35\n  target: 0.45",
            f"  metric: revenue\n  baseline: {baseline}\n  target: {target}",
        ),
    )
    result = runner.invoke(app, ["pilot", "plan", str(path), "--sd", "1"])
    assert result.exit_code == 2, result.output
    assert "too large" in result.stderr and "Traceback" not in result.output


# --- terminal: nothing dropped at any width -------------------------------------------------


@pytest.mark.parametrize("columns", [60, 80, 120, 200])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_column_is_dropped_at_any_width(columns: int, lang: str) -> None:
    code, text = compare(
        ONBOARDING,
        UNITS,
        "--events",
        EXAMPLES / "onboarding_events.csv",
        lang=lang,
        columns=columns,
    )
    assert code == 0
    labels = {
        "zh": [
            "对照组",
            "试点组",
            "变化",
            "偏差率",
            "目标值（达成度）",
            "结论",
            "执行次数",
            "超时率",
            "时限达标率",
        ],
        "en": [
            "control group",
            "pilot group",
            "change",
            "deviation rate",
            "target (attainment)",
            "verdict",
            "runs",
            "timeout rate",
            "on-time rate",
        ],
    }[lang]
    for label in labels:
        assert label in text, (label, columns)
    units = {"zh": "样本量 4,968", "en": "n=4,968"}[lang]  # no `n=` in Chinese text
    p95 = {"zh": "2分钟0.2秒", "en": "2 minutes 0.2 seconds"}[lang]  # one duration format
    for figure in ("35.2%", "39.0%", "+10.7%", units, "45.0%", "94.9%", p95):
        assert figure in text, (figure, columns)
    assert lang == "en" or "n=" not in text
    # Node lines use names; alert lines say the node and the measure in words.
    assert "个性化内容推送" in text and "push-content" not in text
    assert "completion_rate" not in text and "sla_compliance" not in text
    block_lines = [
        line
        for line in text.splitlines()
        if line.startswith("  ") and ("：" in line or ": " in line)
    ]
    if columns < 100:
        # a label is never cut: every block line is `label: value` with the whole label
        assert len(block_lines) >= len(labels), text
        for line in block_lines:
            head = re.split("：|: ", line.strip(), maxsplit=1)[0]
            assert head.strip() and not head.endswith("（"), line
    if columns < 100:
        assert "┃" not in text.split("•")[0], "a table that does not fit must become blocks"


def test_blocks_keep_every_label_whole_in_chinese() -> None:
    _code, text = compare(ONBOARDING, UNITS, "--by", "region", lang="zh", columns=60)
    assert "  目标值（达成度）：45.0%（40%）" in text
    assert "分群：region为上海" in text and "region=上海" not in text
    for line in text.splitlines():
        assert not line.rstrip().endswith(("（", "目标", "显著改")), line


def test_plain_sentences_and_method_section() -> None:
    _code, chinese = compare(ONBOARDING, UNITS, lang="zh")
    assert (
        "试点组次日留存率比对照组高 10.7%（真实变化很可能在 +3.8% 到 +17.7% 之间）；"
        "若流程改动毫无作用，出现这么大差异的概率不到 0.1%" in chinese
    )
    assert "出现这么大差异的概率约 2.4%" in chinese
    assert "把握" not in chinese
    before, method = chinese.split("计算方法")
    assert "p=" not in before and "区间" not in before and "Welch" not in before
    assert "p=" in method and "置信区间" in method and "Welch t 检验" in method
    _code, english = compare(ONBOARDING, UNITS, lang="en")
    assert (
        "次日留存率 in the pilot group is higher than in the control group by 10.7% (the true "
        "change is likely between +3.8% and +17.7%); if the change had no effect, a difference "
        "this large would appear in less than 0.1% of pilots" in english
    )
    assert "sure" not in english


# --- hostile text from playbooks and exports ------------------------------------------------

FORMULA = '=HYPERLINK("http://x","y")'


def hostile_export(tmp_path: Path) -> Path:
    frame = pd.read_csv(UNITS).replace(
        {"region": {"上海": "=1+1", "南京": "@SUM(A1)", "杭州": "+cmd", "苏州": "-2+3"}}
    )
    path = tmp_path / "hostile.csv"
    frame.to_csv(path, index=False)
    return path


def test_csv_neutralises_every_text_cell_and_keeps_numbers(tmp_path: Path) -> None:
    playbook = playbook_with(
        tmp_path, ("name: 次日留存率", "name: '" + FORMULA.replace("'", "''") + "'")
    )
    result = runner.invoke(
        app,
        [
            "pilot",
            "compare",
            str(playbook),
            str(hostile_export(tmp_path)),
            "--by",
            "region",
            "--format",
            "csv",
            "--lang",
            "en",  # machine headers (a Chinese CSV has Chinese ones: test_csv_in_chinese)
        ],
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout.lstrip("\ufeff"))))
    header, body = rows[0], rows[1:]
    text = {"metric", "name", "segment", "role", "kind", "verdict", "method", "correction"}
    assert any(FORMULA in cell for row in body for cell in row)
    for row in body:
        for name, cell in zip(header, row, strict=True):
            if name in text:
                assert not cell.startswith(("=", "+", "-", "@")), (name, cell)
            elif cell not in ("", "True", "False"):
                float(cell)  # numbers stay numbers, negative ones included
    assert "'" + FORMULA in [row[header.index("name")] for row in body]
    assert any(float(row[header.index("abs_diff")]) < 0 for row in body)


def test_markdown_escapes_html_in_every_cell_and_arm_label(tmp_path: Path) -> None:
    playbook = playbook_with(tmp_path, ("name: 次日留存率", "name: '<img src=x onerror=alert(1)>'"))
    frame = pd.read_csv(UNITS).replace(
        {
            "group": {"control": "<b>ctl</b>", "pilot": "<script>p</script>"},
            "region": {"上海": "<i>sh</i>"},
        }
    )
    data = tmp_path / "html.csv"
    frame.to_csv(data, index=False)
    for lang in ("en", "zh"):
        result = runner.invoke(
            app,
            [
                "pilot",
                "compare",
                str(playbook),
                str(data),
                "--by",
                "region",
                "--format",
                "markdown",
                "--baseline",
                "<b>ctl</b>",
                "--pilot",
                "<script>p</script>",
                "--lang",
                lang,
            ],
        )
        assert result.exit_code == 0, result.output
        out = result.stdout
        for raw in ("<img", "<script", "<b>", "<i>"):
            assert raw not in out, (raw, lang)
        assert "&lt;img src=x onerror=alert(1)&gt;" in out
        assert "&lt;b&gt;ctl&lt;/b&gt;" in out and "&lt;script&gt;p&lt;/script&gt;" in out
        assert "&lt;i&gt;sh&lt;/i&gt;" in out


@pytest.mark.parametrize("output_format", ["text", "markdown", "csv", "json"])
def test_control_characters_are_never_printed_raw(tmp_path: Path, output_format: str) -> None:
    payload = "\\e]0;pwned\\a\\e[2J"
    playbook = playbook_with(tmp_path, ("name: 次日留存率", f'name: "次日{payload}留存率"'))
    frame = pd.read_csv(UNITS).replace({"region": {"上海": "上\x1b[31m海"}})
    data = tmp_path / "esc.csv"
    frame.to_csv(data, index=False)
    result = runner.invoke(
        app,
        ["pilot", "compare", str(playbook), str(data), "--by", "region", "--format", output_format],
    )
    assert "Traceback" not in result.output
    assert "\x1b" not in result.output and "\x07" not in result.output
    if result.exit_code == 0 and output_format != "json":
        assert "\\x1b" in result.stdout


def test_overflowing_statistics_name_the_metric(tmp_path: Path) -> None:
    rows = list(csv.reader((EXAMPLES / "onboarding_stats.csv").open(encoding="utf-8")))
    for row in rows[1:]:
        if row[3] == "revenue" and row[0] == "pilot":
            row[5], row[6] = "1e308", "1e308"
    data = tmp_path / "stats.csv"
    with data.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    for lang, words in (("en", "too large"), ("zh", "太大")):
        code, out = compare(ONBOARDING, data, lang=lang)
        assert code == 2 and "`revenue`" in out and words in out and str(data) in out, out
        assert "OverflowError" not in out and "ZeroDivisionError" not in out


def test_many_segments_are_refused_with_a_coarser_column(tmp_path: Path) -> None:
    frame = pd.read_csv(UNITS)
    frame["city"] = [f"城市{i % 3000}" for i in range(len(frame))]
    data = tmp_path / "cities.csv"
    frame.to_csv(data, index=False)
    code, out = compare(ONBOARDING, data, "--by", "city", "--by", "region", lang="en")
    assert code == 2 and "--max-segments" in out and "`--by region` alone (4 segments)" in out
    code, out = compare(ONBOARDING, data, "--by", "city", lang="zh")
    assert code == 2 and "3,000 个分群" in out and "更粗的列" in out
    # Under the limit the same data is compared, segment by segment.
    result = runner.invoke(
        app,
        ["pilot", "compare", str(ONBOARDING), str(data), "--by", "city"]
        + ["--max-segments", "5000", "--format", "json", "--lang", "en"],
    )
    assert result.exit_code == 0
    # One warning per metric and reason, however many segments share it.
    warnings = json.loads(result.stdout)["warnings"]
    assert len(warnings) < 30
    assert any(  # (the metric named as the results table names it)
        re.match(r"`次日留存率` in [\d,]{5} segments \(city is 城市0, ", w) for w in warnings
    )


def test_many_segments_after_the_first_rows_are_refused_as_well(tmp_path: Path) -> None:
    """The first 50,000 rows hold 4 cities, the rest 3,000 more: the count before grouping
    looks at the first rows only, so compare's count of the segments refuses it, the same
    words and figure."""
    frame = pd.read_csv(UNITS)
    frame = pd.concat([frame] * 6, ignore_index=True)  # 60,000 rows
    frame["city"] = [f"城市{i % 4}" if i < 50_000 else f"城市{i % 3004}" for i in range(len(frame))]
    data = tmp_path / "cities_later.csv"
    frame.to_csv(data, index=False)
    code, out = compare(ONBOARDING, data, "--by", "city", lang="zh")
    assert code == 2 and "3,004 个分群" in out and "更粗的列" in out, out


def test_fail_on_speaks_the_message_language() -> None:
    args = ["pilot", "compare", str(ONBOARDING), str(UNITS), "--fail-on", "alert", "--events"]
    args.append(str(EXAMPLES / "onboarding_events.csv"))
    english = runner.invoke(app, args)
    assert english.exit_code == 1 and "alert fired (`tag-sla`" in english.stderr
    with language("zh"):
        chinese = runner.invoke(app, args)
    assert chinese.exit_code == 1 and "告警触发（`tag-sla`" in chinese.stderr
    assert english_words(chinese.stderr) == [], chinese.stderr


@pytest.mark.parametrize("command", ["compare", "plan", "sql"])
def test_pilot_help_is_chinese_under_a_chinese_locale(tmp_path: Path, command: str) -> None:
    import subprocess
    import sys

    env = {"PATH": "", "LANG": "zh_CN.UTF-8", "PYTHONPATH": str(ROOT), "COLUMNS": "200"}
    result = subprocess.run(
        [sys.executable, "-m", "opsplay", "pilot", command, "--help"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "示例：opsplay pilot " + command in result.stdout
    assert {"compare": "试点组与对照组", "plan": "样本量", "sql": "汇总统计数据"}[
        command
    ] in result.stdout


def test_a_segment_count_exactly_at_the_limit_is_compared() -> None:
    """`--max-segments N` allows N segments; a coarser column of exactly N is the hint."""
    code, out = compare(ONBOARDING, UNITS, "--by", "region", "--max-segments", "4")
    assert code == 0, out
    assert out.count("region is ") >= 4, out  # the four regions, each compared
    code, out = compare(ONBOARDING, UNITS, "--by", "region", "--max-segments", "3")
    assert code == 2 and "4 segments, more than 3" in out, out
    # region × channel is 16 segments; region alone is 4, exactly the limit
    code, out = compare(
        ONBOARDING, UNITS, "--by", "region", "--by", "channel", "--max-segments", "4"
    )
    assert code == 2 and "`--by region` alone (4 segments)" in out, out


def test_metric_alerts_at_0_and_1_read_as_rates(tmp_path: Path) -> None:
    """`漏检率 > 0` and `巡检按时完成率 < 1` (every inspection on time) are rates at the ends
    of [0, 1]: shown as 0.0% and 100.0%, like the value they are compared with."""
    playbook = playbook_with(
        tmp_path,
        (
            "  - {id: proactive-low,",
            '  - {id: any-miss, metric: miss_rate, op: ">", threshold: 0}\n'
            '  - {id: on-time-not-all, metric: inspection_on_time, op: "<", threshold: 1}\n'
            "  - {id: proactive-low,",
        ),
        source=ROOT / "playbooks" / "daily-inspection.yaml",
    )
    # four weeks before and after, 200 inspections each; after: 4 late and 2 missed
    rows = ["group,period,detected_proactively,completed_on_time,missed"]
    for period, late, missed in (("before", 30, 12), ("after", 4, 2)):
        for i in range(200):
            rows.append(f"all,{period},{int(i % 3 != 0)},{int(i >= late)},{int(i < missed)}")
    data = tmp_path / "inspections.csv"
    data.write_text("\n".join(rows) + "\n", encoding="utf-8")
    code, out = compare(playbook, data, lang="zh", columns=200)
    assert code == 0, out
    assert "漏检率 1.0% 高于 0.0%（告警 any-miss）" in out, out
    assert "巡检按时完成率 98.0% 低于 100.0%（告警 on-time-not-all）" in out, out


def test_mean_values_of_two_arms_read_alike_and_p_values_are_never_exponents() -> None:
    from opsplay.pilot.presentation.words import fmt_abs, fmt_p, fmt_value, p_is

    # 4.380 beside 4.566 used to read "4.38分 / 4.566分"; a change of 0.1861 "+0.1861分".
    assert (fmt_value(4.38037, "mean", "分"), fmt_value(4.56648, "mean", "分")) == (
        "4.38分",
        "4.57分",
    )
    assert fmt_abs(0.18611, "mean", "分") == "+0.186分"
    assert (
        fmt_value(12345.6, "mean", "元") == "12,346元" and fmt_value(0.012345, "mean") == "0.0123"
    )
    assert fmt_abs(-156.321, "mean", "元") == "-156.32元"
    assert (fmt_p(2.3e-9), p_is(2.3e-9), p_is(0.02541)) == ("<0.0001", "p<0.0001", "p=0.0254")


def test_heading_names_the_process_by_its_title(tmp_path: Path) -> None:
    version = yaml.safe_load(ONBOARDING.read_text(encoding="utf-8"))["metadata"]["version"]
    code, text = compare(ONBOARDING, UNITS, lang="zh")
    assert code == 0 and text.startswith(f"新用户引导优化（new-user-onboarding）{version} 版")
    code, text = compare(ONBOARDING, UNITS, lang="en")
    assert text.startswith(f"新用户引导优化 (new-user-onboarding), version {version}")
    assert "e-0" not in text  # p-values below 0.0001 read p<0.0001


def test_a_dashboard_mean_says_it_cannot_be_tested_not_that_data_is_short(tmp_path: Path) -> None:
    summary = tmp_path / "dashboard.csv"
    summary.write_text(
        "group,metric,value,n\ncontrol,次日留存率,35%,5000\npilot,次日留存率,38%,5000\n"
        "control,首单转化率,12%,5000\npilot,首单转化率,13%,5000\n"
        "control,核心功能使用率,42%,5000\npilot,核心功能使用率,45%,5000\n"
        "control,人均消费,41.2,5000\npilot,人均消费,44.9,5000\n",
        encoding="utf-8",
    )
    code, text = compare(ONBOARDING, summary, lang="zh", columns=200)
    assert code == 0
    assert "无法检验（看板数值）" in text and "看板汇总只有汇总数值，判断不了是不是偶然" in text
    assert "数据太少" not in text and "数据不足" not in text
    # Alerts that need the log are listed with 、, not with a sentence's comma.
    assert "`push-completion`、`tag-sla`、`push-fallback-high`" in text
    code, text = compare(ONBOARDING, summary, lang="en", columns=200)
    assert "cannot be tested (dashboard values)" in text and "`, `" in text


def test_fired_alerts_say_below_and_above_in_words() -> None:
    args = (ONBOARDING, UNITS, "--events", EXAMPLES / "onboarding_events.csv")
    code, text = compare(*args, lang="zh", columns=200)
    assert code == 0, text
    fired = text.split("触发的告警：")[1].split("计算方法")[0]
    # the example log fires one `<` alert and one `>` alert: each says its direction
    assert "时限达标率 92.3% 低于 95.0%（告警 tag-sla）" in fired, fired
    assert "耗时P95 2分钟0.2秒 高于 2分钟（告警 push-slow）" in fired, fired
    assert not any(f"% {op} " in fired or f"s {op} " in fired for op in ("<", ">"))
    code, english = compare(*args, lang="en", columns=200)
    assert code == 0, english
    assert "on-time rate 92.3% below 95.0% (alert tag-sla)" in english
    assert "duration 2 minutes 0.2 seconds above 2 minutes (alert push-slow)" in english


def test_a_mean_metric_alert_is_not_shown_as_a_percentage(tmp_path: Path) -> None:
    """人均消费 above 0.5 元 is an amount, not 50%: the metric's kind decides, not the number."""
    playbook = playbook_with(
        tmp_path,
        (
            "alerts:\n",
            'alerts:\n  - {id: revenue-floor, metric: revenue, op: ">", threshold: 0.5}\n',
        ),
    )
    code, out = compare(playbook, UNITS, lang="zh", columns=200)
    assert code == 0, out
    line = next(line for line in out.splitlines() if "revenue-floor" in line)
    assert "50.0%" not in line and "0.5" in line, line


@pytest.mark.parametrize(
    "command", [["pilot", "compare"], ["render-report"], ["watch"], ["pilot", "sql"]]
)
def test_chinese_help_wraps_at_80_columns_instead_of_cutting(
    tmp_path: Path, command: list[str]
) -> None:
    """A Chinese sentence has no spaces to break at: rich used to cut it with `…`."""
    import subprocess
    import sys

    env = {"PATH": "", "LANG": "zh_CN.UTF-8", "PYTHONPATH": str(ROOT), "COLUMNS": "80"}
    result = subprocess.run(
        [sys.executable, "-m", "opsplay", *command, "--help"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    cut = [line for line in result.stdout.splitlines() if re.search(r"…\s*│$", line)]
    assert not cut, "\n".join(cut)
    if command == ["pilot", "compare"]:  # brackets are text, not rich markup
        assert "opsplay[warehouse]" in re.sub(r"\s*│\s*", "", result.stdout)


def test_csv_in_chinese_has_chinese_headers_and_words_and_english_with_lang_en() -> None:
    args = ["pilot", "compare", str(ONBOARDING), str(UNITS), "--format", "csv"]
    chinese = runner.invoke(app, args)
    assert chinese.exit_code == 0, chinese.output
    rows = list(csv.reader(io.StringIO(chinese.stdout.lstrip("\ufeff"))))
    assert rows[0][:5] == ["指标ID", "指标", "分群", "类型", "指标类型"]
    assert {row[3] for row in rows[1:]} <= {"主要指标", "护栏指标", "观察指标"}
    assert all(row[rows[0].index("显著")] in ("是", "否", "") for row in rows[1:])
    english = runner.invoke(app, [*args, "--lang", "en"])
    assert english.exit_code == 0, english.output
    assert english.stdout.lstrip("\ufeff").startswith("metric,name,segment,role,kind,")
    assert ",primary,proportion," in english.stdout


def test_a_p_value_near_one_reads_naturally_and_says_when_it_is_corrected(
    tmp_path: Path,
) -> None:
    """ "概率约 100%" reads as a certainty; and a sentence built on the Holm-adjusted p (the
    method line shows the raw one) says it is corrected for several metrics (issue 18)."""
    args = ["pilot", "compare", str(ONBOARDING), str(UNITS), "--sequential", "--lang"]
    zh = runner.invoke(app, [*args, "zh"]).stdout
    sentences = {line.split("比对照组")[0]: line for line in zh.splitlines() if line[:1] == "•"}
    assert "约 100%" not in zh and "约 99" not in zh, zh
    spend = sentences["• 试点组人均消费"]  # raw p=0.69, Holm-adjusted 1.0
    assert "几乎每次试点都会出现这么大的差异（已按同时比较多个指标校正）" in spend, spend
    order = sentences["• 试点组客单价"]  # raw p=1.0, no correction shown
    assert "几乎每次试点都会出现这么大的差异" in order and "校正" not in order, order
    assert "约 38%" in sentences["• 试点组首单转化率"]  # other p-values as before
    en = runner.invoke(app, [*args, "en"]).stdout
    assert "would appear in nearly every pilot (after correcting for comparing several" in en
    out = tmp_path / "report.md"
    result = runner.invoke(
        app,
        ["render-report", str(ONBOARDING), str(UNITS), "-o", str(out), "--lang", "zh"],
    )
    assert result.exit_code == 0, result.output
    report = out.read_text(encoding="utf-8")
    assert "约 100%" not in report, report
    assert "该概率已按同时比较多个指标校正" in report
    from opsplay.render.plain import explain

    row = {"metric": "aov", "metric_name": "客单价", "abs_diff": -0.1, "rel_diff": -0.002}
    row.update(verdict="no_change", kind="mean", p_value=0.6859, p_adjusted=1.0)
    said = explain(row, design="ab", confidence=0.95, lang="zh")
    assert "几乎每次试点都会出现这么大的差异" in said and "已按同时比较多个指标校正" in said, said
    assert "100%" not in said
