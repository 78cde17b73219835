"""SPEC 8 measures from a node execution log: per-level time limits and schedule adherence.

- `sla_compliance` of a node with per-level limits judges each row by its own level's
  limit (`level` column; a row without one uses `default`, else the node's only limit);
  rows whose level has no limit are left out of the base.
- an alert with `level` counts only that level's rows, for every node measure;
- `schedule_adherence` = share of the schedule's occurrences on the days from the log's
  first to its last day (clipped to the pilot window when the playbook has one) that have
  an `ok` run of the node finishing within the node's limit after the occurrence; each run
  counts for one occurrence only. `工作日` follows mainland China's working days.

Timestamps are taken at their wall-clock time as written (schedules are local times).
The log is read a second time, after `events.read_events` has read (and reported on) it,
through the same readers and the same row parsing, so the two never disagree on a row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from opsplay.model.duration import Duration
from opsplay.model.playbook import Node, Playbook
from opsplay.model.process import level_limit

LEVEL_HEADERS = ("level", "级别", "等级", "优先级")


@dataclass(frozen=True)
class LogRow:
    """One usable row of an execution log."""

    node: str
    level: str | None
    status: str
    started: dt.datetime | None
    finished: dt.datetime | None

    @property
    def seconds(self) -> float | None:
        """How long the run took (None without both timestamps)."""
        if self.started is None or self.finished is None:
            return None
        return (self.finished - self.started).total_seconds()


@dataclass(frozen=True)
class ProcessMeasures:
    """Per-node SPEC 8 figures and the value of each alert that needs them."""

    sla_compliance: Mapping[str, float | None]  # nodes with per-level limits
    by_level: Mapping[str, Mapping[str, float | None]]  # node -> level -> sla_compliance
    schedule_adherence: Mapping[str, float | None]  # scheduled nodes
    alerts: Mapping[str, float | None]  # alert id -> value (level-scoped or schedule alerts)

    def apply(self, figures: Sequence[Any]) -> tuple[Any, ...]:
        """Node figures with the per-level sla_compliance in place of the single-limit one."""
        return tuple(
            replace(f, sla_compliance=self.sla_compliance[f.node])
            if f.node in self.sla_compliance
            else f
            for f in figures
        )

    def to_json(self) -> dict[str, Any]:
        """The `process` part of `pilot compare --format json`."""
        return {
            "sla_compliance_by_level": {n: dict(v) for n, v in self.by_level.items()},
            "schedule_adherence": dict(self.schedule_adherence),
        }


def needed(playbook: Playbook) -> bool:
    """Whether the playbook has anything these measures are for."""
    return any(
        node.schedule is not None or not isinstance(node.sla, (Duration, type(None)))
        for node in playbook.nodes
    ) or any(alert.level or alert.measure == "schedule_adherence" for alert in playbook.alerts)


def measure_process(
    playbook: Playbook,
    events: Path,
    realtime_seconds: float = 1.0,
    is_working_day: Callable[[dt.date], bool] | None = None,
) -> ProcessMeasures:
    """Read the log at `events` and compute the SPEC 8 measures of `playbook`."""
    rows = read_log_rows(events, {node.id for node in playbook.nodes})
    window = None
    if playbook.pilot is not None and playbook.pilot.period is not None:
        window = (playbook.pilot.period.start, playbook.pilot.period.end)
    return compute(playbook, rows, realtime_seconds, is_working_day or working_day, window)


def compute(
    playbook: Playbook,
    rows: Sequence[LogRow],
    realtime_seconds: float,
    is_working_day: Callable[[dt.date], bool],
    window: tuple[dt.date, dt.date] | None = None,
) -> ProcessMeasures:
    """The measures of `playbook` over log rows (pure: tests give rows and a calendar)."""
    by_node: dict[str, list[LogRow]] = {}
    for row in rows:
        by_node.setdefault(row.node, []).append(row)
    compliance: dict[str, float | None] = {}
    by_level: dict[str, dict[str, float | None]] = {}
    adherence: dict[str, float | None] = {}
    days = _log_days(rows, window)
    for node in playbook.nodes:
        node_rows = by_node.get(node.id, [])
        if node.sla is not None and not isinstance(node.sla, Duration):
            compliance[node.id] = sla_compliance(node, node_rows, realtime_seconds)
            levels = sorted({r.level for r in node_rows if r.level is not None})
            by_level[node.id] = {
                level: sla_compliance(node, node_rows, realtime_seconds, level) for level in levels
            }
        if node.schedule is not None:
            adherence[node.id] = (
                schedule_adherence(node, node_rows, days, realtime_seconds, is_working_day)
                if days is not None
                else None
            )
    alerts: dict[str, float | None] = {}
    for alert in playbook.alerts:
        node = playbook.node(alert.node) if alert.node else None
        if node is None or alert.measure is None:
            continue
        if alert.measure == "schedule_adherence":
            alerts[alert.id] = adherence.get(node.id)
        elif alert.level is not None:
            scoped = [r for r in by_node.get(node.id, []) if r.level == alert.level]
            alerts[alert.id] = level_figures(node, scoped, alert.level, realtime_seconds).get(
                alert.measure
            )
    return ProcessMeasures(compliance, by_level, adherence, alerts)


def sla_compliance(
    node: Node, rows: Iterable[LogRow], realtime_seconds: float, level: str | None = None
) -> float | None:
    """Share of timed rows finishing within their level's limit (`level`: only its rows)."""
    within = timed = 0
    for row in rows:
        if level is not None and row.level != level:
            continue
        limit = level_limit(node.sla, row.level)
        if limit is None or row.seconds is None:
            continue
        timed += 1
        within += row.seconds <= limit.resolve(realtime_seconds)
    return within / timed if timed else None


