"""The small exports (statistics, summaries) through DuckDB, a message per bad cell.

One query per file (`cells_query`) reads every row of the export's relation (`engine.open_table`:
CSV in any encoding, Parquet, Excel): the key cells as text and each number cell by the small
exports' rule (full-width folded, `35%`, `1,234`, blank), the same rule `parse_number` words a
message with. What Python keeps is the playbook's view of a row: its metric, the checks of its
statistics and the words of a message (file, line or row, column, what to write instead).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from opsplay.errors import InputError
from opsplay.i18n import N_, _
from opsplay.query.sufficient import ArmStats
from opsplay.query.units import _NARROW, _WIDE  # the unit query's full-width fold, said once
from opsplay.readers.base import BaseReader, absent_error
from opsplay.readers.cells import (
    MAX_EXAMPLES,
    NUMBER_PATTERN,
    SKIP_HINT,
    THOUSANDS_PATTERN,
    close_hint,
    joined,
    names,
    normalize_text,
    not_a_number,
    parse_number,
    quote,
)
from opsplay.readers.engine import Table, open_table
from opsplay.readers.options import MetricColumns
from opsplay.readers.results import GroupKey, SourceInfo
from opsplay.readers.sources import Source, column_words

Locate = Callable[[str | None], str]  # role of a column (or None) -> "file, line N, column"
BATCH_ROWS = 65536


class Row(dict[str, str]):
    """Role ("arm", "metric", "segment:region", "n", ...) -> the cell as NFKC text; `numbers`
    holds what the query read in each number cell: (value or None, written as a percentage)."""

    numbers: dict[str, tuple[float | None, bool]]


class BadRow(Exception):
    """A row that cannot be used; `message` names its line and column."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _sql_pattern(pattern: str) -> str:
    """A `cells` regex for DuckDB (RE2): anchors dropped, `\\d` spelled as ASCII digits."""
    return _literal(pattern.removeprefix("^").removesuffix("$").replace(r"\d", "[0-9]"))


def cells_query(relation: str, texts: Sequence[str], numbers: Sequence[str]) -> str:
    """Every row of `relation`: the `texts` columns as text, then for each of `numbers` its
    text, the number it holds (NULL when none; a percentage divided by 100) and whether it is
    written as a percentage (`35%`). A cell is folded to half-width (the unit query's fold)
    and trimmed; `1,234` loses its commas; the patterns are `parse_number`'s."""
    first = [f"CAST({_quoted(c)} AS VARCHAR) AS k{j}" for j, c in enumerate(texts)]
    second = [f"k{j}" for j in range(len(texts))]
    for i, column in enumerate(numbers):
        raw = f"CAST({_quoted(column)} AS VARCHAR)"
        folded = (
            f"TRANSLATE(REPLACE({raw}, chr(65279), ''), {_literal(_WIDE)}, {_literal(_NARROW)})"
        )
        first.append(f"{raw} AS r{i}")
        first.append(f"regexp_replace({folded}, '^\\s+|\\s+$', '', 'g') AS t{i}")
        percentage = f"suffix(t{i}, '%')"
        core = (
            f"(CASE WHEN {percentage} THEN regexp_replace(left(t{i}, length(t{i}) - 1), '\\s+$', '') "
            f"ELSE t{i} END)"
        )
        plain = (
            f"(CASE WHEN regexp_full_match({core}, {_sql_pattern(THOUSANDS_PATTERN)}) "
            f"THEN replace({core}, ',', '') ELSE {core} END)"
        )
        second += [
            f"r{i}",
            f"CASE WHEN regexp_full_match({plain}, {_sql_pattern(NUMBER_PATTERN)}) "
            f"THEN TRY_CAST({plain} AS DOUBLE) / (CASE WHEN {percentage} THEN 100 ELSE 1 END) END",
            f"{percentage}",
        ]
    return f"SELECT {', '.join(second)} FROM (SELECT {', '.join(first)} FROM {relation}) cells"


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _row(record: Sequence[Any], texts: Sequence[str], numbers: Sequence[str]) -> Row:
    """One record of `cells_query` as a Row."""
    row = Row(
        (role, "" if cell is None else normalize_text(cell))
        for role, cell in zip(texts, record, strict=False)
    )
    row.numbers = {}
    for i, role in enumerate(numbers):
        text, value, percentage = record[len(texts) + 3 * i : len(texts) + 3 * i + 3]
        row[role] = "" if text is None else normalize_text(text)
        row.numbers[role] = (value, bool(percentage))
    return row


