"""What `read_exports` is asked to read: the metrics' columns and the reading options.

Floor: the engine (sources), the readers' bottom. May import `opsplay.errors`, `opsplay.i18n`
and `opsplay.query.columns` (`MetricColumns` and `Window` live there, shared with the query);
never `opsplay.query.units` or another reader.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from opsplay.errors import InputError
from opsplay.i18n import _
from opsplay.query.columns import MetricColumns, Window

__all__ = ["InputFormat", "MetricColumns", "ReadOptions", "check_options"]

InputFormat = Literal["auto", "units", "stats", "summary"]


@dataclass(frozen=True)
class ReadOptions:
    """What to read from the exports and how."""

    metrics: tuple[MetricColumns, ...]
    arm_column: str
    period_column: str | None = None
    segment_columns: tuple[str, ...] = ()
    input_format: InputFormat = "auto"
    encoding: str | None = None
    skip_bad_rows: bool = False
    progress: Callable[[int], None] | None = None  # bytes read so far, all files together
    arm_labels: tuple[str, ...] = ()  # when given, each must occur in the arm column
    period_labels: tuple[str, ...] = ()  # when given, each must occur in the period column
    window: Window | None = None  # the pilot window (pilot.date_column)
    sheet: str | None = None  # Excel: sheet name or 1-based number
    db: str | None = None  # a database URL: run the query there over `table` (no files)
    table: str | None = None
    lang: str | None = None  # the language of the warnings (the results'); None: messages'
    # look for columns whose values each sit in one arm (a pilot assigned by region, SPEC 11)
    find_assignment: bool = False
    # --by columns and --max-segments: more distinct segments than this is refused before the
    # grouped query runs (a million cities would take a minute and gigabytes to group first)
    limited_columns: tuple[str, ...] = ()
    max_segments: int | None = None


def check_options(options: ReadOptions) -> None:
    """Raise when there are no metrics or a metric lacks the columns its kind needs."""
    if not options.metrics:
        raise InputError(_("no metrics to read; the playbook must list metrics"))
    for metric in options.metrics:
        needed = ("numerator", "denominator") if metric.kind == "ratio" else ("column",)
        missing = [n for n in needed if not getattr(metric, n)]
        if missing:
            raise InputError(
                _("metric `{metric}` ({kind}) needs `{fields}`").format(
                    metric=metric.id, kind=metric.kind, fields="`, `".join(missing)
                )
            )
        if metric.pre_column and metric.kind == "ratio":
            raise InputError(
                _(
                    "metric `{metric}` is a ratio; the before-period adjustment (pre_column) "
                    "works for proportion and mean metrics only"
                ).format(metric=metric.id)
            )
