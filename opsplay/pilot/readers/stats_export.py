"""Sufficient-statistics exports: one row per arm, [period], [segments] and metric.

Columns `metric, n, sum, sum_sq` (and `sum_den, sum_den_sq, sum_prod` for ratio metrics),
as the query of `opsplay pilot sql` returns them; rows of one group in several files add up.
"""

from __future__ import annotations

from opsplay.pilot.readers.results import ExportData, GroupKey
from opsplay.pilot.readers.row_reader import BadRow, Locate, Row, RowReader
from opsplay.pilot.readers.shape import RATIO_COLUMNS, STATS_COLUMNS
from opsplay.pilot.readers.sources import Source, find_column
from opsplay.pilot.sufficient import ArmStats


class StatsReader(RowReader):
    """Reads sufficient-statistics exports."""

    shape = "stats"

    def read_all(self, sources: list[Source]) -> ExportData:
        """Add up every file's statistics per group."""
        stats: dict[GroupKey, ArmStats] = {}
        found: dict[str, int] = {}
        for source in sources:
            roles = self.key_roles(source)
            keys = list(roles)
            for name in STATS_COLUMNS:
                roles[name] = find_column(source, name, "a sufficient-statistics column")
            if any(m.kind == "ratio" for m in self.options.metrics):
                for name in RATIO_COLUMNS:
                    roles[name] = find_column(source, name, "needed for ratio metrics")

            def handle(locate: Locate, row: Row, keys: list[str] = keys) -> None:
                metric = self.metric_of(locate, row, keys, found)
                if metric is None:
                    return
                n = int(self.number(locate, row, "n", percent=False, integer=True))
                total = self.number(locate, row, "sum", percent=False)
                sum_sq = self.number(locate, row, "sum_sq", percent=False)
                extra = {}
                if metric.kind == "ratio":
                    extra = {
                        name: self.number(locate, row, name, percent=False)
                        for name in RATIO_COLUMNS
                    }
                if metric.kind == "proportion" and not 0 <= total <= n:
                    raise BadRow(
                        f"{locate('sum')}: sum {row['sum']} is outside 0..n ({n}); "
                        "for a proportion it counts the units with 1"
                    )
                if sum_sq < 0:
                    raise BadRow(f"{locate('sum_sq')}: a sum of squares cannot be negative")
                # Σy² ≥ (Σy)²/n for any data (Cauchy–Schwarz); allow for float rounding.
                if n > 0 and sum_sq * n < total * total * (1 - 1e-9) - 1e-9:
                    raise BadRow(
                        f"{locate('sum_sq')}: sum_sq {row['sum_sq']} is smaller than sum²/n "
                        f"({total * total / n:g}), which no data can give; export SUM(y*y) here"
                    )
                value = ArmStats(n, total, sum_sq, **extra)
                key = self.group(metric.id, row)
                stats[key] = stats[key] + value if key in stats else value

            self.read_rows(source, roles, handle)
        self.check_metrics(found, sources, all_required=True)
        self.check_key_labels(list(stats))
        return self.finish(stats, {})
