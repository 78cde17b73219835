"""CUPED and the sequential test end to end: the file, `pilot sql` in DuckDB and `--db` agree.

A pilot with before-period columns (`pre_column`) — some blank, NA or NULL — gives the same JSON
on every path (1e-9), its figures equal gbstats' RegressionAdjustedStatistic on the units that
count, and a missing before value follows the metric's `missing` rule and is counted.
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import duckdb
import numpy as np
import pytest
from gbstats.frequentist.tests import FrequentistConfig, TwoSidedTTest
from gbstats.models.statistics import (
    ProportionStatistic,
    RegressionAdjustedStatistic,
    SampleMeanStatistic,
)
from typer.testing import CliRunner

from opsplay.cli import app
from opsplay.query.units import DIALECTS
from tests.pilot.test_warehouse import postgres  # noqa: F401 (the fixture)

ONBOARDING = Path(__file__).resolve().parents[2] / "playbooks" / "new-user-onboarding.yaml"
runner = CliRunner()
COLUMNS = [
    "user_id",
    "group",
    "region",
    "retained_d1",
    "active_before",
    "revenue",
    "revenue_before",
]


def playbook(tmp_path: Path, pilot_extra: str = "", design: str = "ab") -> Path:
    """The onboarding playbook with before-period columns on a proportion and a mean metric."""
    text = ONBOARDING.read_text(encoding="utf-8")
    text = text.replace(
        "column: retained_d1, better: higher}",
        "column: retained_d1, better: higher, pre_column: active_before}",
    ).replace(
        "column: revenue, better: higher, unit: 元}",
        "column: revenue, better: higher, unit: 元, missing: zero, pre_column: revenue_before}",
    )
    text = text.replace("  guardrails: [revenue, aov]\n", "  guardrails: [revenue]\n")
    text = text.replace(
        "  metrics: [d1_retention, first_order, core_usage]\n",
        "  metrics: [d1_retention]\n" + pilot_extra,
    )
    text = text.replace("  design: ab\n", f"  design: {design}\n")
    path = tmp_path / "playbook.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def unit_rows(count: int = 4000) -> list[list[str]]:
    """Users with a before period that predicts the pilot period; some cells missing."""
    rng = np.random.default_rng(18)
    rows = []
    for i in range(count):
        arm = "control" if i % 2 else "pilot"
        active = int(rng.random() < 0.4)
        retained = int(rng.random() < (0.55 if active else 0.2) * (1.08 if arm == "pilot" else 1))
        habit = rng.gamma(1.5, 40.0)
        before = habit * rng.lognormal(0, 0.4)
        during = habit * rng.lognormal(0, 0.4) * (1.05 if arm == "pilot" else 1)
        active_cell = (
            ["", "NA", "否" if not active else "是"][i % 3] if i % 29 == 0 else str(active)
        )
        revenue_before = "" if i % 31 == 0 else f"{before:.2f}"
        revenue = "NULL" if i % 37 == 0 else f"{during:.2f}"
        rows.append(
            [f"u{i}", arm, ["华东", "华南"][i % 2 if i % 5 else 0], str(retained), active_cell]
            + [revenue, revenue_before]
        )
    return rows


def write_csv(rows: list[list[str]], path: Path) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        writer.writerows(rows)
    return path


def compare(book: Path, *args: str) -> dict:
    result = runner.invoke(app, ["pilot", "compare", str(book), *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def metric_figures(document: dict) -> dict:
    """Everything a metric row says, keyed by metric and segment."""
    return {(m["metric"], json.dumps(m["segment"])): m for m in document["metrics"]}


def assert_same_json(left: dict, right: dict) -> None:
    assert left.keys() == right.keys()
    for key in left:
        a, b = left[key], right[key]
        assert a.keys() == b.keys(), key
        for name in a:
            x, y = a[name], b[name]
            if isinstance(x, float) or isinstance(y, float):
                assert x == pytest.approx(y, rel=1e-9, abs=1e-12), (key, name)
            elif isinstance(x, list) and x and isinstance(x[0], float):
                assert x == pytest.approx(y, rel=1e-9, abs=1e-12), (key, name)
            elif isinstance(x, dict):
                assert x.keys() == y.keys()
                for k in x:
                    if isinstance(x[k], float):
                        assert x[k] == pytest.approx(y[k], rel=1e-9), (key, name, k)
                    else:
                        assert x[k] == y[k], (key, name, k)
            else:
                assert x == y, (key, name)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("cuped")
    return playbook(folder), write_csv(unit_rows(), folder / "units.csv")


def test_file_sql_and_db_give_identical_json(data: tuple[Path, Path], tmp_path: Path) -> None:
    book, units = data
    from_file = compare(book, str(units), "--by", "region")
    result = runner.invoke(app, ["pilot", "sql", str(book), "--table", "units", "--by", "region"])
    assert result.exit_code == 0, result.output
    sql = result.stdout
    assert '"active_before"' in sql and '"revenue_before"' in sql and "pre_column" in sql
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute(f"CREATE TABLE units AS SELECT * FROM read_csv('{units}', all_varchar=true)")
    stats = tmp_path / "stats.csv"
    con.execute(f"COPY ({sql.strip().rstrip(';')}) TO '{stats}' (HEADER)")
    con.close()
    from_sql = compare(book, str(stats), "--by", "region")
    from_db = compare(
        book, "--db", f"duckdb:///{tmp_path / 'w.duckdb'}", "--table", "units", "--by", "region"
    )
    assert_same_json(metric_figures(from_file), metric_figures(from_sql))
    assert_same_json(metric_figures(from_file), metric_figures(from_db))
    reductions = [m["variance_reduction"] for m in from_file["metrics"]]
    assert all(r is not None and 0 < r < 1 for r in reductions)
    assert from_file["sequential"] is False


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_dialect_gives_the_before_sums(data: tuple[Path, Path], dialect: str) -> None:
    book, _units = data
    result = runner.invoke(
        app, ["pilot", "sql", str(book), "--table", "units", "--dialect", dialect]
    )
    assert result.exit_code == 0, result.output
    quote = "`" if dialect in ("bigquery", "spark") else '"'
    assert f"{quote}active_before{quote}" in result.stdout
    assert f"{quote}revenue_before{quote}" in result.stdout


def _gbstats_adjusted(rows: list[list[str]], metric: str) -> tuple[TwoSidedTTest, list[int]]:
    """gbstats' regression-adjusted test on the units SPEC 7 keeps, and the missing counts."""
    stats, missing = [], []
    for arm in ("control", "pilot"):
        post, pre, lost = [], [], 0
        for row in rows:
            if row[1] != arm:
                continue
            if metric == "d1_retention":
                words = {"是": 1.0, "否": 0.0}
                cell = row[4]
                if cell in ("", "NA"):
                    lost += 1
                    continue  # missing: exclude — the unit leaves the metric
                post.append(float(row[3]))
                pre.append(words.get(cell, float(cell) if cell not in words else 0.0))
            else:  # missing: zero — a missing value counts as 0
                y = 0.0 if row[5] == "NULL" else float(row[5])
                x = 0.0 if row[6] == "" else float(row[6])
                lost += (row[5] == "NULL") or (row[6] == "")
                post.append(y)
                pre.append(x)
        y, x = np.array(post), np.array(pre)
        n = len(y)
        if metric == "d1_retention":
            post_stat = ProportionStatistic(n=n, sum=y.sum())
            pre_stat = ProportionStatistic(n=n, sum=x.sum())
        else:
            post_stat = SampleMeanStatistic(n=n, sum=y.sum(), sum_squares=(y * y).sum())
            pre_stat = SampleMeanStatistic(n=n, sum=x.sum(), sum_squares=(x * x).sum())
        stats.append(
            RegressionAdjustedStatistic(
                n=n,
                post_statistic=post_stat,
                pre_statistic=pre_stat,
                post_pre_sum_of_products=float((x * y).sum()),
                theta=0,
            )
        )
        missing.append(lost)
    return TwoSidedTTest(*stats, FrequentistConfig(difference_type="relative")), missing


