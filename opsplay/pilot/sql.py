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
_WIDE_CLASS = "[\uff01-\uff5e\u3000\u00a0\u2212]"  # every character of _WIDE (and a few more)
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
    integral: frozenset[str] = frozenset()  # of those, integer typed (Parquet's BIGINT…)
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
    plan = replace(plan, numeric=frozenset(), integral=frozenset(), local=False)  # portable SQL
    query = Query(plan, dialect)
    steps = query.steps(Quoter(dialect).table(table))
    return header(plan, dialect) + long_form(plan, dialect, steps)


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
    if dialect == "postgres":
        text += _("-- `OFFSET 0` makes PostgreSQL work out each step once per row.\n")
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


def long_form(plan: Plan, dialect: str, steps: list[Step]) -> str:
    """One row per group and metric: `g` (the last step, the wide form: one row per group) read
    once, each row repeated per metric (`m`) with that metric's columns.

    One pass over `g`: Spark and BigQuery compute a CTE again at every use (a UNION ALL of one
    branch per metric scanned the table once per metric)."""
    q = Quoter(dialect)
    names = list(dict.fromkeys(plan.key_aliases))  # `--by period` on did: one period column
    keys = [f"g.k{plan.key_aliases.index(name)} AS {q.alias(name)}" for name in names]
    keys += [f"m.metric AS {q.alias('metric')}", f"g.n_rows AS {q.alias('rows')}"]
    cols = [", ".join(keys)]
    for name in STAT_COLUMNS[1:]:
        each = " ".join(f"WHEN {i} THEN g.m{i}_{name}" for i in range(len(plan.metrics)))
        cols.append(f"CASE m.i {each} END AS {q.alias(name)}")
    cols.append(f"g.excluded AS {q.alias('excluded')}")
    ids = [(i, _literal(metric.id)) for i, metric in enumerate(plan.metrics)]
    if dialect == "bigquery":
        structs = ", ".join(f"STRUCT({i} AS i, {name} AS metric)" for i, name in ids)
        metrics = f"UNNEST([{structs}]) AS m"
    else:
        metrics = "(VALUES " + ", ".join(f"({i}, {name})" for i, name in ids) + ") AS m(i, metric)"
    order = ", ".join(str(i + 1) for i in range(len(names) + 1))
    return (
        _with(steps)
        + "\nSELECT "
        + ",\n  ".join(cols)
        + f"\nFROM g CROSS JOIN {metrics}\nORDER BY {order};\n"
    )


@dataclass(frozen=True)
class Step:
    """One named step (a CTE) of the query: `name AS (SELECT lines FROM source [GROUP BY])`."""

    name: str
    comment: str
    lines: tuple[str, ...]
    source: str
    group_by: str = ""
    fenced: bool = False  # `OFFSET 0`: PostgreSQL computes the step once per row

    def body(self) -> str:
        """The step's SELECT, one line per item group."""
        group = f"\n  GROUP BY {self.group_by}" if self.group_by else ""
        fence = " OFFSET 0" if self.fenced else ""
        return "  SELECT " + ",\n    ".join(self.lines) + f"\n  FROM {self.source}" + group + fence


def _with(steps: Sequence[Step]) -> str:
    """`WITH a AS (…), b AS (…)` with each step's comment on its first line."""
    parts = []
    for step in steps:
        comment = f"  -- {step.comment}" if step.comment else ""
        parts.append(f"{step.name} AS ({comment}\n{step.body()}\n)")
    return "WITH " + ",\n".join(parts)


def _nested(steps: Sequence[Step], last: str) -> str:
    """The steps as one query whose result is `last`'s rows (a subquery or a `fetch`)."""
    return _with(steps) + f"\nSELECT * FROM {last}"


