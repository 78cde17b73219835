"""SPEC 8 measures from a node execution log: per-level time limits and schedule adherence.

- `sla_compliance` of a node with per-level limits judges each row by its own level's
  limit (`level` column; a row without one uses `default`, else the node's only limit):
  `limit_for` below gives `events.read_events` the limits as written, which the node-log
  query (opsplay.nodes.query) applies per row, so calendar limits (`1个工作日`,
  `T+1`) and the working-day calendar apply as for any limit; rows whose level has no limit
  are left out of the base;
- an alert with `level` counts only that level's rows, for every node measure;
- `schedule_adherence` = share of the schedule's occurrences on the days from the log's
  first to its last day (clipped to the pilot window when the playbook has one) that have
  an `ok` run of the node finishing within the node's limit after the occurrence; each run
  counts for one occurrence only. `工作日` follows the working-day calendar of the project.
  The counts (due, met, pending) and the first missed occurrences come from the schedule
  CTEs `pilot sql --events` prints (opsplay.nodes.schedules), run by DuckDB over the
  log's `ok` runs: one definition. The greedy match below (`_matched`) is kept for what the
  query leaves open: a node with a run in the windows of two due occurrences (where "one
  occurrence only" needs the match), a cron form the query does not write, and schedules
  falling due more than MAX_OCCURRENCES times (its message names the log's dates).

Times are the log's wall-clock times in the start's zone (schedules are local times).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from opsplay.errors import InputError
from opsplay.i18n import _
from opsplay.model.duration import Duration
from opsplay.model.hours import in_hours, written_in_hours
from opsplay.model.playbook import Node, Playbook
from opsplay.model.process import level_limit

# A due occurrence of a schedule not met on time: (its time, when a late `ok` run finished or
# None when none did), wall-clock times of the log
Missed = tuple[dt.datetime, dt.datetime | None]
MISSED_SHOWN = 10  # occurrences named, as the first ten case ids past their limit

# Occurrences of one node's schedule on the log's days: a minutely cron over a month, a daily
# one over a century. Beyond it a log spanning 2000-2030 (or a year 9999 typo) would take hours.
MAX_OCCURRENCES = 50_000
MEASURES = ("completion_rate", "fallback_rate", "failure_rate", "timeout_rate", "p50_s", "p95_s")


@dataclass(frozen=True)
class ProcessMeasures:
    """Per-level compliance, schedule adherence, and the value of each alert needing them."""

    by_level: Mapping[str, Mapping[str, float | None]]  # node -> level -> sla_compliance
    schedule_adherence: Mapping[str, float | None]  # scheduled nodes
    alerts: Mapping[str, float | None]  # alert id -> value (level-scoped or schedule alerts)
    limits: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # node -> level -> limit
    occurrences: Mapping[str, tuple[int, int]] = field(default_factory=dict)  # node -> (met, all)
    # alert id -> rows (level-scoped) or due occurrences (schedule) its value stands on (min_n)
    alert_counts: Mapping[str, int | None] = field(default_factory=dict)
    # scheduled node -> occurrences not yet due at `as_of` (pending, never missed; SPEC 12)
    pending_occurrences: Mapping[str, int] = field(default_factory=dict)
    as_of: dt.datetime | None = None  # the evaluation time, on the log's clock
    # node -> level -> (open, breached_open, pending): a level's open cases (SPEC 12), for
    # messages of alerts with `level` (levels with no open case left out)
    open_by_level: Mapping[str, Mapping[str, tuple[int, int, int]]] = field(default_factory=dict)
    # scheduled node -> (how many, the first ten) due occurrences not met on time: (the
    # occurrence, when a late `ok` run finished or None when none did), in time order
    missed_occurrences: Mapping[str, tuple[int, tuple[Missed, ...]]] = field(default_factory=dict)
    zone: dt.tzinfo | None = None  # the evaluation time's zone: the offset of times in the JSON
    # node -> level -> (p50_s, p95_s): every level of the log (the level rows of the query)
    durations_by_level: Mapping[str, Mapping[str, tuple[float | None, float | None]]] = field(
        default_factory=dict
    )

    @property
    def nothing_due(self) -> frozenset[str]:
        """Scheduled nodes with no occurrence on the log's days (their adherence is None)."""
        return frozenset(node for node, (_met, total) in self.occurrences.items() if total == 0)

    def to_json(self) -> dict[str, Any]:
        """The `process` part of `pilot compare --format json`."""
        return {
            "sla_compliance_by_level": {n: dict(v) for n, v in self.by_level.items()},
            "sla_by_level": {n: dict(v) for n, v in self.limits.items()},
            "p50_s_by_level": {
                n: {level: p50 for level, (p50, _p95) in v.items()}
                for n, v in self.durations_by_level.items()
            },
            "p95_s_by_level": {
                n: {level: p95 for level, (_p50, p95) in v.items()}
                for n, v in self.durations_by_level.items()
            },
            "schedule_adherence": dict(self.schedule_adherence),
            "schedule_occurrences": {
                n: {"met": met, "total": total, "pending": self.pending_occurrences.get(n, 0)}
                for n, (met, total) in self.occurrences.items()
            },
            "open_by_level": {
                node: {
                    level: {"open": o, "breached_open": b, "pending": p}
                    for level, (o, b, p) in levels.items()
                }
                for node, levels in self.open_by_level.items()
            },
            # occurrences as ISO 8601 times on the evaluation time's clock (its offset)
            "schedule_missed": {
                node: {
                    "count": count,
                    "first": [
                        {"at": self._stamp(at), "finished": self._stamp(finished)}
                        for at, finished in first
                    ],
                }
                for node, (count, first) in self.missed_occurrences.items()
            },
        }

    def _stamp(self, moment: dt.datetime | None) -> str | None:
        """A wall-clock time of the log as ISO 8601, with the evaluation time's offset."""
        if moment is None:
            return None
        return moment.replace(tzinfo=self.zone).isoformat(timespec="seconds")


