"""Unit rows (one row per unit): the query of `opsplay.query.units`, run in DuckDB over each file.

What Python keeps is what only opsplay knows: which header is which playbook column, and the
words of a message — where the first unreadable cell is (file, line, column) and what to write.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from opsplay.errors import InputError, UsageError
from opsplay.i18n import _, ngettext
from opsplay.query.sufficient import ArmStats
from opsplay.query.units import STAT_COLUMNS, Plan, Query
from opsplay.readers.base import BaseReader, absent_error
from opsplay.readers.cells import (
    close_hint,
    date_span,
    joined,
    normalize_label,
    normalize_text,
    quote,
)
from opsplay.readers.engine import IntegerOverflow, Table, TypedReadFailed, open_table
from opsplay.readers.options import MetricColumns
from opsplay.readers.results import MANY_UNITS, ExportData, GroupKey, SourceInfo
from opsplay.readers.sources import Source, find_column, has_column
from opsplay.text import visible


class UnitsReader(BaseReader):
    """Reads unit-row exports into sufficient statistics per metric, arm, period and segment."""

    shape = "units"

    def read_all(self, sources: list[Source]) -> ExportData:
        """Run the query over every file and add the statistics up per group."""
        stats: dict[GroupKey, ArmStats] = {}
        self.assignment: dict[str, int] = {}  # column -> how many values it has
        self.group_rows: dict[tuple[str, str | None], int] = {}
        for source in sources:
            for key, value in self._read_file(source).items():
                stats[key] = stats[key] + value if key in stats else value
            self.progress.add(source.size)
        self.check_arms_and_periods((a, p, n) for (a, p), n in self.group_rows.items())
        self.missing_warnings(stats)
        found = sorted(self.assignment.items(), key=lambda item: -item[1])
        return replace(
            self.finish(stats, {}),
            assignment=tuple(c for c, _n in found),
            arm_rows=self._arm_rows(),
        )

    def _arm_rows(self) -> dict[str, int]:
        rows: dict[str, int] = {}
        for (arm, _period), count in self.group_rows.items():
            rows[arm] = rows.get(arm, 0) + count
        return rows

    def _read_file(self, source: Source) -> dict[GroupKey, ArmStats]:
        """One file's statistics: metric columns read as numbers first, as text if they are not."""
        numbers = frozenset(c for c, _p in self._plan(source, None).value_columns())
        warnings = list(self.warnings)
        try:
            with open_table(source, self.options.skip_bad_rows, numbers) as table:
                return self._read(source, table, self._plan(source, table))
        except TypedReadFailed:
            self.warnings[:] = warnings  # the text read says it all again
        with open_table(source, self.options.skip_bad_rows) as table:
            return self._read(source, table, self._plan(source, table))

    def read_database(self, url: str, name: str) -> ExportData:
        """Run the query in the database of `url` over table `name` (`--db`, `--table`)."""
        from opsplay.readers.warehouse import connect, open_db_table

        self.group_rows = {}
        with connect(url) as (con, dialect):
            table = open_db_table(con, dialect, url, name)
            stats = self._read(table.source, table, self._plan(table.source, table))
        self.check_arms_and_periods((a, p, n) for (a, p), n in self.group_rows.items())
        self.missing_warnings(stats)
        return replace(self.finish(stats, {}), arm_rows=self._arm_rows())

    def _refuse_wide_summary(self, source: Source, arm: str) -> None:
        """Refuse, with the layout it needs, a dashboard summary written a column per metric
        (`分组, 一次解决率, 客单价, 样本量`, as BI tools export one): read as unit rows it
        would only be told that a metric's unit column is missing."""
        labels = {}
        for metric in self.options.metrics:
            for label in (metric.id, metric.name):
                if label:
                    labels[normalize_text(label).casefold()] = metric
        # a label that is also a metric's unit column (`revenue` for revenue) says nothing
        units = {
            normalize_text(c).casefold() for m in self.options.metrics for c in m.value_columns if c
        }
        wide = [
            c
            for c in source.columns
            if normalize_text(c).casefold() in labels and normalize_text(c).casefold() not in units
        ]
        if not wide:
            return
        metric = labels[normalize_text(wide[0]).casefold()]
        # TRANSLATORS: a summary export's header after the arm column, as in a CSV file
        header = _("metric,value,n")
        raise InputError(
            _(
                "{file}: has a column per metric ({columns}), as a dashboard shows a summary; "
                "write a summary a row per arm and metric, with the columns {arm}, metric, value "
                "and, for a test, n: for example\n{example}\nor export unit rows with the "
                "metric's own column ({column})"
            ).format(
                file=source.display,
                columns=joined([f'"{visible(c)}"' for c in wide]),
                arm=f'"{visible(arm)}"',
                example=f"{visible(arm)},{header}\n"
                f"{visible(self.options.arm_labels[-1] if self.options.arm_labels else 'pilot')},"
                f"{visible(metric.name or metric.id)},0.42,1200",
                column=joined([f'"{visible(c)}"' for c in metric.value_columns if c]),
            )
        )

    def _absent_warning(self, source: Source, metric: MetricColumns) -> None:
        """A guardrail whose column the export lacks: named, with the closest header."""
        wanted = metric.value_columns
        lacking = [
            w or "" for w in wanted if not has_column(source, normalize_text(w or "").casefold())
        ]
        with self.results_language():
            self.warnings.append(
                _(
                    "{file}: no column {columns} for metric `{metric}`{hint}; the metric is not "
                    "compared (only a primary metric's columns must be there)"
                ).format(
                    file=source.display,
                    columns=joined([f"`{c}`" for c in lacking]),
                    metric=metric.name or metric.id,  # as the results table names it
                    hint=close_hint(lacking[0], list(source.columns)),
                )
            )

    def plan_for_table(self, url: str, name: str) -> Plan:
        """The query's plan with the names of table `name` of the database at `url` (its 组别
        for `group`, its case), for `pilot sql --db`: the SQL is printed, not run."""
        from opsplay.readers.warehouse import connect, open_db_table

        with connect(url) as (con, dialect):
            table = open_db_table(con, dialect, url, name)
            return self._plan(table.source, table)

    def _plan(self, source: Source, table: Table | None) -> Plan:
        """The query's plan with the file's own header names; absent guardrails are warned about."""
        opts = self.options
        window = opts.window
        derive = bool(
            window is not None
            and window.derive_period
            and not (opts.period_column and has_column(source, opts.period_column.casefold()))
        )
        if derive:  # before/after come from the dates: no period column to look for
            self.options = replace(opts, period_column=None)
        try:
            arm, period, segments = self.key_columns(source, None)
        finally:
            self.options = opts
        self.found_columns["arm"] = arm
        if window is not None:
            date = find_column(source, window.date_column, _("the date column (pilot.date_column)"))
            window = replace(window, date_column=date, derive_period=derive)
        metrics, absent = [], []
        for metric in opts.metrics:
            wanted = metric.value_columns
            if not all(has_column(source, normalize_text(w or "").casefold()) for w in wanted):
                absent.append(metric.id)
        blocking = absent_error(opts.metrics, absent)
        if blocking is not None:
            self._refuse_wide_summary(source, arm)
        for metric in opts.metrics:
            wanted = metric.value_columns
            if metric.id in absent and metric.id != blocking:
                continue
            found = [
                find_column(source, w or "", _("metric `{metric}`").format(metric=metric.id))
                for w in wanted
            ]
            metrics.append(metric.named(found))
        for metric in opts.metrics:  # (the blocking one has raised: find_column names it)
            if metric.id in absent and metric.id != blocking:
                self._absent_warning(source, metric)
        keys = {arm, period, *segments} - {None}
        for metric in metrics:
            for column in metric.value_columns:
                if table is not None and column in table.nested:
                    raise InputError(
                        _(
                            '{file}: column "{column}" holds lists or nested records, not one '
                            "value per unit; export it as plain numbers"
                        ).format(file=source.display, column=column)
                    )
        for metric in metrics:
            for column in metric.value_columns:
                if column in keys:
                    raise InputError(
                        _(
                            '{file}: column "{column}" is both a metric and the arm, period or a '
                            "segment column"
                        ).format(file=source.display, column=column)
                    )
        return Plan(
            metrics=tuple(metrics),
            arm_column=arm,
            period_column=period,
            segment_columns=tuple(segments),
            window=window,
            numeric=table.numeric if table is not None else frozenset(),
            integral=table.integral if table is not None else frozenset(),
            local=table is None or table.dialect == "duckdb" and table.encoding != "db",
        )

    def _read(self, source: Source, table: Table, plan: Plan) -> dict[GroupKey, ArmStats]:
        try:
            query = Query(plan, table.dialect)
        except ValueError as error:  # a warehouse name that cannot be quoted safely
            raise InputError(f"{source.display}: {error}") from None
        self._check_segment_count(table, query, plan)
        if self.options.find_assignment and plan.local:
            self._find_assignment(table, plan)
        fast = None if self.options.skip_bad_rows else query.grouped_typed(table.relation)
        try:
            rows = table.fetch(fast) if fast else []
        except IntegerOverflow:  # integers too large to square exactly: as DOUBLE
            rows = table.fetch(query.grouped_typed(table.relation, exact=False) or "")
        # the least ratio denominator, when the typed query gave it (None: look for one)
        lowest = None
        if not fast or any(row[-1] for row in rows):  # text, or NaN / not 0-1: the full query
            rows = table.fetch(query.grouped(table.relation))
        elif any(m.kind == "ratio" and m.denominator for m in plan.metrics):
            lowest = min((row[-2] for row in rows if row[-2] is not None), default=0)
        table.count_rejects()
        nkeys = len(plan.key_aliases)
        has_period = "period" in plan.key_aliases
        out: dict[GroupKey, ArmStats] = {}
        excluded = {"no_key": 0, "outside": 0, "bad_date": 0}
        used = 0
        invalid = {m.id: 0 for m in plan.metrics}
        missing = {m.id: 0 for m in plan.metrics}
        for row in rows:
            keys, reason, count = row[:nkeys], row[nkeys], int(row[nkeys + 1])
            if reason:
                excluded[reason] += count
                continue
            used += count
            arm = normalize_label(str(keys[0]))
            period = normalize_label(str(keys[1])) if has_period else None
            self.group_rows[(arm, period)] = self.group_rows.get((arm, period), 0) + count
            segment = tuple(
                (name, normalize_label(str(value)))
                for name, value in zip(
                    self.options.segment_columns, keys[1 + has_period :], strict=True
                )
            )
            values = row[nkeys + 2 :]
            width = len(STAT_COLUMNS) - 1
            for i, metric in enumerate(plan.metrics):
                n, s, sq, sd, sdq, sp, miss, bad = (values[i * width + j] for j in range(width))
                invalid[metric.id] += int(bad or 0)
                missing[metric.id] += int(miss or 0)
                value = ArmStats(
                    int(n or 0),
                    float(s or 0.0),
                    float(sq or 0.0),
                    float(sd or 0.0),
                    float(sdq or 0.0),
                    float(sp or 0.0),
                    missing=int(miss or 0),
                    invalid=int(bad or 0),
                )
                key = GroupKey(metric.id, arm, period, segment)
                out[key] = out[key] + value if key in out else value
        if used + sum(excluded.values()) == 0:
            raise InputError(_("{file}: has a header but no data rows").format(file=source.display))
        if excluded["bad_date"] and not self.options.skip_bad_rows:
            raise InputError(self._bad_date(table, query, plan))
        for metric in plan.metrics:
            if invalid[metric.id] and not self.options.skip_bad_rows:
                raise InputError(self._bad_cell(source, table, query, metric, "invalid"))
            if missing[metric.id] and metric.missing == "error":
                raise InputError(self._bad_cell(source, table, query, metric, "missing"))
        self._check_finite(source, out)
        if plan.local and (lowest is None or lowest < 0):
            self._negative_denominators(table, query, plan)
        self._excluded_warnings(source, plan, excluded)
        if used == 0:
            raise InputError(self._nothing_used(source, plan, excluded))
        self.sources.append(
            SourceInfo(source.display, self.shape, table.encoding, used, table.skipped_rows)
        )
        if table.skipped_rows:
            self.skip_warning(source, table.skipped_rows, table.skipped_examples)
        return out

    def _find_assignment(self, table: Table, plan: Plan) -> None:
        """Columns whose every value sits in one arm only, both arms have values, and values
        hold many units: the signature of a pilot assigned by region or store (SPEC 11). Read
        from the first rows (enough to see it), never from ids (too many values); when those
        rows hold one arm only (an export sorted by arm or by region), from rows spread over the
        whole export instead."""
        used = {plan.arm_column, plan.period_column, *plan.segment_columns}
        used |= {c for c, _p in plan.value_columns()}
        if plan.window is not None:
            used.add(plan.window.date_column)
        candidates = [c for c in table.source.columns if c not in used and c not in self.assignment]
        if not candidates:
            return
        found, telling = self._assignment_in(
            table, plan, table.first_rows(_SAMPLE_ROWS), candidates
        )
        if not telling and (spread := table.spread_rows(_SAMPLE_ROWS)) is not None:
            found, _telling = self._assignment_in(table, plan, spread, candidates)
        self.assignment.update(found)

    def _assignment_in(
        self, table: Table, plan: Plan, sample: str, candidates: list[str]
    ) -> tuple[dict[str, int], bool]:
        """The candidates that look like the assignment in the rows of `sample` (column -> how
        many values), and whether the sample could tell: it holds both arms, or is the whole
        export. A few columns to a query, each query reading its sample once (a query per
        column read it again; all columns at once would hold a wide export's sample)."""
        found: dict[str, int] = {}
        telling = False
        for start in range(0, len(candidates), _ASSIGNMENT_COLUMNS):
            columns = candidates[start : start + _ASSIGNMENT_COLUMNS]
            picked = ", ".join(f"{_quoted(c)} AS c{i}" for i, c in enumerate(columns))
            per_value = " UNION ALL ".join(
                f"SELECT {i} AS i, MIN(a) AS lo, MAX(a) AS hi, COUNT(*) AS units FROM s "
                f"WHERE c{i} IS NOT NULL AND a IS NOT NULL GROUP BY c{i}"
                for i in range(len(columns))
            )
            rows = table.fetch(
                f"WITH s AS MATERIALIZED (SELECT {picked}, {_quoted(plan.arm_column)} AS a "
                f"FROM {sample}) SELECT i, COUNT(*), MAX(CASE WHEN lo = hi THEN 1 ELSE 2 END), "
                f"COUNT(DISTINCT lo), SUM(units), (SELECT COUNT(DISTINCT a) FROM s), "
                f"(SELECT COUNT(*) FROM s) FROM ({per_value}) v GROUP BY i ORDER BY i"
            )
            # a column without values has no row
            for i, values, most_arms, arms, units, sample_arms, sample_rows in rows:
                telling = telling or sample_arms >= 2 or sample_rows < _SAMPLE_ROWS
                if (
                    values <= _ASSIGNMENT_MAX_VALUES
                    and most_arms == 1  # every value in one arm
                    and arms >= 2
                    and units >= MANY_UNITS * values  # many units a value, on average
                ):
                    found[columns[int(i)]] = int(values)
        return found, telling

    def _check_segment_count(self, table: Table, query: Query, plan: Plan) -> None:
        """Refuse --by giving more than --max-segments segments, counted on the cleaned values
        with one DISTINCT before any grouping by them (the same words as `compare`'s check)."""
        limit, columns = self.options.max_segments, self.options.limited_columns
        if not limit or not columns or not set(columns) <= set(plan.segment_columns):
            return
        if table.dialect == "duckdb":
            # the first rows hold few values of a column of few: then the grouped query
            # itself is small, and compare counts its segments; a second read of the whole
            # file (as long as the scan itself) only when they hold many
            raw = ", ".join(query.q.column(c) for c in columns)
            sample = table.first_rows(_SAMPLE_ROWS)
            seen = table.fetch(f"SELECT COUNT(*) FROM (SELECT DISTINCT {raw} FROM {sample}) s")
            if int(seen[0][0]) <= limit:
                return
            # the few distinct raw values first, then cleaned: cleaning every row's value
            # (regular expressions, TRANSLATE) took four times the scan itself
            raw = ", ".join(f"{query.q.column(c)} AS k{i}" for i, c in enumerate(columns))
            keys = [query._key(f"k{i}") for i in range(len(columns))]
            counts = ", ".join(f"COUNT(DISTINCT {key})" for key in keys)
            found, *each = table.fetch(
                f"WITH r AS MATERIALIZED (SELECT DISTINCT {raw} FROM {table.relation}) "
                f"SELECT (SELECT COUNT(*) FROM (SELECT DISTINCT {', '.join(keys)} FROM r) s), "
                f"{counts} FROM r"
            )[0]
        else:
            keys = [query._key(query.q.column(column)) for column in columns]
            counts = ", ".join(f"COUNT(DISTINCT {key})" for key in keys)
            distinct = f"SELECT DISTINCT {', '.join(keys)} FROM {table.relation}"
            found, *each = table.fetch(
                f"SELECT (SELECT COUNT(*) FROM ({distinct}) s), {counts} FROM {table.relation}"
            )[0]
        if int(found) <= limit:
            return
        coarsest, smallest = min(zip(columns, each, strict=True), key=lambda item: item[1])
        hint = (
            _("for example `--by {column}` alone ({count} segments)").format(
                column=visible(coarsest), count=f"{smallest:,}"
            )
            if len(columns) > 1 and smallest <= limit
            else _("for example a region instead of a city, or a week instead of a day")
        )
        raise UsageError(
            _(
                "--by {columns} splits the data into {count} segments, more than {limit} "
                "(--max-segments); compare by a coarser column, {hint}"
            ).format(
                columns=" ".join(f"`{visible(c)}`" for c in columns),
                count=f"{int(found):,}",
                limit=f"{limit:,}",
                hint=hint,
            )
        )

    def _bad_date(self, table: Table, query: Query, plan: Plan) -> str:
        """The message for the first date of the window column that cannot be read."""
        record = int(table.fetch(query.unreadable_dates(table.relation))[0][0])
        column = plan.window.date_column if plan.window else ""
        return _(
            "{where}: {cell} is not a date; write dates as 2026-11-05 (2026/11/5, 2026年11月5日 "
            "and 20261105 are read too), or pass --skip-bad-rows to leave such rows out"
        ).format(where=table.where(record, column), cell=quote(table.cell(record, column)))

    def _nothing_used(self, source: Source, plan: Plan, excluded: Mapping[str, int]) -> str:
        """Why no row is left to compare: all outside the pilot window, or keys missing."""
        if plan.window is not None and excluded["outside"] and not excluded["no_key"]:
            spans = [s for s in (plan.window.before_period, plan.window.period) if s]
            return ngettext(
                "{file}: the only row is outside the pilot window ({spans} in `{column}`) or has "
                "no date; check `pilot.period` and that column",
                "{file}: none of the {count:,} rows falls in the pilot window ({spans} in "
                "`{column}`); check `pilot.period` and that column",
                excluded["outside"],
            ).format(
                file=source.display,
                count=excluded["outside"],
                spans=_(", ").join(date_span(a, b) for a, b in spans),
                column=plan.window.date_column,
            )
        return _("{file}: no row has an arm, period and segment value to compare").format(
            file=source.display
        )

    def _bad_cell(
        self, source: Source, table: Table, query: Query, metric: MetricColumns, which: str
    ) -> str:
        """The message for the first invalid (or, with `missing: error`, missing) cell."""
        found = table.fetch(query.bad_rows(table.relation, metric, which))
        columns = metric.value_columns
        record, flags = int(found[0][0]), found[0][1:]
        column = next(c for c, flag in zip(columns, flags, strict=False) if flag) or ""
        cell = table.cell(record, column)
        where = table.where(record, column)
        if which == "missing":
            return _(
                "{where}: is missing and metric `{metric}` says `missing: error`; fill in a value, "
                "or set `missing: exclude` or `missing: zero` on the metric"
            ).format(where=where, metric=metric.id)
        if metric.kind == "proportion":
            what = _(
                "{cell} is not 0 or 1; a proportion column holds 0/1 (or 是/否, true/false, Y/N) per unit"
            ).format(cell=quote(cell))
        else:
            what = _("{cell} is not a number; write a plain number such as 12.5").format(
                cell=quote(cell)
            )
        return _(
            "{where}: {what}, or pass --skip-bad-rows to treat such cells as missing values of "
            "this metric"
        ).format(where=where, what=what)

    def _negative_denominators(self, table: Table, query: Query, plan: Plan) -> None:
        """Warn, naming the first cell, when a ratio's denominator (orders, sessions) is below 0:
        an entry error that makes Σnumerator / Σdenominator meaningless. A warning, not a
        refusal: the cell is counted as written, as a negative numerator (a refund) may be
        right, and one slip among thousands of units should not stop a review; the warning
        says where it is. Only cells holding a minus sign are candidates, so a file without one
        costs one scan of those columns and no second pass of the cleaning query."""
        index = {key: i for i, key in enumerate(query.values)}
        ratios = [m for m in plan.metrics if m.kind == "ratio" and m.denominator]
        columns = sorted({m.denominator or "" for m in ratios})
        if not columns:
            return
        signs = " OR ".join(
            f"{_quoted(c)} < 0"
            if c in plan.numeric
            else f"regexp_matches(CAST({_quoted(c)} AS VARCHAR), '[-\u2212\uff0d\ufe63]')"
            for c in columns
        )
        if not table.fetch(f"SELECT COUNT(*) FROM {table.relation} WHERE {signs}")[0][0]:
            return
        picked = ", ".join(
            f"COUNT(*) FILTER (WHERE v{index[(c, False)]} < 0), "
            f"MIN(rn) FILTER (WHERE v{index[(c, False)]} < 0)"
            for c in columns
        )
        found = table.fetch(
            f"SELECT {picked} FROM (\n{query.cleaned(table.relation, row_number=True)}\n) c"
        )[0]
        with self.results_language():
            for i, column in enumerate(columns):
                count, record = int(found[2 * i] or 0), found[2 * i + 1]
                if not count:
                    continue
                metric = next(m for m in ratios if m.denominator == column)
                self.warnings.append(
                    ngettext(
                        "{where}: {cell} is below 0, the denominator of ratio metric `{metric}` "
                        "cannot be negative; it was counted as written: correct it in the export",
                        "{where}: {cell} is below 0, the denominator of ratio metric `{metric}` "
                        "cannot be negative ({count:,} such cells); they were counted as written: "
                        "correct them in the export",
                        count,
                    ).format(
                        where=table.where(int(record), column),
                        cell=quote(table.cell(int(record), column)),
                        metric=metric.id,
                        count=count,
                    )
                )

    def _check_finite(self, source: Source, stats: Mapping[GroupKey, ArmStats]) -> None:
        """Sums beyond the float range (values near 1e308) are an error naming file and metric."""
        import math

        for key, value in stats.items():
            sums = (value.sum, value.sum_sq, value.sum_den, value.sum_den_sq, value.sum_prod)
            if not all(math.isfinite(s) for s in sums):
                raise InputError(
                    _(
                        "{file}: the values of metric `{metric}` are too large to add up (their "
                        "squares exceed the largest number a computer adds, about 1e308); "
                        "export them in a larger unit (thousands, millions)"
                    ).format(file=source.display, metric=key.metric)
                )

    def _excluded_warnings(self, source: Source, plan: Plan, excluded: Mapping[str, int]) -> None:
        with self.results_language():
            if excluded["no_key"]:
                keys = [
                    f"`{c}`"
                    for c in (plan.arm_column, plan.period_column, *plan.segment_columns)
                    if c
                ]
                # a row left out lacks one of them at least, not every one
                columns = (
                    keys[0]
                    if len(keys) == 1
                    else _("one of {columns}").format(columns=joined(keys))
                )
                self.warnings.append(
                    ngettext(
                        "{file}: {count:,} row has no value in {columns}; it was left out",
                        "{file}: {count:,} rows have no value in {columns}; they were left out",
                        excluded["no_key"],
                    ).format(file=source.display, count=excluded["no_key"], columns=columns)
                )
            if excluded["bad_date"] and plan.window is not None:
                self.warnings.append(
                    ngettext(
                        "{file}: {count:,} row has a date in `{column}` that cannot be read; it "
                        "was left out (--skip-bad-rows)",
                        "{file}: {count:,} rows have a date in `{column}` that cannot be read; "
                        "they were left out (--skip-bad-rows)",
                        excluded["bad_date"],
                    ).format(
                        file=source.display,
                        count=excluded["bad_date"],
                        column=plan.window.date_column,
                    )
                )
            if excluded["outside"] and plan.window is not None:
                spans = [s for s in (plan.window.before_period, plan.window.period) if s]
                listed = _(", ").join(date_span(a, b) for a, b in spans)
                self.warnings.append(
                    ngettext(
                        "{file}: {count:,} row is outside the pilot window ({spans} in `{column}`) or "
                        "has no date; it was left out",
                        "{file}: {count:,} rows are outside the pilot window ({spans} in `{column}`) "
                        "or have no date; they were left out",
                        excluded["outside"],
                    ).format(
                        file=source.display,
                        count=excluded["outside"],
                        spans=listed,
                        column=plan.window.date_column,
                    )
                )


# The rows looked at before the scan: a pilot assigned by region, and a --by column of too
# many values, show in the first of them (or, for an export sorted by group, spread ones).
_SAMPLE_ROWS = 50_000
_ASSIGNMENT_MAX_VALUES = 1_000  # a column of more values is an id
_ASSIGNMENT_COLUMNS = 8  # columns looked at in one query over one sample


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
