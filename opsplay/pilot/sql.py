"""`pilot sql`: the warehouse query that turns a unit table into the statistics export.

The query returns one row per arm, [period], [segments] and metric with
`arm, [period], [segments…], metric, n, sum, sum_sq, sum_den, sum_den_sq, sum_prod` — the
sufficient-statistics shape `read_exports` accepts, so the warehouse does the heavy
aggregation and only a few hundred rows leave it. Every identifier is validated and quoted
for the dialect; nothing from the playbook is pasted into the SQL unquoted.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

from opsplay.pilot.readers import MetricColumns

Dialect = Literal["duckdb", "postgres", "bigquery", "spark"]
DIALECTS: tuple[str, ...] = ("duckdb", "postgres", "bigquery", "spark")

# Letters (any script, so Chinese column names work), digits, `_`, `-`, `$` and inner spaces.
_IDENTIFIER = re.compile(r"^[^\W][\w$\- ]*$")
_QUOTES = {"duckdb": '"', "postgres": '"', "bigquery": "`", "spark": "`"}
_DOUBLE = {
    "duckdb": "DOUBLE",
    "postgres": "DOUBLE PRECISION",
    "bigquery": "FLOAT64",
    "spark": "DOUBLE",
}
# PostgreSQL casts boolean to integer but not to bigint; 0/1 fit any integer type.
_INTEGER = {"duckdb": "BIGINT", "postgres": "INTEGER", "bigquery": "INT64", "spark": "BIGINT"}


def generate_sql(
    metrics: Sequence[MetricColumns],
    table: str,
    arm_column: str,
    period_column: str | None,
    segment_columns: Sequence[str],
    dialect: Dialect,
) -> str:
    """SQL computing the sufficient-statistics export of `table`; ValueError on a bad name."""
    if dialect not in _QUOTES:
        raise ValueError(f"unknown SQL dialect `{dialect}`; use one of {', '.join(DIALECTS)}")
    if not metrics:
        raise ValueError("no metrics to compute")
    q = _Quoter(dialect)
    source = q.table(table)
    keys = [(q.column(arm_column), q.alias("arm"))]
    if period_column:
        keys.append((q.column(period_column), q.alias("period")))
    keys += [(q.column(name), q.alias(name)) for name in segment_columns]
    double, integer = _DOUBLE[dialect], _INTEGER[dialect]
    branches = []
    for metric in metrics:
        metric_id = _literal(metric.id)
        if metric.kind == "ratio":
            if not (metric.numerator and metric.denominator):
                raise ValueError(f"ratio metric `{metric.id}` needs numerator and denominator")
            num = f"CAST({q.column(metric.numerator)} AS {double})"
            den = f"CAST({q.column(metric.denominator)} AS {double})"
            required = [q.column(metric.numerator), q.column(metric.denominator)]
            extra = [f"SUM({den})", f"SUM({den} * {den})", f"SUM({num} * {den})"]
        else:
            if not metric.column:
                raise ValueError(f"metric `{metric.id}` needs a column")
            column = q.column(metric.column)
            # Proportions go through an integer cast so boolean columns work in every dialect.
            num = (
                f"CAST(CAST({column} AS {integer}) AS {double})"
                if metric.kind == "proportion"
                else f"CAST({column} AS {double})"
            )
            required = [column]
            extra = [f"CAST(NULL AS {double})"] * 3
        sums = ["COUNT(*)", f"SUM({num})", f"SUM({num} * {num})", *extra]
        names = ["n", "sum", "sum_sq", "sum_den", "sum_den_sq", "sum_prod"]
        select = [f"{expr} AS {alias}" for expr, alias in keys]
        select.append(f"{metric_id} AS {q.alias('metric')}")
        select += [f"{expr} AS {q.alias(name)}" for expr, name in zip(sums, names, strict=True)]
        not_null = " AND ".join(f"{c} IS NOT NULL" for c in [k for k, _ in keys] + required)
        group_by = ", ".join(expr for expr, _ in keys)
        branches.append(
            "SELECT\n  "
            + ",\n  ".join(select)
            + f"\nFROM {source}\nWHERE {not_null}\nGROUP BY {group_by}"
        )
    order = ", ".join([alias for _, alias in keys] + [q.alias("metric")])
    header = (
        f"-- opsplay sufficient statistics ({dialect}): one row per arm, "
        + ("period, " if period_column else "")
        + ("segment, " if segment_columns else "")
        + "metric.\n"
        "-- Rows with a missing arm, period, segment or metric value are left out.\n"
        "-- Save the result as CSV and pass it to `opsplay pilot compare`.\n"
    )
    return header + "\nUNION ALL\n".join(branches) + f"\nORDER BY {order};\n"


class _Quoter:
    """Validates and quotes identifiers for one dialect."""

    def __init__(self, dialect: str) -> None:
        self.quote = _QUOTES[dialect]

    def column(self, name: str) -> str:
        return self._quoted(name, "column")

    alias = column

    def table(self, name: str) -> str:
        parts = name.split(".")
        if not 1 <= len(parts) <= 3:
            raise ValueError(
                f"table name `{name}` has too many parts; "
                "write table, schema.table or db.schema.table"
            )
        return ".".join(self._quoted(part, "table") for part in parts)

    def _quoted(self, name: str, what: str) -> str:
        if not name or not _IDENTIFIER.match(name) or name != name.strip():
            raise ValueError(
                f"{what} name `{name}` is not a plain identifier; use letters, digits, `_`, `-` "
                "or spaces (quotes, dots, semicolons and control characters are not allowed)"
            )
        return f"{self.quote}{name}{self.quote}"


def _literal(metric_id: str) -> str:
    """A string literal for a metric id; ids are restricted so no escaping is ever needed."""
    if not _IDENTIFIER.match(metric_id):
        raise ValueError(
            f"metric id `{metric_id}` cannot be used in SQL; use letters, digits, `_` or `-`"
        )
    return f"'{metric_id}'"
