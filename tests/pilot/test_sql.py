"""`pilot sql`: the generated query runs in DuckDB and its output reads like the unit rows."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import duckdb
import pytest

from opsplay.errors import InputError
from opsplay.query.units import DIALECTS, generate_sql
from opsplay.readers import GroupKey, MetricColumns, ReadOptions, read_exports
from tests.pilot.conftest import (
    COMPLAINT_METRICS,
    EXAMPLES,
    ONBOARDING_METRICS,
    RECALL_METRICS,
    assert_same_stats,
)


def run_duckdb(sql: str, units: Path, out: Path, table: str = "units") -> Path:
    """Run the generated query over a CSV in DuckDB and save the result as CSV."""
    con = duckdb.connect()
    con.execute(f"CREATE VIEW \"{table}\" AS SELECT * FROM read_csv('{units}')")
    con.execute(f"COPY ({sql.strip().rstrip(';')}) TO '{out}' (HEADER)")
    return out


CASES = {  # name: (unit file, metrics, arm, period, segments)
    "onboarding ab by region": (
        "onboarding_units.csv",
        ONBOARDING_METRICS,
        "group",
        None,
        ["region"],
    ),
    "onboarding ab overall": ("onboarding_units.csv", ONBOARDING_METRICS, "group", None, []),
    "recall did": ("recall_did.csv", RECALL_METRICS, "group", "period", ["province"]),
    "complaints before/after": (
        "complaints_before_after.csv",
        COMPLAINT_METRICS,
        "group",
        "period",
        ["priority", "channel"],
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_duckdb_round_trip_equals_reading_the_unit_rows(tmp_path: Path, case: str) -> None:
    name, metrics, arm, period, segments = CASES[case]
    sql = generate_sql(metrics, "units", arm, period, segments, "duckdb")
    out = run_duckdb(sql, EXAMPLES / name, tmp_path / "stats.csv")
    options = ReadOptions(
        metrics=metrics, arm_column=arm, period_column=period, segment_columns=tuple(segments)
    )
    from_sql = read_exports([out], options)
    from_units = read_exports([EXAMPLES / name], options)
    assert from_sql.shape == "stats" and from_units.shape == "units"
    assert_same_stats(from_sql.stats, from_units.stats)


def test_chinese_identifiers_and_boolean_columns(tmp_path: Path) -> None:
    units = tmp_path / "units.csv"
    units.write_text(
        "组别,地区,留存,消费\n对照,上海,true,1.5\n试点,上海,false,2\n试点,杭州,true,3\n",
        encoding="utf-8",
    )
    metrics = [
        MetricColumns("留存率", "proportion", "留存"),
        MetricColumns("spend", "mean", "消费"),
    ]
    sql = generate_sql(metrics, "明细 表", "组别", None, ["地区"], "duckdb")
    out = run_duckdb(sql, units, tmp_path / "stats.csv", table="明细 表")
    options = ReadOptions(metrics=tuple(metrics), arm_column="组别", segment_columns=("地区",))
    assert_same_stats(read_exports([out], options).stats, read_exports([units], options).stats)


@pytest.mark.parametrize(
    ("dialect", "quoted", "double"),
    [
        ("duckdb", '"group"', "DOUBLE"),
        ("postgres", '"group"', "DOUBLE PRECISION"),
        ("bigquery", "`group`", "FLOAT64"),
        ("spark", "`group`", "DOUBLE"),
    ],
)
def test_dialects_quote_identifiers(dialect: str, quoted: str, double: str) -> None:
    sql = generate_sql(ONBOARDING_METRICS, "ods.onboarding", "group", "period", [], dialect)  # type: ignore[arg-type]
    q = quoted[0]
    assert f"{quoted} AS k0" in sql and f"g.k0 AS {q}arm{q}" in sql
    assert f"FROM {q}ods{q}.{q}onboarding{q}" in sql
    assert f"AS {double})" in sql and "UNION" not in sql  # `g` read once, not once per metric
    assert sql.count("FROM g ") == 1
    # ordinals: a segment named like the period (`--by period`) cannot make it ambiguous
    assert sql.rstrip().endswith("ORDER BY 1, 2, 3;")


@pytest.mark.parametrize(
    "bad",
    [
        'x"; DROP TABLE users; --',
        "x` OR 1=1",
        "a;b",
        "",
        " padded",
        "line\nbreak",
        "o'clock",
    ],
)
@pytest.mark.parametrize("dialect", DIALECTS)
def test_identifiers_that_could_inject_are_rejected(bad: str, dialect: str) -> None:
    with pytest.raises(ValueError, match="not a plain identifier"):
        generate_sql(ONBOARDING_METRICS[:1], "t", bad, None, [], dialect)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        generate_sql(ONBOARDING_METRICS[:1], f"t.{bad}", "group", None, [], dialect)  # type: ignore[arg-type]
    if bad in ("", " padded"):  # "m" and "m padded" are fine metric ids
        return
    with pytest.raises(ValueError):
        metric = MetricColumns(f"m{bad}", "proportion", "x")
        generate_sql([metric], "t", "group", None, [], dialect)  # type: ignore[arg-type]


def test_unknown_dialect_and_table_with_too_many_parts() -> None:
    with pytest.raises(ValueError, match="unknown SQL dialect"):
        generate_sql(ONBOARDING_METRICS, "t", "group", None, [], "oracle")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="too many parts"):
        generate_sql(ONBOARDING_METRICS, "a.b.c.d", "group", None, [], "duckdb")


def test_a_proportion_other_than_0_or_1_is_an_error_on_both_paths(tmp_path: Path) -> None:
    """`0.6` in a 0/1 column: the file names its line; the warehouse result counts it."""
    units = tmp_path / "units.csv"
    units.write_text("group,retained_d1\ncontrol,1\npilot,0.6\npilot,是\n", encoding="utf-8")
    metric = (MetricColumns("d1_retention", "proportion", "retained_d1"),)
    options = ReadOptions(metrics=metric, arm_column="group")
    with pytest.raises(InputError, match=r'line 3, column "retained_d1": "0.6" is not 0 or 1'):
        read_exports([units], options)
    out = run_duckdb(
        generate_sql(metric, "units", "group", None, [], "duckdb"), units, tmp_path / "s.csv"
    )
    with pytest.raises(InputError, match=r"unreadable value\(s\) of metric `d1_retention`"):
        read_exports([out], options)
    skipped = read_exports([out], replace(options, skip_bad_rows=True))
    pilot = skipped.stats[GroupKey("d1_retention", "pilot", None)]
    assert (pilot.n, pilot.sum, pilot.invalid) == (1, 1.0, 1)
    assert (
        pilot
        == read_exports([units], replace(options, skip_bad_rows=True)).stats[
            GroupKey("d1_retention", "pilot", None)
        ]
    )


def _parquet(tmp_path: Path, rows: str) -> Path:
    """Typed columns, as a warehouse exports them: group text, numbers DOUBLE (NULL allowed)."""
    path = tmp_path / "units.parquet"
    duckdb.sql(
        "COPY (SELECT * FROM (VALUES " + rows + ") t(grp, converted, revenue, orders)) "
        f"TO '{path}' (FORMAT parquet)"
    )
    return path


TYPED_METRICS = (
    MetricColumns("conversion", "proportion", "converted"),
    MetricColumns("revenue", "mean", "revenue"),
    MetricColumns("aov", "ratio", None, "revenue", "orders"),
)


@pytest.mark.parametrize(
    "rows",
    [
        # clean, with NULLs and a ratio unit lacking both values
        "('control', 1.0, 12.5, 1.0), ('control', 0.0, NULL, NULL), ('pilot', 1.0, 30.0, 2.0),"
        " ('pilot', NULL, 0.0, 0.0), ('pilot', 0.0, 7.25, 1.0)",
        # a ratio unit with only its denominator: the typed sums would count it
        "('control', 1.0, 12.5, 1.0), ('control', 0.0, NULL, 3.0), ('pilot', 1.0, 30.0, 2.0),"
        " ('pilot', 0.0, 7.25, 1.0)",
        # NaN, a missing value in every shape (as the `nan` token of a CSV)
        "('control', 1.0, 12.5, 1.0), ('control', 'nan'::DOUBLE, 'nan'::DOUBLE, 1.0),"
        " ('pilot', 1.0, 30.0, 'nan'::DOUBLE), ('pilot', 0.0, 7.25, 1.0)",
    ],
)
def test_the_typed_query_equals_the_full_query(tmp_path: Path, rows: str) -> None:
    """Typed numbers take the short query; the full one (--skip-bad-rows forces it) agrees."""
    options = ReadOptions(metrics=TYPED_METRICS, arm_column="grp")
    data = _parquet(tmp_path, rows)
    typed = read_exports([data], options)
    full = read_exports([data], replace(options, skip_bad_rows=True))
    assert_same_stats(typed.stats, full.stats)
    assert typed.stats == full.stats
    missing = {k: v.missing for k, v in typed.stats.items() if v.missing}
    if "nan" in rows:
        assert missing == {
            GroupKey("conversion", "control", None): 1,
            GroupKey("revenue", "control", None): 1,
            GroupKey("aov", "control", None): 1,
            GroupKey("aov", "pilot", None): 1,
        }


@pytest.mark.parametrize("value", ["0.5", "1e-300", "-1.0", "2.0"])
def test_a_typed_proportion_other_than_0_or_1_is_found(tmp_path: Path, value: str) -> None:
    """The short query cannot count such values; it must notice them and let the full query
    name the row (a tiny 1e-300 included: its x − x² is not 0)."""
    data = _parquet(
        tmp_path,
        f"('control', 1.0, 1.0, 1.0), ('pilot', 0.0, 2.0, 1.0), ('pilot', {value}, 3.0, 1.0)",
    )
    with pytest.raises(InputError, match=r"row 3, column \"converted\""):
        read_exports([data], ReadOptions(metrics=TYPED_METRICS, arm_column="grp"))


@pytest.mark.parametrize("value", ["'inf'::DOUBLE", "'-inf'::DOUBLE"])
def test_a_typed_mean_that_is_not_a_finite_number_is_found(tmp_path: Path, value: str) -> None:
    data = _parquet(
        tmp_path,
        f"('control', 1.0, 1.0, 1.0), ('pilot', 0.0, 2.0, 1.0), ('pilot', 1.0, {value}, 1.0)",
    )
    with pytest.raises(InputError, match=r"row 3, column \"revenue\""):
        read_exports([data], ReadOptions(metrics=TYPED_METRICS, arm_column="grp"))


@pytest.mark.parametrize("cell", ["1e400", "-1e309"])
def test_a_number_too_large_is_quoted_as_written(tmp_path: Path, cell: str) -> None:
    """CSV numbers are first read as DOUBLE: the message must still quote the cell's text
    (`1e400`, not the `inf` DuckDB made of it) and name its line and column."""
    units = tmp_path / "units.csv"
    units.write_text(f"grp,converted,revenue,orders\npilot,1,10,1\ncontrol,0,{cell},1\n")
    with pytest.raises(InputError) as error:
        read_exports([units], ReadOptions(metrics=TYPED_METRICS, arm_column="grp"))
    message = str(error.value)
    assert 'line 3, column "revenue"' in message and f'"{cell[:37]}' in message, message
    assert "inf" not in message
