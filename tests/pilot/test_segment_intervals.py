"""Per-segment rows (--by): the interval is at the level the corrected verdict is decided at,
so the words never say "likely between +1.0% and +25.3%" beside "no significant change"."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests
from typer.testing import CliRunner

from opsplay.cli import app
from opsplay.i18n import language

runner = CliRunner()

CITIES = ["上海", "北京", "广州", "成都", "杭州", "武汉", "深圳", "西安"]

PLAYBOOK = """\
apiVersion: opsplay/v1
kind: Playbook
metadata: {id: member-recall, title: 沉睡会员召回, version: "1.0.0", status: 试点, owner: 运营负责人, updated: 2026-11-20}
goal: {statement: 将沉睡会员30天复购率从20%提升至24%, metric: 复购率, baseline: 20%, target: 24%, deadline: 2026-12-31}
roles:
  - {id: 运营负责人, name: 用户增长运营负责人}
metrics:
  - {id: 复购率, name: 30天复购率, kind: 比例, column: 是否复购, better: 越高越好}
nodes:
  - {id: 发券触达, name: 短信加优惠券触达, owner: 运营负责人, sla: 2小时}
pilot:
  design: A/B测试
  arm_column: 组别
  arms: {baseline: 对照组, pilot: 试点组}
  metrics: [复购率]
  feedback: [会员回访]
"""


def export(tmp_path: Path, seed: int) -> tuple[Path, Path, pd.DataFrame]:
    """8 cities × 2 arms of ~2,500 members each (GBK, 是/否 answers), a true lift of 1–4 pp."""
    rng = np.random.default_rng(seed)
    rows = []
    for city, lift in zip(CITIES, [0.03, 0.02, 0.04, 0.02, 0.025, 0.035, 0.01, 0.03], strict=True):
        for arm, rate in (("对照组", 0.20), ("试点组", 0.20 + lift)):
            for _ in range(int(rng.integers(2300, 2700))):
                rows.append(
                    {"组别": arm, "城市": city, "是否复购": "是" if rng.random() < rate else "否"}
                )
    frame = pd.DataFrame(rows)
    data = tmp_path / "recall_gbk.csv"
    frame.to_csv(data, index=False, encoding="gbk")
    playbook = tmp_path / "member-recall.yaml"
    playbook.write_text(PLAYBOOK, encoding="utf-8")
    return playbook, data, frame


class Relative:
    """The deviation rate of a 是/否 column as the docs define it, computed with scipy: the
    delta method's test (gbstats'), unless it and Welch's test of the change fall on different
    sides of α = 0.05 — then the change's p and Fieller's interval (found by bisection)."""

    def __init__(self, frame: pd.DataFrame, column: str) -> None:
        a = (frame[frame["组别"] == "对照组"][column] == "是").astype(float)
        b = (frame[frame["组别"] == "试点组"][column] == "是").astype(float)
        self.ma, self.mb = a.mean(), b.mean()
        # a proportion's per-unit variance p(1 − p), as gbstats' Proportion statistic
        self.va, self.vb = a.var(ddof=0) / len(a), b.var(ddof=0) / len(b)
        self.rel = self.mb / self.ma - 1
        self.se = np.sqrt(self.va * self.mb**2 / self.ma**4 + self.vb / self.ma**2)
        # Welch degrees of freedom from the arms' variances of the mean, as gbstats
        va, vb = self.va, self.vb
        self.dof = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
        delta_p = 2 * sps.t.sf(abs(self.rel / self.se), self.dof)
        change_p = 2 * sps.t.sf(abs(self.mb - self.ma) / np.sqrt(va + vb), self.dof)
        self.fieller = (delta_p < 0.05) != (change_p < 0.05)
        self.p = change_p if self.fieller else delta_p

    def interval(self, level: float) -> tuple[float, float]:
        q = sps.t.ppf(1 - level / 2, self.dof)
        if not self.fieller:
            return self.rel - q * self.se, self.rel + q * self.se

        def outside(rate: float) -> bool:  # the test of Δ = rate·m_A rejects at `level`
            gap = self.mb - self.ma - rate * self.ma
            return gap**2 > q**2 * (self.vb + self.va * (1 + rate) ** 2)

        ends = []
        for far in (self.rel - 10, self.rel + 10):
            inside = self.rel
            for _ in range(200):
                middle = (inside + far) / 2
                inside, far = (inside, middle) if outside(middle) else (middle, far)
            ends.append(inside)
        return ends[0], ends[1]


def independent(frame: pd.DataFrame, alpha: float = 0.05) -> dict[str, tuple]:
    """The relative test per city (Relative), Holm by statsmodels, and each city's interval
    at its Holm step's level (alpha/(m − j) while every smaller p is rejected, then the first
    kept row's level)."""
    out = {city: Relative(d, "是否复购") for city, d in frame.groupby("城市")}
    cities = sorted(out, key=lambda c: out[c].p)
    reject, adjusted, _, _ = multipletests([out[c].p for c in cities], alpha, method="holm")
    m = len(cities)
    kept = next((j for j, r in enumerate(reject) if not r), m)
    result = {}
    for j, city in enumerate(cities):
        level = alpha / (m - min(j, kept))
        low, high = out[city].interval(level)
        result[city] = (low, high, adjusted[j], bool(reject[j]), 1 - level)
    return result


