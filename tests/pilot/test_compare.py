"""`opsplay pilot compare` end to end on the shipped playbooks and example exports.

Figures are checked against independent computations (pandas on the raw rows, scipy),
never against numbers opsplay printed before.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from scipy import stats as sps
from typer.testing import CliRunner

from opsplay.cli import app
from opsplay.i18n import language

ROOT = Path(__file__).resolve().parents[2]
ONBOARDING = ROOT / "playbooks" / "new-user-onboarding.yaml"
RECALL = ROOT / "playbooks" / "member-recall.yaml"
COMPLAINTS = ROOT / "playbooks" / "complaint-handling.yaml"
EXAMPLES = ROOT / "examples"
runner = CliRunner()


def _strict_json(text: str) -> dict:
    def no_constants(name: str) -> None:
        raise AssertionError(f"JSON holds {name}")

    return json.loads(text, parse_constant=no_constants)


def compare_json(*args: str | Path) -> dict:
    result = runner.invoke(app, ["pilot", "compare", *map(str, args), "--format", "json"])
    assert result.exit_code == 0, result.output
    return _strict_json(result.stdout)


def rows_by_metric(document: dict) -> dict[str, dict]:
    return {m["metric"]: m for m in document["metrics"] if not m["segment"]}


def test_json_has_the_spec_keys_and_no_nan() -> None:
    document = compare_json(
        ONBOARDING,
        EXAMPLES / "onboarding_units.csv",
        "--events",
        EXAMPLES / "onboarding_events.csv",
    )
    assert {"playbook", "design", "alpha", "metrics", "srm", "nodes", "alerts", "warnings"} <= set(
        document
    )
    assert document["playbook"] == {"id": "new-user-onboarding", "version": "1.2.1"}
    keys = {
        "metric",
        "segment",
        "kind",
        "role",
        "baseline",
        "pilot",
        "abs_diff",
        "rel_diff",
        "ci_abs",
        "ci_rel",
        "p_value",
        "p_value_abs",
        "p_adjusted",
        "significant",
        "target",
        "attainment",
        "verdict",
    }
    for row in document["metrics"]:
        assert keys <= set(row)
        assert row["verdict"] in {"met", "improved", "worse", "no_change", "inconclusive"}
    assert [m["metric"] for m in document["metrics"]] == [
        "d1_retention",
        "first_order",
        "core_usage",
        "revenue",
        "aov",
    ]
    assert {n["node"] for n in document["nodes"]} >= {"tag-detect", "push-content", "feedback"}
    assert {"id", "value", "op", "threshold", "fired"} <= set(document["alerts"][0])


def test_unit_rows_match_an_independent_computation() -> None:
    """Means, differences and the Welch test agree with pandas + scipy on the raw rows."""
    frame = pd.read_csv(EXAMPLES / "onboarding_units.csv")
    rows = rows_by_metric(compare_json(ONBOARDING, EXAMPLES / "onboarding_units.csv"))
    for metric, column in (("d1_retention", "retained_d1"), ("revenue", "revenue")):
        control = frame.loc[frame["group"] == "control", column]
        pilot = frame.loc[frame["group"] == "pilot", column]
        row = rows[metric]
        assert row["baseline"]["n"] == len(control) and row["pilot"]["n"] == len(pilot)
        assert row["abs_diff"] == pytest.approx(pilot.mean() - control.mean(), rel=1e-12)
        if metric == "revenue":  # sample variances: exactly scipy's Welch test
            welch = sps.ttest_ind(pilot, control, equal_var=False)
            assert row["p_value_abs"] == pytest.approx(welch.pvalue, rel=1e-9)
    ratio = rows["aov"]
    control = frame[frame["group"] == "control"]
    assert ratio["baseline"]["value"] == pytest.approx(
        control["revenue"].sum() / control["orders"].sum(), rel=1e-12
    )


def test_every_input_shape_gives_the_same_answer() -> None:
    from_units = rows_by_metric(compare_json(ONBOARDING, EXAMPLES / "onboarding_units.csv"))
    from_stats = rows_by_metric(compare_json(ONBOARDING, EXAMPLES / "onboarding_stats.csv"))
    assert from_units.keys() == from_stats.keys()
    for metric, row in from_units.items():
        other = from_stats[metric]
        assert other["verdict"] == row["verdict"]
        for key in ("abs_diff", "rel_diff", "p_value", "p_value_abs"):
            assert other[key] == pytest.approx(row[key], rel=1e-9, abs=1e-15), (metric, key)


def test_gbk_export_is_read_without_being_told() -> None:
    document = compare_json(ONBOARDING, EXAMPLES / "onboarding_units_gbk.csv", "--by", "region")
    assert document["sources"][0]["encoding"] in ("gb18030", "gbk")
    regions = {m["segment"].get("region") for m in document["metrics"] if m["segment"]}
    assert {"上海", "杭州"} <= regions


def test_dashboard_summary_gives_table_3_deviations() -> None:
    """35% → 38% is +8.6%, 42% → 45% is +7.1% (the method's Table 3)."""
    rows = rows_by_metric(compare_json(ONBOARDING, EXAMPLES / "onboarding_summary.csv"))
    assert round(rows["d1_retention"]["rel_diff"], 3) == 0.086
    assert round(rows["core_usage"]["rel_diff"], 3) == 0.071
    assert rows["d1_retention"]["abs_diff"] == pytest.approx(0.03)
    # With n given, a proportion is tested: the Welch statistic on m(1-m) variances.
    terms = (0.35 * 0.65 / 5000, 0.38 * 0.62 / 5000)
    dof = sum(terms) ** 2 / sum(t**2 / 4999 for t in terms)
    expected = 2 * sps.t.sf(0.03 / math.sqrt(sum(terms)), dof)
    assert rows["d1_retention"]["p_value_abs"] == pytest.approx(expected, rel=1e-9)


def test_difference_in_differences_on_the_recall_pilot() -> None:
    frame = pd.read_csv(EXAMPLES / "recall_did.csv")
    means = frame.groupby(["group", "period"])["recalled"].mean()
    expected = (means["pilot", "after"] - means["pilot", "before"]) - (
        means["comparison", "after"] - means["comparison", "before"]
    )
    document = compare_json(RECALL, EXAMPLES / "recall_did.csv")
    row = rows_by_metric(document)["recall_rate"]
    assert document["design"] == "did"
    assert row["abs_diff"] == pytest.approx(expected, rel=1e-12)
    assert row["before"]["pilot"]["value"] == pytest.approx(means["pilot", "before"], rel=1e-12)
    relative = (means["pilot", "after"] / means["pilot", "before"]) / (
        means["comparison", "after"] / means["comparison", "before"]
    ) - 1
    assert row["rel_diff"] == pytest.approx(relative, rel=1e-12)
    assert document["srm"] is None


def test_before_after_says_it_is_not_causal() -> None:
    document = compare_json(COMPLAINTS, EXAMPLES / "complaints_before_after.csv", "--lang", "en")
    assert any("cause and effect" in w for w in document["warnings"])
    frame = pd.read_csv(EXAMPLES / "complaints_before_after.csv")
    means = frame.groupby("period")["resolved_in_24h"].mean()
    row = rows_by_metric(document)["resolved_24h"]
    assert row["abs_diff"] == pytest.approx(means["after"] - means["before"], rel=1e-12)


def test_segments_and_holm_families() -> None:
    document = compare_json(ONBOARDING, EXAMPLES / "onboarding_units.csv", "--by", "region")
    overall = [m for m in document["metrics"] if not m["segment"] and m["role"] == "primary"]
    p = sorted(m["p_value"] for m in overall)
    # Holm over the three overall primaries: the smallest p times 3.
    assert min(m["p_adjusted"] for m in overall) == pytest.approx(min(1.0, 3 * p[0]), rel=1e-12)
    segmented = [m for m in document["metrics"] if m["segment"]]
    assert {tuple(m["segment"]) for m in segmented} == {("region",)}


def test_events_give_node_figures_and_alerts() -> None:
    document = compare_json(
        ONBOARDING,
        EXAMPLES / "onboarding_units.csv",
        "--events",
        EXAMPLES / "onboarding_events.csv",
    )
    log = pd.read_csv(EXAMPLES / "onboarding_events.csv")
    push = log[log["node"] == "push-content"]
    node = next(n for n in document["nodes"] if n["node"] == "push-content")
    assert node["count"] == len(push)
    assert node["completion_rate"] == pytest.approx((push["status"] == "ok").mean(), rel=1e-12)
    alert = next(a for a in document["alerts"] if a["id"] == "push-completion")
    assert alert["value"] == pytest.approx(node["completion_rate"])
    assert alert["fired"] is (node["completion_rate"] < 0.9)


@pytest.mark.parametrize(
    ("condition", "extra", "code"),
    [
        ("miss", [], 1),  # the goal (45% next-day retention) is not reached in the pilot
        ("alert", ["--events", str(EXAMPLES / "onboarding_events.csv")], 1),  # tag-sla fires
        ("regression", [], 0),
    ],
)
def test_fail_on(condition: str, extra: list[str], code: int) -> None:
    result = runner.invoke(
        app,
        [
            "pilot",
            "compare",
            str(ONBOARDING),
            str(EXAMPLES / "onboarding_units.csv"),
            "--format",
            "json",
            "--fail-on",
            condition,
            *extra,
        ],
    )
    assert result.exit_code == code, result.output


def test_fail_on_regression_when_a_guardrail_gets_worse(tmp_path: Path) -> None:
    frame = pd.read_csv(EXAMPLES / "onboarding_units.csv")
    pilot = frame["group"] == "pilot"
    frame.loc[pilot, "revenue"] = frame.loc[pilot, "revenue"] * 0.5  # pilot users spend half
    data = tmp_path / "worse.csv"
    frame.to_csv(data, index=False)
    result = runner.invoke(
        app,
        [
            "pilot",
            "compare",
            str(ONBOARDING),
            str(data),
            "--format",
            "json",
            "--fail-on",
            "regression",
        ],
    )
    assert result.exit_code == 1
    assert rows_by_metric(_strict_json(result.stdout))["revenue"]["verdict"] == "worse"


def test_bad_input_exits_2_with_a_clear_message(tmp_path: Path) -> None:
    data = tmp_path / "export.csv"
    data.write_text("user_id,group,retained_d1\nu1,control,1\nu2,pilot,0\n", encoding="utf-8")
    result = runner.invoke(app, ["pilot", "compare", str(ONBOARDING), str(data)])
    assert result.exit_code == 2
    assert "ordered" in result.stderr and "Traceback" not in result.output
    wrong_arm = tmp_path / "arms.csv"
    frame = pd.read_csv(EXAMPLES / "onboarding_units.csv").replace(
        {"group": {"pilot": "treatment"}}
    )
    frame.to_csv(wrong_arm, index=False)
    result = runner.invoke(app, ["pilot", "compare", str(ONBOARDING), str(wrong_arm)])
    assert result.exit_code == 2
    assert "treatment" in result.stderr and "Traceback" not in result.output
    result = runner.invoke(
        app, ["pilot", "compare", str(ONBOARDING), str(tmp_path / "missing.csv")]
    )
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_other_formats() -> None:
    args = ["pilot", "compare", str(ONBOARDING), str(EXAMPLES / "onboarding_units.csv")]
    outputs = {}
    for extra in (["--format", "csv"], ["--format", "markdown"], ["--lang", "en"]):
        result = runner.invoke(app, [*args, *extra])
        assert result.exit_code == 0, (extra, result.output)
        outputs[extra[-1]] = result.stdout
    assert outputs["csv"].startswith("\ufeff指标ID,指标,分群,类型")  # the playbook's language
    assert (
        ",主要指标,比例指标," in outputs["csv"]
        and ",显著改善,Welch t 检验,Holm 校正" in outputs["csv"]
    )
    assert "| 全部 | 次日留存率 | 主指标 |" in outputs["markdown"]
    assert "次日留存率" in outputs["en"] and "verdict" in outputs["en"]


def test_python_dash_m_runs_compare() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "opsplay",
            "pilot",
            "compare",
            str(ONBOARDING),
            str(EXAMPLES / "onboarding_units.csv"),
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert _strict_json(result.stdout)["design"] == "ab"


def test_plan_and_sql_commands() -> None:
    from statsmodels.stats.power import NormalIndPower
    from statsmodels.stats.proportion import proportion_effectsize

    result = runner.invoke(
        app, ["pilot", "plan", str(ONBOARDING), "--format", "json", "--daily", "400"]
    )
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    effect = proportion_effectsize(0.45, 0.35)
    # three primary metrics, corrected together by Holm: the goal metric at 0.05 / 3
    n = NormalIndPower().solve_power(effect_size=effect, alpha=0.05 / 3, power=0.8, ratio=1.0)
    assert (plan["n_baseline"], plan["family"]) == (math.ceil(n), 3)
    assert plan["days"] == math.ceil(2 * plan["n_baseline"] / 400)
    sql = runner.invoke(
        app, ["pilot", "sql", str(ONBOARDING), "--table", "ods.users", "--dialect", "postgres"]
    )
    assert sql.exit_code == 0 and "sum_sq" in sql.stdout


def test_summary_without_n_gives_deviation_only(tmp_path: Path) -> None:
    """A BI export without n: the deviation rate, no test, n null, verdict inconclusive."""
    data = tmp_path / "dashboard.csv"
    data.write_text(
        "arm,metric,value\ncontrol,d1_retention,35%\npilot,d1_retention,38%\n"
        # every primary metric must be in an export, whatever its shape (SPEC 7, issue 9)
        "control,first_order,12%\npilot,first_order,13%\ncontrol,core_usage,42%\npilot,core_usage,45%\n",
        encoding="utf-8-sig",
    )
    rows = rows_by_metric(compare_json(ONBOARDING, data))
    row = rows["d1_retention"]
    assert row["baseline"] == {"n": None, "value": pytest.approx(0.35)}
    assert row["rel_diff"] == pytest.approx(0.03 / 0.35)
    assert row["p_value"] is None and row["verdict"] == "inconclusive"
    # the sample-ratio check cannot be done, and the method section says so (the re-check)
    with language("zh"):
        text = runner.invoke(app, ["pilot", "compare", str(ONBOARDING), str(data)]).stdout
    assert "分组比例检查：未做（数据中没有每组的样本量）" in text, text


def test_before_after_export_without_an_arm_column(tmp_path: Path) -> None:
    """One population measured twice: an export with only a period column is enough."""
    frame = pd.read_csv(EXAMPLES / "complaints_before_after.csv").drop(columns=["group"])
    data = tmp_path / "tickets.csv"
    frame.to_csv(data, index=False)
    with_arms = rows_by_metric(compare_json(COMPLAINTS, EXAMPLES / "complaints_before_after.csv"))
    without = rows_by_metric(compare_json(COMPLAINTS, data))
    assert with_arms and without.keys() == with_arms.keys()
    for metric, row in with_arms.items():
        assert without[metric]["abs_diff"] == pytest.approx(row["abs_diff"], rel=1e-12)
        assert without[metric]["baseline"]["n"] == row["baseline"]["n"]


def test_dashboard_summary_for_difference_in_differences(tmp_path: Path) -> None:
    """A DiD dashboard (group × period) with n gives the DiD and its normal test."""
    data = tmp_path / "recall_dashboard.csv"
    data.write_text(
        "arm,period,metric,value,n\n"
        "comparison,before,recall_rate,10%,1000\ncomparison,after,recall_rate,11%,1000\n"
        "pilot,before,recall_rate,9%,1000\npilot,after,recall_rate,14%,1000\n"
        # every primary metric must be in an export, whatever its shape (issue 9)
        "comparison,before,repurchase_rate,5%,1000\ncomparison,after,repurchase_rate,5%,1000\n"
        "pilot,before,repurchase_rate,5%,1000\npilot,after,repurchase_rate,6%,1000\n",
        encoding="utf-8",
    )
    # the shipped recall pilot is assigned by province: a dashboard gives no test for it
    clustered = rows_by_metric(compare_json(RECALL, data))["recall_rate"]
    assert clustered["p_value"] is None and clustered["method"] == "point"
    unclustered = tmp_path / "recall.yaml"
    text = RECALL.read_text(encoding="utf-8")
    unclustered.write_text(
        "\n".join(line for line in text.splitlines() if "cluster:" not in line), encoding="utf-8"
    )
    row = rows_by_metric(compare_json(unclustered, data))["recall_rate"]
    assert row["abs_diff"] == pytest.approx((0.14 - 0.09) - (0.11 - 0.10))
    assert row["rel_diff"] == pytest.approx((0.14 / 0.09) / (0.11 / 0.10) - 1)
    variances = [p * (1 - p) / 1000 for p in (0.10, 0.11, 0.09, 0.14)]
    expected = 2 * sps.norm.sf(0.04 / math.sqrt(sum(variances)))
    assert row["p_value_abs"] == pytest.approx(expected, rel=1e-9)
    assert row["before"] == {
        "baseline": {"n": 1000, "value": pytest.approx(0.10)},
        "pilot": {"n": 1000, "value": pytest.approx(0.09)},
    }


def test_dashboard_summary_by_segment(tmp_path: Path) -> None:
    data = tmp_path / "by_region.csv"
    data.write_text(
        "arm,region,metric,value,n\n"
        "control,华东,d1_retention,35%,2000\npilot,华东,d1_retention,38%,2000\n"
        "control,华南,d1_retention,33%,1500\npilot,华南,d1_retention,34%,1500\n"
        + "".join(  # every primary metric must be in an export, whatever its shape (issue 9)
            f"{arm},{region},{metric},{value},1500\n"
            for arm in ("control", "pilot")
            for region in ("华东", "华南")
            for metric, value in (("first_order", "12%"), ("core_usage", "42%"))
        ),
        encoding="utf-8",
    )
    document = compare_json(ONBOARDING, data, "--by", "region")
    segments = {
        m["segment"]["region"]: m
        for m in document["metrics"]
        if m["segment"] and m["metric"] == "d1_retention"
    }
    assert segments["华东"]["abs_diff"] == pytest.approx(0.03)
    assert segments["华南"]["abs_diff"] == pytest.approx(0.01)
    assert not [m for m in document["metrics"] if not m["segment"]]
    assert any("overall" in w or "整体" in w for w in document["warnings"])
    result = runner.invoke(app, ["pilot", "compare", str(ONBOARDING), str(data)])
    assert result.exit_code == 2 and "--by" in result.stderr


def test_fail_on_miss_judges_the_value_and_names_the_metric(tmp_path: Path) -> None:
    """A dashboard without n cannot be tested, but a value past the target is no miss."""
    data = tmp_path / "dashboard.csv"
    others = "control,first_order,20%\npilot,first_order,20%\ncontrol,core_usage,60%\npilot,core_usage,60%\n"
    data.write_text(
        "arm,metric,value\ncontrol,d1_retention,44%\npilot,d1_retention,46%\n" + others,
        encoding="utf-8",
    )
    passed = runner.invoke(
        app, ["pilot", "compare", str(ONBOARDING), str(data), "--fail-on", "miss"]
    )
    assert passed.exit_code == 0, passed.output
    data.write_text(
        "arm,metric,value\ncontrol,d1_retention,35%\npilot,d1_retention,38%\n" + others,
        encoding="utf-8",
    )
    missed = runner.invoke(
        app, ["pilot", "compare", str(ONBOARDING), str(data), "--fail-on", "miss"]
    )
    assert missed.exit_code == 1 and "target missed (`d1_retention`)" in missed.stderr


def test_plan_speaks_the_playbooks_language_and_notes_the_design() -> None:
    # the recall pilot is assigned by province: planned in provinces, from an assumed ICC
    clustered = ["--icc", "0.01", "--cluster-size", "2500"]
    result = runner.invoke(app, ["pilot", "plan", str(RECALL), *clustered])
    assert result.exit_code == 0 and "所需样本" in result.stdout and "双重差分" in result.stdout
    assert "所需 `province` 数" in result.stdout
    english = runner.invoke(app, ["pilot", "plan", str(RECALL), "--lang", "en", *clustered])
    assert english.exit_code == 0, english.output
    assert "units needed" in english.stdout and "difference in differences" in english.stdout
    assert runner.invoke(app, ["pilot", "plan", str(RECALL), "--format", "csv"]).exit_code == 2
    asked = runner.invoke(app, ["pilot", "plan", str(RECALL)])
    assert asked.exit_code == 2 and "--icc" in asked.stderr


def test_excel_habits_in_exports(tmp_path: Path) -> None:
    """是/否 in a rate column, a dashboard labelled with metric names, `failure` in a log."""
    frame = pd.read_csv(EXAMPLES / "onboarding_units.csv")
    expected = rows_by_metric(compare_json(ONBOARDING, EXAMPLES / "onboarding_units.csv"))
    frame["retained_d1"] = frame["retained_d1"].map({1: "是", 0: "否"})
    data = tmp_path / "yes_no.csv"
    frame.to_csv(data, index=False, encoding="gbk")
    row = rows_by_metric(compare_json(ONBOARDING, data))["d1_retention"]
    assert row["abs_diff"] == pytest.approx(expected["d1_retention"]["abs_diff"], rel=1e-12)

    named = tmp_path / "named.csv"
    named.write_text(
        "arm,metric,value,n\ncontrol,次日留存率,35%,5000\npilot,次日留存率,38%,5000\n"
        "control,首单转化率,12%,5000\npilot,首单转化率,13%,5000\n"
        "control,核心功能使用率,42%,5000\npilot,核心功能使用率,45%,5000\n"
    )
    assert (
        round(rows_by_metric(compare_json(ONBOARDING, named))["d1_retention"]["rel_diff"], 3)
        == 0.086
    )

    log = pd.read_csv(EXAMPLES / "onboarding_events.csv").replace({"status": {"failed": "failure"}})
    events = tmp_path / "events.csv"
    log.to_csv(events, index=False)
    nodes = compare_json(ONBOARDING, EXAMPLES / "onboarding_units.csv", "--events", events)["nodes"]
    push = next(n for n in nodes if n["node"] == "push-content")
    raw = pd.read_csv(EXAMPLES / "onboarding_events.csv")
    failed = raw[(raw["node"] == "push-content")]["status"].eq("failed").mean()
    assert push["failure_rate"] == pytest.approx(failed, rel=1e-12)


def test_calendar_limits_and_alerts_at_their_threshold(tmp_path: Path) -> None:
    """A Chinese log across National Day 2024 on a playbook with 3个工作日 / T+1 / 当天
    limits; alerts with <= and >= fire when the value equals the threshold."""
    from tests.pilot.test_events import national_day_log

    text = ONBOARDING.read_text(encoding="utf-8")
    text = text.replace("sla: 2m", "sla: 3个工作日").replace("sla: 24h", "sla: T+1")
    text = text.replace("sla: 3d", "sla: 当天")
    head, _alerts, tail = text.partition("alerts:\n")
    tail = tail[tail.index("\npilot:") :]
    alerts = (
        "alerts:\n"
        "  - {id: push-sla, node: push-content, measure: sla_compliance, op: '<=', threshold: 0.8}\n"
        "  - {id: push-sla-strict, node: push-content, measure: sla_compliance, op: '<', threshold: 0.8}\n"
        "  - {id: review-timeouts, node: review-weekly, measure: timeout_rate, op: '>=', threshold: 0.3333333333333333}\n"
        "  - {id: review-timeouts-strict, node: review-weekly, measure: timeout_rate, op: '>', threshold: 0.3333333333333333}\n"
        "  - {id: feedback-sla, node: feedback, measure: sla_compliance, op: '>=', threshold: 0.75}\n"
    )
    playbook = tmp_path / "onboarding.yaml"
    playbook.write_text(head + alerts + tail, encoding="utf-8")
    log = national_day_log(tmp_path).read_text(encoding="utf-8")
    log = log.replace(",review,", ",push-content,").replace(",payout,", ",feedback,")
    log = log.replace(",reply,", ",review-weekly,")
    events = tmp_path / "events.csv"
    events.write_text(log, encoding="utf-8")
    document = compare_json(playbook, EXAMPLES / "onboarding_units.csv", "--events", events)
    nodes = {n["node"]: n for n in document["nodes"]}
    assert nodes["push-content"]["sla_compliance"] == 0.8  # 3个工作日: 24:00 of the third
    assert nodes["push-content"]["sla"] == "3个工作日" and nodes["push-content"]["sla_s"] is None
    assert nodes["feedback"]["sla_compliance"] == 0.75 and nodes["feedback"]["sla"] == "T+1"
    # 当天, with the open T99 past its deadline at the log's last timestamp: 1 of 3.
    assert nodes["review-weekly"]["sla_compliance"] == pytest.approx(1 / 3)
    assert (nodes["review-weekly"]["open"], nodes["review-weekly"]["breached_open"]) == (1, 1)
    assert nodes["review-weekly"]["as_of"] == "2024-10-14T15:30:00+08:00"  # Beijing time
    assert nodes["review-weekly"]["timeout_rate"] == pytest.approx(1 / 3)
    fired = {a["id"]: a["fired"] for a in document["alerts"]}
    assert fired == {
        "push-sla": True,
        "push-sla-strict": False,
        "review-timeouts": True,
        "review-timeouts-strict": False,
        "feedback-sla": True,
    }


def test_as_of_judges_open_cases_and_times_carry_the_zone(tmp_path: Path) -> None:
    """--as-of before T99's deadline (10-13 00:00) leaves it pending; the text names the zone."""
    from tests.pilot.test_events import national_day_log

    text = ONBOARDING.read_text(encoding="utf-8").replace("sla: 3d", "sla: 当天")
    playbook = tmp_path / "onboarding.yaml"
    playbook.write_text(text, encoding="utf-8")
    log = (
        national_day_log(tmp_path).read_text(encoding="utf-8").replace(",reply,", ",review-weekly,")
    )
    events = tmp_path / "events.csv"
    events.write_text(log, encoding="utf-8")
    args = [playbook, EXAMPLES / "onboarding_units.csv", "--events", events]
    document = compare_json(*args, "--as-of", "2024-10-12 20:00")
    node = next(n for n in document["nodes"] if n["node"] == "review-weekly")
    assert (node["open"], node["breached_open"], node["pending"]) == (1, 0, 1)
    # T10 (10-12 22:00-10-13 00:30, late) had not started at 20:00: not counted (SPEC 12)
    assert node["count"] == 2 and node["sla_compliance"] == 1.0
    assert node["as_of"] == "2024-10-12T20:00:00+08:00"
    # An offset is read as written: 12:00 UTC is 20:00 in Beijing.
    utc = compare_json(*args, "--as-of", "2024-10-13T12:00:00Z")
    node = next(n for n in utc["nodes"] if n["node"] == "review-weekly")
    assert node["breached_open"] == 1 and node["as_of"] == "2024-10-13T20:00:00+08:00"
    # T99 is still open past its deadline (first_open: to act on now)
    assert node["missed_cases"]["all"] == {
        "count": 2,
        "first": ["T10", "T99"],
        "first_open": ["T99"],
    }
    result = runner.invoke(
        app, ["pilot", "compare", *map(str, args), "--as-of", "2024-10-12 20:00"]
    )
    assert "2024-10-12 20:00（北京时间）" in result.stdout, result.stdout
    assert "未到期" in result.stdout
    bad = runner.invoke(app, ["pilot", "compare", *map(str, args), "--as-of", "yesterday"])
    assert bad.exit_code == 2 and "--as-of" in bad.stderr and "Traceback" not in bad.output


def test_weekday_calendar_from_the_project_configuration(tmp_path: Path) -> None:
    """`calendar = "weekdays"` in [tool.opsplay] counts Monday–Friday for calendar limits."""
    from tests.pilot.test_events import national_day_log

    text = ONBOARDING.read_text(encoding="utf-8").replace("sla: 2m", "sla: 3个工作日")
    playbook = tmp_path / "onboarding.yaml"
    playbook.write_text(text, encoding="utf-8")
    log = (
        national_day_log(tmp_path).read_text(encoding="utf-8").replace(",review,", ",push-content,")
    )
    events = tmp_path / "events.csv"
    events.write_text(log, encoding="utf-8")
    official = compare_json(playbook, EXAMPLES / "onboarding_units.csv", "--events", events)
    (tmp_path / ".opsplay.toml").write_text('calendar = "weekdays"\n', encoding="utf-8")
    weekdays = compare_json(playbook, EXAMPLES / "onboarding_units.csv", "--events", events)
    assert official["nodes"][1]["sla_compliance"] == 4 / 5
    assert weekdays["nodes"][1]["sla_compliance"] == 2 / 5
    # `workday_limits = "clock"` keeps the same clock time on the third working day.
    (tmp_path / ".opsplay.toml").write_text('workday_limits = "clock"\n', encoding="utf-8")
    clock = compare_json(playbook, EXAMPLES / "onboarding_units.csv", "--events", events)
    assert clock["nodes"][1]["sla_compliance"] == 2 / 5
    (tmp_path / ".opsplay.toml").write_text('calendar = "china"\n', encoding="utf-8")
    result = runner.invoke(
        app, ["pilot", "compare", str(playbook), str(EXAMPLES / "onboarding_units.csv")]
    )
    assert result.exit_code == 2 and 'calendar = "weekdays"' in result.stderr


@pytest.mark.parametrize(
    ("playbook", "data", "metric", "column", "arm"),
    [
        # goal target 0.45, better: higher (A/B, pilot arm)
        (ONBOARDING, "onboarding_units.csv", "d1_retention", "retained_d1", ("group", "pilot")),
        # scenario expectation reopen_rate <= 0.05, better: lower (before/after, after period)
        (COMPLAINTS, "complaints_before_after.csv", "reopen_rate", "reopened", ("period", "after")),
    ],
    ids=["higher", "lower"],
)
def test_a_pilot_value_exactly_at_its_target_meets_it(
    tmp_path: Path, playbook: Path, data: str, metric: str, column: str, arm: tuple[str, str]
) -> None:
    """The pilot arm lands exactly on the target (a clear, significant change): `met`, not
    merely `improved` — the target is reached when the value equals it."""
    frame = pd.read_csv(EXAMPLES / data)
    rows = frame.index[frame[arm[0]] == arm[1]]
    frame = frame.drop(rows[len(rows) - len(rows) % 20 :])  # 5% steps land on whole units
    rows = frame.index[frame[arm[0]] == arm[1]]
    target = {"d1_retention": 0.45, "reopen_rate": 0.05}[metric]
    frame.loc[rows, column] = 0
    frame.loc[rows[: round(len(rows) * target)], column] = 1
    exact = tmp_path / data
    frame.to_csv(exact, index=False)
    row = rows_by_metric(compare_json(playbook, exact))[metric]
    assert row["pilot"]["value"] == target and row["target"] == target
    if playbook == COMPLAINTS:
        # before/after without a comparison group: the change is described, never judged
        # significant nor `met` — a period shock would look the same (SPEC 11)
        assert row["p_value"] is None and row["significant"] is None
        assert row["ci_abs"][1] < 0
        assert (row["verdict"], row["attainment"]) == ("changed_down", 1.0)
        return
    assert row["p_value"] < 0.001
    assert (row["verdict"], row["attainment"]) == ("met", 1.0)


def test_markdown_keeps_p_values_and_intervals_in_the_method_section() -> None:
    args = ["pilot", "compare", str(ONBOARDING), str(EXAMPLES / "onboarding_units.csv")]
    result = runner.invoke(app, [*args, "--format", "markdown", "--lang", "zh"])
    assert result.exit_code == 0, result.output
    markdown = result.stdout
    table, method = markdown.split("### 计算方法")
    assert (
        "| 分群 | 指标 | 类型 | 对照组 | 试点组 | 变化 | 偏差率 | 目标值 | 达成度 | 结论 |" in table
    )
    assert "p 值" not in table and "p=" not in table and "区间" not in table
    assert "置信区间" in method and "p=" in method


def test_a_metric_alert_without_any_value_is_not_a_silent_pass(tmp_path: Path) -> None:
    """Every 满意度 cell blank: the alert on it cannot be evaluated, and says so."""
    import json

    from typer.testing import CliRunner

    from opsplay.cli import app

    playbook = tmp_path / "refund.yaml"
    playbook.write_text(
        """\
apiVersion: opsplay/v1
kind: Playbook
metadata: {id: refund-tickets, title: 售后退款工单处理, version: "1.0.0", status: pilot, owner: ops,
  updated: 2026-11-01}
goal: {statement: 一次解决率从 50% 提升到 60%, metric: solved, baseline: 0.5, target: 0.6,
  deadline: 2026-12-31}
roles: [{id: ops, name: 客服运营}]
metrics:
  - {id: solved, name: 一次解决率, kind: proportion, column: 一次解决, better: higher}
  - {id: csat, name: 满意度评分, kind: mean, column: 满意度, better: higher}
nodes:
  - {id: handle, name: 工单处理, owner: ops, sla: 1h, fallback: {when: [failure], action: 转人工}}
alerts:
  - {id: csat-drop, metric: csat, op: "<", threshold: 4.0, severity: critical}
pilot: {design: ab, arm_column: 组别, arms: {baseline: 对照组, pilot: 试点组}, metrics: [solved],
  guardrails: [csat], min_n: 1}
""",
        encoding="utf-8",
    )
    data = tmp_path / "tickets.csv"
    data.write_text(
        "组别,一次解决,满意度\n对照组,1,\n对照组,0,\n试点组,1,\n试点组,1,NA\n", encoding="utf-8"
    )
    result = CliRunner().invoke(
        app, ["pilot", "compare", str(playbook), str(data), "-f", "json", "--lang", "en"]
    )
    document = json.loads(result.stdout)
    alert = next(a for a in document["alerts"] if a["id"] == "csat-drop")
    assert alert["value"] is None and alert["fired"] is False
    assert any("alert `csat-drop`" in w and "not evaluated" in w for w in document["warnings"])


@pytest.mark.parametrize(("lang", "everyone"), [("zh", "全部"), ("en", "all users")])
def test_csv_rounds_for_people_and_names_the_overall_segment(lang: str, everyone: str) -> None:
    """Issue 20: Excel showed 0.14500000000000002 and 6.0e-05, and the overall row's 分群 cell
    was empty. The CSV keeps six significant digits, never scientific; JSON stays whole."""
    import csv
    import io
    import re

    args = ["pilot", "compare", str(ONBOARDING), str(EXAMPLES / "onboarding_units.csv")]
    args += ["--by", "region", "--lang", lang]
    result = runner.invoke(app, [*args, "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout.lstrip("\ufeff"))))
    body = rows[1:]
    numbers = [cell for row in body for cell in row if re.fullmatch(r"-?[\d.eE+-]+", cell) and cell]
    assert numbers
    for cell in numbers:
        assert "e" not in cell.lower(), cell
        digits = cell.lstrip("-").replace(".", "").lstrip("0")
        assert len(digits) <= 6, cell
    segments = [row[2] for row in body]
    assert everyone in segments and "" not in segments, segments
    assert any("=" in segment for segment in segments)  # the regions keep their name=value
    whole = json.loads(runner.invoke(app, [*args, "--format", "json"]).stdout)
    p_values = [m["p_value"] for m in whole["metrics"] if m["p_value"]]
    assert any(len(repr(p)) > 10 for p in p_values), p_values  # full precision in JSON