@pytest.mark.parametrize("metric", ["d1_retention", "revenue"])
def test_json_equals_gbstats_and_counts_missing_before_values(
    data: tuple[Path, Path], metric: str
) -> None:
    book, units = data
    rows = unit_rows()
    document = compare(book, str(units))
    row = next(m for m in document["metrics"] if m["metric"] == metric and not m["segment"])
    gb, missing = _gbstats_adjusted(rows, metric)
    result = gb.compute_result()
    assert row["rel_diff"] == pytest.approx(result.expected, rel=1e-9)
    assert row["ci_rel"] == pytest.approx(result.ci, rel=1e-9)
    assert row["p_value"] == pytest.approx(result.p_value, rel=1e-9, abs=1e-12)
    assert row["theta"] == pytest.approx(gb.stat_a.theta, rel=1e-9)
    assert [row["baseline"]["missing"], row["pilot"]["missing"]] == missing
    assert sum(missing) > 0
    assert [row["baseline"]["n"], row["pilot"]["n"]] == [gb.stat_a.n, gb.stat_b.n]


def test_sequential_from_the_playbook_and_in_words(tmp_path: Path) -> None:
    book = playbook(tmp_path, "  sequential: true\n  sequential_tuning: 2000\n")
    units = write_csv(unit_rows(), tmp_path / "units.csv")
    document = compare(book, str(units))
    assert document["sequential"] is True and document["sequential_tuning"] == 2000
    assert all(m["method"] == "sequential" for m in document["metrics"])
    text = runner.invoke(app, ["pilot", "compare", str(book), str(units), "--lang", "en"])
    assert text.exit_code == 0, text.output
    assert "valid however often the results are looked at" in text.stdout
    assert "wider" in text.stdout
    zh = runner.invoke(app, ["pilot", "compare", str(book), str(units), "--lang", "zh"])
    assert zh.exit_code == 0 and "更宽" in zh.stdout