class NodeLimits:
    """What `events.read_events` needs of the playbook beyond the node table: each node's
    limits as written (per level), counted in its business hours when it has a `calendar`
    (SPEC 12), and the scheduled nodes (their `ok` runs are read for schedule adherence).
    Called with (node, level) it gives that row's limit."""

    def __init__(self, playbook: Playbook) -> None:
        hours = {node.id: playbook.business_hours(node) for node in playbook.nodes}
        self.limits: dict[str, Any] = {
            node.id: written_in_hours(node.sla, hours[node.id]) for node in playbook.nodes
        }
        self.scheduled = tuple(node.id for node in playbook.nodes if node.schedule is not None)
        self.levels = tuple(level.id for level in playbook.levels)  # what a level cell can mean
        self._sla = {node.id: node.sla for node in playbook.nodes}
        self._hours = hours

    def __call__(self, node: str, level: str | None) -> Any:
        return in_hours(level_limit(self._sla.get(node), level), self._hours.get(node))


def limit_for(playbook: Playbook) -> NodeLimits:
    """The limits `events.read_events` judges each row by (per level, business hours)."""
    return NodeLimits(playbook)


def overall_limits(playbook: Playbook) -> dict[str, Any]:
    """Each node's limit for a row without a level (the node table's `sla` column)."""
    return {
        node.id: in_hours(level_limit(node.sla, None), playbook.business_hours(node))
        for node in playbook.nodes
    }


def needed(playbook: Playbook) -> bool:
    """Whether the playbook has anything these measures are for."""
    return any(
        node.schedule is not None or not isinstance(node.sla, (Duration, type(None)))
        for node in playbook.nodes
    ) or any(alert.level or alert.measure == "schedule_adherence" for alert in playbook.alerts)


