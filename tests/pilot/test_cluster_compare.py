"""`pilot compare` on region pilots as ops teams run them (SPEC 11), end to end: Chinese
headers, clusters as units, one-region pilots, before/after without false claims."""

from __future__ import annotations

import json
import math
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from opsplay.cli import app
from opsplay.i18n import language
from opsplay.pilot import clusters
from opsplay.query.sufficient import ArmStats
from opsplay.render.report import decide

runner = CliRunner()

REGIONS = [
    "上海", "杭州", "南京", "苏州", "宁波", "合肥", "福州", "厦门", "济南", "青岛",
    "无锡", "常州", "温州", "绍兴", "嘉兴", "台州", "金华", "徐州", "扬州", "芜湖",
]  # fmt: skip

PLAYBOOK = """\
apiVersion: opsplay/v1
kind: Playbook
metadata: {{id: region-pilot, title: 华东区域新人引导试点, version: "1.0.0", status: pilot, owner: pm, updated: 2024-08-01}}
goal: {{statement: 将新用户次日留存率从35%提升至40%, metric: d1, baseline: 0.35, target: 0.40, deadline: 2024-12-31}}
roles: [{{id: pm, name: 产品经理}}, {{id: ops, name: 运营专员}}]
metrics:
  - {{id: d1, name: 次日留存率, kind: proportion, column: 次日留存, better: higher}}
  - {{id: order, name: 首单转化率, kind: proportion, column: 下单, better: higher}}
nodes:
  - {{id: push, name: 个性化推送, owner: ops, sla: 2分钟内, fallback: {{when: [failure], action: 推送热门商品}}}}
pilot: {{design: {design}, arm_column: 组别, arms: {{baseline: 对照, pilot: 试点}}, {cluster}metrics: [d1], guardrails: [order], feedback: [用户访谈]}}
"""


def playbook(tmp_path: Path, design: str = "ab", cluster: str | None = "区域") -> Path:
    path = tmp_path / f"{design}-{cluster}.yaml"
    text = PLAYBOOK.format(design=design, cluster=f"cluster: {cluster}, " if cluster else "")
    path.write_text(text, encoding="utf-8")
    return path


def region_export(
    path: Path,
    seed: int,
    pilot_regions: int = 5,
    users: int = 300,
    icc: float = 0.02,
    periods: tuple[str, ...] = (),
    shock: float = 0.0,
) -> pd.DataFrame:
    """Unit rows of 20 regions, the first `pilot_regions` in the pilot, nothing changed (A/A);
    with periods, every region moves by its own shock after, the pilot ones by `shock` more."""
    rng = np.random.default_rng(seed)
    spread = math.sqrt(icc * 0.35 * 0.65)
    rows = []
    for index, name in enumerate(REGIONS):
        arm = "试点" if index < pilot_regions else "对照"
        rate = 0.35 + rng.normal(0, spread)
        channel_of = ["信息流", "老带新"]
        for period in periods or ("",):
            moved = rate + (rng.normal(0, spread) + (shock if arm == "试点" else 0)) * (
                period == "after"
            )
            for user in range(users):
                row = {
                    "用户ID": f"{name}{period}{user}",
                    "组别": arm,
                    "区域": name,
                    "渠道": channel_of[user % 2],
                    "次日留存": int(rng.random() < moved),
                    "下单": int(rng.random() < 0.12),
                }
                if periods:
                    row["period"] = period
                rows.append(row)
    frame = pd.DataFrame(rows)
    frame.to_csv(path, index=False, encoding="gbk")  # as Excel on Chinese Windows saves it
    return frame


