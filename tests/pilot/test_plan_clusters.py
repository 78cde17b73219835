"""Planning a pilot assigned per region (SPEC 11): clusters per arm from the design effect, the
small-sample correction, when no number of days helps, and the ICC from a before period."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats as sps
from typer.testing import CliRunner

from opsplay.cli import app
from opsplay.pilot import clusters
from opsplay.pilot.sizing import cluster_plan, clustered_power, estimate_icc, sample_size
from opsplay.query.sufficient import ArmStats

runner = CliRunner()

# 35% → 38% next-day retention: 4,041 users per arm when users are independent.
PLAN = sample_size("proportion", 0.35, 0.38)

PLAYBOOK = """\
apiVersion: opsplay/v1
kind: Playbook
metadata: {id: region-plan, title: 区域试点规划, version: "1.0.0", status: pilot, owner: pm, updated: 2024-08-01}
goal: {statement: 将新用户次日留存率从35%提升至38%, metric: d1, baseline: 0.35, target: 0.38, deadline: 2024-12-31}
roles: [{id: pm, name: 产品经理}]
metrics:
  - {id: d1, name: 次日留存率, kind: proportion, column: 次日留存, better: higher}
nodes:
  - {id: push, name: 个性化推送, owner: pm, sla: 2分钟内, fallback: {when: [failure], action: 推送热门商品}}
