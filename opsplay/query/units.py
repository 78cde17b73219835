"""The one query: unit rows -> sufficient statistics, for DuckDB, PostgreSQL, BigQuery and Spark.

`pilot sql` prints it for a warehouse table; `pilot compare` runs the same text in DuckDB over
local files (and in the database with `--db`). Every cleaning rule of SPEC 7 lives here, once:
missing tokens (blank, NA, N/A, NULL, NaN, #N/A, -, —), full-width digits and letters, text
booleans (是/否, true/false, yes/no, Y/N), percentages (`35%`), thousands separators (`1,234`),
a value other than 0/1 in a proportion column counted as `invalid`, the pilot window.

The query reads the table once, in named steps a reviewer reads top to bottom: `cells` (the
columns it needs), `clean` (every cell trimmed, full-width folded, a missing word NULL: said
once for all columns), `texts` and `numbers` (the number in each value cell, its pattern said
once), `valid` (missing and invalid cells), `units` (a metric's part of a row, where it is not a
column as it is), `g` (grouped by arm, [period], [segments] and why a row is left out,
`excluded`), and the result has one row per group and metric:
`arm, [period], [segments…], metric, rows, n, sum, sum_sq, sum_den, sum_den_sq, sum_prod,
missing, invalid, excluded` — the sufficient-statistics export `pilot compare` reads. Every
identifier is validated and quoted for the dialect; nothing is pasted into the SQL unquoted.
No printed line is wider than 100 characters (`WIDTH`; a long name the user wrote aside).

Floor: the engine (queries). May import `opsplay.i18n` and `opsplay.query.columns` (the metric
columns and the window it is asked for); never the readers, which run it, nor statistics,
judging or presentation.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

from opsplay.i18n import N_, _

if TYPE_CHECKING:
    from opsplay.query.columns import MetricColumns, Window

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

# Cell normalisation, the same in every dialect (TRANSLATE exists in all four). The printed
# query writes the full-width alphabet in three short pieces (signs, capitals, small letters)
# joined with `||`, a constant every engine folds before it reads a row.
_WIDE_PIECES = (
    "０１２３４５６７８９．，＋－％／＃　\u00a0\u2212",
    "".join(chr(c) for c in range(0xFF21, 0xFF3B)),
    "".join(chr(c) for c in range(0xFF41, 0xFF5B)),
)
_WIDE = "".join(_WIDE_PIECES)
_NARROW = "0123456789.,+-%/#  -" + "ABCDEFGHIJKLMNOPQRSTUVWXYZ" + "abcdefghijklmnopqrstuvwxyz"
_WIDE_CLASS = "[\uff01-\uff5e\u3000\u00a0\u2212]"  # every character of _WIDE (and a few more)
MISSING_TOKENS = ("", "na", "n/a", "null", "nan", "#n/a", "-", "—")
TRUE_WORDS = ("1", "true", "yes", "y", "是")
FALSE_WORDS = ("0", "false", "no", "n", "否")
# A number after cleaning (lower case, no spaces): plain, decimal, 1,234.5, exponent, percent.
# At most 200 integer digits and a two-digit exponent: below 1e300, so that every engine can
# cast it (PostgreSQL raises an error on 1e999 where the others give NULL or infinity), and a
# number read from text is always finite. Two pieces: the digits, then exponent and percent.
_NUMBER = (
    r"[+-]?([0-9]{1,200}([.][0-9]*)?|[.][0-9]+|[0-9]{1,3}(,[0-9]{3}){1,66}([.][0-9]*)?)",
    r"(e[+-]?[0-9]{1,2})?%?",
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
_LARGEST = "1.7976931348623157e308"  # the largest float; a typed cell beyond it (inf) is invalid
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
    text = _(first).format(dialect=dialect)
    if Query(plan, dialect).dated:
        text += _(
            "-- Missing cells (blank, NA, N/A, NULL, NaN, #N/A, -, —) leave only their metric "
            "(`missing`);\n"
            "-- unreadable cells are counted in `invalid`; rows without arm, period or segment, "
            "outside the\n"
            "-- pilot window or with an unreadable date (`bad_date`), are counted in rows with "
            "`excluded`\n"
            "-- set. Save the result as CSV and pass it to `opsplay pilot compare`.\n"
        )
    else:
        text += _(
            "-- Missing cells (blank, NA, N/A, NULL, NaN, #N/A, -, —) leave only their metric "
            "(`missing`);\n"
            "-- unreadable cells are counted in `invalid`; rows without arm, period or segment "
            "are counted\n"
            "-- in rows with `excluded` set. Save the result as CSV and pass it to "
            "`opsplay pilot compare`.\n"
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


WIDTH = 100  # the longest line of the printed query (a long name the user wrote aside)
_PAIR_STATS = ("sum_den", "sum_den_sq", "sum_prod")  # the sums of a metric with two columns


def _has(metric: MetricColumns, name: str) -> bool:
    """Whether a metric has the figure `name` (Σd, Σd², Σyd need its second column)."""
    return name not in _PAIR_STATS or len(metric.value_columns) == 2


def _flow(
    words: Sequence[str],
    lead: str,
    indent: str,
    sep: str = ", ",
    end: str = "",
    width: int = WIDTH,
) -> list[str]:
    """`words` joined by `sep`, filled into lines of at most `width` characters: the first line
    starts with `lead`, the next ones with `indent`. A word laid out on several lines starts a
    line (or follows the lead) and ends one, its lines kept as they are after `indent`. `end`
    follows the last word."""
    lines: list[str] = []
    line, fresh = lead, True  # fresh: nothing after the line's lead yet
    for k, word in enumerate(words):
        parts = (word + (end if k == len(words) - 1 else sep.rstrip())).split("\n")
        if not fresh and (len(parts) > 1 or len(line) + 1 + len(parts[0]) > width):
            lines.append(line)
            line, fresh = indent, True
        elif fresh and line.strip() and len(line) + len(parts[0]) > width:  # past the lead
            lines.append(line.rstrip())
            line = indent
        line += ("" if fresh else " ") + parts[0]
        fresh = False
        if len(parts) > 1:
            lines += [line, *(indent + part for part in parts[1:])]
            line, fresh = indent, True
    if not fresh:
        lines.append(line)
    return lines


def _shift(text: str, by: int) -> str:
    """A text laid out on several lines, its lines after the first moved right by `by`."""
    return text.replace("\n", "\n" + " " * by)


def long_form(plan: Plan, dialect: str, steps: list[Step]) -> str:
    """One row per group and metric: `g` (the last step, the wide form: one row per group) read
    once, each row repeated per metric (`m`) with that metric's columns.

    One pass over `g`: Spark and BigQuery compute a CTE again at every use (a UNION ALL of one
    branch per metric scanned the table once per metric)."""
    q = Quoter(dialect)
    names = list(dict.fromkeys(plan.key_aliases))  # `--by period` on did: one period column
    keys = [f"g.k{plan.key_aliases.index(name)} AS {q.alias(name)}" for name in names]
    # BigQuery: the metrics an array, each with its place (`WITH OFFSET`); elsewhere a VALUES list
    index, metric = ("i", "metric") if dialect == "bigquery" else ("m.i", "m.metric")
    keys += [f"{metric} AS {q.alias('metric')}", f"g.n_rows AS {q.alias('rows')}"]
    lines = _flow(keys, "SELECT ", "  ", end=",")
    for name in STAT_COLUMNS[1:]:
        whens = [f"WHEN {i} THEN g.{name}{i}" for i, m in enumerate(plan.metrics) if _has(m, name)]
        alias = f"AS {q.alias(name)}"
        if whens:
            words = [f"CASE {index}", *whens, f"END {alias}"]
            lines += _flow(words, "  ", "    ", sep=" ", end=",")
        else:
            lines.append(f"  CAST(NULL AS {_DOUBLE.get(dialect, 'DOUBLE')}) {alias},")
    lines.append(f"  g.excluded AS {q.alias('excluded')}")
    ids = [(i, _literal(metric.id)) for i, metric in enumerate(plan.metrics)]
    if dialect == "bigquery":
        literals = [name for _i, name in ids]
        lines += _flow(
            literals, "FROM g CROSS JOIN UNNEST([", "  ", end="]) AS metric WITH OFFSET AS i"
        )
    else:
        values = [f"({i}, {name})" for i, name in ids]
        lines += _flow(values, "FROM g CROSS JOIN (VALUES ", "  ", end=") AS m(i, metric)")
    order = ", ".join(str(i + 1) for i in range(len(names) + 1))
    return _with(steps) + "\n" + "\n".join(lines) + f"\nORDER BY {order};\n"


@dataclass(frozen=True)
class Step:
    """One named step (a CTE) of the query: `name AS (SELECT lines FROM source [GROUP BY])`.

    `lines` are groups of items: each group starts a line and its items fill lines of at most
    WIDTH characters (an item laid out on several lines keeps its layout)."""

    name: str
    comment: str
    lines: tuple[str | tuple[str, ...], ...]
    source: str
    group_by: str = ""
    fenced: bool = False  # `OFFSET 0`: PostgreSQL computes the step once per row

    def body(self) -> str:
        """The step's SELECT, each group of items from a line of its own."""
        groups = [(g,) if isinstance(g, str) else g for g in self.lines]
        groups = [g for g in groups if g]
        lead = "  SELECT "
        if groups == [("*",)]:  # every column of the source (a join)
            return f"  SELECT * FROM {self.source}" + (" OFFSET 0" if self.fenced else "")
        if groups[0] == ("*",) and len(groups) > 1:  # `SELECT *,` and the first group after it
            groups, lead = groups[1:], "  SELECT *, "
        out: list[str] = []
        for n, group in enumerate(groups):
            end = "" if n == len(groups) - 1 else ","
            out += _flow(group, lead if n == 0 else "    ", "    ", end=end)
        group_by = f"\n  GROUP BY {self.group_by}" if self.group_by else ""
        fence = " OFFSET 0" if self.fenced else ""
        return "\n".join(out) + f"\n  FROM {self.source}" + group_by + fence


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
    over that array (`unnest`, `UNNEST`). The number in a value cell is read the same way, once
    for all value columns.
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
        value columns `r{i}` (a proportion's `p{i}`); and where each value column's cell is
        (None: typed, a number)."""
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
        for i, (column, proportion) in enumerate(self.values):
            values.append(None if column in plan.numeric else len(cells))
            if column not in plan.numeric:
                cells.append((q.column(column), f"{'p' if proportion else 'r'}{i}"))
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
        """Per row: every text cell cleaned once (`clean`), the number of every value cell read
        once (`numbers`), then each value column's number `v{i}` with flags `miss{i}` and
        `bad{i}` (`valid`)."""
        q = self.q
        cells, values = self._cells()
        typed = [
            (f"CAST({q.column(column)} AS DOUBLE)", f"num{i}")
            for i, (column, _p) in enumerate(self.values)
            if values[i] is None
        ]
        if row_number:
            typed.append(("ROW_NUMBER() OVER ()", "rn"))
        passed = [name for _e, name in typed]
        first = tuple(f"{e} AS {name}" for e, name in [*cells, *typed])
        steps = [Step("cells", _("the columns read"), (first,), source)]
        names = [name for _e, name in cells]
        steps += self._clean_steps(names, passed)
        keys = [
            self._cell(j, name) if self.dialect == "duckdb" else f"{self._cell(j, name)} AS {name}"
            for j, name in enumerate(names)
            if name.startswith(("k", "d_"))
        ]
        # the value cells read as text: (value column, its cell, whether a proportion)
        read = [
            (i, j, p)
            for i, ((_c, p), j) in enumerate(zip(self.values, values, strict=True))
            if j is not None
        ]
        if self.dialect == "duckdb":  # said once: a proportion's cells are `p{i}`, others `r{i}`
            texts = [self._each(_lower, [], "r", "t")] if any(not p for *_n, p in read) else []
            yes_no = self._each(lambda cell: self._words(_lower(cell)), [], "p", "t")
            words = [yes_no] if any(p for *_n, p in read) else []
        else:
            lower = {i: _lower(self._cell(j, names[j])) for i, j, _p in read}
            texts = [f"{lower[i]} AS t{i}" for i, _j, p in read if not p]
            words = [f"{self._words(lower[i])} AS t{i}" for i, _j, p in read if p]
        comment = _("keys; values in lower case, a proportion's yes/no words as 1/0")
        steps.append(Step("texts", comment, ((*keys, *texts, *words, *passed),), "clean"))
        numbered = [i for i, _j, _p in read]
        if numbered:
            lowered = [f"t{i}" for i in numbered]
            comment = _("each value's number (1,234.5, 35%, 1e3), read once for all columns")
            if self.dialect == "duckdb":
                missing, number = (
                    self._each(e, lowered, "t", n)
                    for e, n in ((_null_flag, "miss"), (self._number, "x"))
                )
                comment = _("missing cells; each value's number (1,234.5, 35%, 1e3), read once")
                steps.append(Step("numbers", comment, ("*", missing, number), "texts"))
            elif self.dialect == "postgres":
                # A lateral aggregate, not a subquery among the columns: PostgreSQL runs it once
                # a row either way, and the clean-up stays the one subquery of the plan.
                array = _array("ARRAY[", lowered, "]) WITH ORDINALITY AS u(t, i)) n", 16, base=0)
                source = (
                    "texts CROSS JOIN LATERAL (SELECT array_agg("
                    f"{_shift(self._number('t'), 6)} ORDER BY i) AS x\n"
                    f"    FROM unnest({array}"
                )
                steps.append(Step("numbers", comment, ("*",), source))
            else:
                number = self._each(self._number, lowered, "t", "x")
                steps.append(Step("numbers", comment, ("*", number), "texts"))
        valid = []
        for i, ((_column, proportion), j) in enumerate(zip(self.values, values, strict=True)):
            if j is None:  # typed numbers (Parquet, DuckDB tables): NaN missing, infinity invalid
                x = f"num{i}"
                missing = f"{x} IS NULL OR isnan({x})"
                ok = f"{x} IN (0, 1)" if proportion else f"{x} BETWEEN -{_LARGEST} AND {_LARGEST}"
                value = f"CASE WHEN {ok} THEN {x} END AS v{i}"
            else:  # a number read from text is finite (`_NUMBER`): only a proportion is checked
                x = self._x(numbered.index(i), f"x{i}")
                missing = f"miss{i} = 1" if self.dialect == "duckdb" else f"t{i} IS NULL"
                ok = f"{x} IN (0, 1)" if proportion else f"{x} IS NOT NULL"
                value = f"CASE WHEN {ok} THEN {x} END AS v{i}" if proportion else f"{x} AS v{i}"
            flag = f"CASE WHEN {missing} THEN 1 ELSE 0 END AS miss{i}"
            bad = f"CASE WHEN {missing} OR {ok} THEN 0 ELSE 1 END AS bad{i}"
            said = j is not None and self.dialect == "duckdb"  # `miss{i}` in `numbers`
            valid += [value, bad] if said else [flag, value, bad]
        comment = (
            _("readable numbers; invalid cells")
            if all(j is not None for j in values) and self.dialect == "duckdb"
            else _("missing cells, readable numbers, invalid cells")
        )
        steps.append(Step("valid", comment, (("*", *valid),), steps[-1].name))
        if self.dialect == "postgres":
            # PostgreSQL inlines a step into every use of its columns, and those uses nest
            # (a cell is used in each test of its number, each number in each sum): 43 s for
            # 30,000 rows. A fence keeps every step to once per row (0.7 s), still streaming.
            steps = [replace(step, fenced=step.name != "cells") for step in steps]
        return steps

    def _clean_steps(self, names: list[str], passed: list[str]) -> list[Step]:
        """Every text cell trimmed, full-width digits, letters and signs folded (TRANSLATE only
        on text that is not plain ASCII, as it is slow), and NULL when missing: said once."""
        if self.dialect == "duckdb":
            every = "COLUMNS(*)" if not passed else f"COLUMNS(* EXCLUDE ({', '.join(passed)}))"
            folded = _("every cell as text, trimmed, full-width folded (once for all columns)")
            missing = _("a missing word (NA, N/A, NULL, -, …) as NULL")
            text = (
                f"(SELECT {''.join(p + ', ' for p in passed)}CAST({every} AS VARCHAR) FROM cells) c"
            )
            return [
                Step("folded", folded, (tuple(passed), self._fold(every)), text),
                Step("clean", missing, (tuple(passed), self._unless_missing(every)), "folded"),
            ]
        names = [self._text(name) for name in names]  # an array's elements share one type
        if self.dialect == "spark":
            each = (
                f"transform(transform({_array('array(', names, '), c ->', 29)}\n"
                f"    {_shift(self._fold('c'), 4)}),\n"
                f"  c -> {_shift(self._unless_missing('c'), 2)})"
            )
        else:
            unnest = (
                f"unnest({_array('ARRAY[', names, ']) WITH ORDINALITY AS u(c, i)) s', 20)}"
                if self.dialect == "postgres"
                else f"UNNEST({_array('[', names, ']) AS c WITH OFFSET AS i)', 20)}"
            )
            each = (
                f"ARRAY(SELECT {_shift(self._unless_missing('f'), 2)}\n"
                f"  FROM (SELECT {_shift(self._fold('c'), 4)} AS f, i\n"
                f"    FROM {unnest}\n  ORDER BY i)"
            )
        both = _("every cell trimmed, full-width folded, NULL when a missing word (once for all)")
        return [Step("clean", both, (tuple(passed), f"{each} AS cell"), "cells")]

    def _each(self, expr: Callable[[str], str], names: list[str], prefix: str, out: str) -> str:
        """`expr` of each of the cells `names` (named `{prefix}{i}`), written once: in DuckDB
        the columns `{out}{i}` (`COLUMNS` renames by the pattern's group), in Spark and BigQuery
        the array `{out}` (see `_x`). (PostgreSQL: a lateral aggregate, in `_row_steps`.)"""
        if self.dialect == "duckdb":
            every = f"COLUMNS('^{prefix}([0-9]+)$')"
            return f'{expr(every)} AS "{out}\\1"'
        if self.dialect == "spark":
            array = _array("array(", names, "), t ->", 22)
            return f"transform({array}\n  {_shift(expr('t'), 2)}) AS {out}"
        close = f"]) AS t WITH OFFSET AS i ORDER BY i) AS {out}"
        return f"ARRAY(SELECT {_shift(expr('t'), 2)}\n  FROM UNNEST({_array('[', names, close, 18)}"

    def _x(self, k: int, name: str) -> str:
        """Element `k` of the array `_each` made (DuckDB: the column `name`)."""
        if self.dialect == "duckdb":
            return name
        if self.dialect == "postgres":
            return f"x[{k + 1}]"
        if self.dialect == "bigquery":
            return f"x[OFFSET({k})]"
        return f"x[{k}]"

    def cleaned(self, source: str, row_number: bool = False) -> str:
        """Per row: keys `k{i}`, the window's day `d_w`, and each value column's number `v{i}`
        with flags `miss{i}`, `bad{i}` (and `rn`, the row's number, with `row_number`)."""
        return _nested(self._row_steps(source, row_number), "valid")

    def steps(self, source: str) -> list[Step]:
        """The steps of the wide form, the last (`g`) one row per group with every metric's sums:
        arm, [period], [segments], excluded, n_rows, then per metric `{figure}{m}` (n0, sum0, …,
        invalid0; Σd, Σd² and Σyd only for a metric with two columns)."""
        plan = self.plan
        steps = self._row_steps(source)
        index = {key: i for i, key in enumerate(self.values)}
        parts = [self._per_row(metric, index) for metric in plan.metrics]
        # A metric whose part of a row is a cleaned column as it is (`v0`, `miss0`, `bad0`) is
        # summed from it; the others get their columns in `units` (a ratio, a pre_column, zero).
        plain = [all(_NAME.match(e) for e in part.values()) for part in parts]
        units = [
            tuple(f"{e} AS {n}{m}" for n, e in part.items())
            for m, part in enumerate(parts)
            if not plain[m]
        ]
        if units:
            fenced = self.dialect == "postgres"
            comment = _("each metric's part of a row")
            steps.append(Step("units", comment, ("*", *units), "valid", fenced=fenced))
        source = steps[-1].name
        named = [part if plain[m] else {n: f"{n}{m}" for n in part} for m, part in enumerate(parts)]
        sums = tuple(
            f"{expr} AS {name}{m}"
            for m, part in enumerate(named)
            for name, expr in self._sums(part).items()
        )
        nkeys = len(plan.key_aliases)
        derived = 1 if plan._derived else None
        keys = [f"k{i}" for i in range(nkeys) if i != derived]
        missing = " OR ".join(f"{key} IS NULL" for key in keys)
        if not self.dated:
            excluded = f"CASE WHEN {missing} THEN 'no_key' END AS excluded"
            lines = ((*keys, excluded, "COUNT(*) AS n_rows"), sums)
            return [*steps, Step("g", _("one row per group"), lines, source, ", ".join(keys))]
        lines = ((*keys, "d_w", "COUNT(*) AS n_rows"), sums)
        by = ", ".join([*keys, "d_w"])
        steps.append(Step("sums", _("one row per group and day"), lines, source, by))
        spelled = tuple(
            f"{part} AS {name}" for part, name in zip(self._date_parts("dt"), _YMD, strict=True)
        )
        comment = _("the day's year, month and day as written (2026-11-5, 2026年11月5日, 20261105)")
        source = f"(SELECT *, {self._spelled('d_w')} AS dt FROM sums) s"
        steps.append(Step("spelled", comment, ("*", *spelled), source))
        day = self._date_from("dt", _YMD)
        steps.append(Step("dated", _("the day read as a date"), ("*", f"{day} AS day"), "spelled"))
        # A derived period is NULL only outside the window, which `excluded` says first.
        grouped = [
            f"{self._derived_period('day')} AS k{i}" if i == derived else f"k{i}"
            for i in range(nkeys)
        ]
        excluded = _excluded(missing, self._inside("day"), "day", "d_w IS NOT NULL")
        totals = tuple(
            f"SUM({name}{m}) AS {name}{m}"
            for m, metric in enumerate(plan.metrics)
            for name in STAT_COLUMNS[1:]
            if _has(metric, name)
        )
        lines = ((*grouped, f"{excluded} AS excluded", "SUM(n_rows) AS n_rows"), totals)
        by = ", ".join(str(i + 1) for i in range(nkeys + 1))
        return [*steps, Step("g", _("one row per group"), lines, "dated", by)]

    def grouped(self, source: str) -> str:
        """The wide form (`steps`): one row per group, keys, excluded, n_rows and every metric's
        eight figures (NULL where a metric has none)."""
        plan = self.plan
        columns = [f"k{i}" for i in range(len(plan.key_aliases))] + ["excluded", "n_rows"]
        for m, metric in enumerate(plan.metrics):
            columns += [
                f"{name}{m}" if _has(metric, name) else f"CAST(NULL AS {self.double})"
                for name in STAT_COLUMNS[1:]
            ]
        return _with(self.steps(source)) + f"\nSELECT {', '.join(columns)} FROM g"

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
        vals = [  # `missing: zero`: a missing value is 0 (`v` is NULL where a cell is missing)
            f"CASE WHEN miss{i} = 1 THEN 0 ELSE v{i} END" if metric.missing == "zero" else f"v{i}"
            for i in cols
        ]
        if len(cols) == 1:
            return {"y": vals[0], "mm": f"miss{cols[0]}", "mb": f"bad{cols[0]}"}
        # a ratio, or a metric and its pre_column: a unit counts when both values can be read
        use = f"{vals[0]} IS NOT NULL AND {vals[1]} IS NOT NULL"
        if len(use) > 60:
            use = f"{vals[0]} IS NOT NULL\n    AND {vals[1]} IS NOT NULL\n "
        return {
            "y": f"CASE WHEN {use} THEN {vals[0]} END",
            "d": f"CASE WHEN {use} THEN {vals[1]} END",
            "mm": f"GREATEST(miss{cols[0]}, miss{cols[1]})",
            "mb": f"GREATEST(bad{cols[0]}, bad{cols[1]})",
        }

    @staticmethod
    def _sums(part: Mapping[str, str]) -> dict[str, str]:
        """The figures of one metric from its part of a row (`y`, [`d`], `mm`, `mb` named as
        columns): Σd, Σd² and Σyd only with a second column `d`."""
        y = part["y"]
        out = {"n": f"COUNT({y})", "sum": f"SUM({y})", "sum_sq": f"SUM({y} * {y})"}
        if "d" in part:
            d = part["d"]
            out.update(
                sum_den=f"SUM({d})", sum_den_sq=f"SUM({d} * {d})", sum_prod=f"SUM({y} * {d})"
            )
        out.update(missing=f"SUM({part['mm']})", invalid=f"SUM({part['mb']})")
        return out

    def _fold(self, text: str) -> str:
        return _folded(text, self.dialect, wrap=True)

    def _unless_missing(self, folded: str) -> str:
        """A folded cell, NULL when it is a missing word (any case)."""
        return (
            f"CASE WHEN LOWER({folded}) IN {self._tokens(MISSING_TOKENS)}\n"
            f"  THEN NULL ELSE {folded} END"
        )

    def _text(self, expr: str) -> str:
        return f"CAST({expr} AS {_TEXT[self.dialect]})"

    def _clean(self, expr: str) -> str:
        """A cell as trimmed half-width text (for the typed path's few groups)."""
        return self._fold(self._text(expr))

    def _tokens(self, words: Sequence[str]) -> str:
        return "(" + ", ".join(f"'{w}'" for w in words) + ")"

    def _key(self, column: str) -> str:
        """An arm, period or segment value, cleaned; NULL when missing (the typed path's keys
        after grouping, and the segment count)."""
        return self._unless_missing(self._clean(column))

    def _words(self, t: str) -> str:
        """A proportion's lower-case cell `t` with its yes/no words (是/否, true/false, y/n)
        written 1 and 0."""
        yes, no = self._tokens(TRUE_WORDS), self._tokens(FALSE_WORDS)
        other = " ELSE" if len(t) < 20 else "\n  ELSE"  # (`LOWER(cell[OFFSET(4)])`, …)
        return f"CASE WHEN {t} IN {yes} THEN '1'\n  WHEN {t} IN {no} THEN '0'{other} {t} END"

    def _number(self, t: str) -> str:
        """The number a clean, lower-case cell text `t` holds, or NULL (a word, a typo, a blank).
        `35%` is 0.35 (the pattern allows `%` only at the end)."""
        plain = f"REPLACE(REPLACE({t}, ',', ''), '%', '')"
        return (
            f"CASE WHEN {self._regex(t, _NUMBER)}\n"
            f"  THEN {_SAFE_CAST[self.dialect]}({plain} AS {self.double})\n"
            f"    / CASE WHEN RIGHT({t}, 1) = '%' THEN 100 ELSE 1 END END"
        )

    def _regex(self, expr: str, pattern: str | tuple[str, ...]) -> str:
        """Whether the whole of `expr` matches `pattern` (pieces: one a line, joined by `||`)."""
        pieces = [pattern] if isinstance(pattern, str) else list(pattern)
        if self.dialect != "duckdb":  # anchored: the others search
            pieces[0] = "^" + pieces[0]
            pieces[-1] += "$"
        quote = "r'" if self.dialect == "bigquery" else "'"
        text = "\n    || ".join(f"{quote}{piece}'" for piece in pieces)
        gap = "\n    " if len(pieces) > 1 else " "  # pieces: one a line
        if self.dialect == "duckdb":
            return f"regexp_full_match({expr},{gap}{text})"
        if self.dialect == "bigquery":
            return f"REGEXP_CONTAINS({expr},{gap}{text})"
        operator = "~" if self.dialect == "postgres" else "RLIKE"
        return (
            f"{expr} {operator} ({gap}{text})" if len(pieces) > 1 else f"{expr} {operator} {text}"
        )

    def _spelled(self, text: str) -> str:
        """A date's text with `年月日/.` written `-` (and a space for 日)."""
        return f"TRANSLATE({text}, '年月日/.', '-- --')"

    def _date_parts(self, text: str) -> list[str]:
        """Year, month and day of a spelled date as written (2026-11-5, 20261105), or NULL."""
        return [
            f"COALESCE({self._extract(text, dashed)},\n  {self._extract(text, digits)})"
            for dashed, digits in zip(_DATE_DASHED, _DATE_DIGITS, strict=True)
        ]

    def _date_from(self, text: str, parts: Sequence[str]) -> str:
        """A spelled date `text` as `YYYY-MM-DD`, from its first ten characters or its `parts`."""
        iso = f"SUBSTR({text}, 1, 10)"
        year, month, day = parts
        return (
            f"CASE WHEN {self._regex(iso, _DATE_ISO)}\n    THEN {iso}\n"
            f"  WHEN {year} IS NOT NULL\n"
            f"    THEN {year} || '-' || LPAD({month}, 2, '0') || '-' || LPAD({day}, 2, '0')\n"
            "END"
        )

    def _date(self, raw: str, folded: bool = False) -> str:
        """The window column as `YYYY-MM-DD` text, or NULL when it cannot be read: dates and
        timestamps, and text written 2026-11-05, 2026-11-5, 2026/11/5, 2026.11.05,
        2026年11月5日 or 20261105, a time after it or not (`folded`: `raw` is a clean cell)."""
        text = self._spelled(raw if folded else self._clean(raw))
        parts = [_shift(part, 4) for part in self._date_parts(text)]
        return f"({self._date_from(text, parts)})"

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
        return f"SUBSTR(TRIM({self._text(column)}), 1, 11)"

    def _inside(self, day: str) -> str:
        """The day falls in the window's before period or its period (one span a line)."""
        window = self.plan.window
        assert window is not None
        spans = [s for s in (window.before_period, window.period) if s]
        return "\n    OR ".join(self._within(s, day) for s in spans)

    def _within(self, span: tuple[dt.date, dt.date], day: str) -> str:
        return f"{day} BETWEEN '{span[0].isoformat()}' AND '{span[1].isoformat()}'"

    def _derived_period(self, day: str) -> str:
        window = self.plan.window
        assert window is not None and window.before_period and window.period
        before, after = (self.q.literal(label) for label in window.labels)
        return (
            f"CASE WHEN {self._within(window.before_period, day)} THEN {before}\n"
            f"  WHEN {self._within(window.period, day)} THEN {after} END"
        )


_NAME = re.compile(r"^\w+$")  # a column as it is, not an expression


def _lower(cell: str) -> str:
    return f"LOWER({cell})"


def _null_flag(cell: str) -> str:
    """1 where a cell is missing (NULL after cleaning), else 0."""
    return f"CASE WHEN {cell} IS NULL THEN 1 ELSE 0 END"


_YMD = ("yy", "mo", "dd")  # the columns of a spelled day's year, month and day


def _array(open_: str, items: Sequence[str], close: str, at: int, base: int = 4) -> str:
    """`open_ items close` starting at column `at` of its line: on that line, or the items over
    several lines, two columns in from the opening (`base`: the indentation the text's next
    lines get where it is placed; a step's items get 4)."""
    lead, indent = " " * (at - base), " " * (at + 2 - base)
    lines = _flow(items, lead + open_, indent, end=close, width=WIDTH - base)
    return "\n".join([lines[0][len(lead) :], *lines[1:]])


def _excluded(missing_key: str, inside: str = "", day: str = "", present: str = "") -> str:
    """Why a group's rows are left out, or NULL: a date that cannot be read (`day` NULL where
    the cell is `present`), a day outside the window (not `inside`), a key missing."""
    reasons = []
    if day:
        reasons.append(f"WHEN {day} IS NULL AND {present} THEN 'bad_date'")
        reasons.append(f"WHEN {day} IS NULL OR NOT ({inside}) THEN 'outside'")
    reasons.append(f"WHEN {missing_key} THEN 'no_key'")
    return "CASE " + "\n  ".join(reasons) + " END"


def _folded(text: str, dialect: str, wrap: bool = False) -> str:
    """`fold_wide`; `wrap`: laid out on lines of their own, the full-width alphabet in three
    pieces (signs and digits, capitals, small letters)."""
    wide = contains(text, _WIDE_CLASS, dialect)
    if not wrap:
        return (
            f"TRIM(CASE WHEN {wide} THEN TRANSLATE({text}, '{_WIDE}', '{_NARROW}') ELSE {text} END)"
        )
    pieces = "\n    || ".join(f"'{piece}'" for piece in _WIDE_PIECES)
    return (
        f"TRIM(CASE WHEN {wide} THEN TRANSLATE({text},\n    {pieces},\n    '{_NARROW}')\n"
        f"  ELSE {text} END)"
    )


def fold_wide(text: str, dialect: str, wrap: bool = False) -> str:
    """Text trimmed, full-width digits, letters and signs folded (TRANSLATE, which is slow,
    only runs on text holding one of them: not on plain ASCII, nor on 上海); `wrap`: on
    lines of its own (a printed query)."""
    return _folded(text, dialect, wrap)


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
