"""Sufficient-statistics exports: one row per arm, [period], [segments] and metric.

Columns `metric, n, sum, sum_sq` (and `sum_den, sum_den_sq, sum_prod` for ratio metrics),
as the query of `opsplay pilot sql` returns them. Rows of one file that differ only in a column
not compared (a region without `--by`) add up to their group; two rows alike in every column
but the statistics are one group written twice, refused with both lines named (adding them
counts its units twice). The same group in several files adds up (a query run per partition
or per month), with a warning naming the files.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from opsplay.errors import InputError
from opsplay.i18n import _, ngettext
from opsplay.query.sufficient import ArmStats
from opsplay.readers.cells import joined
from opsplay.readers.results import ExportData, GroupKey
from opsplay.readers.shape import RATIO_COLUMNS, STATS_COLUMNS
from opsplay.readers.small_exports import BadRow, Locate, Row, SmallReader
from opsplay.readers.sources import Source, find_column, has_column


class StatsReader(SmallReader):
    """Reads sufficient-statistics exports."""

    NUMBERS = frozenset(
        ("n", "sum", "sum_sq", "sum_den", "sum_den_sq", "sum_prod", "rows", "missing", "invalid")
    )
    shape = "stats"

    def read_all(self, sources: list[Source]) -> ExportData:
        """Add up every file's statistics per group."""
        stats: dict[GroupKey, ArmStats] = {}
        found: dict[str, int] = {}
        excluded: dict[tuple[str, ...], int] = {}
        # every non-statistics cell of a row -> (file, where its first row is)
        seen_at: dict[tuple[str, ...], tuple[str, str]] = {}
        partial: dict[GroupKey, set[str]] = {}  # groups found in more than one file
        for source in sources:
            roles = self.key_roles(source)
            keys = list(roles)
            for name in STATS_COLUMNS:
                roles[name] = find_column(source, name, _("a sufficient-statistics column"))
            # the ratio sums: needed for a primary ratio metric, read when there; an export of
            # the primaries alone may leave them out with a ratio guardrail (its rows, if any,
            # are refused below; with none, the guardrail is warned about as any absent one)
            ratios = [m for m in self.options.metrics if m.kind == "ratio"]
            if ratios and (
                any(m.required for m in ratios) or any(has_column(source, n) for n in RATIO_COLUMNS)
            ):
                for name in RATIO_COLUMNS:
                    roles[name] = find_column(source, name, _("needed for ratio metrics"))
            elif any(m.pre_column for m in self.options.metrics):
                for name in RATIO_COLUMNS:  # Σx, Σx², Σxy of the before-period values
                    roles[name] = find_column(
                        source, name, _("needed for metrics with a pre_column")
                    )
            for name in ("rows", "missing", "invalid", "excluded"):  # written by `pilot sql`
                if has_column(source, name):
                    roles[name] = find_column(source, name, _("a sufficient-statistics column"))
            # the columns not compared (a region without --by) tell partial rows from repeats
            used = set(roles.values())
            others = [f"other:{c}" for c in source.columns if c not in used]
            roles.update({role: role.removeprefix("other:") for role in others})

            def handle(
                locate: Locate,
                row: Row,
                keys: list[str] = keys,
                others: list[str] = others,
                file: str = source.display,
            ) -> None:
                if row.get("excluded"):  # rows the query left out: counted once per group
                    group = (row["excluded"], *(row[k] for k in keys))
                    rows = row.get("rows") or "0"
                    excluded[group] = (
                        int(self.number(locate, row, "rows", percent=False)) if rows else 0
                    )
                    if row["excluded"] == "bad_date" and not self.options.skip_bad_rows:
                        window = self.options.window
                        raise BadRow(
                            _(
                                "{where}: the query found {count} date(s) in `{column}` that "
                                "cannot be read; write them as 2026-11-05 in the table"
                            ).format(
                                where=locate("excluded"),
                                count=excluded[group],
                                column=window.date_column if window else "",
                            )
                        )
                    return
                metric = self.metric_of(locate, row, keys, found)
                if metric is None:
                    return
                n = int(self.number(locate, row, "n", percent=False, integer=True))
                # a group whose values are all missing has NULL sums in a warehouse
                blank_ok = n == 0
                total = self.number(locate, row, "sum", percent=False, blank_ok=blank_ok)
                sum_sq = self.number(locate, row, "sum_sq", percent=False, blank_ok=blank_ok)
                counts = {
                    name: int(
                        self.number(locate, row, name, percent=False, integer=True, blank_ok=True)
                    )
                    for name in ("missing", "invalid")
                    if name in row
                }
                if counts.get("invalid") and not self.options.skip_bad_rows:
                    raise BadRow(
                        _(
                            "{where}: the query found {count} unreadable value(s) of metric "
                            "`{metric}` in this group (not a number, or not 0/1 for a proportion); "
                            "correct them in the table"
                        ).format(where=locate("invalid"), count=counts["invalid"], metric=metric.id)
                    )
                if counts.get("missing") and metric.missing == "error":
                    raise InputError(
                        _(
                            "{where}: {count} missing value(s) of metric `{metric}`, which says "
                            "`missing: error`; fill them in, or set `missing: exclude` or "
                            "`missing: zero` on the metric"
                        ).format(where=locate("missing"), count=counts["missing"], metric=metric.id)
                    )
                extra = {}
                if metric.pre_column and n > 0 and not (row.get("sum_den") or "").strip():
                    raise InputError(
                        _(
                            "{where}: metric `{metric}` has a pre_column, but this export has no "
                            "before-period sums for it (sum_den, sum_den_sq, sum_prod: Σx, Σx², "
                            "Σxy); print the query again with `opsplay pilot sql`, or remove "
                            "pre_column from the metric"
                        ).format(where=locate("sum_den"), metric=metric.id)
                    )
                if metric.kind == "ratio" and "sum_den" not in row:
                    raise InputError(
                        _(
                            "{where}: metric `{metric}` is a ratio, and this export has no "
                            "sum_den, sum_den_sq, sum_prod columns for it; print the query again "
                            "with `opsplay pilot sql`, or leave its rows out"
                        ).format(where=locate(None), metric=metric.id)
                    )
                if metric.kind == "ratio" or metric.pre_column:
                    extra = {
                        name: self.number(locate, row, name, percent=False, blank_ok=blank_ok)
                        for name in RATIO_COLUMNS
                    }
                    if extra["sum_den_sq"] < 0:
                        raise BadRow(
                            _("{where}: a sum of squares cannot be negative").format(
                                where=locate("sum_den_sq")
                            )
                        )
                if not all(
                    math.isfinite(v) for v in (total * total, sum_sq * max(n, 1), *extra.values())
                ):
                    raise BadRow(
                        _(
                            "{where}: the sums of metric `{metric}` are too large to compute with "
                            "(beyond about 1e308 once squared); export them in a larger unit "
                            "(thousands, millions)"
                        ).format(where=locate("sum"), metric=metric.id)
                    )
                if metric.kind == "proportion" and not 0 <= total <= n:
                    raise BadRow(
                        _(
                            "{where}: sum {sum} is outside 0..n ({n}); "
                            "for a proportion it counts the units with 1"
                        ).format(where=locate("sum"), sum=row["sum"], n=n)
                    )
                if sum_sq < 0:
                    raise BadRow(
                        _("{where}: a sum of squares cannot be negative").format(
                            where=locate("sum_sq")
                        )
                    )
                # Σy² ≥ (Σy)²/n for any data (Cauchy–Schwarz); allow for float rounding.
                if n > 0 and sum_sq * n < total * total * (1 - 1e-9) - 1e-9:
                    raise BadRow(
                        _(
                            "{where}: sum_sq {sum_sq} is smaller than sum²/n ({bound}), which no "
                            "data can give; export SUM(y*y) here"
                        ).format(
                            where=locate("sum_sq"),
                            sum_sq=row["sum_sq"],
                            bound=f"{total * total / n:g}",
                        )
                    )
                value = ArmStats(n, total, sum_sq, **extra, **counts)
                key = self.group(metric.id, row)
                cells = (metric.id, *(row[k] for k in keys), *(row[o] for o in others))
                if cells in seen_at:
                    first_file, first = seen_at[cells]
                    if first_file == file:
                        raise BadRow(self.repeated(locate(None), first, key))
                    partial.setdefault(key, {first_file}).add(file)
                else:
                    seen_at[cells] = (file, locate(None))
                stats[key] = stats[key] + value if key in stats else value

            self.read_rows(source, roles, handle)
        self.check_metrics(found, sources)
        self.check_key_labels(stats)
        self.missing_warnings(stats)
        self.excluded_warning(sources, excluded)
        self.partial_warning(partial)
        return self.finish(stats, {})

    def repeated(self, where: str, first: str, key: GroupKey) -> str:
        """The message for a group's second row in one file."""
        return _(
            "{where}: a second row for {group} (the first is at {first}); adding them up would "
            "count its units twice: keep one row per group, or, if the rows are partial sums "
            "(a query per partition), put each part in a file of its own"
        ).format(where=where, group=self.group_words(key), first=first)

    def partial_warning(self, partial: Mapping[GroupKey, set[str]]) -> None:
        """Warn that groups found in several files were added up, naming the files."""
        if not partial:
            return
        with self.results_language():
            key = next(iter(partial))
            files = sorted({file for group in partial.values() for file in group})
            self.warnings.append(
                ngettext(
                    "{files}: {count} group ({example}) is in more than one file and its rows "
                    "were added up, as for a query run per partition; if a file was given twice, "
                    "pass it once",
                    "{files}: {count} groups ({example}, …) are in more than one file and their "
                    "rows were added up, as for a query run per partition; if a file was given "
                    "twice, pass it once",
                    len(partial),
                ).format(files=joined(files), count=len(partial), example=self.group_words(key))
            )
