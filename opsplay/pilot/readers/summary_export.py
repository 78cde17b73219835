"""Summary exports, as a dashboard shows them: one value per arm, [period], [segments], metric.

Columns `metric, value` and optionally `n`; a proportion may be a share or a percentage.
"""

from __future__ import annotations

from opsplay.pilot.readers.cells import quote
from opsplay.pilot.readers.results import ExportData, GroupKey, SummaryValue
from opsplay.pilot.readers.row_reader import BadRow, Locate, Row, RowReader
from opsplay.pilot.readers.sources import Source, find_column, has_column


class SummaryReader(RowReader):
    """Reads summary exports; each group may have one value only."""

    shape = "summary"

    def read_all(self, sources: list[Source]) -> ExportData:
        """Collect every file's values per group."""
        summary: dict[GroupKey, SummaryValue] = {}
        seen_at: dict[GroupKey, str] = {}
        found: dict[str, int] = {}
        for source in sources:
            roles = self.key_roles(source)
            keys = list(roles)
            roles["metric"] = find_column(source, "metric", "a summary column")
            roles["value"] = find_column(source, "value", "a summary column")
            if has_column(source, "n"):
                roles["n"] = find_column(source, "n", "a summary column")

            def handle(locate: Locate, row: Row, keys: list[str] = keys) -> None:
                metric = self.metric_of(locate, row, keys, found)
                if metric is None:
                    return
                value = self.number(locate, row, "value", percent=True)
                if metric.kind == "proportion" and not 0 <= value <= 1:
                    hint = (
                        f"write {row['value']}% or {value / 100:g}"
                        if 1 < value <= 100 and not row["value"].rstrip().endswith(("%", "％"))
                        else "write a share between 0 and 1 (or a percentage up to 100%)"
                    )
                    raise BadRow(
                        f"{locate('value')}: {quote(row['value'])} is not a proportion; {hint}"
                    )
                n = None
                if "n" in row and row["n"]:
                    n = int(self.number(locate, row, "n", percent=False, integer=True))
                key = self.group(metric.id, row)
                if key in summary:
                    raise BadRow(
                        f"{locate(None)}: a second value for metric `{metric.id}` in arm "
                        f"`{key.arm}` (the first is at {seen_at[key]}); keep one row per arm "
                        "and metric, or, if the rows are for different segments (region, "
                        "channel…), name that column with --by"
                    )
                summary[key] = SummaryValue(value, n)
                seen_at[key] = locate(None)

            self.read_rows(source, roles, handle)
        self.check_metrics(found, sources)
        self.check_key_labels(list(summary))
        return self.finish({}, summary)