def measure_process(
    playbook: Playbook,
    facts: Any,
    calendar: Any,
    realtime_seconds: float = 1.0,
    as_of: dt.datetime | None = None,
) -> ProcessMeasures:
    """The SPEC 8 measures of `playbook` from `events.EventsData.facts` (the query's per-level
    figures, `ok` runs of scheduled nodes and the log's span), as of `as_of`
    (`events.EventsData.as_of`; None: every occurrence on the log's days counts as due)."""
    zone = None if as_of is None else as_of.tzinfo  # times in the JSON carry its offset
    as_of = None if as_of is None else as_of.replace(tzinfo=None)  # on the log's clock
    window = None
    if playbook.pilot is not None and playbook.pilot.period is not None:
        window = (playbook.pilot.period.start, playbook.pilot.period.end)
    by_level: dict[str, dict[str, float | None]] = {}
    adherence: dict[str, float | None] = {}
    limits: dict[str, dict[str, str]] = {}
    occurrences: dict[str, tuple[int, int]] = {}
    days = _log_days(facts.span, window, as_of)
    pending: dict[str, int] = {}
    missed: dict[str, tuple[int, tuple[Missed, ...]]] = {}
    open_by_level: dict[str, dict[str, tuple[int, int, int]]] = {}
    durations: dict[str, dict[str, tuple[float | None, float | None]]] = {}
    by_query = _queried(playbook, facts, days, calendar, realtime_seconds, as_of)
    for node in playbook.nodes:
        found = facts.levels.get(node.id, {})
        opened = {
            level: (figures.open, figures.breached_open, figures.pending)
            for level, figures in sorted(found.items())
            if figures.open
        }
        if opened:
            open_by_level[node.id] = opened
        if found:
            durations[node.id] = {
                level: (figures.p50_s, figures.p95_s) for level, figures in sorted(found.items())
            }
        if node.sla is not None and not isinstance(node.sla, Duration):
            levels = sorted(found)
            by_level[node.id] = {
                level: found[level].within / found[level].checked if found[level].checked else None
                for level in levels
            }
            limits[node.id] = {
                level: limit.text
                for level in levels
                if (limit := level_limit(node.sla, level)) is not None
            }
        if node.schedule is not None:
            queried = by_query.get(node.id)
            if queried is not None:  # the query's count (one definition with pilot sql --events)
                met, total, pending[node.id], first_missed = queried
                matched: tuple[int, int, list[Missed]] | None = (met, total, first_missed)
                missed[node.id] = (total - met, tuple(first_missed))
            else:  # a run in two occurrences' windows: the greedy match, in Python
                matched = (
                    _matched(
                        node,
                        facts.ok_finishes.get(node.id, []),
                        days,
                        calendar,
                        realtime_seconds,
                        as_of,
                    )
                    if days is not None
                    else None
                )
                if matched is not None:
                    missed[node.id] = (len(matched[2]), tuple(matched[2][:MISSED_SHOWN]))
                if matched is not None and days is not None and as_of is not None:
                    split = _due_split(node, days, calendar, realtime_seconds, as_of)
                    pending[node.id] = len(split[1])
            counted = None if matched is None else (matched[0], matched[1])
            adherence[node.id] = counted[0] / counted[1] if counted and counted[1] else None
            if counted is not None:  # (0, 0): nothing was due in the log's days
                occurrences[node.id] = counted
    alerts: dict[str, float | None] = {}
    counts: dict[str, int | None] = {}
    for alert in playbook.alerts:
        node = playbook.node(alert.node) if alert.node else None
        if node is None or alert.measure is None:
            continue
        if alert.measure == "schedule_adherence":
            alerts[alert.id] = adherence.get(node.id)
            counts[alert.id] = occurrences[node.id][1] if node.id in occurrences else None
        elif alert.level is not None:
            scoped = facts.levels.get(node.id, {}).get(alert.level)
            counts[alert.id] = scoped.count if scoped is not None else 0
            alerts[alert.id] = level_figures(node, scoped, alert.level, realtime_seconds).get(
                alert.measure
            )
    return ProcessMeasures(
        by_level,
        adherence,
        alerts,
        limits,
        occurrences,
        counts,
        pending,
        as_of,
        open_by_level,
        missed,
        zone,
        durations,
    )


