"""Region pilots from a dashboard summary (SPEC 11): one row per city and group, with value and
sample size, is all the clustered test needs; without the city column, or without n, opsplay
refuses in words (non-zero exit), never an empty answer."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from opsplay.cli import app
from opsplay.i18n import language

runner = CliRunner()

CITIES = [
    "上海", "杭州", "南京", "苏州", "宁波", "合肥", "福州", "厦门", "济南", "青岛",
    "无锡", "常州", "温州", "绍兴", "嘉兴", "台州", "金华", "徐州", "扬州", "芜湖",
]  # fmt: skip

PLAYBOOK = """\
apiVersion: opsplay/v1
kind: Playbook
metadata: {id: double11-region, title: 双11城市试点促销, version: "1.0.0", status: 试点, owner: 运营负责人, updated: 2026-11-20}
goal: {statement: 将大促期间用户下单率从10%提升至12%, metric: 下单率, baseline: 10%, target: 12%, deadline: 2026-11-30}
roles:
  - {id: 运营负责人, name: 电商运营负责人}
metrics:
  - {id: 下单率, name: 大促下单率, kind: 比例, column: 是否下单, better: 越高越好}
  - {id: 客单价, name: 客单价, kind: 均值, column: 客单价, better: 越高越好, unit: 元}
nodes:
  - {id: 上线活动, name: 上线满减活动, owner: 运营负责人, sla: 4小时}
pilot:
  design: A/B测试
  arm_column: 组别
  arms: {baseline: 对照组, pilot: 试点组}
  cluster: 城市
  metrics: [下单率]
  guardrails: [客单价]
  feedback: [城市运营访谈]
