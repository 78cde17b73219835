"""Which of the three shapes an export has: unit rows, sufficient statistics or a summary."""

from __future__ import annotations

from opsplay.i18n import N_
from opsplay.pilot.readers.options import ReadOptions
from opsplay.pilot.readers.sources import Source, has_column

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
