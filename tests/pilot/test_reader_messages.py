"""Every reader error and warning through `opsplay pilot compare`, in English and in Chinese.

Issue 8: each message comes from the one catalogue. The Chinese text must hold Chinese and
no run of three English words (ids, values and names in backticks or quotes, option names
and file paths aside); the English text must be English.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from opsplay.cli import app
from opsplay.i18n import language

ROOT = Path(__file__).resolve().parents[2]
ONBOARDING = ROOT / "playbooks" / "new-user-onboarding.yaml"
EXAMPLES = ROOT / "examples"
UNITS = EXAMPLES / "onboarding_units.csv"
STATS = EXAMPLES / "onboarding_stats.csv"
runner = CliRunner()

_CJK = re.compile(r"[\u4e00-\u9fff]")
# What may stay Latin in Chinese: backticks, quotes, option names, paths, encodings, numbers.
_QUOTED = re.compile(
    r"`[^`]*`|\"[^\"]*\"|“[^”]*”|--[a-z][a-z-]*|\S*/\S*|\S+\.(?:csv|xlsx|xls|parquet)\b"
    r"|SUM\(y\*y\)|CSV UTF-8|UTF-8|GBK/GB18030|Parquet|Excel|CSV|PDF|gzip|opsplay: error:"
)


def english_run(text: str) -> str | None:
    """The first run of three English words left once quoted text and paths are taken out."""
    found = re.search(r"[A-Za-z]{2,}(?:[\s,;:]+[A-Za-z]{2,}){2}", _QUOTED.sub(" ", text))
    return found.group(0) if found else None


def compare(args: list[str | Path], lang: str) -> tuple[int, str]:
    with language(lang):  # the message language of the run
        result = runner.invoke(app, ["pilot", "compare", *map(str, args), "--lang", lang])
    assert "Traceback" not in result.output, result.output
    return result.exit_code, result.stdout + result.stderr


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _stats(tmp_path: Path, name: str, change) -> Path:  # noqa: ANN001 - a frame -> frame
    frame = pd.read_csv(STATS, dtype=str, keep_default_na=False)
    path = tmp_path / name
    change(frame).to_csv(path, index=False)
    return path


def _scenarios(tmp_path: Path) -> dict[str, tuple[list[str | Path], int, str, str]]:
    """name -> (arguments after the playbook, exit code, English words, Chinese words)."""
    units = pd.read_csv(UNITS)
    wrong_arm = tmp_path / "arms.csv"
    units.replace({"group": {"pilot": "treatment"}}).to_csv(wrong_arm, index=False)
    holdout = tmp_path / "holdout.csv"
    extra = units.head(3).assign(group="holdout")
    pd.concat([units, extra]).to_csv(holdout, index=False)
    wide = _write(  # a dashboard's summary, a column per metric (a try-out's BI export)
        tmp_path / "wide.csv",
        "分组,次日留存率,首单转化率,样本量\n对照,0.35,0.20,1200\n试点,0.41,0.22,1180\n",
    )
    no_column = tmp_path / "no_column.csv"
    units.drop(columns=["ordered"]).to_csv(no_column, index=False)
    guard_typo = tmp_path / "guard_typo.csv"  # `orders` (aov's denominator) exported as `order`
    units.rename(columns={"orders": "order"}).to_csv(guard_typo, index=False)

    def blank_arm(frame: pd.DataFrame) -> pd.DataFrame:
        frame.loc[3, "arm"] = ""
        return frame

    def bad_n(frame: pd.DataFrame) -> pd.DataFrame:
        frame.loc[3, "n"] = "abc"
        return frame

    blank = _stats(tmp_path, "blank_arm.csv", blank_arm)
    unreadable = _stats(tmp_path, "bad_n.csv", bad_n)
    no_primary = _stats(tmp_path, "no_primary.csv", lambda f: f[f.metric != "d1_retention"])
    no_guard = _stats(tmp_path, "no_guard.csv", lambda f: f[f.metric != "revenue"])
    no_ratio = _stats(tmp_path, "no_ratio.csv", lambda f: f.drop(columns=["sum_den"]))
    header = ",".join(pd.read_csv(STATS, nrows=0).columns)
    return {
        "missing file": ([tmp_path / "nope.csv"], 2, "no such file", "找不到这个文件"),
        "folder": ([tmp_path], 2, "is a folder", "文件夹"),
        "empty file": ([_write(tmp_path / "empty.csv", "")], 2, "is empty", "文件是空的"),
        "header only": (
            [_write(tmp_path / "header.csv", header + "\n")],
            2,
            "no data rows",
            "没有数据",
        ),
        "blank first line": (
            [_write(tmp_path / "blank.csv", "\n" + header + "\n")],
            2,
            "first line is blank",
            "第一行是空的",
        ),
        "pdf": (
            [_write(tmp_path / "report.csv", "%PDF-1.4 binary")],
            2,
            "PDF document",
            "PDF 文档",
        ),
        "missing column": ([no_column], 2, 'missing column "ordered"', "缺少列“ordered”"),
        "a column per metric": ([wide], 2, "has a column per metric", "每个指标占一列"),
        "ratio missing a column": ([no_ratio], 2, "sum_den", "比率指标"),
        "blank arm": ([blank], 2, "every row needs a value", "都要填值"),
        "blank arm skipped": (
            [blank, "--skip-bad-rows"],
            0,
            "skipped 1 bad row",
            "跳过了 1 行",
        ),
        "unreadable cell": ([unreadable], 2, "--skip-bad-rows", "不是数字"),
        "unreadable cell skipped": (
            [unreadable, "--skip-bad-rows"],
            0,
            "skipped 1 bad row",
            "跳过了 1 行",
        ),
        "metric not in metric column": (
            [no_primary],
            2,
            "metric `d1_retention` is not in the `metric` column",
            "没有指标 `d1_retention`",
        ),
        "missing metrics warning": ([no_guard], 0, "they are not compared", "不做对比"),
        "mixed shapes": ([UNITS, STATS], 2, "different shapes", "格式不一样"),
        "unknown arm value": ([wrong_arm], 2, "arm `pilot` not in column", "没有组别 `pilot`"),
        "other arm values": (
            [holdout],
            0,
            "`holdout` (3 rows); those rows are left out",
            "`holdout`（3 行）；这些行未计入",
        ),
        "guardrail column missing": (
            [guard_typo],
            0,
            'no column `orders` for metric `客单价` (did you mean "order"?)',
            "没有指标 `客单价` 的列 `orders`（是不是“order”？）",
        ),
        "unknown encoding": (
            [UNITS, "--encoding", "klingon"],
            2,
            "unknown encoding",
            "不认识的编码",
        ),
    }


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return _scenarios(tmp_path_factory.mktemp("reader-messages"))


@pytest.mark.parametrize(
    "name",
    [
        "missing file",
        "folder",
        "empty file",
        "header only",
        "blank first line",
        "pdf",
        "missing column",
        "a column per metric",
        "ratio missing a column",
        "blank arm",
        "blank arm skipped",
        "unreadable cell",
        "unreadable cell skipped",
        "metric not in metric column",
        "missing metrics warning",
        "mixed shapes",
        "unknown arm value",
        "other arm values",
        "unknown encoding",
        "guardrail column missing",
    ],
)
def test_reader_message_in_both_languages(scenarios: dict, name: str) -> None:
    args, code, english, chinese = scenarios[name]
    exit_en, out_en = compare([ONBOARDING, *args], "en")
    exit_zh, out_zh = compare([ONBOARDING, *args], "zh")
    assert (exit_en, exit_zh) == (code, code), (out_en, out_zh)
    # The reader's line (a report or the other warnings of a run are not this test's).
    err_en = next((line for line in out_en.splitlines() if english in line), out_en)
    err_zh = next((line for line in out_zh.splitlines() if chinese in line), out_zh)
    assert english in err_en, out_en
    assert chinese in err_zh, out_zh
    assert not _CJK.search(_QUOTED.sub(" ", err_en)), err_en  # data values aside, all English
    assert english_run(err_en), err_en
    assert _CJK.search(err_zh), err_zh
    assert english_run(err_zh) is None, (english_run(err_zh), err_zh)


def test_pilot_sql_comments_in_both_languages() -> None:
    for lang, words in (
        ("en", "one row per arm, segment, metric"),
        ("zh", "每个组别、分群、指标一行"),
    ):
        with language(lang):
            result = runner.invoke(
                app,
                ["--lang", lang, "pilot", "sql", str(ONBOARDING), "--table", "t", "--by", "region"],
            )
        assert result.exit_code == 0, result.output
        comments = "\n".join(line for line in result.stdout.splitlines() if line.startswith("--"))
        assert words in comments, comments
        if lang == "zh":
            assert english_run(comments) is None, (english_run(comments), comments)


def test_warnings_speak_the_results_language_and_errors_the_message_language(
    tmp_path: Path,
) -> None:
    """A Chinese playbook run from an English shell (cron, CI): the JSON's warnings are all
    Chinese, as its other texts; the error on stderr stays in the shell's language."""
    rows = pd.read_csv(UNITS, dtype=str, keep_default_na=False).head(400)
    rows.loc[3, "revenue"] = "待补"  # unreadable
    rows.loc[5, "retained_d1"] = ""  # missing
    rows.loc[7, "group"] = "NA"  # no arm
    rows.loc[9, "group"] = "灰度"  # an arm value the playbook does not name
    data = tmp_path / "units.csv"
    rows.to_csv(data, index=False)
    with language("en"):  # the message language; no --lang: the playbook's zh for the results
        result = runner.invoke(
            app, ["pilot", "compare", str(ONBOARDING), str(data), "--skip-bad-rows", "-f", "json"]
        )
        failed = runner.invoke(app, ["pilot", "compare", str(ONBOARDING), str(data)])
    assert result.exit_code in (0, 1), result.output
    warnings = json.loads(result.stdout)["warnings"]
    assert len(warnings) >= 4, warnings
    for warning in warnings:
        assert _CJK.search(warning) and english_run(warning) is None, warning
    assert failed.exit_code == 2 and '"待补"' in failed.stderr
    assert english_run(failed.stderr) and not _CJK.search(_QUOTED.sub(" ", failed.stderr))