@pytest.mark.parametrize("seed", [7, 8])
def test_segment_intervals_are_at_the_holm_level_and_agree_with_the_verdict(
    tmp_path: Path, seed: int
) -> None:
    playbook, data, frame = export(tmp_path, seed)
    with language("zh"):
        result = runner.invoke(
            app, ["pilot", "compare", str(playbook), str(data), "--by", "城市", "--format", "json"]
        )
    assert result.exit_code == 0, result.output
    expected = independent(frame)
    rows = [m for m in json.loads(result.stdout)["metrics"] if m["segment"]]
    assert len(rows) == 8
    changed = 0
    for row in rows:
        low, high, p_adjusted, rejected, level = expected[row["segment"]["城市"]]
        assert row["p_adjusted"] == pytest.approx(p_adjusted, rel=1e-6)
        assert row["ci_rel"] == pytest.approx([low, high], rel=1e-6)
        assert row["interval_level"] == pytest.approx(level, rel=1e-12)
        excludes_zero = row["ci_rel"][0] > 0 or row["ci_rel"][1] < 0
        assert excludes_zero == rejected == (row["verdict"] != "no_change")
        changed += rejected
    assert 0 < changed < 8  # both kinds of segment occur: the check can fail either way


@pytest.mark.parametrize(("lang", "words"), [("zh", "区间已按比较的分群数放宽"), ("en", "widened")])
def test_segment_interval_level_is_said(tmp_path: Path, lang: str, words: str) -> None:
    playbook, data, _ = export(tmp_path, 7)
    with language(lang):
        result = runner.invoke(
            app, ["pilot", "compare", "--lang", lang, str(playbook), str(data), "--by", "城市"]
        )
    assert result.exit_code == 0, result.output
    assert words in result.stdout
    assert "95%" in result.stdout  # the overall row keeps its own level


TWO_PRIMARIES = PLAYBOOK.replace(
    "  - {id: 复购率, name: 30天复购率, kind: 比例, column: 是否复购, better: 越高越好}\n",
    "  - {id: 复购率, name: 30天复购率, kind: 比例, column: 是否复购, better: 越高越好}\n"
    "  - {id: 下单率, name: 领券后下单率, kind: 比例, column: 是否下单, better: 越高越好}\n",
).replace("metrics: [复购率]", "metrics: [复购率, 下单率]")