def level_figures(
    node: Node, counts: Any, level: str, realtime_seconds: float
) -> dict[str, float | None]:
    """Every node measure over one level's rows (the query's counts of that level), as
    `events` computes them for a node."""
    from opsplay.nodes.log import _figures

    figures = _figures(node.id, counts, level_limit(node.sla, level), realtime_seconds)
    return {name: getattr(figures, name) for name in (*MEASURES, "sla_compliance")}


def _matched(
    node: Node,
    runs: Sequence[dt.datetime],
    days: tuple[dt.date, dt.date],
    calendar: Any,
    realtime_seconds: float,
    as_of: dt.datetime | None = None,
) -> tuple[int, int, list[Missed]] | None:
    """(met, all, the due occurrences not met on time): the occurrences on `days` already due
    at `as_of` (occurrence + limit at or before it; all of them without `as_of`), each met by
    the earliest unused `ok` run finishing within the limit after it; None when the node has
    no limit to judge a run by. An occurrence not met is paired with the `ok` run that finished after its deadline and
    before the next occurrence (done late), else with None (not done)."""
    limit = level_limit(node.sla, None)
    if node.schedule is None or limit is None:
        return None
    runs = sorted(runs)  # finish times of the node's `ok` runs
    occurrences, not_due = _due_split(node, days, calendar, realtime_seconds, as_of)
    met, next_run = 0, 0
    missed: list[Missed] = []
    # Occurrences and runs both in time order: each occurrence takes the earliest unused run
    # finishing inside its window; a run before an occurrence can serve no later one.
    for index, due in enumerate(occurrences):
        while next_run < len(runs) and runs[next_run] < due:
            next_run += 1
        if next_run < len(runs) and runs[next_run] <= _deadline(
            limit, due, calendar, realtime_seconds
        ):
            met += 1
            next_run += 1
            continue
        # the next occurrence, due or not yet
        following = (
            occurrences[index + 1]
            if index + 1 < len(occurrences)
            else not_due[0]
            if not_due
            else None
        )
        late = runs[next_run] if next_run < len(runs) else None
        if late is not None and (following is not None and late >= following):
            late = None  # a run after the next occurrence is that one's, not this one's late run
        if late is not None and as_of is not None and late > as_of:
            late = None
        missed.append((due, late))
    return met, len(occurrences), missed


def _queried(
    playbook: Playbook,
    facts: Any,
    days: tuple[dt.date, dt.date] | None,
    calendar: Any,
    realtime: float,
    as_of: dt.datetime | None,
) -> dict[str, tuple[int, int, int, list[Missed]]]:
    """Scheduled node -> (met, due, pending, the first ten due occurrences not met) from the
    schedule CTEs `pilot sql --events` prints (opsplay.nodes.schedules), run by DuckDB
    over the log's `ok` runs, exact to the nanosecond. Left out (for the greedy match in
    Python): nodes with a run in the windows of two due occurrences, a cron form the query
    does not write, and schedules falling due more than MAX_OCCURRENCES times (Python names
    the log's dates)."""
    from opsplay.nodes.schedules import expressible, scheduled_nodes, times_per_day

    runs = getattr(facts, "ok_nanos", None)
    if days is None or runs is None:
        return {}
    count = (days[1] - days[0]).days + 1
    items = [
        item
        for item in scheduled_nodes(playbook)
        if expressible(item.schedule)
        and item.node in runs
        and count * times_per_day(item.schedule) <= MAX_OCCURRENCES
    ]
    if not items:
        return {}
    import duckdb

    from opsplay.nodes.cells import NANOS, moment, nanos
    from opsplay.nodes.sql import _EPOCH, _calendar, schedule_sql

    evaluated = 2**62 if as_of is None else nanos(as_of)  # none: every occurrence is due
    lo, hi = ((day - _EPOCH).days for day in days)
    ctes = (
        f"WITH cal AS (\n{_calendar('duckdb', calendar.name)}\n),\n"
        f"sp AS (SELECT CAST({lo} AS INTEGER) AS lo, CAST({hi} AS INTEGER) AS hi, "
        f"CAST({evaluated} AS BIGINT) AS as_of),\n"
        "ok_runs AS (SELECT unnest($1::VARCHAR[]) AS node, unnest($2::BIGINT[]) AS f)"
        + schedule_sql(
            items,
            "duckdb",
            span="sp",
            runs="ok_runs",
            realtime=realtime,
            clock=calendar.limits == "clock",
            unit=NANOS,
        )
    )
    # the first ten due occurrences not met, each with the `ok` run that finished after its
    # deadline and before the next occurrence (done late), by the evaluation time
    late = (
        "(SELECT min(ru.f) FROM ok_runs ru WHERE ru.node = sw.node AND ru.f > sw.due "
        "AND (sw.following IS NULL OR ru.f < sw.following) AND ru.f <= sp.as_of)"
    )
    names = [node for node in (item.node for item in items) for _ in runs[node]]
    finishes = [value for item in items for value in runs[item.node]]
    # one statement: the counts of each node (`o` empty), then its first missed occurrences
    sql = (
        ctes + "\nSELECT node, schedule_due, schedule_met, schedule_pending, "
        "schedule_shared_runs, NULL AS o, NULL AS late FROM sa\nUNION ALL\n"
        f"SELECT sw.node, NULL, NULL, NULL, NULL, sw.o, {late} FROM sw CROSS JOIN sp "
        "WHERE sw.runs = 0 "
        f"QUALIFY row_number() OVER (PARTITION BY sw.node ORDER BY sw.o) <= {MISSED_SHOWN}\n"
        "ORDER BY 1, 6 NULLS FIRST"
    )
    with duckdb.connect() as con:
        rows = con.execute(sql, [names, finishes]).fetchall()
    found: dict[str, tuple[int, int, int, list[Missed]]] = {}
    for node, due, met, not_due, shared, occurrence, finished in rows:
        if occurrence is None:
            if shared == 0:
                found[node] = (int(met), int(due), int(not_due), [])
        elif node in found:
            shown = None if finished is None else moment(finished)
            found[node][3].append((moment(occurrence), shown))
    return found