def level_figures(
    node: Node, rows: Sequence[LogRow], level: str, realtime_seconds: float
) -> dict[str, float | None]:
    """Every node measure over one level's rows, as `events` computes them for a node."""
    from opsplay.pilot.events import _figures, _NodeRows

    collected = _NodeRows()
    for row in rows:
        collected.add(row.status, row.seconds)
    limit = level_limit(node.sla, level)
    figures = _figures(
        node.id, collected if rows else None, limit.resolve(realtime_seconds) if limit else None
    )
    return {
        name: getattr(figures, name)
        for name in (
            "completion_rate",
            "fallback_rate",
            "failure_rate",
            "p50_s",
            "p95_s",
            "sla_compliance",
        )
    }


def schedule_adherence(
    node: Node,
    rows: Iterable[LogRow],
    days: tuple[dt.date, dt.date],
    realtime_seconds: float,
    is_working_day: Callable[[dt.date], bool],
) -> float | None:
    """Share of occurrences on `days` met by an `ok` run finishing within the limit after it."""
    limit = level_limit(node.sla, None)
    if node.schedule is None or limit is None:
        return None
    allowed = dt.timedelta(seconds=limit.resolve(realtime_seconds))
    runs = sorted(r.finished for r in rows if r.status == "ok" and r.finished is not None)
    occurrences = list(node.schedule.occurrences(days[0], days[1], is_working_day))
    if not occurrences:
        return None
    met, next_run = 0, 0
    # Occurrences and runs both in time order: each occurrence takes the earliest unused run
    # finishing inside its window; a run before an occurrence can serve no later one.
    for due in occurrences:
        while next_run < len(runs) and runs[next_run] < due:
            next_run += 1
        if next_run < len(runs) and runs[next_run] <= due + allowed:
            met += 1
            next_run += 1
    return met / len(occurrences)


def _log_days(
    rows: Sequence[LogRow], window: tuple[dt.date, dt.date] | None
) -> tuple[dt.date, dt.date] | None:
    """The log's first to last day, clipped to the pilot window when there is one."""
    moments = [m for r in rows for m in (r.started, r.finished) if m is not None]
    if not moments:
        return None
    first, last = min(moments).date(), max(moments).date()
    if window is not None:
        first, last = max(first, window[0]), min(last, window[1])
    return (first, last) if first <= last else None


def working_day(day: dt.date) -> bool:
    """Mainland China's official working days; Monday–Friday outside the calendar's years."""
    import chinese_calendar

    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return day.weekday() < 5


def read_log_rows(path: Path, nodes: set[str]) -> list[LogRow]:
    """The usable rows of the playbook's nodes (bad rows were reported by `read_events`)."""
    from opsplay.pilot.events import EVENT_COLUMNS, _BadEvent, _event, _timestamp
    from opsplay.pilot.readers.chunks import Progress
    from opsplay.pilot.readers.sources import find_column, open_source
    from opsplay.pilot.readers.string_batches import iter_string_batches

    source = open_source(Path(path))
    roles = {name: find_column(source, name, "an execution log column") for name in EVENT_COLUMNS}
    level_header = next(
        (c for c in source.columns for h in LEVEL_HEADERS if c.casefold() == h), None
    )
    if level_header is not None:
        roles["level"] = level_header
    headers = list(dict.fromkeys(roles.values()))
    found: list[LogRow] = []
    for batch in iter_string_batches(source, headers, True, Progress(None), []):
        columns = {role: batch.columns[header] for role, header in roles.items()}
        for i in range(batch.num_rows):
            try:
                node, status, _ = _event(columns, i, lambda role: role)
                started = _timestamp(columns["started_at"][i], "started_at", lambda r: r)
                finished = _timestamp(columns["finished_at"][i], "finished_at", lambda r: r)
            except _BadEvent:
                continue
            if node not in nodes:
                continue
            level = columns["level"][i] if "level" in columns else ""
            found.append(
                LogRow(node, level or None, status, _wall_clock(started), _wall_clock(finished))
            )
    return found


def _wall_clock(stamp: tuple[int, int | None] | None) -> dt.datetime | None:
    """The reader's (ns in the stated zone, offset) as a naive wall-clock datetime."""
    if stamp is None:
        return None
    seconds, nanos = divmod(stamp[0], 10**9)
    days, rest = divmod(seconds, 86400)
    return dt.datetime.fromordinal(days) + dt.timedelta(seconds=rest, microseconds=nanos // 1000)