class SmallReader(BaseReader):
    """Reads small exports (statistics, summaries): the query's rows, checked one by one."""

    NUMBERS: frozenset[str] = frozenset()  # the roles read as numbers

    def read_rows(
        self, source: Source, columns: Mapping[str, str], handle: Callable[[Locate, Row], None]
    ) -> None:
        """Apply `handle` to every row, raising or skipping (and counting) bad ones."""
        used = skipped = 0
        examples: list[str] = []
        wrong_width: list[str] = []  # rows with the wrong number of fields, skipped when parsed
        for locate, row in self._rows(source, columns, wrong_width):
            try:
                handle(locate, row)
                used += 1
            except BadRow as bad:
                if not self.options.skip_bad_rows:
                    raise InputError(
                        _("{problem}, {hint}").format(problem=bad.message, hint=_(SKIP_HINT))
                    ) from None
                skipped += 1
                if len(examples) < MAX_EXAMPLES:
                    examples.append(bad.message.removeprefix(source.display + ", "))
        skipped += len(wrong_width)
        examples = wrong_width + examples
        if used == 0:
            raise InputError(
                _("{file}: no usable data rows ({count} bad)").format(
                    file=source.display, count=f"{skipped:,}"
                )
            )
        self.skip_warning(source, skipped, examples)
        self.sources.append(SourceInfo(source.display, self.shape, source.encoding, used, skipped))

    def _rows(
        self, source: Source, columns: Mapping[str, str], wrong_width: list[str]
    ) -> Iterator[tuple[Locate, Row]]:
        """(locate, row) for every data row; `columns` maps role -> header name, the roles in
        `NUMBERS` are read as numbers by the query."""
        texts = [role for role in columns if role not in self.NUMBERS]
        numbers = [role for role in columns if role in self.NUMBERS]
        count = 0
        with open_table(source, self.options.skip_bad_rows) as table:
            if self.options.skip_bad_rows:  # learn the skipped lines first: rows are located
                table.fetch(f"SELECT count(*) FROM {table.relation}")
                table.count_rejects()
            query = cells_query(
                table.relation, [columns[r] for r in texts], [columns[r] for r in numbers]
            )
            cursor = table.execute(query)
            while batch := table.next_rows(cursor, BATCH_ROWS):
                for record in batch:
                    count += 1
                    yield self._locator(table, count, columns), _row(record, texts, numbers)
            wrong_width.extend(
                table.skipped_examples + [""] * (table.skipped_rows - len(table.skipped_examples))
            )
        self.progress.add(source.size)
        if count == 0 and not wrong_width:
            raise InputError(_("{file}: has a header but no data rows").format(file=source.display))

    @staticmethod
    def _locator(table: Table, record: int, columns: Mapping[str, str]) -> Locate:
        def locate(role: str | None) -> str:
            where = table.where(record)
            if role is None:
                return where
            return _("{where}, {column}").format(where=where, column=column_words(columns[role]))

        return locate

    def key_roles(self, source: Source) -> dict[str, str]:
        """Role -> header name of the arm, [period] and segment columns."""
        arm, period, segments = self.key_columns(source, "arm")
        roles = {"arm": arm}
        if period:
            roles["period"] = period
        for name, header in zip(self.options.segment_columns, segments, strict=True):
            roles[f"segment:{name}"] = header
        return roles

    def metric_of(
        self, locate: Locate, row: Row, keys: Sequence[str], found: dict[str, int]
    ) -> MetricColumns | None:
        """The playbook metric of a row (None if not in the playbook), counted in `found`.

        Raises BadRow when a key or the metric cell is blank.
        """
        for role in [*keys, "metric"]:
            if not row[role]:
                raise BadRow(
                    _("{where}: is blank; every row needs a value here").format(where=locate(role))
                )
        label = row["metric"]
        metric = self.metric_ids.get(label) or self.metric_names.get(label)
        key = metric.id if metric else label
        found[key] = found.get(key, 0) + 1
        return metric

    def number(
        self,
        locate: Locate,
        row: Row,
        role: str,
        *,
        percent: bool,
        integer: bool = False,
        blank_ok: bool = False,
    ) -> float:
        """The number in a row's `role` cell (0 for a blank one when `blank_ok`); BadRow when it
        is not one."""
        if blank_ok and not row.get(role):
            return 0.0
        value, percentage = row.numbers[role]
        if value is None or not math.isfinite(value) or (percentage and not percent):
            # the words of what to write
            problem = parse_number(row[role], percent=percent, count=integer)
            if not isinstance(problem, str):
                problem = not_a_number(row[role], count=integer)
            raise BadRow(_("{where}: {problem}").format(where=locate(role), problem=problem))
        if integer and value < 0:
            raise BadRow(
                _("{where}: {value} is negative; a number of units cannot be below 0").format(
                    where=locate(role), value=quote(row[role])
                )
            )
        if integer and value != int(value):
            raise BadRow(
                _("{where}: {value} is not a whole number of units").format(
                    where=locate(role), value=quote(row[role])
                )
            )
        return value

    def group(self, metric: str, row: Row) -> GroupKey:
        """The group of a row: metric, arm, period and segment values."""
        segment = tuple((name, row[f"segment:{name}"]) for name in self.options.segment_columns)
        return GroupKey(metric, row["arm"], row.get("period"), segment)

    def group_words(self, key: GroupKey) -> str:
        """`metric `x` in arm `y`` with the period and segment values of a group, for messages."""
        words = _("metric `{metric}` in arm `{arm}`").format(metric=key.metric, arm=key.arm)
        if key.period is not None:
            words += _(", period `{period}`").format(period=key.period)
        for column, value in key.segment:
            words += _(", {column} `{value}`").format(column=column, value=value)
        return words

    def check_metrics(self, found: Mapping[str, int], sources: Sequence[Source]) -> None:
        """Raise for a primary metric missing from the export's `metric` column.

        As in every shape (`absent_error`), an export may show only some metrics: a missing
        one is a warning, and an error when no primary metric is present.
        """
        files = joined([s.display for s in sources])
        values = sorted(found)
        missing = [m.id for m in self.options.metrics if m.id not in found]
        first = absent_error(self.options.metrics, missing)
        if first is not None:
            raise InputError(
                _(
                    "metric `{metric}` is not in the `metric` column of {files}; "
                    "metrics found: {found}{hint}"
                ).format(
                    metric=first,
                    files=files,
                    found=names(values) or _("(none)"),
                    hint=close_hint(first, values),
                )
            )
        with self.results_language():
            if missing:
                shown = [m.name or m.id for m in self.options.metrics if m.id in missing]
                self.warnings.append(
                    _("{files}: no values for the metrics {metrics}; they are not compared").format(
                        files=files,
                        metrics=names(shown),  # as the results table names them
                    )
                )
            ignored = sorted(set(found) - set(self.metric_ids))
            if ignored:
                self.warnings.append(
                    _(
                        "metrics in the export that the playbook does not define were ignored: "
                        "{metrics}"
                    ).format(metrics=names(ignored))
                )

    def excluded_warning(
        self, sources: Sequence[Source], excluded: Mapping[tuple[str, ...], int]
    ) -> None:
        """Warn about the rows the query left out (no arm/period/segment, outside the window)."""
        with self.results_language():
            files = joined([s.display for s in sources])
            for reason, text in (
                (
                    "no_key",
                    N_(
                        "{files}: {count:,} row(s) without an arm, period or segment value were left out"
                    ),
                ),
                (
                    "outside",
                    N_(
                        "{files}: {count:,} row(s) outside the pilot window or without a date "
                        "were left out"
                    ),
                ),
                (
                    "bad_date",
                    N_(
                        "{files}: {count:,} row(s) with a date that cannot be read were left out "
                        "(--skip-bad-rows)"
                    ),
                ),
            ):
                count = sum(v for k, v in excluded.items() if k[0] == reason)
                if count:
                    self.warnings.append(_(text).format(files=files, count=count))

    def check_key_labels(self, groups: Mapping[GroupKey, Any]) -> None:
        """Check the configured arm and period labels against the groups read; a group's rows
        are its units (n, missing and unreadable) where the export says, else its lines."""
        rows: dict[tuple[str, str | None], int] = {}
        for key, value in groups.items():
            units = value.n + value.missing + value.invalid if isinstance(value, ArmStats) else 1
            rows[(key.arm, key.period)] = max(rows.get((key.arm, key.period), 0), units)
        self.check_arms_and_periods((arm, period, n) for (arm, period), n in rows.items())
