"""Reading the small exports (statistics, summaries) row by row, with a message per bad cell."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from opsplay.errors import InputError
from opsplay.i18n import N_, _
from opsplay.pilot.readers.base import BaseReader
from opsplay.pilot.readers.cells import (
    MAX_EXAMPLES,
    SKIP_HINT,
    close_hint,
    joined,
    names,
    parse_number,
    quote,
)
from opsplay.pilot.readers.options import MetricColumns
from opsplay.pilot.readers.results import GroupKey, SourceInfo
from opsplay.pilot.readers.sources import Source, column_words
from opsplay.pilot.readers.string_batches import StringBatch, iter_string_batches
from opsplay.pilot.sufficient import ArmStats

Locate = Callable[[str | None], str]  # role of a column (or None) -> "file, line N, column"
Row = dict[str, str]  # role ("arm", "metric", "segment:region", ...) -> normalised cell


def absent_error(metrics: Sequence[MetricColumns], absent: Sequence[str]) -> str | None:
    """The metric to name in an error when the export lacks a primary metric (`required`), or
    every metric; None when what is there can be compared (the rest is warned about)."""
    required = [m.id for m in metrics if m.required and m.id in absent]
    if required:
        return required[0]
    if metrics and all(m.id in absent for m in metrics):
        return metrics[0].id
    return None


class BadRow(Exception):
    """A row that cannot be used; `message` names its line and column."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class RowReader(BaseReader):
    """Reads small exports (statistics, summaries) row by row."""

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
        """(locate, row) for every data row; `columns` maps role -> header name."""
        headers = list(dict.fromkeys(columns.values()))
        count = 0
        for batch in iter_string_batches(
            source,
            headers,
            self.options.skip_bad_rows,
            self.progress,
            wrong_width,
            self.chunk_bytes,
        ):
            for i in range(batch.num_rows):
                row = {role: batch.columns[name][i] for role, name in columns.items()}

                def locate(column: str | None, i: int = i, batch: StringBatch = batch) -> str:
                    where = batch.locate(i)
                    return (
                        _("{where}, {column}").format(
                            where=where, column=column_words(columns[column])
                        )
                        if column
                        else where
                    )

                count += 1
                yield locate, row
        if count == 0 and not wrong_width:
            raise InputError(_("{file}: has a header but no data rows").format(file=source.display))

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
        value = parse_number(row[role], percent=percent)
        if isinstance(value, str):
            raise BadRow(_("{where}: {problem}").format(where=locate(role), problem=value))
        if integer and (value != int(value) or value < 0):
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
                self.warnings.append(
                    _("{files}: no values for the metrics {metrics}; they are not compared").format(
                        files=files, metrics=names(missing)
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