def test_a_statistics_export_of_the_primaries_alone(tmp_path: Path) -> None:
    """Sufficient statistics without the ratio sums and without rows of the ratio guardrail
    (客单价) are compared, the guardrail warned about (a try-out was refused: missing column
    "sum_den" … did you mean "sum_sq"?); rows of it without those sums are refused, by row."""
    frame = pd.read_csv(STATS, dtype=str, keep_default_na=False)
    primaries = frame[frame["metric"] != "aov"].drop(columns=["sum_den", "sum_den_sq", "sum_prod"])
    alone = tmp_path / "primaries.csv"
    primaries.to_csv(alone, index=False)
    code, out = compare([ONBOARDING, alone], "zh")
    assert code == 0, out
    assert "指标 `客单价` 没有数据" in out and "sum_den" not in out, out
    with_rows = tmp_path / "with_rows.csv"
    frame.drop(columns=["sum_den", "sum_den_sq", "sum_prod"]).to_csv(with_rows, index=False)
    for lang, words in (
        ("en", "with_rows.csv, line 6: metric `aov` is a ratio, and this export has no sum_den"),
        ("zh", "with_rows.csv，第 6 行：指标 `aov` 是比率指标"),
    ):
        code, out = compare([ONBOARDING, with_rows], lang)
        assert code == 2 and words in out, out
