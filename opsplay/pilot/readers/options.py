"""What `read_exports` is asked to read: the metrics' columns and the reading options."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

from opsplay.errors import InputError
from opsplay.i18n import _

if TYPE_CHECKING:
    from opsplay.pilot.sql import Window

MetricKind = Literal["proportion", "mean", "ratio"]
InputFormat = Literal["auto", "units", "stats", "summary"]


@dataclass(frozen=True)
class MetricColumns:
    """Where one metric lives in an export: `column` for proportion/mean, or a ratio's columns."""

    id: str
    kind: MetricKind
    column: str | None = None
    numerator: str | None = None
    denominator: str | None = None
    name: str | None = None  # the display name; exports may label the metric with it
    missing: str = "exclude"  # exclude | zero | error: what a missing cell does (SPEC 7)
    required: bool = False  # a primary metric: the export must have it (others are warned about)
    # the same metric per unit before the pilot (CUPED, SPEC 11): read as the metric's column
    # is, a unit counts when both can be read (as a ratio's two columns), and its sums go where
    # a ratio's denominator sums go (sum_den = Σx, sum_den_sq = Σx², sum_prod = Σxy)
    pre_column: str | None = None

    @property
    def value_columns(self) -> list[str]:
        """The export columns of this metric: column [and pre_column], or numerator and
        denominator."""
        if self.kind == "ratio":
            return [self.numerator or "", self.denominator or ""]
        return [self.column or ""] + ([self.pre_column] if self.pre_column else [])

    def named(self, found: list[str]) -> MetricColumns:
        """The same metric with its value columns named as an export has them."""
        if self.kind == "ratio":
            return replace(self, numerator=found[0], denominator=found[1])
        return replace(self, column=found[0], pre_column=found[1] if self.pre_column else None)

    @classmethod
    def of(cls, metric: Any) -> MetricColumns:
        """The columns of a playbook metric (`opsplay.model.playbook.Metric`)."""
        return cls(
            metric.id,
            metric.kind,
            getattr(metric, "column", None),
            getattr(metric, "numerator", None),
            getattr(metric, "denominator", None),
            getattr(metric, "name", None),
            getattr(metric, "missing", None) or "exclude",
            pre_column=getattr(metric, "pre_column", None),
        )


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
    # called as a unit-row query starts: work for later can run while the engine scans
    on_scan: Callable[[], None] | None = None
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
