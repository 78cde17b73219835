"""Which of the three shapes an export has: unit rows, sufficient statistics or a summary."""

from __future__ import annotations

from opsplay.errors import InputError
from opsplay.i18n import N_, _
from opsplay.readers.cells import joined
from opsplay.readers.options import ReadOptions
from opsplay.readers.sources import Source, has_column

SHAPE_NAMES = {
    "units": N_("unit rows"),
    "stats": N_("sufficient statistics"),
    "summary": N_("summary"),
}
STATS_COLUMNS = ("metric", "n", "sum", "sum_sq")
RATIO_COLUMNS = ("sum_den", "sum_den_sq", "sum_prod")


def detect_shape(source: Source, options: ReadOptions) -> str:
    """The shape forced by the options, else the one the header shows (unit rows by default)."""
    if options.input_format != "auto":
        return options.input_format
    if all(has_column(source, c) for c in STATS_COLUMNS):
        return "stats"
    if has_column(source, "metric") and has_column(source, "value"):
        return "summary"
    return "units"


# Headers a team writes for Σy and Σy² in Chinese (合计, 平方和): SPEC 6 gives the statistics
# columns no aliases, so they are not read as such; they only say what the file is meant to be.
_SUM_WORDS = ("合计", "总和", "求和", "总计", "平方和", "sum")


def check_not_misnamed_stats(source: Source, options: ReadOptions) -> None:
    """Refuse, naming the shape's columns, a file read as unit rows that looks like a
    sufficient-statistics export with its own names for the statistics (指标, 样本量, 合计,
    平方和…) and lacks the metric columns unit rows need: else it is told of a missing
    metric column, with no word of the shape it was meant to be."""
    if options.input_format != "auto" or not (
        has_column(source, "metric") and has_column(source, "n")
    ):
        return
    sums = [c for c in source.columns if any(w in c.casefold() for w in _SUM_WORDS)]
    wanted = [w for m in options.metrics if m.required for w in m.value_columns if w]
    if not sums or all(has_column(source, w.casefold()) for w in wanted):
        return
    ratio = any(m.kind == "ratio" or m.pre_column for m in options.metrics)
    raise InputError(
        _(
            "{file}: looks like a sufficient-statistics export (it has {columns}), but the "
            "statistics columns must be named {names}{ratio}, as `opsplay pilot sql` writes "
            "them (`指标` and `样本量` may stay); rename them, or export unit rows with the metric "
            "columns"
        ).format(
            file=source.display,
            columns=joined([f"`{c}`" for c in sums]),
            names=joined([f"`{c}`" for c in STATS_COLUMNS]),
            ratio=_(" (and `sum_den`, `sum_den_sq`, `sum_prod` for ratio metrics)")
            if ratio
            else "",
        )
    )
