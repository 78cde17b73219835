"""Entry errors in the exports a Chinese ops lead writes by hand (try-out 22), in both languages.

A group written twice in a statistics export, a negative or spelled-out count, statistics
columns given Chinese names, a negative denominator of a ratio, the words of those messages,
and segments in pinyin order. The data is a member-recall pilot as the team exports it:
Chinese headers and values, 是/否 cells, blank cells, one file in GBK.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from opsplay.cli import app
from opsplay.i18n import language

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]

PLAYBOOK = """\
apiVersion: opsplay/v1
kind: Playbook
metadata: {id: member-recall, title: 沉睡会员召回, version: "1.0.0", status: 试点, owner: 运营负责人, updated: 2026-11-20}
goal: {statement: 将沉睡会员30天复购率从20%提升至24%, metric: 复购率, baseline: 20%, target: 24%, deadline: 2026-12-31}
roles:
  - {id: 运营负责人, name: 用户增长运营负责人}
  - {id: 运营专员, name: 会员运营专员}
metrics:
  - {id: 复购率, name: 30天复购率, kind: 比例, column: 是否复购, better: 越高越好}
  - {id: 客单价, name: 客单价, kind: 均值, column: 客单价, better: 越高越好, unit: 元}
  - {id: 单均金额, name: 每单金额, kind: 比率, numerator: 下单金额, denominator: 订单数, better: 越高越好, unit: 元}
scenarios:
  - {id: 沉睡召回, name: 沉睡会员召回, persona: 90天未下单的老会员, trigger: 连续90天无订单, demand: 获得有吸引力的回归理由, expected: [{metric: 复购率, op: ">=", value: 24%}]}
nodes:
  - {id: 圈选人群, name: 圈选沉睡会员, owner: 运营专员, sla: 1个工作日}
  - {id: 发券触达, name: 短信加优惠券触达, owner: 运营专员, sla: 2小时, fallback: {when: [失败], action: 改用APP推送}}
  - {id: 复盘, name: 周复盘, owner: 运营负责人, sla: 3个工作日, next: []}
pilot:
  design: A/B测试
  arm_column: 组别
  arms: {baseline: 对照组, pilot: 试点组}
  metrics: [复购率]
  guardrails: [客单价, 单均金额]