@pytest.mark.parametrize("design", ["did", "before_after"])
def test_sequential_is_refused_in_words_where_it_does_not_hold(tmp_path: Path, design: str) -> None:
    book = playbook(tmp_path, design=design)
    units = write_csv(unit_rows(40), tmp_path / "units.csv")
    result = runner.invoke(
        app, ["pilot", "compare", str(book), str(units), "--sequential", "--lang", "en"]
    )
    assert result.exit_code == 2
    assert "--sequential" in result.stderr and "does not grow with each look" in result.stderr
    assert "Traceback" not in result.output


def test_sequential_with_pooled_variance_is_refused(data: tuple[Path, Path]) -> None:
    book, units = data
    result = runner.invoke(
        app,
        ["pilot", "compare", str(book), str(units), "--sequential", "--variance", "pooled"],
    )
    assert result.exit_code == 2 and "--variance pooled" in result.stderr


def test_the_adjusted_interval_is_narrower_by_the_variance_reduction(
    data: tuple[Path, Path], tmp_path: Path
) -> None:
    book, units = data
    adjusted = compare(book, str(units))
    plain_book = tmp_path / "plain.yaml"
    plain_book.write_text(
        book.read_text(encoding="utf-8")
        .replace(", pre_column: active_before", "")
        .replace(", pre_column: revenue_before", ""),
        encoding="utf-8",
    )
    for metric in ("revenue",):  # (missing: zero keeps n the same on both)
        a = next(m for m in adjusted["metrics"] if m["metric"] == metric)
        p = next(m for m in compare(plain_book, str(units))["metrics"] if m["metric"] == metric)
        ratio = (a["ci_abs"][1] - a["ci_abs"][0]) / (p["ci_abs"][1] - p["ci_abs"][0])
        assert math.isclose(ratio, math.sqrt(1 - a["variance_reduction"]), rel_tol=1e-3)
        assert p["variance_reduction"] is None


def test_watch_is_always_sequential(data: tuple[Path, Path]) -> None:
    from opsplay.watch.run import evaluate

    book, units = data
    _playbook, document, _alerts, _warnings = evaluate(book, None, [units])
    assert document["sequential"] is True
    assert all(m["method"] == "sequential" for m in document["metrics"])


@pytest.mark.parametrize("design", ["did", "before_after"])
def test_watch_warns_where_the_sequential_test_does_not_apply(design: str) -> None:
    """watch (`repeated`) keeps one-look figures for these designs and says so; --sequential
    refuses them (above)."""
    from opsplay.model.playbook import Pilot
    from opsplay.pilot.compare import CompareOptions, _repeated_looks

    pilot = Pilot(design=design, metrics=["d1_retention"])
    tuning, notes = _repeated_looks(pilot, CompareOptions(repeated=True), "en")
    assert tuning is None and "one look only" in notes[0]


