"""What `read_exports` returns: statistics or summary values per group, and the files read."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from opsplay.query.sufficient import ArmStats


@dataclass(frozen=True)
class SourceInfo:
    """One file that was read: its shape, encoding, rows used and rows skipped."""

    path: str
    shape: str
    encoding: str
    rows: int  # data rows used (skipped rows not included)
    skipped_rows: int


@dataclass(frozen=True)
class GroupKey:
    """One metric in one arm, period and segment; segment is ((column, value), ...)."""

    metric: str
    arm: str
    period: str | None
    segment: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class SummaryValue:
    """A metric value as a dashboard reports it, with the number of units when given."""

    value: float
    n: int | None


@dataclass(frozen=True)
class ExportData:
    """Everything read from the exports: sufficient statistics or summary values per group."""

    shape: str  # "units" | "stats" | "summary"
    sources: tuple[SourceInfo, ...]
    stats: Mapping[GroupKey, ArmStats]
    summary: Mapping[GroupKey, SummaryValue]
    warnings: tuple[str, ...]
    # columns whose values each sit in one arm, finest first (ReadOptions.find_assignment)
    assignment: tuple[str, ...] = ()
    # unit rows: the rows of each arm that were used (blank metric cells included), the
    # sizes the sample-ratio check compares; empty for summaries and statistics exports
    arm_rows: Mapping[str, int] = field(default_factory=dict)


# Values of a column holding this many units on average are groups of users (regions, stores),
# not users: with each value in one arm, the signature of a pilot assigned by that column.
MANY_UNITS = 20


def totals(stats: Mapping[GroupKey, ArmStats]) -> dict[GroupKey, ArmStats]:
    """Merge per-segment statistics into one group per metric, arm and period."""
    merged: dict[GroupKey, ArmStats] = {}
    for key, value in stats.items():
        total = GroupKey(key.metric, key.arm, key.period, ())
        merged[total] = merged[total] + value if total in merged else value
    return merged