"""


@pytest.fixture
def region_pilot(tmp_path: Path) -> tuple[Path, pd.DataFrame]:
    """5 of 20 cities in the pilot, 400–900 users each; 客单价 blank for users who did not
    order. Saved as GBK unit rows, as Excel on Chinese Windows saves them."""
    rng = np.random.default_rng(1111)
    rows = []
    for index, city in enumerate(CITIES):
        arm = "试点组" if index >= 15 else "对照组"
        rate, price = 0.10 + rng.normal(0, 0.015), 200 + rng.normal(0, 30)
        for _ in range(int(rng.integers(400, 900))):
            ordered = int(rng.random() < rate)
            value = round(price + rng.normal(0, 60), 2) if ordered else None
            rows.append({"组别": arm, "城市": city, "是否下单": ordered, "客单价": value})
    frame = pd.DataFrame(rows)
    path = tmp_path / "playbook.yaml"
    path.write_text(PLAYBOOK, encoding="utf-8")
    return path, frame


def per_city_summary(frame: pd.DataFrame, decimals: int = 4) -> pd.DataFrame:
    """The dashboard's per-city summary: 指标, 组别, 城市, 数值 (a percentage with `decimals`
    decimals for 下单率, 元 to 2 decimals for 客单价), 样本量."""
    out = []
    for (arm, city), group in frame.groupby(["组别", "城市"], sort=False):
        rate = group["是否下单"].mean()
        out.append(["下单率", arm, city, f"{rate * 100:.{decimals}f}%", len(group)])
        prices = group["客单价"].dropna()
        out.append(["客单价", arm, city, f"{prices.mean():.2f}", len(prices)])
    return pd.DataFrame(out, columns=["指标", "组别", "城市", "数值", "样本量"])


def run(*args: str | Path, lang: str = "zh", json_out: bool = True):  # type: ignore[no-untyped-def]
    extra = ["--format", "json"] if json_out else []
    with language(lang):
        return runner.invoke(app, ["pilot", "compare", "--lang", lang, *map(str, args), *extra])


def figures(result) -> dict:  # type: ignore[no-untyped-def]
    assert result.exit_code == 0, result.output
    return {m["metric"]: m for m in json.loads(result.stdout)["metrics"] if not m["segment"]}


def test_per_city_summary_gives_the_clustered_figures_of_the_unit_rows(
    tmp_path: Path, region_pilot: tuple[Path, pd.DataFrame]
) -> None:
    playbook, frame = region_pilot
    units, summary = tmp_path / "明细.csv", tmp_path / "看板汇总_按城市.csv"
    frame.to_csv(units, index=False, encoding="gbk")
    per_city_summary(frame).to_csv(summary, index=False, encoding="gbk")
    from_units, from_summary = figures(run(playbook, units)), figures(run(playbook, summary))
    for metric in ("下单率", "客单价"):
        a, b = from_units[metric], from_summary[metric]
        assert b["method"] == "randomisation" and b["unit"] == "cluster"
        assert b["interval_method"] == "randomisation_inversion"
        assert b["clusters"] == {"baseline": 15, "pilot": 5}
        assert b["baseline"]["n"] == a["baseline"]["n"] and b["pilot"]["n"] == a["pilot"]["n"]
        # 客单价 shown to 0.01元 per city: the figures agree to that rounding
        assert b["rel_diff"] == pytest.approx(a["rel_diff"], abs=1e-4)
        assert b["p_value"] == pytest.approx(a["p_value"], abs=1 / math.comb(20, 5) + 1e-12)
        assert b["ci_rel"] == pytest.approx(a["ci_rel"], abs=1e-3)
    # a proportion shown to 4 decimals of a percent gives each city's count exactly
    assert from_summary["下单率"]["p_value"] == from_units["下单率"]["p_value"]
    assert from_summary["下单率"]["baseline"]["value"] == pytest.approx(
        frame[frame["组别"] == "对照组"]["是否下单"].mean(), rel=1e-12
    )


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_per_city_summary_is_worded_in_both_languages(
    tmp_path: Path, region_pilot: tuple[Path, pd.DataFrame], lang: str
) -> None:
    playbook, frame = region_pilot
    summary = tmp_path / "summary.csv"
    per_city_summary(frame).to_csv(summary, index=False, encoding="gbk")
    result = run(playbook, summary, lang=lang, json_out=False)
    assert result.exit_code == 0, result.output
    text = result.stdout
    if lang == "zh":
        assert "真实变化很可能在" in text and "区间也来自同一检验" in text
        assert "整体一行略过" not in text
    else:
        assert "the true change is likely between" in text
        assert "the changes this test does not reject" in text
        assert "left out" not in text


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("zh", ["看板汇总没有 `城市` 列", "pilot.cluster", "分配单位", "每个组别各一行", "样本量"]),
        (
            "en",
            ["without a `城市` column", "pilot.cluster", "allocation unit", "one row per `城市`"],
        ),
    ],
)
def test_arm_level_summary_of_a_region_pilot_gives_the_deviation_and_says_why(
    tmp_path: Path, region_pilot: tuple[Path, pd.DataFrame], lang: str, words: list[str]
) -> None:
    """No city column: the deviation only (no test), and the words name the pilot.cluster
    column and what to export — not a "segment column" the user never asked for."""
    playbook, frame = region_pilot
    summary = tmp_path / "d11_summary.csv"
    arm_level = per_city_summary(frame).drop(columns="城市").drop_duplicates(["指标", "组别"])
    arm_level.to_csv(summary, index=False, encoding="gbk")
    result = run(playbook, summary, lang=lang)
    rows = figures(result)
    assert rows["下单率"]["method"] == "point" and rows["下单率"]["p_value"] is None
    assert rows["下单率"]["verdict"] == "inconclusive"
    warnings = " ".join(json.loads(result.stdout)["warnings"])
    for word in words:
        assert word in warnings
    assert "分群列" not in result.output  # the user never asked for --by
    text = run(playbook, summary, lang=lang, json_out=False).stdout
    assert ("各组汇总数值判断不了" if lang == "zh" else "assigned by clusters") in text


def test_unit_rows_without_the_cluster_column_are_refused_in_words(
    tmp_path: Path, region_pilot: tuple[Path, pd.DataFrame]
) -> None:
    playbook, frame = region_pilot
    units = tmp_path / "明细.csv"
    frame.drop(columns="城市").to_csv(units, index=False, encoding="gbk")
    result = run(playbook, units)
    assert result.exit_code != 0
    assert "缺少列 `城市`" in result.output and "每一行都需要它的 `城市`" in result.output


def test_per_city_summary_without_sample_size_is_refused_naming_the_row(
    tmp_path: Path, region_pilot: tuple[Path, pd.DataFrame]
) -> None:
    playbook, frame = region_pilot
    summary = per_city_summary(frame)
    summary["样本量"] = summary["样本量"].astype("object")
    summary.loc[(summary["指标"] == "客单价") & (summary["城市"] == "芜湖"), "样本量"] = ""
    path = tmp_path / "summary.csv"
    summary.to_csv(path, index=False, encoding="gbk")
    result = run(playbook, path)
    assert result.exit_code != 0
    assert "客单价" in result.output and "芜湖" in result.output and "缺少样本量" in result.output
