"""The one query: unit rows -> sufficient statistics, for DuckDB, PostgreSQL, BigQuery and Spark.

`pilot sql` prints it for a warehouse table; `pilot compare` runs the same text in DuckDB over
local files (and in the database with `--db`). Every cleaning rule of SPEC 7 lives here, once:
missing tokens (blank, NA, N/A, NULL, NaN, #N/A, -, —), full-width digits and letters, text
booleans (是/否, true/false, yes/no, Y/N), percentages (`35%`), thousands separators (`1,234`),
a value other than 0/1 in a proportion column counted as `invalid`, the pilot window.

The query reads the table once: layer 1 cleans the text of every column it needs, layer 2 reads
numbers and flags missing and invalid cells, layer 3 groups by arm, [period], [segments] (and
why a row is left out, `excluded`), and the result has one row per group and metric:
`arm, [period], [segments…], metric, rows, n, sum, sum_sq, sum_den, sum_den_sq, sum_prod,
missing, invalid, excluded` — the sufficient-statistics export `pilot compare` reads. Every
identifier is validated and quoted for the dialect; nothing is pasted into the SQL unquoted.

Floor: the engine (queries). May import `opsplay.i18n` and `opsplay.pilot.columns` (the metric
columns and the window it is asked for); never the readers, which run it, nor statistics,
judging or presentation.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

from opsplay.i18n import N_, _

if TYPE_CHECKING:
    from opsplay.pilot.columns import MetricColumns, Window

Dialect = Literal["duckdb", "postgres", "bigquery", "spark"]
DIALECTS: tuple[str, ...] = ("duckdb", "postgres", "bigquery", "spark")

# Letters (any script, so Chinese column names work), digits, `_`, `-`, `$` and inner spaces.
_IDENTIFIER = re.compile(r"^[^\W][\w$\- ]*$")
_QUOTES = {"duckdb": '"', "postgres": '"', "bigquery": "`", "spark": "`"}
_DOUBLE = {"duckdb": "DOUBLE", "postgres": "DOUBLE PRECISION", "bigquery": "FLOAT64"}
_TEXT = {"duckdb": "VARCHAR", "postgres": "TEXT", "bigquery": "STRING", "spark": "STRING"}
_LENGTHS = {  # (bytes, characters): equal for ASCII text
    "duckdb": ("strlen", "length"),
    "postgres": ("octet_length", "char_length"),
    "bigquery": ("BYTE_LENGTH", "CHAR_LENGTH"),
    "spark": ("octet_length", "char_length"),
}
_SAFE_CAST = {
    "duckdb": "TRY_CAST",
    "postgres": "CAST",
    "bigquery": "SAFE_CAST",
    "spark": "TRY_CAST",
}

# Cell normalisation, the same in every dialect (TRANSLATE exists in all four).
_WIDE = (
    "０１２３４５６７８９．，＋－％／＃　\u00a0\u2212"
    + "".join(chr(c) for c in range(0xFF21, 0xFF3B))
    + "".join(chr(c) for c in range(0xFF41, 0xFF5B))
)
_NARROW = "0123456789.,+-%/#  -" + "ABCDEFGHIJKLMNOPQRSTUVWXYZ" + "abcdefghijklmnopqrstuvwxyz"
MISSING_TOKENS = ("", "na", "n/a", "null", "nan", "#n/a", "-", "—")
TRUE_WORDS = ("1", "true", "yes", "y", "是")
FALSE_WORDS = ("0", "false", "no", "n", "否")
# A number after cleaning (lower case, no spaces): plain, decimal, 1,234.5, exponent, percent.
# At most 200 integer digits and a two-digit exponent: below 1e300, so that every engine can
# cast it (PostgreSQL raises an error on 1e999 where the others give NULL or infinity).
_NUMBER = (
    r"[+-]?([0-9]{1,200}([.][0-9]*)?|[.][0-9]+|[0-9]{1,3}(,[0-9]{3}){1,66}([.][0-9]*)?)"
    r"(e[+-]?[0-9]{1,2})?%?"
)
# Dates after `年月日/.` are folded to `-`: 2026-11-05 as is; 2026-11-5 and 20261105 spelled
# out (one capturing group per pattern: BigQuery's REGEXP_EXTRACT takes no more).
_DATE_ISO = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"  # the first ten characters
_DATE_DASHED = (
    r"^([0-9]{4})-[0-9]{1,2}-[0-9]{1,2}(?:[^0-9].*)?$",
    r"^[0-9]{4}-([0-9]{1,2})-[0-9]{1,2}(?:[^0-9].*)?$",
    r"^[0-9]{4}-[0-9]{1,2}-([0-9]{1,2})(?:[^0-9].*)?$",
)
_DATE_DIGITS = (
    r"^([0-9]{4})[0-9]{2}[0-9]{2}$",
    r"^[0-9]{4}([0-9]{2})[0-9]{2}$",
    r"^[0-9]{4}[0-9]{2}([0-9]{2})$",
)
_LARGEST = "1.7976931348623157e308"  # the largest float; beyond it (inf) a cell is invalid
STAT_COLUMNS = (
    "rows",
    "n",
    "sum",
    "sum_sq",
    "sum_den",
    "sum_den_sq",
    "sum_prod",
    "missing",
    "invalid",
)


@dataclass(frozen=True)
class Plan:
    """What the query computes: the metrics, the key columns and the window."""

    metrics: tuple[MetricColumns, ...]
    arm_column: str
    period_column: str | None = None
    segment_columns: tuple[str, ...] = ()
    window: Window | None = None
    numeric: frozenset[str] = frozenset()  # columns typed numeric/boolean (DuckDB reads them as is)
    local: bool = False  # a local file in DuckDB: any header is quoted (escaped), none refused

    @property
    def key_aliases(self) -> tuple[str, ...]:
        """Output names of the group keys: arm, [period], segments."""
        period = ("period",) if self.period_column or self._derived else ()
        return ("arm", *period, *self.segment_columns)

    @property
    def _derived(self) -> bool:
        return self.window is not None and self.window.derive_period

    def value_columns(self) -> list[tuple[str, bool]]:
        """(column, read as 0/1) of every metric column, each once."""
        out: dict[tuple[str, bool], None] = {}
        for metric in self.metrics:
            for column in metric.value_columns:  # a pre_column is read as its metric's column
                out[(column, metric.kind == "proportion")] = None
        return list(out)


def generate_sql(
    metrics: Sequence[MetricColumns],
    table: str,
    arm_column: str,
    period_column: str | None,
    segment_columns: Sequence[str],
    dialect: Dialect,
    window: Window | None = None,
) -> str:
    """The query `pilot sql` prints; ValueError on a bad name."""
    plan = Plan(tuple(metrics), arm_column, period_column, tuple(segment_columns), window)
    return sql_for_plan(plan, table, dialect)


def sql_for_plan(plan: Plan, table: str, dialect: str) -> str:
    """The printed query of a plan (its names as the table has them); ValueError on a bad name."""
    plan = replace(plan, numeric=frozenset(), local=False)  # text in, portable SQL out
    body = Query(plan, dialect).grouped(Quoter(dialect).table(table))
    return header(plan, dialect) + long_form(plan, dialect, body)


def header(plan: Plan, dialect: str) -> str:
    """The comment above the printed query."""
    first = _HEADER_FIRST[("period" in plan.key_aliases, bool(plan.segment_columns))]
    text = _(first).format(dialect=dialect) + _(
        "-- Missing cells (blank, NA, N/A, NULL, NaN, #N/A, -, —) leave only their metric\n"
        "-- (`missing`); unreadable cells are counted in `invalid`; rows without arm, period\n"
        "-- or segment, outside the pilot window or with an unreadable date (`bad_date`), are\n"
        "-- counted in rows with `excluded` set.\n"
        "-- Save the result as CSV and pass it to `opsplay pilot compare`.\n"
    )
    if any(m.pre_column for m in plan.metrics):
        text += _(
            "-- A metric with a pre_column (CUPED) has the before-period value x's sums in\n"
            "-- sum_den (Σx), sum_den_sq (Σx²) and sum_prod (Σxy); a unit counts when both\n"
            "-- values can be read.\n"
        )
    return text


# The first comment line of `pilot sql`, by (a period column, segment columns).
_HEADER_FIRST = {
    (False, False): N_("-- opsplay sufficient statistics ({dialect}): one row per arm, metric.\n"),
    (True, False): N_(
        "-- opsplay sufficient statistics ({dialect}): one row per arm, period, metric.\n"
    ),
    (False, True): N_(
        "-- opsplay sufficient statistics ({dialect}): one row per arm, segment, metric.\n"
    ),
    (True, True): N_(
        "-- opsplay sufficient statistics ({dialect}): one row per arm, period, segment, metric.\n"
    ),
}


def long_form(plan: Plan, dialect: str, grouped: str) -> str:
    """One row per group and metric, over the grouped query (a CTE read once per metric)."""
    q = Quoter(dialect)
    names = list(dict.fromkeys(plan.key_aliases))  # `--by period` on did: one period column
    keys = [f"g.k{plan.key_aliases.index(name)} AS {q.alias(name)}" for name in names]
    branches = []
    for i, metric in enumerate(plan.metrics):
        cols = [*keys, f"{_literal(metric.id)} AS {q.alias('metric')}"]
        cols.append(f"g.n_rows AS {q.alias('rows')}")
        for name in STAT_COLUMNS[1:]:
            cols.append(f"g.m{i}_{name} AS {q.alias(name)}")
        cols.append(f"g.excluded AS {q.alias('excluded')}")
        branches.append("SELECT " + ", ".join(cols) + " FROM g")
    order = ", ".join(str(i + 1) for i in range(len(names) + 1))
    materialized = " MATERIALIZED" if dialect in ("duckdb", "postgres") else ""
    return (
        f"WITH g AS{materialized} (\n{grouped}\n)\n"
        + "\nUNION ALL\n".join(branches)
        + f"\nORDER BY {order};\n"
    )


class Query:
    """The layers of the query for one plan and dialect."""

    def __init__(self, plan: Plan, dialect: str) -> None:
        if dialect not in _QUOTES:
            raise ValueError(
                _("unknown SQL dialect `{dialect}`; use one of {known}").format(
                    dialect=dialect, known=", ".join(DIALECTS)
                )
            )
        if not plan.metrics:
            raise ValueError(_("no metrics to compute"))
        self.plan, self.dialect = plan, dialect
        self.q = Quoter(dialect, strict=not plan.local)
        self.double = _DOUBLE.get(dialect, "DOUBLE")
        self.values = plan.value_columns()
        for metric in plan.metrics:
            if not plan.local:  # ids go into the printed query as literals
                _literal(metric.id)
            needed = (
                [metric.numerator, metric.denominator]
                if metric.kind == "ratio"
                else [metric.column]
            )
            if not all(needed):
                raise ValueError(_("metric `{metric}` needs its columns").format(metric=metric.id))

    # ---------------------------------------------------------------- layers

    def cleaned(self, source: str, row_number: bool = False) -> str:
        """Layers 1-2: keys, and each value column's number `v{i}` with flags `miss{i}`, `bad{i}`.

        Layer 1 reads each needed cell once as clean text (`t{i}`); layer 2 turns the text into
        a number (`x{i}`) or missing; the outer layer keeps a number only when it is valid.
        """
        plan, q = self.plan, self.q
        keys = self._raw_keys()
        first = [f"{e} AS k{i}" for i, e in enumerate(keys)]
        first.append(f"{self._day() if plan.window else 'NULL'} AS d_w")
        second = [f"k{i}" for i in range(len(keys))] + ["d_w"]
        third = list(second)
        for i, (column, proportion) in enumerate(self.values):
            quoted = q.column(column)
            if column in plan.numeric:  # typed numbers (Parquet, DuckDB tables): no text pass
                first.append(f"CAST({quoted} AS DOUBLE) AS t{i}")
                second.append(f"t{i} AS x{i}")
                second.append(f"CASE WHEN t{i} IS NULL OR isnan(t{i}) THEN 1 ELSE 0 END AS miss{i}")
            else:
                first.append(f"LOWER({self._clean(quoted)}) AS t{i}")
                second.append(f"{self._number(f't{i}', proportion)} AS x{i}")
                second.append(
                    f"CASE WHEN t{i} IS NULL OR t{i} IN {self._tokens(MISSING_TOKENS)} "
                    f"THEN 1 ELSE 0 END AS miss{i}"
                )
            ok = f"x{i} IN (0, 1)" if proportion else f"x{i} BETWEEN -{_LARGEST} AND {_LARGEST}"
            third.append(f"miss{i}")
            third.append(f"CASE WHEN miss{i} = 1 THEN NULL WHEN {ok} THEN x{i} END AS v{i}")
            third.append(f"CASE WHEN miss{i} = 1 THEN 0 WHEN {ok} THEN 0 ELSE 1 END AS bad{i}")
        if row_number:
            first.append("ROW_NUMBER() OVER () AS rn")
            second.append("rn")
            third.append("rn")
        layer1 = "SELECT\n  " + ",\n  ".join(first) + f"\nFROM {source}"
        layer2 = "SELECT\n  " + ",\n  ".join(second) + f"\nFROM (\n{layer1}\n) l1"
        return "SELECT\n  " + ",\n  ".join(third) + f"\nFROM (\n{layer2}\n) l2"

    def _raw_keys(self) -> list[str]:
        """The key columns as each row has them: arm, period (or the raw date it is derived
        from), segments; they are cleaned after grouping (few groups), not on every row."""
        plan, q = self.plan, self.q
        keys = [q.column(plan.arm_column)]
        if plan.period_column:
            keys.append(q.column(plan.period_column))
        elif plan._derived:
            keys.append(self._day())
        return keys + [q.column(c) for c in plan.segment_columns]

    def grouped(self, source: str) -> str:
        """Layer 3: one row per group with every metric's sums (the wide form).

        Rows are grouped by their raw key values first; the keys are then cleaned (a blank or
        `NA` arm is missing, `ｃｏｎｔｒｏｌ` is `control`) and the few groups added up again.
        """
        plan = self.plan
        nkeys = len(plan.key_aliases)
        raw = [f"k{i}" for i in range(nkeys)]
        inner = [*raw, "d_w", "COUNT(*) AS n_rows"]
        keys, excluded = self._group_columns()
        outer = [f"{key} AS k{i}" for i, key in enumerate(keys)]
        # positional names inside: a segment may share its name with the period (`--by period`)
        outer += [f"{excluded} AS excluded", "SUM(n_rows) AS n_rows"]
        index = {key: i for i, key in enumerate(self.values)}
        rows = [*raw, "d_w"]
        for m, metric in enumerate(plan.metrics):
            rows += [f"{e} AS {n}{m}" for n, e in self._per_row(metric, index).items()]
        for m, metric in enumerate(plan.metrics):
            for name, expr in self._sums(m, len(metric.value_columns) == 2).items():
                if expr is None:  # not a ratio: no denominator sums to add up
                    outer.append(f"CAST(NULL AS {self.double}) AS m{m}_{name}")
                    continue
                inner.append(f"{expr} AS m{m}_{name}")
                outer.append(f"SUM(m{m}_{name}) AS m{m}_{name}")
        return (
            "SELECT\n  "
            + ",\n  ".join(outer)
            + "\nFROM (\nSELECT\n  "
            + ",\n  ".join(inner)
            + "\nFROM (\nSELECT\n  "
            + ",\n  ".join(rows)
            + f"\nFROM (\n{self.cleaned(source)}\n) c\n) u\nGROUP BY {', '.join([*raw, 'd_w'])}\n) r\n"
            + f"GROUP BY {', '.join([*keys, excluded])}"
        )

    def grouped_typed(self, source: str) -> str | None:
        """The wide form for DuckDB when every value column is typed: no per-row CASE at all.

        Equal to `grouped` as long as no value is NaN, infinite or (proportions) other than 0/1,
        and no ratio unit lacks only one of its two values: SUM and COUNT skip NULLs, and with
        `missing: zero` a missing value adds nothing to a sum. The last column is not 0 when a
        value or unit may break this; the caller then runs `grouped` instead. None when a value
        column is text.
        """
        plan = self.plan
        if self.dialect != "duckdb" or not all(c in plan.numeric for c, _p in self.values):
            return None
        nkeys = len(plan.key_aliases)
        q = self.q
        layer = [f"{e} AS k{i}" for i, e in enumerate(self._raw_keys())]
        layer.append(f"{self._day() if plan.window else 'NULL'} AS d_w")
        layer += [f"CAST({q.column(c)} AS DOUBLE) AS x{i}" for i, (c, _p) in enumerate(self.values)]
        index = {key: i for i, key in enumerate(self.values)}
        raw = [f"k{i}" for i in range(nkeys)]
        inner = [*raw, "d_w", "COUNT(*) AS n_rows"]
        keys, excluded = self._group_columns()
        outer = [f"{key} AS k{i}" for i, key in enumerate(keys)]
        outer += [f"{excluded} AS excluded", "SUM(n_rows) AS n_rows"]
        ratio_checks: list[str] = []
        for m, metric in enumerate(plan.metrics):
            cols = [index[c] for c in self._metric_columns(metric)]
            zero = metric.missing == "zero"
            if len(cols) == 1:
                x = f"x{cols[0]}"
                sums = {
                    "n": "COUNT(*)" if zero else f"COUNT({x})",
                    "sum": f"SUM({x})",
                    "sum_sq": f"SUM({x} * {x})",
                    "sum_den": None,
                    "sum_den_sq": None,
                    "sum_prod": None,
                    "missing": f"COUNT(*) - COUNT({x})",
                }
            else:
                x, y = (f"x{i}" for i in cols)
                sums = {
                    "n": "COUNT(*)" if zero else f"COUNT({x} * {y})",
                    "sum": f"SUM({x})",
                    "sum_sq": f"SUM({x} * {x})",
                    "sum_den": f"SUM({y})",
                    "sum_den_sq": f"SUM({y} * {y})",
                    "sum_prod": f"SUM({x} * {y})",
                    "missing": f"COUNT(*) - COUNT({x} * {y})",
                }
                if not zero:  # a unit with one of the two values: the sums above would count it
                    ratio_checks.append(f"COUNT({x}) + COUNT({y}) - 2 * COUNT({x} * {y})")
            sums["invalid"] = "0"
            for name, expr in sums.items():
                if expr is None:
                    outer.append(f"CAST(NULL AS DOUBLE) AS m{m}_{name}")
                    continue
                inner.append(f"{expr} AS m{m}_{name}")
                outer.append(f"SUM(m{m}_{name}) AS m{m}_{name}")
        # Aggregates, not FILTERed counts (which cost a third of the scan): |x − x²| is 0
        # only for 0 and 1 and is never negative, so its sum is 0 exactly when every value
        # is 0 or 1; a NaN or infinity makes Σx² non-finite (so does an overflow, which only
        # sends the rows through `grouped`, where it is reported precisely).
        anomalies = [
            f"CASE WHEN COALESCE(SUM(ABS(x{i} - x{i} * x{i})), 0) = 0 THEN 0 ELSE 1 END"
            if proportion
            else f"CASE WHEN isfinite(COALESCE(SUM(x{i} * x{i}), 0)) THEN 0 ELSE 1 END"
            for i, (_c, proportion) in enumerate(self.values)
        ]
        inner.append(f"{' + '.join(anomalies + ratio_checks)} AS anomalies")
        outer.append("SUM(anomalies) AS anomalies")
        return (
            "SELECT\n  "
            + ",\n  ".join(outer)
            + "\nFROM (\nSELECT\n  "
            + ",\n  ".join(inner)
            + "\nFROM (\nSELECT\n  "
            + ",\n  ".join(layer)
            + f"\nFROM {source}\n) c\nGROUP BY {', '.join([*raw, 'd_w'])}\n) r\n"
            + f"GROUP BY {', '.join([*keys, excluded])}"
        )

    def bad_rows(self, source: str, metric: MetricColumns, which: str) -> str:
        """Row numbers (1-based, table order) of the first rows with a `which` cell of `metric`."""
        index = {key: i for i, key in enumerate(self.values)}
        cols = self._metric_columns(metric)
        flag = "miss" if which == "missing" else "bad"
        cond = " OR ".join(f"{flag}{index[c]} = 1" for c in cols)
        names = ", ".join(f"{flag}{index[c]}" for c in cols)
        return (
            f"SELECT rn, {names} FROM (\n{self.cleaned(source, row_number=True)}\n) c\n"
            f"WHERE {cond} ORDER BY rn LIMIT 5"
        )

    # ---------------------------------------------------------------- pieces

    def _metric_columns(self, metric: MetricColumns) -> list[tuple[str, bool]]:
        return [(column, metric.kind == "proportion") for column in metric.value_columns]

    def _per_row(
        self, metric: MetricColumns, index: Mapping[tuple[str, bool], int]
    ) -> dict[str, str]:
        """A unit's part in one metric: value `y` (and denominator `d`), missing, invalid."""
        cols = [index[c] for c in self._metric_columns(metric)]
        vals = [
            f"COALESCE(v{i}, CASE WHEN miss{i} = 1 THEN 0 END)"
            if metric.missing == "zero"
            else f"v{i}"
            for i in cols
        ]
        if len(cols) == 1:
            return {"y": vals[0], "mm": f"miss{cols[0]}", "mb": f"bad{cols[0]}"}
        # a ratio, or a metric and its pre_column: a unit counts when both values can be read
        use = f"{vals[0]} IS NOT NULL AND {vals[1]} IS NOT NULL"
        return {
            "y": f"CASE WHEN {use} THEN {vals[0]} END",
            "d": f"CASE WHEN {use} THEN {vals[1]} END",
            "mm": f"GREATEST(miss{cols[0]}, miss{cols[1]})",
            "mb": f"GREATEST(bad{cols[0]}, bad{cols[1]})",
        }

    @staticmethod
    def _sums(m: int, ratio: bool) -> dict[str, str | None]:
        """The aggregates of metric `m` over the per-row columns (None: one column only; `ratio`:
        two, a ratio's or a metric's and its pre_column's)."""
        y, d = f"y{m}", f"d{m}"
        out: dict[str, str | None] = {
            "n": f"COUNT({y})",
            "sum": f"SUM({y})",
            "sum_sq": f"SUM({y} * {y})",
        }
        if ratio:
            out.update(
                sum_den=f"SUM({d})", sum_den_sq=f"SUM({d} * {d})", sum_prod=f"SUM({y} * {d})"
            )
        else:
            out.update(sum_den=None, sum_den_sq=None, sum_prod=None)
        out.update(missing=f"SUM(mm{m})", invalid=f"SUM(mb{m})")
        return out

    def _clean(self, expr: str) -> str:
        """A cell as trimmed half-width text (full-width digits, letters and signs folded;
        TRANSLATE only runs on text that is not plain ASCII, as it is slow)."""
        text = f"CAST({expr} AS {_TEXT[self.dialect]})"
        byte_length, char_length = _LENGTHS[self.dialect]
        return (
            f"TRIM(CASE WHEN {byte_length}({text}) = {char_length}({text}) THEN {text} "
            f"ELSE TRANSLATE({text}, '{_WIDE}', '{_NARROW}') END)"
        )

    def _tokens(self, words: Sequence[str]) -> str:
        return "(" + ", ".join(f"'{w}'" for w in words) + ")"

    def _key(self, column: str) -> str:
        """An arm, period or segment value; NULL when missing."""
        clean = self._clean(column)
        return (
            f"CASE WHEN {column} IS NULL OR LOWER({clean}) IN {self._tokens(MISSING_TOKENS)} "
            f"THEN NULL ELSE {clean} END"
        )

    def _number(self, t: str, proportion: bool) -> str:
        """The number a clean cell text `t` holds, or NULL (a word, a typo, a blank)."""
        plain = f"REPLACE(REPLACE({t}, ',', ''), '%', '')"
        scale = f"(CASE WHEN REPLACE({t}, '%', '') <> {t} THEN 100 ELSE 1 END)"
        number = (
            f"CASE WHEN {self._regex(t, _NUMBER)} THEN "
            f"{_SAFE_CAST[self.dialect]}({plain} AS {self.double}) / {scale} END"
        )
        if proportion:
            number = (
                f"CASE WHEN {t} IN {self._tokens(TRUE_WORDS)} THEN 1 "
                f"WHEN {t} IN {self._tokens(FALSE_WORDS)} THEN 0 ELSE {number} END"
            )
        return f"({number})"

    def _regex(self, expr: str, pattern: str) -> str:
        if self.dialect == "duckdb":
            return f"regexp_full_match({expr}, '{pattern}')"
        if self.dialect == "postgres":
            return f"{expr} ~ '^{pattern}$'"
        if self.dialect == "bigquery":
            return f"REGEXP_CONTAINS({expr}, r'^{pattern}$')"
        return f"{expr} RLIKE '^{pattern}$'"

    def _date(self, raw: str) -> str:
        """The window column as `YYYY-MM-DD` text, or NULL when it cannot be read: dates and
        timestamps, and text written 2026-11-05, 2026-11-5, 2026/11/5, 2026.11.05,
        2026年11月5日 or 20261105, a time after it or not."""
        text = f"TRANSLATE({self._clean(raw)}, '年月日/.', '-- --')"
        iso = f"SUBSTR({text}, 1, 10)"
        parts = [
            f"COALESCE({self._extract(text, _DATE_DASHED[i])}, {self._extract(text, _DATE_DIGITS[i])})"
            for i in range(3)
        ]
        spelled = (
            f"{parts[0]} || '-' || LPAD({parts[1]}, 2, '0') || '-' || LPAD({parts[2]}, 2, '0')"
        )
        return (
            f"(CASE WHEN {self._regex(iso, _DATE_ISO)} THEN {iso} "
            f"WHEN {parts[0]} IS NOT NULL THEN {spelled} END)"
        )

    def _extract(self, expr: str, pattern: str) -> str:
        """The text of the one group of `pattern` in `expr`, or NULL."""
        if self.dialect == "postgres":
            return f"substring({expr} from '{pattern}')"
        if self.dialect == "bigquery":
            return f"REGEXP_EXTRACT({expr}, r'{pattern}')"
        return f"NULLIF(regexp_extract({expr}, '{pattern}', 1), '')"

    def _day(self) -> str:
        """The window column's cell as text, kept per row: dates are read per group of rows
        (few distinct days) in the outer layer, not on every row (three regular expressions).
        Its first 11 characters hold any date form `_date` reads (2026年11月25日 is the
        longest); a time after them would make every row a group of its own."""
        column = self.q.column(self.plan.window.date_column)  # type: ignore[union-attr]
        return f"SUBSTR(TRIM(CAST({column} AS {_TEXT[self.dialect]})), 1, 11)"

    def _date_unreadable(self, raw: str) -> str:
        """The date cell holds something (not blank, NA…) that `_date` cannot read."""
        return f"{self._date(raw)} IS NULL AND {self._key(raw)} IS NOT NULL"

    def _within(self, span: tuple[dt.date, dt.date], raw: str) -> str:
        return f"{self._date(raw)} BETWEEN '{span[0].isoformat()}' AND '{span[1].isoformat()}'"

    def _derived_period(self, raw: str) -> str:
        window = self.plan.window
        assert window is not None and window.before_period and window.period
        before, after = (self.q.literal(label) for label in window.labels)
        return (
            f"CASE WHEN {self._within(window.before_period, raw)} THEN {before} "
            f"WHEN {self._within(window.period, raw)} THEN {after} END"
        )

    def _outside(self, raw: str) -> str:
        """0 inside a window; 1 outside every window or without a date; 2 with a date that
        cannot be read (an error, or left out with --skip-bad-rows)."""
        window = self.plan.window
        if window is None:
            return "0"
        spans = [s for s in (window.before_period, window.period) if s]
        inside = " OR ".join(self._within(s, raw) for s in spans) or "1 = 1"
        return f"CASE WHEN {inside} THEN 0 WHEN {self._date_unreadable(raw)} THEN 2 ELSE 1 END"

    def _group_key(self, i: int) -> str:
        """Group key `k{i}` cleaned after grouping; a derived period read from its raw date."""
        if i == 1 and self.plan._derived:
            return self._derived_period(f"k{i}")
        return self._key(f"k{i}")

    def _group_columns(self) -> tuple[list[str], str]:
        """The outer layer's keys and its `excluded` reason, from the raw keys and `d_w`."""
        nkeys = len(self.plan.key_aliases)
        keys = [self._group_key(i) for i in range(nkeys)]
        missing_key = " OR ".join(f"{key} IS NULL" for key in keys)
        out_w = self._outside("d_w") if self.plan.window else "0"
        return keys, _excluded(missing_key, out_w)

    def unreadable_dates(self, source: str) -> str:
        """Row numbers (1-based, table order) of the first rows whose date cannot be read."""
        return (
            f"SELECT rn FROM (\n{self.cleaned(source, row_number=True)}\n) c\n"
            f"WHERE {self._outside('d_w')} = 2 ORDER BY rn LIMIT 5"
        )