def compare(*args: str | Path, lang: str = "en") -> dict:
    with language(lang):
        result = runner.invoke(app, ["pilot", "compare", *map(str, args), "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def metric(document: dict, metric_id: str = "d1", segment: dict | None = None) -> dict:
    return next(
        m
        for m in document["metrics"]
        if m["metric"] == metric_id and m["segment"] == (segment or {})
    )


def test_region_pilot_counts_regions_not_users(tmp_path: Path) -> None:
    data = tmp_path / "区域试点.csv"
    frame = region_export(data, seed=1)
    document = compare(playbook(tmp_path), data)
    row = metric(document)
    assert document["cluster"] == "区域" and document["srm"] is None
    assert row["unit"] == "cluster" and row["clusters"] == {"baseline": 15, "pilot": 5}
    assert row["method"] == "randomisation"
    assert row["min_p"] == pytest.approx(1 / math.comb(20, 5))
    assert row["baseline"]["n"] == 15 * 300 and row["pilot"]["n"] == 5 * 300
    # the same comparison from each region's sums, computed independently with pandas
    sums = frame.groupby(["组别", "区域"])["次日留存"].agg(["size", "sum"])

    def arm(name: str) -> list[ArmStats]:
        return [ArmStats(int(n), float(s), float(s)) for n, s in sums.loc[name].to_numpy()]

    expected = clusters.compare_clustered(arm("对照"), arm("试点"), "proportion")
    assert row["p_value"] == pytest.approx(expected.p_value, abs=1e-12)
    assert row["ci_rel"] == pytest.approx(list(expected.ci_rel), rel=1e-9)


def test_the_printed_query_gives_the_same_figures(tmp_path: Path) -> None:
    """pilot sql groups by the cluster column too: its output, run in DuckDB, compares the same."""
    data = tmp_path / "units.csv"
    region_export(data, seed=2)
    pilot = playbook(tmp_path)
    sql = runner.invoke(app, ["pilot", "sql", str(pilot), "--table", "units"])
    assert sql.exit_code == 0 and '"区域"' in sql.stdout
    con = duckdb.connect()
    frame = pd.read_csv(data, encoding="gbk", dtype=str)
    con.register("units_frame", frame)
    con.execute("CREATE TABLE units AS SELECT * FROM units_frame")
    stats = tmp_path / "stats.csv"
    con.execute(f"COPY ({sql.stdout.strip().rstrip(';')}) TO '{stats}' (HEADER)")
    from_file, from_sql = compare(pilot, data), compare(pilot, stats)
    for key in ("p_value", "p_value_abs", "ci_rel", "ci_abs", "min_p"):
        assert metric(from_sql)[key] == pytest.approx(metric(from_file)[key], rel=1e-9), key
    for key in ("clusters", "method", "verdict", "baseline", "pilot"):
        assert metric(from_sql)[key] == metric(from_file)[key], key


def test_segments_are_compared_with_the_regions_inside_them(tmp_path: Path) -> None:
    data = tmp_path / "units.csv"
    region_export(data, seed=3)
    document = compare(playbook(tmp_path), data, "--by", "渠道")
    for channel in ("信息流", "老带新"):
        row = metric(document, segment={"渠道": channel})
        assert row["clusters"] == {"baseline": 15, "pilot": 5}
        assert row["baseline"]["n"] == 15 * 150 and row["method"] == "randomisation"


def test_one_pilot_region_is_not_testable_and_says_which_design_is(tmp_path: Path) -> None:
    data = tmp_path / "units.csv"
    region_export(data, seed=4, pilot_regions=1, users=2000)
    document = compare(playbook(tmp_path), data, lang="zh")
    row = metric(document)
    assert row["verdict"] == "not_testable" and row["significant"] is None
    assert row["p_value"] is None and row["rel_diff"] is not None
    assert any("19" in w and "双重差分" in w for w in document["warnings"])
    with language("zh"):
        text = runner.invoke(app, ["pilot", "compare", str(playbook(tmp_path)), str(data)]).stdout
    assert "此设计无法检验" in text and "把握" not in text


def test_one_pilot_region_with_a_before_period_gets_the_placebo_p(tmp_path: Path) -> None:
    data = tmp_path / "units.csv"
    region_export(data, seed=5, pilot_regions=1, periods=("before", "after"), shock=0.15)
    row = metric(compare(playbook(tmp_path, "did"), data))
    assert row["method"] == "placebo-in-space"
    assert row["min_p"] == pytest.approx(1 / 20) and row["p_value"] == pytest.approx(1 / 20)
    # 1/20 is not below 0.05: no result of this design can be significant, and it says so
    assert row["significant"] is None and row["verdict"] == "not_testable"


def test_one_region_before_after_is_never_called_significant(tmp_path: Path) -> None:
    """Seeded A/A replicates with a common period shock: a before/after result is described,
    never judged — in JSON, CSV and the review report's next step."""
    pilot = playbook(tmp_path, "before_after", cluster=None)
    for seed in range(8):
        data = tmp_path / f"before_after_{seed}.csv"
        region_export(data, seed=seed, pilot_regions=20, periods=("before", "after"), icc=0.05)
        document = compare(pilot, data)
        row = metric(document)
        assert row["significant"] is None and row["p_value"] is None
        assert row["verdict"] in ("changed_up", "changed_down", "no_change_seen")
        assert decide(document).next_step == "add_comparison"
    csv_out = runner.invoke(app, ["pilot", "compare", str(pilot), str(data), "--format", "csv"])
    assert csv_out.exit_code == 0 and "met" not in csv_out.stdout.split(",")


def test_by_a_column_that_looks_like_the_assignment_warns(tmp_path: Path) -> None:
    data = tmp_path / "units.csv"
    region_export(data, seed=6)
    document = compare(playbook(tmp_path, cluster=None), data, "--by", "区域", lang="zh")
    assert any("pilot.cluster: 区域" in w for w in document["warnings"])


def test_by_the_cluster_column_itself_is_refused_in_words(tmp_path: Path) -> None:
    """`--by 区域` with `pilot.cluster: 区域`: every region is in one group, so each segment
    would be one group only — one clear refusal, not a line per region."""
    data = tmp_path / "units.csv"
    region_export(data, seed=10)
    with language("zh"):
        result = runner.invoke(
            app, ["pilot", "compare", str(playbook(tmp_path)), str(data), "--by", "区域"]
        )
    assert result.exit_code == 2, result.output
    assert "是试点的分配单位列（pilot.cluster）" in result.stderr
    assert "只有一组" not in result.stderr + result.stdout
    # nor does `pilot sql` print a query whose output compare would refuse (the re-check)
    with language("zh"):
        printed = runner.invoke(
            app, ["pilot", "sql", str(playbook(tmp_path)), "--table", "t", "--by", "区域"]
        )
    assert printed.exit_code == 2 and "pilot.cluster" in printed.stderr, printed.output


def test_a_region_pilot_declared_as_user_randomised_is_never_promoted(tmp_path: Path) -> None:
    """No --by and no pilot.cluster: the export's own 区域 column gives the pilot away, and the
    review report will not recommend a rollout on figures that count users as independent."""
    data = tmp_path / "units.csv"
    region_export(data, seed=8, icc=0.05)
    document = compare(playbook(tmp_path, cluster=None), data)
    assert document["assignment_suspects"] == ["区域"]  # not 渠道 (both groups), not 用户ID
    assert decide(document).next_step == "declare_cluster"
    randomised = compare(
        Path(__file__).parents[2] / "playbooks" / "new-user-onboarding.yaml",
        Path(__file__).parents[2] / "examples" / "onboarding_units.csv",
    )
    assert randomised["assignment_suspects"] == []


@pytest.mark.parametrize("shape", ["csv", "parquet"])
def test_an_export_sorted_by_region_still_gives_the_pilot_away(tmp_path: Path, shape: str) -> None:
    """160,000 rows written region by region, the ten pilot regions first: the first rows
    hold the pilot group only, so the export is looked at in pieces spread over all of it.
    Sorted by group, a user-randomised export is not suspected (its regions are in both)."""
    data = tmp_path / "区域试点.csv"
    frame = region_export(data, seed=9, pilot_regions=10, users=8000)
    assert set(frame["组别"].head(50_000)) == {"试点"}
    coin = np.random.default_rng(9).random(len(frame)) < 0.5
    randomised = frame.assign(组别=np.where(coin, "试点", "对照"))
    randomised = randomised.sort_values("组别", kind="stable")
    mixed = tmp_path / "用户随机.csv"
    randomised.to_csv(mixed, index=False, encoding="gbk")
    if shape == "parquet":
        for path in (data, mixed):
            pd.read_csv(path, encoding="gbk").to_parquet(path.with_suffix(".parquet"))
        data, mixed = data.with_suffix(".parquet"), mixed.with_suffix(".parquet")
    document = compare(playbook(tmp_path, cluster=None), data)
    assert document["assignment_suspects"] == ["区域"]
    assert decide(document).next_step == "declare_cluster"
    assert compare(playbook(tmp_path, cluster=None), mixed)["assignment_suspects"] == []


def test_missing_values_in_one_arm_only_warn(tmp_path: Path) -> None:
    data = tmp_path / "units.csv"
    frame = region_export(data, seed=7)
    pilot_rows = frame.index[frame["组别"] == "试点"]
    frame.loc[pilot_rows[::4], "次日留存"] = None
    frame.to_csv(data, index=False, encoding="gbk")
    document = compare(playbook(tmp_path), data)
    # the playbook is Chinese, so are its results
    assert any("不再是同类可比" in w for w in document["warnings"]), document["warnings"]