"""
CITIES = ["上海", "北京", "广州", "成都", "杭州", "深圳", "武汉", "西安"]  # Unicode order
PINYIN = ["北京", "成都", "广州", "杭州", "上海", "深圳", "武汉", "西安"]
STATS_HEADER = "组别,metric,n,sum,sum_sq,sum_den,sum_den_sq,sum_prod"


def run(args: list[str | Path], lang: str) -> tuple[int, str, str]:
    """`opsplay pilot compare …` in `lang` (messages and results): exit code, stdout, stderr."""
    with language(lang):
        result = runner.invoke(app, ["pilot", "compare", *map(str, args), "--lang", lang])
    assert "Traceback" not in result.output, result.output
    return result.exit_code, result.stdout, result.stderr


def units_frame(n: int = 3000, seed: int = 22, pilot_share: float = 0.5) -> pd.DataFrame:
    """Unit rows of the recall pilot: 是/否, blank 客单价 cells for members who did not buy."""
    rng = np.random.default_rng(seed)
    pilot = rng.random(n) < pilot_share
    bought = rng.random(n) < np.where(pilot, 0.24, 0.20)
    orders = np.where(bought, rng.poisson(1.5, n) + 1, 0)
    price = np.round(rng.gamma(4, np.where(pilot, 40, 38)), 2)
    return pd.DataFrame(
        {
            "用户ID": [f"U{i:06d}" for i in range(n)],
            "城市": rng.choice(CITIES, n),
            "组别": np.where(pilot, "试点组", "对照组"),
            "是否复购": np.where(bought, "是", "否"),
            "客单价": np.where(bought, price.astype(str), ""),
            "下单金额": np.round(orders * price, 2),
            "订单数": orders,
        }
    )


def stats_rows(units: pd.DataFrame, by: list[str] | None = None) -> pd.DataFrame:
    """The sufficient statistics of `units`, computed with pandas (not opsplay's query)."""
    rows = []
    for keys, part in units.groupby(["组别", *(by or [])]):
        keys = keys if isinstance(keys, tuple) else (keys,)
        head = dict(zip(["组别", *(by or [])], keys, strict=True))
        y = (part["是否复购"] == "是").astype(float)
        rows.append({**head, "metric": "复购率", "n": len(y), "sum": y.sum(), "sum_sq": y.sum()})
        price = pd.to_numeric(part["客单价"], errors="coerce").dropna()
        rows.append(
            {
                **head,
                "metric": "客单价",
                "n": len(price),
                "sum": price.sum(),
                "sum_sq": (price**2).sum(),
            }  # fmt: skip
        )
        num, den = part["下单金额"].astype(float), part["订单数"].astype(float)
        rows.append(
            {
                **head,
                "metric": "单均金额",
                "n": len(part),
                "sum": num.sum(),
                "sum_sq": (num**2).sum(),
                "sum_den": den.sum(),
                "sum_den_sq": (den**2).sum(),
                "sum_prod": (num * den).sum(),
            }  # fmt: skip
        )
    return pd.DataFrame(rows)


@pytest.fixture
def playbook(tmp_path: Path) -> Path:
    path = tmp_path / "member-recall.yaml"
    path.write_text(PLAYBOOK, encoding="utf-8")
    return path


def _n(stdout: str, metric: str) -> dict[str, int]:
    found = next(
        m for m in json.loads(stdout)["metrics"] if m["metric"] == metric and not m["segment"]
    )
    return {"baseline": found["baseline"]["n"], "pilot": found["pilot"]["n"]}


# ------------------------------------------------------------------ 1. a group written twice


def test_a_statistics_row_written_twice_is_refused_naming_both_lines(
    tmp_path: Path, playbook: Path
) -> None:
    units = units_frame()
    stats = stats_rows(units)
    twice = pd.concat([stats, stats.iloc[[2]]], ignore_index=True)  # 对照组,单均金额 again
    path = tmp_path / "统计.csv"
    twice.to_csv(path, index=False)
    code_en, _out, err_en = run([playbook, path], "en")
    code_zh, _out, err_zh = run([playbook, path], "zh")
    assert (code_en, code_zh) == (2, 2)
    last = len(twice) + 1  # the header is line 1
    assert f"line {last}: a second row for metric `单均金额` in arm `对照组`" in err_en, err_en
    assert "(the first is at " in err_en and "line 4)" in err_en, err_en
    assert f"第 {last} 行：组别 `对照组` 的指标 `单均金额` 出现了第二行" in err_zh, err_zh
    assert "第 4 行" in err_zh and "算两遍" in err_zh, err_zh
    # skipping it leaves the group counted once: n as pandas counts the control arm
    code, out, _err = run([playbook, path, "--skip-bad-rows", "-f", "json"], "zh")
    assert code == 0
    control = int((units["组别"] == "对照组").sum())
    assert _n(out, "单均金额")["baseline"] == control
    assert any("跳过了 1 行" in w for w in json.loads(out)["warnings"])


def test_rows_of_a_column_not_compared_add_up_and_a_repeated_segment_is_refused(
    tmp_path: Path, playbook: Path
) -> None:
    """Per-city rows without --by are partial sums of their arm (the total n is right); the
    same city written twice is a repeat, refused with --by and without."""
    units = units_frame()
    by_city = stats_rows(units, ["城市"])
    path = tmp_path / "按城市.csv"
    by_city.to_csv(path, index=False, encoding="gbk")
    code, out, _err = run([playbook, path, "-f", "json"], "zh")
    assert code == 0, _err
    counts = units["组别"].value_counts()
    assert _n(out, "复购率") == {"baseline": counts["对照组"], "pilot": counts["试点组"]}
    repeated = pd.concat([by_city, by_city.iloc[[5]]], ignore_index=True)
    repeated.to_csv(path, index=False, encoding="gbk")
    row = by_city.iloc[5]
    for extra in ([], ["--by", "城市"]):
        code_en, _o, err_en = run([playbook, path, *extra], "en")
        code_zh, _o, err_zh = run([playbook, path, *extra], "zh")
        assert (code_en, code_zh) == (2, 2), (err_en, err_zh)
        assert f"a second row for metric `{row['metric']}` in arm `{row['组别']}`" in err_en
        assert "line 7)" in err_en and f"line {len(repeated) + 1}:" in err_en, err_en
        assert "出现了第二行（第一行在" in err_zh and "第 7 行" in err_zh, err_zh
        if extra:
            assert f", 城市 `{row['城市']}`" in err_en and f"，城市 `{row['城市']}`" in err_zh


def test_a_group_in_two_files_adds_up_with_a_warning(tmp_path: Path, playbook: Path) -> None:
    """A query run per partition (two halves of the members): the groups add up to the
    whole, and the warning says so, naming both files."""
    units = units_frame()
    first, second = tmp_path / "分区1.csv", tmp_path / "分区2.csv"
    stats_rows(units.iloc[:1400]).to_csv(first, index=False)
    stats_rows(units.iloc[1400:]).to_csv(second, index=False)
    whole = tmp_path / "全部.csv"
    stats_rows(units).to_csv(whole, index=False)
    for lang, words in (("en", "are in more than one file"), ("zh", "同时出现在多个文件中")):
        code, out, _err = run([playbook, first, second, "-f", "json"], lang)
        assert code == 0, _err
        warning = next(w for w in json.loads(out)["warnings"] if words in w)
        assert "分区1.csv" in warning and "分区2.csv" in warning, warning
        _c, alone, _e = run([playbook, whole, "-f", "json"], lang)
        for name in ("复购率", "客单价", "单均金额"):
            assert _n(out, name) == _n(alone, name)


def test_a_summary_row_written_twice_stays_refused(tmp_path: Path, playbook: Path) -> None:
    path = tmp_path / "看板.csv"
    path.write_text(
        "组别,指标,数值,样本量\n对照组,复购率,20.0%,19813\n试点组,复购率,22.7%,20187\n"
        "对照组,复购率,20.0%,19813\n",
        encoding="utf-8",
    )
    _c, _o, err = run([playbook, path], "zh")
    assert "第 4 行" in err and "第 2 行" in err, err


# ------------------------------------------------------------------ 2. counts


@pytest.mark.parametrize("shape", ["stats", "summary"])
def test_a_negative_count_is_said_to_be_negative(
    tmp_path: Path, playbook: Path, shape: str
) -> None:
    if shape == "stats":
        frame = stats_rows(units_frame())
        frame["n"] = frame["n"].astype(str)
        frame.loc[0, "n"] = "-" + frame.loc[0, "n"]
        column = "n"
    else:
        frame = pd.DataFrame(
            {
                "组别": ["对照组", "试点组"],
                "指标": ["复购率"] * 2,
                "数值": ["20.0%", "22.7%"],
                "样本量": ["-19813", "20187"],
            }  # fmt: skip
        )
        column = "样本量"
    path = tmp_path / f"{shape}.csv"
    frame.to_csv(path, index=False)
    _c, _o, err_en = run([playbook, path], "en")
    _c, _o, err_zh = run([playbook, path], "zh")
    assert f'line 2, column "{column}": "-' in err_en and "is negative; a number of units" in err_en
    assert f"第 2 行，“{column}”列：“-" in err_zh and "是负数；记录条数不能小于 0" in err_zh, err_zh
    assert "not a whole number" not in err_en and "不是整数" not in err_zh


def test_a_count_in_words_is_told_to_write_a_whole_number(tmp_path: Path, playbook: Path) -> None:
    path = tmp_path / "看板.csv"
    path.write_text(
        "组别,指标,数值,样本量\n对照组,复购率,20.0%,19813\n试点组,复购率,22.7%,两万\n",
        encoding="utf-8",
    )
    _c, _o, err_en = run([playbook, path], "en")
    _c, _o, err_zh = run([playbook, path], "zh")
    assert '"两万" is not a number; write a whole number of units such as 20000' in err_en
    assert "“两万” 不是数字" in err_zh and "例如 20000" in err_zh, err_zh
    assert "12.5" not in err_en + err_zh


# ------------------------------------------------------------------ 3. Chinese statistics headers


def test_statistics_with_chinese_column_names_are_told_the_shape_columns(
    tmp_path: Path, playbook: Path
) -> None:
    frame = stats_rows(units_frame()).rename(
        columns={
            "metric": "指标",
            "n": "样本量",
            "sum": "合计",
            "sum_sq": "平方和",
            "sum_den": "分母合计",
            "sum_den_sq": "分母平方和",
            "sum_prod": "乘积和",
        }  # fmt: skip
    )
    path = tmp_path / "统计.csv"
    frame.to_csv(path, index=False, encoding="gbk")
    code_en, _o, err_en = run([playbook, path], "en")
    code_zh, _o, err_zh = run([playbook, path], "zh")
    assert (code_en, code_zh) == (2, 2)
    assert "looks like a sufficient-statistics export" in err_en, err_en
    assert "`metric`, `n`, `sum`, `sum_sq`" in err_en and "`sum_den`" in err_en
    assert "看起来是汇总统计数据" in err_zh and "`metric`、`n`、`sum`、`sum_sq`" in err_zh, err_zh
    assert "是否复购" not in err_en + err_zh  # not told of a unit-row column
    # renamed as told (指标 and 样本量 kept), the same file reads
    frame.rename(
        columns={
            "合计": "sum",
            "平方和": "sum_sq",
            "分母合计": "sum_den",
            "分母平方和": "sum_den_sq",
            "乘积和": "sum_prod",
        }  # fmt: skip
    ).to_csv(path, index=False, encoding="gbk")
    assert run([playbook, path], "zh")[0] == 0


def test_unit_rows_with_a_total_column_are_still_unit_rows(tmp_path: Path, playbook: Path) -> None:
    """Only a file lacking the metric columns is told about the statistics shape."""
    units = units_frame().assign(指标="复购", 样本量=1, 合计=0)
    path = tmp_path / "明细.csv"
    units.to_csv(path, index=False)
    assert run([playbook, path], "zh")[0] == 0


# ------------------------------------------------------------------ 4. negative denominators


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gbk"])
def test_a_negative_denominator_is_warned_about_with_its_line(
    tmp_path: Path, playbook: Path, encoding: str
) -> None:
    units = units_frame()
    units["订单数"] = units["订单数"].astype(str)
    units.loc[20, "订单数"] = "-2"  # line 22
    units.loc[40, "下单金额"] = -35.5  # a refund: a negative numerator is no error
    path = tmp_path / "明细.csv"
    units.to_csv(path, index=False, encoding=encoding)
    code, out, _e = run([playbook, path, "-f", "json"], "en")
    assert code == 0
    warnings = [w for w in json.loads(out)["warnings"] if "denominator" in w]
    assert warnings == [
        f'{path}, line 22, column "订单数": "-2" is below 0, the denominator of ratio metric '
        "`单均金额` cannot be negative; it was counted as written: correct it in the export"
    ]
    code, out, _e = run([playbook, path, "-f", "json"], "zh")
    found = json.loads(out)
    assert [w for w in found["warnings"] if "分母" in w] == [
        f"{path}，第 22 行，“订单数”列：“-2” 小于 0，比率指标 `单均金额` 的分母不能是负数"
        "（共 1 个这样的格子）；已按原值计入，请在导出数据中改正"
    ]
    # counted as written: the ratio is pandas' Σ金额 / Σ订单数 with the -2
    arm = units[units["组别"] == units.loc[20, "组别"]]
    expected = arm["下单金额"].astype(float).sum() / arm["订单数"].astype(float).sum()
    result = next(m for m in found["metrics"] if m["metric"] == "单均金额" and not m["segment"])
    side = "baseline" if units.loc[20, "组别"] == "对照组" else "pilot"
    assert result[side]["value"] == pytest.approx(expected, rel=1e-12)


def test_no_warning_without_negative_denominators(tmp_path: Path, playbook: Path) -> None:
    units = units_frame()
    units["订单数"] = units["订单数"].astype(str)
    units.loc[3, "订单数"] = "-"  # a missing cell, not a negative number
    path = tmp_path / "明细.csv"
    units.to_csv(path, index=False)
    code, out, _e = run([playbook, path, "-f", "json"], "en")
    assert code == 0
    assert not [w for w in json.loads(out)["warnings"] if "denominator" in w]


# ------------------------------------------------------------------ 5. words in Chinese mode


def test_one_phrasing_for_a_column_and_a_number(tmp_path: Path, playbook: Path) -> None:
    stats = stats_rows(units_frame()).astype(str)
    stats.loc[1, "sum"] = "缺货"
    stats_path = tmp_path / "统计.csv"
    stats.to_csv(stats_path, index=False)
    units = units_frame()
    units.loc[100, "客单价"] = "缺货"
    units_path = tmp_path / "明细.csv"
    units.to_csv(units_path, index=False)
    _c, _o, stats_err = run([playbook, stats_path], "zh")
    _c, _o, units_err = run([playbook, units_path], "zh")
    assert "第 3 行，“sum”列：“缺货” 不是数字；请填普通数字，例如 12.5" in stats_err, stats_err
    assert "第 102 行，“客单价”列：“缺货” 不是数字；请填普通数字，例如 12.5" in units_err
    assert "纯数字" not in stats_err + units_err and "列“" not in stats_err


def test_the_catalogue_says_playbook_one_way() -> None:
    po = (ROOT / "opsplay/locale/zh_CN/LC_MESSAGES/opsplay.po").read_text(encoding="utf-8")
    translations = [line for line in po.splitlines() if line.startswith("msgstr")]
    assert not [line for line in translations if "剧本" in line]
    assert any("流程文件" in line for line in translations)


def test_the_sample_ratio_warning_prints_p_as_everywhere(tmp_path: Path, playbook: Path) -> None:
    """60/40 instead of the planned 50/50 over 3,000 members: p ≈ 1e-27, shown p<0.0001."""
    units = units_frame(pilot_share=0.4)
    path = tmp_path / "明细.csv"
    units.to_csv(path, index=False)
    for lang, words in (("en", "do not match the planned split"), ("zh", "计划的分流比例不符")):
        _c, out, _e = run([playbook, path, "-f", "json"], lang)
        warning = next(w for w in json.loads(out)["warnings"] if words in w)
        assert "p<0.0001" in warning and "p=0" not in warning, warning


def test_the_sample_ratio_counts_each_groups_rows_not_a_metrics_answers(
    tmp_path: Path, playbook: Path
) -> None:
    """1,500 members a group planned, 1,950 in the pilot — 450 of them with 是否复购 blank.
    The check compares the rows (scipy: p ≈ 1e-11), not the answered 复购率 cells (1,500 vs
    1,500: p = 1, a silent pass before)."""
    from scipy.stats import chisquare

    units = units_frame(n=3000, pilot_share=0.5)
    extra = units[units["组别"] == "试点组"].head(450).assign(是否复购="")
    units = pd.concat([units, extra], ignore_index=True)
    path = tmp_path / "明细.csv"
    units.to_csv(path, index=False, encoding="gbk")
    _c, out, _e = run([playbook, path, "-f", "json"], "zh")
    document = json.loads(out)
    sizes = units["组别"].value_counts()
    expected = chisquare([sizes["对照组"], sizes["试点组"]]).pvalue
    assert document["srm"]["p_value"] == pytest.approx(expected, rel=1e-6) and expected < 1e-6
    assert document["srm"]["ok"] is False
    warning = next(w for w in document["warnings"] if "计划的分流比例不符" in w)
    assert f"试点组 {sizes['试点组']:,}" in warning, warning
    assert "计划试点组占比 50%" in warning, warning  # a share as people write it, not 0.5


def test_a_blank_arm_is_named_with_a_space_after_the_backticks(
    tmp_path: Path, playbook: Path
) -> None:
    units = units_frame()
    units.loc[[5, 9], "组别"] = ""
    path = tmp_path / "明细.xlsx"
    units.to_excel(path, index=False)
    _c, out, _e = run([playbook, path, "-f", "json"], "zh")
    assert any("2 行的 `组别` 为空，未计入" in w for w in json.loads(out)["warnings"])


# ------------------------------------------------------------------ 6. segments in pinyin order


def test_segments_in_pinyin_order_in_every_output(tmp_path: Path, playbook: Path) -> None:
    units = units_frame()
    path = tmp_path / "明细.csv"
    units.to_csv(path, index=False, encoding="gbk")
    base = [playbook, path, "--by", "城市"]
    _c, text, _e = run(base, "zh")
    assert re.findall(r"分群：城市为(\S+)", text) == PINYIN
    _c, text_en, _e = run(base, "en")
    shown = [c for c in re.findall(r"[\u4e00-\u9fff]{2}", text_en) if c in CITIES]
    assert list(dict.fromkeys(shown)) == PINYIN
    _c, markdown, _e = run([*base, "-f", "markdown"], "zh")
    assert list(dict.fromkeys(re.findall(r"^\| 城市为(\S+) \|", markdown, re.M))) == PINYIN
    _c, out, _e = run([*base, "-f", "json"], "en")
    cities = [m["segment"]["城市"] for m in json.loads(out)["metrics"] if m["segment"]]
    assert list(dict.fromkeys(cities)) == PINYIN
    report = tmp_path / "复盘.md"
    with language("zh"):
        result = runner.invoke(app, ["render-report", *map(str, base), "-o", str(report)])
    assert result.exit_code == 0, result.output
    written = report.read_text(encoding="utf-8")
    assert [c for c in dict.fromkeys(re.findall("|".join(CITIES), written))] == PINYIN


def test_a_negative_denominator_in_typed_columns_is_found_in_the_one_scan(
    tmp_path: Path, playbook: Path
) -> None:
    """Parquet with integer 订单数 (the typed query): its least value comes with the sums, and
    only a negative one costs a second read, which names the row."""
    units = units_frame()
    units["订单数"] = units["订单数"].astype("int64")
    units.loc[20, "订单数"] = -2
    path = tmp_path / "明细.parquet"
    units.to_parquet(path, index=False)
    code, out, _e = run([playbook, path, "-f", "json"], "en")
    assert code == 0
    (warning,) = [w for w in json.loads(out)["warnings"] if "denominator" in w]
    assert 'column "订单数": "-2" is below 0' in warning
    units.loc[20, "订单数"] = 2
    units.to_parquet(path, index=False)
    code, out, _e = run([playbook, path, "-f", "json"], "en")
    assert code == 0 and not [w for w in json.loads(out)["warnings"] if "denominator" in w]