@pytest.mark.parametrize(("lang", "words"), [("en", "wider"), ("zh", "更宽")])
def test_the_report_says_why_the_intervals_are_wider(tmp_path: Path, lang: str, words: str) -> None:
    book = playbook(tmp_path, "  sequential: true\n")
    units = write_csv(unit_rows(), tmp_path / "units.csv")
    out = tmp_path / "report.md"
    result = runner.invoke(
        app, ["render-report", str(book), str(units), "-o", str(out), "--lang", lang]
    )
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert words in text
    assert "CUPED" in text


def test_a_dashboard_summary_is_compared_unadjusted_with_a_warning(tmp_path: Path) -> None:
    book = playbook(tmp_path)
    summary = tmp_path / "summary.csv"
    summary.write_text(
        "arm,metric,value,n\ncontrol,d1_retention,0.35,5000\npilot,d1_retention,0.38,5000\n",
        encoding="utf-8",
    )
    document = compare(book, str(summary), "--lang", "en")
    row = document["metrics"][0]
    assert row["variance_reduction"] is None and row["p_value"] is not None
    assert any("no before-period values" in w for w in document["warnings"])


def test_statistics_without_the_before_sums_are_refused_in_words(tmp_path: Path) -> None:
    book = playbook(tmp_path)
    stats = tmp_path / "stats.csv"
    stats.write_text(
        "arm,metric,n,sum,sum_sq,sum_den,sum_den_sq,sum_prod\n"
        "control,d1_retention,5000,1750,1750,,,\npilot,d1_retention,5000,1900,1900,,,\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["pilot", "compare", str(book), str(stats), "--lang", "en"])
    assert result.exit_code == 2
    assert "has a pre_column" in result.stderr and "pilot sql" in result.stderr


def test_plan_from_a_before_export_does_not_need_the_pre_column(tmp_path: Path) -> None:
    """`pilot plan --from` (clustered pilots) reads the goal metric alone: clustered pilots are
    not adjusted by a pre_column, so the before export need not carry that column."""
    from tests.pilot.test_plan_clusters import PLAYBOOK, write_before_period

    book = tmp_path / "plan.yaml"
    book.write_text(
        PLAYBOOK.replace(
            "column: 次日留存, better: higher}",
            "column: 次日留存, better: higher, pre_column: 之前留存}",
        ),
        encoding="utf-8",
    )
    before = tmp_path / "before.csv"
    write_before_period(before, 0.02)
    result = runner.invoke(
        app, ["pilot", "plan", str(book), "--from", str(before), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["cluster"]["clusters_in_export"] == 20


@pytest.mark.parametrize("missing", ["exclude", "zero"])
def test_typed_columns_take_the_short_query_with_the_same_sums(
    tmp_path: Path, missing: str
) -> None:
    """Parquet (typed numbers) goes through the short query; the full one agrees, before values
    with NULLs included."""
    from dataclasses import replace

    from opsplay.readers import MetricColumns, ReadOptions, read_exports

    path = tmp_path / "units.parquet"
    duckdb.sql(
        "COPY (SELECT * FROM (VALUES ('control', 1.0, 0.0, 12.5, 10.0), ('control', 0.0, NULL, "
        "NULL, 3.0), ('control', 1.0, 1.0, 8.0, NULL), ('pilot', 1.0, 1.0, 30.0, 20.0), "
        "('pilot', NULL, 0.0, 0.0, 1.0), ('pilot', 0.0, 0.0, 7.25, 7.0)) "
        f"t(grp, kept, kept_before, spend, spend_before)) TO '{path}' (FORMAT parquet)"
    )
    metrics = (
        MetricColumns("kept", "proportion", "kept", missing=missing, pre_column="kept_before"),
        MetricColumns("spend", "mean", "spend", missing=missing, pre_column="spend_before"),
    )
    options = ReadOptions(metrics=metrics, arm_column="grp")
    typed = read_exports([path], options)
    full = read_exports([path], replace(options, skip_bad_rows=True))
    assert typed.stats == full.stats
    control = typed.stats[
        next(k for k in typed.stats if k.metric == "spend" and k.arm == "control")
    ]
    if missing == "exclude":  # only the first unit has both values
        assert (control.n, control.sum, control.sum_den, control.sum_prod) == (1, 12.5, 10.0, 125.0)
    else:
        assert (control.n, control.sum, control.sum_den) == (3, 20.5, 13.0)
    assert control.missing == 2


def test_postgres_gives_the_same_json(
    data: tuple[Path, Path],
    tmp_path: Path,
    postgres: str,  # noqa: F811 (the fixture of test_warehouse)
) -> None:
    """The printed query for PostgreSQL, run in a real server, and `--db` there agree with the
    file (pre_column sums, missing before values, θ and variance_reduction)."""
    import psycopg

    from tests.pilot.test_warehouse import run_in_postgres

    book, units = data
    rows = unit_rows()
    with psycopg.connect(postgres) as con:
        con.execute('DROP TABLE IF EXISTS "cuped"')
        con.execute('CREATE TABLE "cuped" (' + ", ".join(f'"{c}" TEXT' for c in COLUMNS) + ")")
        with con.cursor() as cur:
            cur.executemany(
                f'INSERT INTO "cuped" VALUES ({", ".join(["%s"] * len(COLUMNS))})', rows
            )
    result = runner.invoke(
        app, ["pilot", "sql", str(book), "--table", "cuped", "--dialect", "postgres"]
    )
    assert result.exit_code == 0, result.output
    stats = run_in_postgres(postgres, result.stdout, tmp_path / "pg.csv")
    from_file = metric_figures(compare(book, str(units)))
    assert_same_json(from_file, metric_figures(compare(book, str(stats))))
    assert_same_json(from_file, metric_figures(compare(book, "--db", postgres, "--table", "cuped")))


def test_adjusted_changes_are_labelled_wherever_they_are_shown(
    data: tuple[Path, Path], tmp_path: Path
) -> None:
    """With a pre_column the arm values are the groups' own but the change is adjusted, so the
    two need not agree: every place that shows the change says it is adjusted (issue 18)."""
    book, units = data

    def shown(*args: str) -> str:
        result = runner.invoke(app, ["pilot", "compare", str(book), str(units), *args])
        assert result.exit_code == 0, result.output
        return result.stdout

    text = shown("--lang", "zh")
    assert "已按试点前调整" in text.split("•")[0]  # in the table, under the change
    sentences = [line for line in text.splitlines() if line.startswith("•")]
    adjusted = [line for line in sentences if "次日留存率" in line or "人均消费" in line]
    assert adjusted and all(line.startswith("• 按试点前调整后，") for line in adjusted), sentences
    markdown = shown("--lang", "zh", "--format", "markdown")
    row = next(line for line in markdown.splitlines() if line.startswith("| 全部 | 次日留存率"))
    assert row.count("（已按试点前调整）") == 2, row  # the change and the deviation rate
    english = shown("--lang", "en", "--format", "markdown")
    assert "(adjusted for the before period)" in english
    assert "after adjusting for the before period, " in english
    table = list(csv.reader(io.StringIO(shown("--lang", "zh", "--format", "csv").lstrip("\ufeff"))))
    column = table[0].index("变化已按试点前调整")
    flags = {row[1]: row[column] for row in table[1:] if row[2] == "全部"}  # the overall rows
    assert flags["次日留存率"] == "是" and set(flags.values()) == {"是"}, flags
    out = tmp_path / "report.md"
    result = runner.invoke(
        app, ["render-report", str(book), str(units), "-o", str(out), "--lang", "zh"]
    )
    assert result.exit_code == 0, result.output
    report = out.read_text(encoding="utf-8")
    assert "（已按试点前调整）" in report and "按试点前调整后，" in report


def test_history_labels_an_adjusted_deviation_rate() -> None:
    from opsplay.i18n import language
    from opsplay.watch.history import metric_cells

    class Book:
        metrics: list = []

    row = {"metric": "m", "rel_diff": -0.078, "variance_reduction": 0.05, "kind": "proportion"}
    assert metric_cells(row, Book())[3] == "-7.8% after adjusting for the before period"
    with language("zh"):
        assert metric_cells(row, Book())[3] == "按试点前调整后 -7.8%"
    assert metric_cells({**row, "variance_reduction": None}, Book())[3] == "-7.8%"