def _due_split(
    node: Node,
    days: tuple[dt.date, dt.date],
    calendar: Any,
    realtime: float,
    as_of: dt.datetime | None,
) -> tuple[list[dt.datetime], list[dt.datetime]]:
    """The node's occurrences on `days`: (already due at `as_of`, not yet due: pending)."""
    limit = level_limit(node.sla, None)
    assert node.schedule is not None and limit is not None
    every = node.schedule.occurrences(days[0], days[1], calendar.is_working_day)
    occurrences = list(itertools.islice(every, MAX_OCCURRENCES + 1))
    if len(occurrences) > MAX_OCCURRENCES:
        raise InputError(
            _(
                "node `{node}`: its schedule `{schedule}` falls due more than {limit} times "
                "from {first} to {last} (the days of the log); give a log of a shorter period, "
                "or check the log's dates (a year such as 0001 or 9999 is a typing slip)"
            ).format(
                node=node.id,
                schedule=node.schedule,
                limit=f"{MAX_OCCURRENCES:,}",
                first=days[0].isoformat(),
                last=days[1].isoformat(),
            )
        )
    if as_of is None:
        return occurrences, []
    due = [o for o in occurrences if _deadline(limit, o, calendar, realtime) <= as_of]
    return due, occurrences[len(due) :]


def _deadline(limit: Duration, start: dt.datetime, calendar: Any, realtime: float) -> dt.datetime:
    if limit.is_calendar:
        return limit.deadline(start, calendar)
    return start + dt.timedelta(seconds=limit.resolve(realtime))


def _log_days(
    span: tuple[dt.datetime, dt.datetime] | None,
    window: tuple[dt.date, dt.date] | None,
    as_of: dt.datetime | None = None,
) -> tuple[dt.date, dt.date] | None:
    """The log's first day to its last (`span`: the first start and last finish of its
    timed rows; to `as_of`'s day when given), clipped to the pilot window when there is one."""
    if span is None:
        return None
    first, last = span[0].date(), span[1].date()
    if as_of is not None:
        last = as_of.date()
    if window is not None:
        first, last = max(first, window[0]), min(last, window[1])
    return (first, last) if first <= last else None
