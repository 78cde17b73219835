"""Summary exports, as a dashboard shows them: one value per arm, [period], [segments], metric.

Columns `metric, value` and optionally `n`; a proportion may be a share or a percentage.
"""

from __future__ import annotations

from opsplay.i18n import _
from opsplay.readers.cells import quote
from opsplay.readers.results import ExportData, GroupKey, SummaryValue
from opsplay.readers.small_exports import BadRow, Locate, Row, SmallReader
from opsplay.readers.sources import Source, find_column, has_column


class SummaryReader(SmallReader):
    """Reads summary exports; each group may have one value only."""

    NUMBERS = frozenset(("value", "n"))
    shape = "summary"

    def read_all(self, sources: list[Source]) -> ExportData:
        """Collect every file's values per group."""
        summary: dict[GroupKey, SummaryValue] = {}
        seen_at: dict[GroupKey, str] = {}
        found: dict[str, int] = {}
        for source in sources:
            roles = self.key_roles(source)
            keys = list(roles)
            roles["metric"] = find_column(source, "metric", _("a summary column"))
            roles["value"] = find_column(source, "value", _("a summary column"))
            if has_column(source, "n"):
                roles["n"] = find_column(source, "n", _("a summary column"))

            def handle(locate: Locate, row: Row, keys: list[str] = keys) -> None:
                metric = self.metric_of(locate, row, keys, found)
                if metric is None:
                    return
                value = self.number(locate, row, "value", percent=True)
                if metric.kind == "proportion" and not 0 <= value <= 1:
                    hint = (
                        _("write {percent}% or {share}").format(
                            percent=row["value"], share=f"{value / 100:g}"
                        )
                        if 1 < value <= 100 and not row["value"].rstrip().endswith(("%", "％"))
                        else _("write a share between 0 and 1 (or a percentage up to 100%)")
                    )
                    raise BadRow(
                        _("{where}: {value} is not a proportion; {hint}").format(
                            where=locate("value"), value=quote(row["value"]), hint=hint
                        )
                    )
                n = None
                if "n" in row and row["n"]:
                    n = int(self.number(locate, row, "n", percent=False, integer=True))
                key = self.group(metric.id, row)
                if key in summary:
                    raise BadRow(
                        _(
                            "{where}: a second value for metric `{metric}` in arm `{arm}` (the "
                            "first is at {first}); keep one row per arm and metric, or, if the "
                            "rows are for different segments (region, channel…), name that "
                            "column with --by"
                        ).format(
                            where=locate(None), metric=metric.id, arm=key.arm, first=seen_at[key]
                        )
                    )
                summary[key] = SummaryValue(value, n)
                seen_at[key] = locate(None)

            self.read_rows(source, roles, handle)
        self.check_metrics(found, sources)
        self.check_key_labels(summary)
        return self.finish({}, summary)
