"""What the three shape readers share: key columns, arm and period checks, the result."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType

from opsplay.errors import InputError
from opsplay.i18n import N_, _, language, ngettext
from opsplay.query.sufficient import ArmStats
from opsplay.readers.cells import (
    MAX_EXAMPLES,
    close_hint,
    joined,
    names,
    normalize_label,
    normalize_text,
)
from opsplay.readers.chunks import Progress
from opsplay.readers.options import MetricColumns, ReadOptions
from opsplay.readers.results import ExportData, GroupKey, SourceInfo, SummaryValue
from opsplay.readers.sources import Source, find_column, has_column

# (error, warning) about the arm or period labels, one sentence each so that both languages read
_ARM = (
    N_(
        "arm `{label}` not in column `{column}` ({files}); values found: {found}{hint}; "
        "if the export names the groups differently, set `pilot.arms` in the playbook or pass "
        "--baseline / --pilot"
    ),
    N_(
        "column `{column}` also has the values {values}; those rows are left out: only the "
        "configured arms ({labels}) are compared"
    ),
)
_PERIOD = (
    N_("period `{label}` not in column `{column}` ({files}); values found: {found}{hint}"),
    N_(
        "column `{column}` also has the values {values}; those rows are left out: only the "
        "configured periods ({labels}) are compared"
    ),
)


def absent_error(metrics: Sequence[MetricColumns], absent: Sequence[str]) -> str | None:
    """The metric to name in an error when the export lacks a primary metric (`required`), or
    every metric; None when what is there can be compared (the rest is warned about)."""
    required = [m.id for m in metrics if m.required and m.id in absent]
    if required:
        return required[0]
    if metrics and all(m.id in absent for m in metrics):
        return metrics[0].id
    return None


class BaseReader:
    """Reads the exports of one shape; subclasses implement `read_all`."""

    shape: str  # "units" | "stats" | "summary"

    def __init__(self, options: ReadOptions, progress: Progress) -> None:
        self.options = options
        self.progress = progress
        self.warnings: list[str] = []
        self.sources: list[SourceInfo] = []
        self.metric_ids = {m.id: m for m in options.metrics}
        # the names the export gives the key columns (组别 for `group`), for messages
        self.found_columns: dict[str, str] = {}
        # A dashboard may label rows with the metric's name (次日留存率) instead of its id.
        self.metric_names = {m.name: m for m in options.metrics if m.name}

    def read_all(self, sources: list[Source]) -> ExportData:
        """Read every source (all of this reader's shape) into one result."""
        raise NotImplementedError

    def key_columns(
        self, source: Source, arm_default: str | None
    ) -> tuple[str, str | None, list[str]]:
        """Header names of the arm, period and segment columns in `source`."""
        opts = self.options
        arm = self._column_or_default(source, opts.arm_column, arm_default, _("the arm column"))
        period = None
        if opts.period_column:
            default = "period" if arm_default else None
            period = self._column_or_default(
                source, opts.period_column, default, _("the period column")
            )
        segments = [find_column(source, s, _("a segment column")) for s in opts.segment_columns]
        return arm, period, segments

    @staticmethod
    def _column_or_default(source: Source, name: str, default: str | None, role: str) -> str:
        if (
            default is not None
            and normalize_text(name) not in source.columns
            and has_column(source, default)
        ):
            return find_column(source, default, role)
        return find_column(source, name, role)

    def check_arms_and_periods(self, counts: Iterable[tuple[str, str | None, int]]) -> None:
        """Check the configured arm and period labels against the (arm, period, rows) found."""
        arms: dict[str, int] = {}
        periods: dict[str, int] = {}
        for arm, period, rows in counts:
            arms[arm] = arms.get(arm, 0) + rows
            if period is not None:
                periods[period] = periods.get(period, 0) + rows
        arm_column = self.found_columns.get("arm", self.options.arm_column)
        self._check_labels(arms, self.options.arm_labels, arm_column, _ARM)
        if self.options.period_column:
            self._check_labels(
                periods, self.options.period_labels, self.options.period_column, _PERIOD
            )

    def _check_labels(
        self, found: Mapping[str, int], labels: Sequence[str], column: str, what: tuple[str, str]
    ) -> None:
        """Raise if a configured arm/period label is absent; warn about the other values."""
        if not labels:
            return
        values = sorted(found)
        for label in labels:
            if normalize_text(label) not in found:
                files = joined([source.path for source in self.sources])
                raise InputError(
                    _(what[0]).format(
                        label=label,
                        column=column,
                        files=files,
                        found=names(values),
                        hint=close_hint(label, values),
                    )
                )
        wanted = {normalize_text(label) for label in labels}
        others = [v for v in values if v not in wanted]
        if others:
            with self.results_language():
                counts = joined(
                    [
                        ngettext(
                            "`{value}` ({count} row)", "`{value}` ({count} rows)", found[v]
                        ).format(value=v, count=f"{found[v]:,}")
                        for v in others[:12]
                    ]
                )
                self.warnings.append(
                    _(what[1]).format(column=column, values=counts, labels=joined(list(labels)))
                )

    def missing_warnings(self, stats: Mapping[GroupKey, ArmStats]) -> None:
        """One warning per metric with missing (or, skipped, unreadable) values."""
        with self.results_language():
            totals: dict[str, list[int]] = {}
            compared = {normalize_label(label) for label in self.options.arm_labels}
            for key, value in stats.items():
                if compared and key.arm not in compared:  # an unconfigured arm: left out anyway
                    continue
                entry = totals.setdefault(key.metric, [0, 0])
                entry[0] += value.missing
                entry[1] += value.invalid
            for metric in self.options.metrics:
                missing, invalid = totals.get(metric.id, [0, 0])
                shown = metric.name or metric.id  # as the results table names it (客单价)
                if missing:
                    text = (
                        ngettext(
                            "metric `{metric}`: {count:,} missing value was counted as 0",
                            "metric `{metric}`: {count:,} missing values were counted as 0",
                            missing,
                        )
                        if metric.missing == "zero"
                        else ngettext(
                            "metric `{metric}`: {count:,} unit with a missing value was left out of "
                            "this metric",
                            "metric `{metric}`: {count:,} units with a missing value were left out of "
                            "this metric",
                            missing,
                        )
                    )
                    self.warnings.append(text.format(metric=shown, count=missing))
                if invalid:
                    self.warnings.append(
                        ngettext(
                            "metric `{metric}`: {count:,} unreadable value was treated as missing "
                            "(--skip-bad-rows)",
                            "metric `{metric}`: {count:,} unreadable values were treated as missing "
                            "(--skip-bad-rows)",
                            invalid,
                        ).format(metric=shown, count=invalid)
                    )

    def results_language(self) -> contextlib.AbstractContextManager[None]:
        """Warnings go into the results and speak their language (`ReadOptions.lang`); errors
        stay in the message language."""
        return language(self.options.lang)

    def finish(
        self, stats: Mapping[GroupKey, ArmStats], summary: Mapping[GroupKey, SummaryValue]
    ) -> ExportData:
        """The result, groups in playbook metric order, then arm, period and segment."""
        order = {m.id: i for i, m in enumerate(self.options.metrics)}

        def sort_key(key: GroupKey) -> tuple[object, ...]:
            return (order.get(key.metric, len(order)), key.arm, key.period or "", key.segment)

        return ExportData(
            shape=self.shape,
            sources=tuple(self.sources),
            stats=MappingProxyType({k: stats[k] for k in sorted(stats, key=sort_key)}),
            summary=MappingProxyType({k: summary[k] for k in sorted(summary, key=sort_key)}),
            warnings=tuple(self.warnings),
        )

    def skip_warning(self, source: Source, count: int, examples: list[str]) -> None:
        """Warn that `count` bad rows of `source` were skipped, quoting a few."""
        if count:
            with self.results_language():
                shown = _("; ").join(examples[:MAX_EXAMPLES]) + (
                    _("; …") if count > MAX_EXAMPLES else ""
                )
                self.warnings.append(
                    ngettext(
                        "{file}: skipped {count} bad row ({examples})",
                        "{file}: skipped {count} bad rows ({examples})",
                        count,
                    ).format(file=source.display, count=f"{count:,}", examples=shown)
                )