pilot: {design: ab, arm_column: 组别, arms: {baseline: 对照, pilot: 试点}, cluster: 区域, metrics: [d1], feedback: [用户访谈]}
"""


def test_independent_units_are_the_starting_point() -> None:
    assert (PLAN.n_baseline, PLAN.n_pilot) == (4041, 4041)


@pytest.mark.parametrize(("icc", "by_design_effect"), [(0.01, 49), (0.05, 210)])
def test_clusters_per_arm_follow_the_design_effect_plus_two(
    icc: float, by_design_effect: int
) -> None:
    plan = cluster_plan(PLAN, icc, cluster_size=500)
    design_effect = 1 + (500 - 1) * icc
    assert plan.design_effect == pytest.approx(design_effect)
    assert by_design_effect == math.ceil(PLAN.n_baseline_exact * design_effect / 500)
    assert plan.clusters_baseline_design_effect == by_design_effect
    assert plan.clusters_baseline == plan.clusters_pilot == by_design_effect + 2
    assert plan.reachable


def test_nine_regions_per_arm_cannot_reach_the_power_however_long_the_pilot() -> None:
    """9 + 9 regions: a valid test has about 21 % power at 500 users each, and no number of
    days gets it to 80 %: each region can only be worth 1/ICC users however large it grows."""
    plan = cluster_plan(PLAN, 0.01, cluster_size=500, clusters=9)
    assert not plan.reachable and plan.cluster_size_needed is None
    assert plan.power_available == pytest.approx(0.21, abs=0.02)
    assert clustered_power(PLAN, 0.01, 10**7, 9) < 0.8  # ten million users per region
    enough = cluster_plan(PLAN, 0.01, clusters=60)
    assert enough.reachable and enough.cluster_size_needed is not None
    assert clustered_power(PLAN, 0.01, enough.cluster_size_needed, 60) >= 0.79


def test_one_cluster_per_arm_is_refused_in_words() -> None:
    from opsplay.errors import UsageError

    with pytest.raises(UsageError, match="cannot be tested"):
        cluster_plan(PLAN, 0.01, clusters=1)


def test_planned_clusters_give_the_planned_power_in_simulation() -> None:
    """Pilots of the planned size, simulated with the ICC assumed, come out significant about
    as often as the plan promises (80 %), analysed with clusters as the units."""
    plan = cluster_plan(PLAN, 0.01, cluster_size=500)
    k = plan.clusters_baseline
    assert k is not None
    rng = np.random.default_rng(42)
    spread = math.sqrt(0.01 * 0.35 * 0.65)
    hits, replications = 0, 200

    def arm(mean: float) -> list[ArmStats]:
        out = []
        for _ in range(k):
            rate = min(max(mean + rng.normal(0, spread), 0.0), 1.0)
            y = int(rng.binomial(500, rate))
            out.append(ArmStats(500, float(y), float(y)))
        return out

    for _ in range(replications):
        result = clusters.compare_clustered(arm(0.35), arm(0.38), "proportion")
        hits += result.p_value is not None and result.p_value < 0.05
    assert 0.72 <= hits / replications <= 0.95


def test_icc_estimate_equals_the_one_way_anova_of_scipy() -> None:
    rng = np.random.default_rng(9)
    groups = []
    for _ in range(25):
        size = int(rng.integers(200, 800))
        rate = 0.3 + rng.normal(0, 0.03)
        groups.append(rng.binomial(1, rate, size).astype(float))
    icc, n0 = estimate_icc([(len(g), float(g.sum()), float((g * g).sum())) for g in groups])
    f_statistic = sps.f_oneway(*groups).statistic
    assert icc == pytest.approx((f_statistic - 1) / (f_statistic + n0 - 1), rel=1e-9)
    total = sum(len(g) for g in groups)
    assert n0 == pytest.approx((total - sum(len(g) ** 2 for g in groups) / total) / 24)


def write_before_period(path: Path, icc: float, seed: int = 1) -> None:
    """20 regions' users before the pilot, Chinese headers, as an ops team exports them."""
    rng = np.random.default_rng(seed)
    spread = math.sqrt(icc * 0.35 * 0.65)
    lines = ["用户ID,区域,组别,次日留存"]
    for region in range(20):
        rate = 0.35 + rng.normal(0, spread)
        for user in range(400):
            lines.append(f"u{region}-{user},区域{region},对照,{int(rng.random() < rate)}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_cli_asks_for_what_a_clustered_plan_lacks(tmp_path: Path) -> None:
    playbook = tmp_path / "plan.yaml"
    playbook.write_text(PLAYBOOK, encoding="utf-8")
    result = runner.invoke(app, ["pilot", "plan", str(playbook), "--lang", "zh"])
    assert result.exit_code == 2
    assert "--icc" in result.stderr and "--from" in result.stderr and "区域" in result.stderr
    assert "Traceback" not in result.output


def test_cli_plans_in_clusters_from_a_before_period_export(tmp_path: Path) -> None:
    playbook = tmp_path / "plan.yaml"
    playbook.write_text(PLAYBOOK, encoding="utf-8")
    before = tmp_path / "before.csv"
    write_before_period(before, 0.02)
    result = runner.invoke(
        app, ["pilot", "plan", str(playbook), "--from", str(before), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)["cluster"]
    assert plan["column"] == "区域" and plan["icc_source"] == "estimated"
    assert plan["clusters_in_export"] == 20 and plan["cluster_size"] == pytest.approx(400)
    assert 0.005 < plan["icc"] < 0.05
    expected = math.ceil(4041 * (1 + 399 * plan["icc"]) / 400)
    assert plan["clusters_baseline_design_effect"] in (expected - 1, expected)
    text = runner.invoke(
        app, ["pilot", "plan", str(playbook), "--icc", "0.01", "--clusters", "9", "--lang", "zh"]
    ).stdout
    assert "无论多少样本、跑多少天都达不到" in text


def test_the_clusters_at_hand_say_what_change_they_can_detect() -> None:
    """8 regions per group of 500 users: the smallest target reached with 80 % power, checked
    by planning that target again (its power at the same regions is the plan's power)."""
    plan = cluster_plan(PLAN, 0.01, cluster_size=500, clusters=8)
    assert plan.detectable_target is not None and plan.detectable_target > 0.38
    again = sample_size("proportion", 0.35, plan.detectable_target)
    assert clustered_power(again, 0.01, 500, 8) == pytest.approx(0.8, abs=1e-6)
    unlimited = cluster_plan(PLAN, 0.01, clusters=8)
    assert unlimited.detectable_target is not None
    assert unlimited.detectable_target < plan.detectable_target  # more users help, a little