def _excluded(missing_key: str, out_w: str) -> str:
    """Why a group's rows are left out (`out_w` from `Query._outside`), or NULL."""
    return (
        f"CASE WHEN {out_w} = 2 THEN 'bad_date' WHEN {out_w} = 1 THEN 'outside' "
        f"WHEN {missing_key} THEN 'no_key' END"
    )


class Quoter:
    """Validates and quotes identifiers for one dialect."""

    def __init__(self, dialect: str, strict: bool = True) -> None:
        self.strict = strict
        if dialect not in _QUOTES:
            raise ValueError(
                _("unknown SQL dialect `{dialect}`; use one of {known}").format(
                    dialect=dialect, known=", ".join(DIALECTS)
                )
            )
        self.quote = _QUOTES[dialect]

    def column(self, name: str) -> str:
        """A quoted column name."""
        return self._quoted(name, _("column"))

    alias = column

    def table(self, name: str) -> str:
        """A quoted table name: table, schema.table or db.schema.table."""
        parts = name.split(".")
        if not 1 <= len(parts) <= 3:
            raise ValueError(
                _(
                    "table name `{name}` has too many parts; "
                    "write table, schema.table or db.schema.table"
                ).format(name=name)
            )
        return ".".join(self._quoted(part, _("table")) for part in parts)

    def literal(self, text: str) -> str:
        """A string literal: validated for a warehouse, escaped for a local file."""
        if self.strict:
            return _literal(text)
        return "'" + text.replace("'", "''") + "'"

    def _quoted(self, name: str, what: str) -> str:
        if not self.strict:  # DuckDB over a local file: headers are data, quote them safely
            return self.quote + name.replace(self.quote, self.quote * 2) + self.quote
        if not name or not _IDENTIFIER.match(name) or name != name.strip():
            raise ValueError(
                _(
                    "{what} name `{name}` is not a plain identifier; use letters, digits, `_`, "
                    "`-` or spaces (quotes, dots, semicolons and control characters are not allowed)"
                ).format(what=what, name=name)
            )
        return f"{self.quote}{name}{self.quote}"


def _literal(text: str) -> str:
    """A string literal for a metric id or label; they are restricted so no escaping is needed."""
    if not _IDENTIFIER.match(text):
        raise ValueError(
            _("metric id `{metric}` cannot be used in SQL; use letters, digits, `_` or `-`").format(
                metric=text
            )
        )
    return f"'{text}'"