@pytest.mark.parametrize("seed", [1, 6])
def test_overall_intervals_of_several_primary_metrics_agree_with_holm(
    tmp_path: Path, seed: int
) -> None:
    """Two primary metrics, corrected together: the smaller p (0.031 with seed 1) is tested
    at α/2, so its verdict is no change, and its interval is at 97.5 % — the 95 % interval
    would exclude 0 beside it (seed 6: 0.0067 at 97.5 % and 0.065 at 95 %, nothing to
    contradict). Checked against scipy intervals at statsmodels' Holm steps."""
    rng = np.random.default_rng(seed)
    columns = {}
    for name, rate, lift in (("是否复购", 0.20, 0.02), ("是否下单", 0.10, 0.012)):
        control, pilot = rng.random(3000) < rate, rng.random(3000) < rate + lift
        columns[name] = np.where(np.concatenate([control, pilot]), "是", "否")
    frame = pd.DataFrame({"组别": ["对照组"] * 3000 + ["试点组"] * 3000, **columns})
    data = tmp_path / "两个主要指标.csv"
    frame.to_csv(data, index=False, encoding="gbk")
    playbook = tmp_path / "two.yaml"
    playbook.write_text(TWO_PRIMARIES, encoding="utf-8")
    with language("zh"):
        result = runner.invoke(
            app, ["pilot", "compare", str(playbook), str(data), "--format", "json"]
        )
    assert result.exit_code == 0, result.output
    rows = {m["metric"]: m for m in json.loads(result.stdout)["metrics"]}
    column = {"复购率": "是否复购", "下单率": "是否下单"}
    figures = {metric: Relative(frame, column[metric]) for metric in column}
    ranked = sorted(figures, key=lambda m: figures[m].p)
    reject, adjusted, _, _ = multipletests([figures[m].p for m in ranked], 0.05, method="holm")
    kept = next((j for j, r in enumerate(reject) if not r), 2)
    contradiction_at_95 = False
    for j, metric in enumerate(ranked):
        row, figure = rows[metric], figures[metric]
        level = 0.05 / (2 - min(j, kept))
        assert row["ci_rel"] == pytest.approx(list(figure.interval(level)), rel=1e-6)
        assert row["interval_level"] == pytest.approx(1 - level, rel=1e-12)
        assert row["p_adjusted"] == pytest.approx(adjusted[j], rel=1e-6)
        excludes_zero = row["ci_rel"][0] > 0 or row["ci_rel"][1] < 0
        assert excludes_zero == bool(reject[j]) == (row["significant"] is True)
        low, high = figure.interval(0.05)
        contradiction_at_95 |= (low > 0 or high < 0) != bool(reject[j])
    assert contradiction_at_95 == (seed == 1)  # the case the level is for occurs


def small_pilot(tmp_path: Path, n: int, bought: tuple[int, int]) -> tuple[pd.DataFrame, dict, str]:
    """`n` members a group, `bought` of them 是 in control and pilot (GBK): the frame, the
    JSON document and the Chinese text of `pilot compare`."""
    frame = pd.DataFrame(
        {
            "组别": ["对照组"] * n + ["试点组"] * n,
            "是否复购": [answer for k in bought for answer in ["是"] * k + ["否"] * (n - k)],
        }
    )
    data = tmp_path / "小样本.csv"
    frame.to_csv(data, index=False, encoding="gbk")
    playbook = tmp_path / "small.yaml"
    playbook.write_text(PLAYBOOK, encoding="utf-8")
    with language("zh"):
        result = runner.invoke(app, ["pilot", "compare", str(playbook), str(data), "-f", "json"])
        text = runner.invoke(app, ["pilot", "compare", str(playbook), str(data)]).stdout
    assert result.exit_code == 0, result.output
    return frame, json.loads(result.stdout), text


def test_a_small_pilot_says_its_deviation_rate_is_by_fieller(tmp_path: Path) -> None:
    """12 of 150 against 24 of 150: the delta method's p (0.136) and Welch's p of the change
    (0.033) disagree; the JSON says which test and interval it gives, the words say why."""
    frame, document, text = small_pilot(tmp_path, 150, (12, 24))
    row = document["metrics"][0]
    figure = Relative(frame, "是否复购")
    assert figure.fieller and row["interval_method"] == "fieller"
    assert row["p_value"] == row["p_value_abs"] == pytest.approx(figure.p, rel=1e-6)
    assert row["ci_rel"] == pytest.approx(list(figure.interval(0.05)), rel=1e-6)
    assert row["significant"] is True and row["ci_rel"][0] > 0
    assert any("偏差率自身的检验" in w for w in document["warnings"])
    assert "偏差率按变化量的检验计算（Fieller 区间）" in text.split("计算方法")[1]


def test_an_unbounded_deviation_rate_is_said_and_the_change_shown(tmp_path: Path) -> None:
    """2 of 100 against 9 of 100: the control's 2 % is too uncertain for Fieller's interval
    of the deviation rate to have ends (`ci_rel` null); the words give the change instead
    and say why, not a range they do not show."""
    _frame, document, text = small_pilot(tmp_path, 100, (2, 9))
    row = document["metrics"][0]
    assert row["interval_method"] == "fieller" and row["ci_rel"] is None
    assert row["p_value"] == row["p_value_abs"] < 0.05 and row["ci_abs"][0] > 0
    assert "偏差率给不出可能范围，因此只给出变化量的范围" in text
    assert "个百分点 到 +" in text  # the change's range, in points
    assert "偏差率没有可能范围（Fieller 区间无上下限）" in text  # and the method section says it
