"""What `pilot compare` was asked (CompareOptions) and what it found (PilotReport), as plain
data: the statistics and judging fill it, the formats in `present`, `human` and `terminal` read
it. May import `stats` and `judging` only, so that presentation never imports the comparison.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from opsplay.pilot import stats
from opsplay.pilot.judging import AlertResult, MetricResult


@dataclass(frozen=True)
class CompareOptions:
    """Command-line choices; None means "take it from the playbook"."""

    by: tuple[str, ...] = ()
    max_segments: int = 1000  # --by giving more segments than this is refused
    alpha: float | None = None
    test: stats.TestName = "welch"
    variance: stats.VarianceName = "unpooled"
    correction: stats.Correction = "holm"
    input_format: Literal["auto", "units", "stats", "summary"] = "auto"
    sheet: str | None = None  # Excel: sheet name or 1-based number
    db: str | None = None  # a database URL (`--db`) with `table`, instead of files
    table: str | None = None
    events_table: str | None = None
    encoding: str | None = None
    skip_bad_rows: bool = False
    arm_column: str | None = None
    baseline_label: str | None = None
    pilot_label: str | None = None
    period_column: str | None = None
    events: Path | None = None
    lang: Literal["zh", "en"] | None = None
    realtime_seconds: float = 1.0
    calendar: Literal["official", "weekdays"] = "official"  # working days of calendar limits
    workday_limits: Literal["day_end", "clock"] = "day_end"  # how `N个工作日` is read
    timezone: str | None = None  # `timezone` of the project (opsplay.zones); None: by language
    as_of: datetime | None = None  # evaluation time (SPEC 12); None: the log's last timestamp
    # the log read as it stood at a given `as_of` (rows after it: not yet there, or open);
    # False for watch's default evaluation time, now, which judges the log as it stands
    as_it_stood: bool = True
    progress: Callable[[int], None] | None = None
    sequential: bool = False  # --sequential: always-valid intervals and p-values (SPEC 11)
    # `opsplay watch`: the sequential test wherever the design allows it, a warning elsewhere
    repeated: bool = False


@dataclass(frozen=True)
class PilotReport:
    """Everything `pilot compare` found, in plain data."""

    playbook_id: str
    playbook_version: str
    design: str
    alpha: float
    options: CompareOptions
    lang: str
    metrics: tuple[MetricResult, ...]
    srm_p_value: float | None
    nodes: tuple[Any, ...]  # events.NodeFigures
    alerts: tuple[AlertResult, ...]
    sources: tuple[Any, ...]  # readers.SourceInfo
    shape: str
    warnings: tuple[str, ...] = field(default=())
    # said to the user on stderr, in the message language (a back-test's --as-of, SPEC 12)
    notices: tuple[str, ...] = field(default=())
    arms: tuple[str, str] = ("", "")  # the data's labels of the control and pilot groups
    periods: tuple[str, str] = ("before", "after")  # the data's labels of the two periods
    node_names: dict[str, str] = field(default_factory=dict)  # node id -> name
    metric_names: dict[str, str] = field(default_factory=dict)  # metric id -> name
    process: Any = None  # opsplay.nodes.measures.ProcessMeasures: levels and schedules (SPEC 8)
    weighted: Any = None  # weighting.WeightedAttainment, when the pilot's metrics have weights
    # (metric, segment) -> (missing, invalid) per arm: baseline, pilot, before_baseline, ...
    missing: Mapping[tuple[str, Any], Mapping[str, tuple[int, int]]] = field(default_factory=dict)
    playbook_title: str = ""  # metadata.title: what people call the process
    cluster: str | None = None  # pilot.cluster: the column the arms were assigned by
    # without pilot.cluster: columns that look like the unit of assignment (finest first)
    assignment: tuple[str, ...] = ()
    sequential_tuning: float | None = None  # set when the intervals are always valid (SPEC 11)
    # node id -> its limit as the SOP's node data carries it: `sla` as written (a dict per
    # level), `calendar`, `sla_realtime`, `sla_seconds` (shown by render.filters.sla_parts)
    node_limits: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    alert_levels: Mapping[str, str] = field(default_factory=dict)  # alert id -> its `level`

    @property
    def srm_ok(self) -> bool | None:
        """Whether the arm sizes pass the sample-ratio check (None when it was not run)."""
        return None if self.srm_p_value is None else self.srm_p_value >= SRM_THRESHOLD


SRM_THRESHOLD = 0.001