class Query:
    """The steps of the query for one plan and dialect.

    Every text cell the query reads (keys, the window's date, metric values) goes through one
    expression, written once per dialect: in DuckDB `COLUMNS(*)` applies it to every column,
    in Spark `transform` to an array of the row's cells, in PostgreSQL and BigQuery a subquery
    over that array (`unnest`, `UNNEST`).
    """

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
        window = plan.window
        # A window without a span filters nothing: its date is not read.
        self.dated = window is not None and (
            plan._derived or bool(window.before_period or window.period)
        )

    # ---------------------------------------------------------------- the steps

    def _cells(self) -> tuple[list[tuple[str, str]], list[int | None]]:
        """The text cells of a row, (expression, name): keys `k{i}`, the window's day `d_w`,
        value columns `r{i}`; and where each value column's cell is (None: typed, a number)."""
        plan, q = self.plan, self.q
        keys: list[str | None] = [plan.arm_column]
        if plan.period_column:
            keys.append(plan.period_column)
        elif plan._derived:
            keys.append(None)  # derived from the date after grouping
        cells = [
            (q.column(column), f"k{i}")
            for i, column in enumerate([*keys, *plan.segment_columns])
            if column is not None
        ]
        if self.dated:
            cells.append((self._day(), "d_w"))
        values: list[int | None] = []
        for i, (column, _proportion) in enumerate(self.values):
            values.append(None if column in plan.numeric else len(cells))
            if column not in plan.numeric:
                cells.append((q.column(column), f"r{i}"))
        return cells, values

    def _cell(self, j: int, name: str) -> str:
        """Cell `j` (`name` in the cells step) of the clean step."""
        if self.dialect == "duckdb":
            return name
        if self.dialect == "postgres":
            return f"cell[{j + 1}]"
        if self.dialect == "bigquery":
            return f"cell[OFFSET({j})]"
        return f"cell[{j}]"

    def _row_steps(self, source: str, row_number: bool = False) -> list[Step]:
        """Per row: every text cell cleaned once (`clean`), then each value column's number
        `v{i}` with flags `miss{i}` and `bad{i}` (`valid`)."""
        q = self.q
        cells, values = self._cells()
        typed = [
            (f"CAST({q.column(column)} AS DOUBLE)", f"n{i}")
            for i, (column, _p) in enumerate(self.values)
            if values[i] is None
        ]
        if row_number:
            typed.append(("ROW_NUMBER() OVER ()", "rn"))
        passed = [name for _e, name in typed]
        first = [", ".join(f"{e} AS {name}" for e, name in cells)]
        first += [f"{e} AS {name}" for e, name in typed]
        steps = [Step("cells", _("the columns read"), tuple(first), source)]
        steps += self._clean_steps([name for _e, name in cells], passed)
        names = [name for _e, name in cells]
        renamed = [
            self._cell(j, name) if self.dialect == "duckdb" else f"{self._cell(j, name)} AS {name}"
            for j, name in enumerate(names)
            if not name.startswith("r")
        ]
        texts = [
            f"LOWER({self._cell(j, names[j])}) AS t{i}" if j is not None else f"n{i} AS t{i}"
            for i, j in enumerate(values)
        ]
        steps.append(
            Step("texts", _("keys; values in lower case"), (*renamed, *texts, *passed), "clean")
        )
        numbers, valid = [], []
        for i, ((_column, proportion), j) in enumerate(zip(self.values, values, strict=True)):
            if j is None:  # typed numbers (Parquet, DuckDB tables): no text pass
                miss, x = f"t{i} IS NULL OR isnan(t{i})", f"t{i}"
            else:
                miss, x = f"t{i} IS NULL", self._number(f"t{i}", proportion)
            numbers.append(f"CASE WHEN {miss} THEN 1 ELSE 0 END AS miss{i}, {x} AS x{i}")
            ok = f"x{i} IN (0, 1)" if proportion else f"x{i} BETWEEN -{_LARGEST} AND {_LARGEST}"
            valid.append(
                f"CASE WHEN {ok} THEN x{i} END AS v{i}, "
                f"CASE WHEN miss{i} = 1 OR {ok} THEN 0 ELSE 1 END AS bad{i}"
            )
        steps.append(Step("numbers", _("numbers; missing cells"), ("*", *numbers), "texts"))
        steps.append(Step("valid", _("readable numbers; invalid cells"), ("*", *valid), "numbers"))
        if self.dialect == "postgres":
            # PostgreSQL inlines a step into every use of its columns, and those uses nest
            # (a cell is used in each test of its number, each number in each sum): 43 s for
            # 30,000 rows. A fence keeps every step to once per row (0.7 s), still streaming.
            steps = [replace(step, fenced=step.name != "cells") for step in steps]
        return steps

    def _clean_steps(self, names: list[str], passed: list[str]) -> list[Step]:
        """Every text cell trimmed, full-width digits, letters and signs folded (TRANSLATE only
        on text that is not plain ASCII, as it is slow), and NULL when missing: said once."""
        folded = _("every cell as text, trimmed, full-width folded (once for all columns)")
        missing = _("a missing word (NA, N/A, NULL, -, …) as NULL")
        if self.dialect == "duckdb":
            every = "COLUMNS(*)" if not passed else f"COLUMNS(* EXCLUDE ({', '.join(passed)}))"
            text = (
                f"(SELECT {''.join(p + ', ' for p in passed)}CAST({every} AS VARCHAR) FROM cells) c"
            )
            return [
                Step("folded", folded, (*passed, self._fold(every)), text),
                Step("clean", missing, (*passed, self._unless_missing(every)), "folded"),
            ]
        text = _TEXT[self.dialect]
        array = ", ".join(f"CAST({name} AS {text})" for name in names)
        if self.dialect == "spark":
            each = (
                f"transform(transform(array({array}), c -> {self._fold('c')}), "
                f"c -> {self._unless_missing('c')})"
            )
        elif self.dialect == "postgres":
            each = (
                f"ARRAY(SELECT {self._unless_missing('f')} FROM (SELECT {self._fold('c')} AS f, i "
                f"FROM unnest(ARRAY[{array}]) WITH ORDINALITY AS u(c, i)) s ORDER BY i)"
            )
        else:
            each = (
                f"ARRAY(SELECT {self._unless_missing('f')} FROM (SELECT {self._fold('c')} AS f, i "
                f"FROM UNNEST([{array}]) AS c WITH OFFSET AS i) ORDER BY i)"
            )
        both = _(
            "every cell as text, trimmed, full-width folded, a missing word (NA, N/A, NULL, -, …) "
            "as NULL (once for all columns)"
        )
        return [Step("clean", both, (*passed, f"{each} AS cell"), "cells")]

    def cleaned(self, source: str, row_number: bool = False) -> str:
        """Per row: keys `k{i}`, the window's day `d_w`, and each value column's number `v{i}`
        with flags `miss{i}`, `bad{i}` (and `rn`, the row's number, with `row_number`)."""
        return _nested(self._row_steps(source, row_number), "valid")

    def steps(self, source: str) -> list[Step]:
        """The steps of the wide form, the last (`g`) one row per group with every metric's sums:
        arm, [period], [segments], excluded, n_rows, then per metric m{i}_n … m{i}_invalid."""
        plan = self.plan
        steps = self._row_steps(source)
        index = {key: i for i, key in enumerate(self.values)}
        units = [
            ", ".join(f"{e} AS {n}{m}" for n, e in self._per_row(metric, index).items())
            for m, metric in enumerate(plan.metrics)
        ]
        steps.append(
            Step(
                "units",
                _("each metric's part of a row"),
                ("*", *units),
                "valid",
                fenced=self.dialect == "postgres",
            )
        )
        nkeys = len(plan.key_aliases)
        derived = 1 if plan._derived else None
        keys = [f"k{i}" for i in range(nkeys) if i != derived]
        sums = [
            ", ".join(
                f"{expr} AS m{m}_{name}" if expr else f"CAST(NULL AS {self.double}) AS m{m}_{name}"
                for name, expr in self._sums(m, len(metric.value_columns) == 2).items()
            )
            for m, metric in enumerate(plan.metrics)
        ]
        if not self.dated:
            missing = " OR ".join(f"{key} IS NULL" for key in keys)
            excluded = f"CASE WHEN {missing} THEN 'no_key' END AS excluded"
            lines = (*keys, excluded, "COUNT(*) AS n_rows", *sums)
            return [
                *steps,
                Step("g", _("one row per group"), lines, "units", ", ".join(keys)),
            ]
        lines = (*keys, "d_w", "COUNT(*) AS n_rows", *sums)
        steps.append(
            Step("sums", _("one row per group and day"), lines, "units", ", ".join([*keys, "d_w"]))
        )
        day = self._date("d_w", folded=True)
        steps.append(Step("dated", _("the day read as a date"), ("*", f"{day} AS day"), "sums"))
        grouped = [self._derived_period("day") if i == derived else f"k{i}" for i in range(nkeys)]
        missing = " OR ".join(f"{key} IS NULL" for key in grouped)
        excluded = _excluded(missing, self._inside("day"), "day", "d_w IS NOT NULL")
        totals = [
            ", ".join(f"SUM(m{m}_{name}) AS m{m}_{name}" for name in STAT_COLUMNS[1:])
            for m in range(len(plan.metrics))
        ]
        lines = (
            *(f"{key} AS k{i}" for i, key in enumerate(grouped)),
            f"{excluded} AS excluded",
            "SUM(n_rows) AS n_rows",
            *totals,
        )
        by = ", ".join(str(i + 1) for i in range(nkeys + 1))
        return [*steps, Step("g", _("one row per group"), lines, "dated", by)]

    def grouped(self, source: str) -> str:
        """The wide form (`steps`): one row per group with every metric's sums."""
        steps = self.steps(source)
        return _with(steps[:-1]) + "\n" + steps[-1].body()

    def grouped_typed(self, source: str, exact: bool = True) -> str | None:
        """The wide form for DuckDB when every value column is typed: no per-row CASE at all.

        Equal to `grouped` as long as no value is NaN, infinite or (proportions) other than 0/1,
        and no ratio unit lacks only one of its two values: SUM and COUNT skip NULLs, and with
        `missing: zero` a missing value adds nothing to a sum. The last column is not 0 when a
        value breaks that (the caller then runs `grouped`); None when a value column is text.
        Rows are grouped by their raw key values first; the keys are then cleaned (a blank or
        `NA` arm is missing, `ｃｏｎｔｒｏｌ` is `control`) and the few groups added up again.

        With `exact`, integer columns are summed as integers (Σx and Σx² exact, no cast per
        row); a square or product beyond the integer range makes DuckDB raise an overflow, and
        the caller runs the query again with `exact=False` (every value as DOUBLE). With a
        ratio metric the last column but one is the least denominator (`lowest`).
        """
        plan = self.plan
        if self.dialect != "duckdb" or not all(c in plan.numeric for c, _p in self.values):
            return None
        nkeys = len(plan.key_aliases)
        q = self.q
        layer = [f"{e} AS k{i}" for i, e in enumerate(self._raw_keys())]
        if self.dated:  # (an undated query groups by its keys alone: a constant key costs a fifth)
            layer.append(f"{self._day()} AS d_w")
        # Integer columns are summed as they are (no cast per row); a 0/1 column's Σx² is Σx
        # (checked below).
        integers = {i for i, (c, _p) in enumerate(self.values) if exact and c in plan.integral}
        whole = {i for i in integers if self.values[i][1]}
        layer += [
            f"{q.column(c)} AS x{i}" if i in integers else f"CAST({q.column(c)} AS DOUBLE) AS x{i}"
            for i, (c, _p) in enumerate(self.values)
        ]
        index = {key: i for i, key in enumerate(self.values)}
        raw = [f"k{i}" for i in range(nkeys)] + (["d_w"] if self.dated else [])
        inner = [*raw, "COUNT(*) AS n_rows"]
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
                    "sum_sq": f"SUM({x})" if cols[0] in whole else f"SUM({x} * {x})",
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
        # An integer column holds only 0 and 1 when the OR of all its bits is 0 or 1: any other
        # value sets a higher bit (a negative one the sign bit). One aggregate, no cast, no
        # square. An integer is always finite.
        anomalies = [
            (
                f"CASE WHEN COALESCE(BIT_OR(x{i}), 0) BETWEEN 0 AND 1 THEN 0 ELSE 1 END"
                if i in whole
                else f"CASE WHEN COALESCE(SUM(ABS(x{i} - x{i} * x{i})), 0) = 0 THEN 0 ELSE 1 END"
            )
            if proportion
            else f"CASE WHEN isfinite(COALESCE(SUM(x{i} * x{i}), 0)) THEN 0 ELSE 1 END"
            for i, (_c, proportion) in enumerate(self.values)
            if not (i in integers and not proportion)
        ]
        # A ratio's denominator below 0 (an entry error the reader warns about): its least
        # value, one plain aggregate in this scan (a second read of a CSV cost 45 % more).
        denominators = sorted(
            {index[c] for metric in plan.metrics for c in self._metric_columns(metric)[1:]}
        )
        if denominators:
            lowest = ", ".join(f"MIN(x{i})" for i in denominators)
            inner.append(f"{lowest if len(denominators) == 1 else f'LEAST({lowest})'} AS lowest")
            outer.append("MIN(lowest) AS lowest")
        inner.append(f"{' + '.join(anomalies + ratio_checks) or '0'} AS anomalies")
        outer.append("SUM(anomalies) AS anomalies")
        return (
            "SELECT\n  "
            + ",\n  ".join(outer)
            + "\nFROM (\nSELECT\n  "
            + ",\n  ".join(inner)
            + "\nFROM (\nSELECT\n  "
            + ",\n  ".join(layer)
            + f"\nFROM {source}\n) c\nGROUP BY {', '.join(raw)}\n) r\n"
            + f"GROUP BY {', '.join(str(i + 1) for i in range(nkeys + 1))}"
        )

    def _raw_keys(self) -> list[str]:
        """The key columns as each row has them (typed path): arm, period (or the raw date it is
        derived from), segments; they are cleaned after grouping (few groups)."""
        plan, q = self.plan, self.q
        keys = [q.column(plan.arm_column)]
        if plan.period_column:
            keys.append(q.column(plan.period_column))
        elif plan._derived:
            keys.append(self._day())
        return keys + [q.column(c) for c in plan.segment_columns]

    def _group_columns(self) -> tuple[list[str], str]:
        """The typed path's keys and `excluded` reason, cleaned from the raw keys and `d_w`."""
        nkeys = len(self.plan.key_aliases)
        day = self._date("d_w") if self.dated else None
        keys = [
            self._derived_period(day)
            if i == 1 and self.plan._derived and day
            else self._key(f"k{i}")
            for i in range(nkeys)
        ]
        missing = " OR ".join(f"{key} IS NULL" for key in keys)
        if day is None:
            return keys, _excluded(missing)
        present = f"{self._key('d_w')} IS NOT NULL"
        return keys, _excluded(missing, self._inside(day), day, present)

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

    def unreadable_dates(self, source: str) -> str:
        """Row numbers (1-based, table order) of the first rows whose date cannot be read."""
        day = self._date("d_w", folded=True)
        return (
            f"SELECT rn FROM (\n{self.cleaned(source, row_number=True)}\n) c\n"
            f"WHERE d_w IS NOT NULL AND {day} IS NULL ORDER BY rn LIMIT 5"
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

    def _fold(self, text: str) -> str:
        return fold_wide(text, self.dialect)

    def _unless_missing(self, folded: str) -> str:
        """A folded cell, NULL when it is a missing word (any case)."""
        return f"CASE WHEN LOWER({folded}) IN {self._tokens(MISSING_TOKENS)} THEN NULL ELSE {folded} END"

    def _clean(self, expr: str) -> str:
        """A cell as trimmed half-width text (for the typed path's few groups)."""
        return self._fold(f"CAST({expr} AS {_TEXT[self.dialect]})")

    def _tokens(self, words: Sequence[str]) -> str:
        return "(" + ", ".join(f"'{w}'" for w in words) + ")"

    def _key(self, column: str) -> str:
        """An arm, period or segment value, cleaned; NULL when missing (the typed path's keys
        after grouping, and the segment count)."""
        return self._unless_missing(self._clean(column))

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

    def _date(self, raw: str, folded: bool = False) -> str:
        """The window column as `YYYY-MM-DD` text, or NULL when it cannot be read: dates and
        timestamps, and text written 2026-11-05, 2026-11-5, 2026/11/5, 2026.11.05,
        2026年11月5日 or 20261105, a time after it or not (`folded`: `raw` is a clean cell)."""
        text = f"TRANSLATE({raw if folded else self._clean(raw)}, '年月日/.', '-- --')"
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
        (few distinct days), not on every row (three regular expressions). Its first 11
        characters hold any date form `_date` reads (2026年11月25日 is the longest); a time
        after them would make every row a group of its own."""
        column = self.q.column(self.plan.window.date_column)  # type: ignore[union-attr]
        return f"SUBSTR(TRIM(CAST({column} AS {_TEXT[self.dialect]})), 1, 11)"

    def _inside(self, day: str) -> str:
        """The day falls in the window's before period or its period."""
        window = self.plan.window
        assert window is not None
        spans = [s for s in (window.before_period, window.period) if s]
        return " OR ".join(self._within(s, day) for s in spans)

    def _within(self, span: tuple[dt.date, dt.date], day: str) -> str:
        return f"{day} BETWEEN '{span[0].isoformat()}' AND '{span[1].isoformat()}'"

    def _derived_period(self, day: str) -> str:
        window = self.plan.window
        assert window is not None and window.before_period and window.period
        before, after = (self.q.literal(label) for label in window.labels)
        return (
            f"CASE WHEN {self._within(window.before_period, day)} THEN {before} "
            f"WHEN {self._within(window.period, day)} THEN {after} END"
        )


def _excluded(missing_key: str, inside: str = "", day: str = "", present: str = "") -> str:
    """Why a group's rows are left out, or NULL: a date that cannot be read (`day` NULL where
    the cell is `present`), a day outside the window (not `inside`), a key missing."""
    reasons = []
    if day:
        reasons.append(f"WHEN {day} IS NULL AND {present} THEN 'bad_date'")
        reasons.append(f"WHEN {day} IS NULL OR NOT ({inside}) THEN 'outside'")
    reasons.append(f"WHEN {missing_key} THEN 'no_key'")
    return "CASE " + " ".join(reasons) + " END"


def fold_wide(text: str, dialect: str) -> str:
    """Text trimmed, full-width digits, letters and signs folded (TRANSLATE, which is slow,
    only runs on text holding one of them: not on plain ASCII, nor on 上海)."""
    wide = contains(text, _WIDE_CLASS, dialect)
    return f"TRIM(CASE WHEN {wide} THEN TRANSLATE({text}, '{_WIDE}', '{_NARROW}') ELSE {text} END)"


def contains(expr: str, pattern: str, dialect: str) -> str:
    """Whether the text `expr` matches the regular expression `pattern`, in `dialect`."""
    if dialect == "duckdb":
        return f"regexp_matches({expr}, '{pattern}')"
    if dialect == "postgres":
        return f"{expr} ~ '{pattern}'"
    if dialect == "bigquery":
        return f"REGEXP_CONTAINS({expr}, r'{pattern}')"
    return f"{expr} RLIKE '{pattern}'"


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
