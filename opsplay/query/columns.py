"""Where a pilot's numbers are in the data: each metric's columns, and the pilot window.

The small types that the one query (`opsplay.query.units`) and the readers
(`opsplay.readers`, whose `ReadOptions` carries them) share. They live here, below
both, so that neither has to import the other for them.

Floor: the engine's bottom. Imports nothing of opsplay (plain data).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any, Literal

MetricKind = Literal["proportion", "mean", "ratio"]


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
class Window:
    """The pilot window (SPEC 7): a date column and the inclusive date ranges of each period."""

    date_column: str
    period: tuple[dt.date, dt.date] | None
    before_period: tuple[dt.date, dt.date] | None = None
    labels: tuple[str, str] = ("before", "after")
    derive_period: bool = False  # before/after come from the dates (no period column)
