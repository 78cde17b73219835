"""Node execution logs (`--events`): completion, fallback, failure and timeout rates,
durations and time-limit compliance per node.

A log has `case_id, node, started_at, finished_at, status` (or the Chinese headers
工单号 / 单号 / 编号, 节点, 开始时间, 结束时间 / 完成时间, 状态 / 结果, in any case or
width), optionally a `level` column (级别 / 等级 / 优先级) and arm and segment columns.
Statuses: ok (成功 / 完成 / 正常), failed (失败 / 异常 / failure), fallback (兜底 / 降级),
skipped (跳过), timeout (超时). Files are read like metric exports (same encodings).

Times are read on the clock of the project's time zone (`timezone`, opsplay.zones): a
stamp with a UTC offset is moved to it, a naive one is taken to be in it. A row without a
finish time (other than `skipped`) is an open case, judged as of the evaluation time
(`as_of`, default the log's last timestamp, SPEC 12): past its deadline it counts as a
breach (`breached_open`), before it as `pending` (out of the rate, counted).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, tzinfo
from pathlib import Path
from types import MappingProxyType

from opsplay.errors import InputError, UsageError
from opsplay.i18n import N_, _, language, ngettext
from opsplay.model.duration import Duration
from opsplay.model.hours import HoursLimit
from opsplay.pilot.event_times import (
    BadTimestamp,
    Span,
    as_datetime,
    as_ns,
    on_clock,
    parse_moment,
    parse_timestamp,
    span,
)
from opsplay.pilot.plain import listing
from opsplay.pilot.readers.cells import MAX_EXAMPLES, quote
from opsplay.pilot.readers.chunks import Progress
from opsplay.pilot.readers.results import SourceInfo
from opsplay.pilot.readers.sources import Source, find_column, open_source
from opsplay.pilot.readers.string_batches import iter_string_batches
from opsplay.text import visible
from opsplay.workdays import WorkdayCalendar

STATUSES = ("ok", "failed", "fallback", "skipped", "timeout")
_STATUS_WORDS = {
    "ok": ("ok", "成功", "完成", "正常", "已完成", "已处理", "处理完成"),
    "failed": ("failed", "failure", "失败", "异常", "已失败"),
    "fallback": ("fallback", "兜底", "降级", "已兜底"),
    "skipped": ("skipped", "跳过", "已跳过"),
    "timeout": ("timeout", "超时", "已超时"),
}
_STATUS_OF = {word: status for status, words in _STATUS_WORDS.items() for word in words}
EVENT_COLUMNS = ("case_id", "node", "started_at", "finished_at", "status")
COLUMN_ALIASES = {
    "case_id": ("case_id", "工单号", "单号", "编号"),
    "node": ("node", "节点"),
    "started_at": ("started_at", "开始时间"),
    "finished_at": ("finished_at", "结束时间", "完成时间"),
    "status": ("status", "状态", "结果"),
    "level": ("level", "级别", "等级", "优先级"),
}
# A missing column named as a Chinese team calls it (缺少“工单号”列), in English by its key.
COLUMN_NAMES = {
    "case_id": N_("case_id"),
    "node": N_("node"),
    "started_at": N_("started_at"),
    "finished_at": N_("finished_at"),
    "status": N_("status"),
}
Limit = Duration | HoursLimit | float | None
# The limit of one row, from its node and level: the hook for per-level limits.
LimitFor = Callable[[str, str | None], Limit]


@dataclass(frozen=True)
class NodeFigures:
    """Execution figures of one node; a figure that cannot be computed is None."""

    node: str
    count: int  # rows in the log
    completion_rate: float | None  # ok / count
    fallback_rate: float | None  # fallback / count
    failure_rate: float | None  # failed / count
    skipped_rate: float | None  # skipped / count
    timed: int  # rows with finished_at: the base of the duration figures
    p50_s: float | None
    p95_s: float | None
    sla_s: float | None  # the limit in seconds; None for calendar limits (see `sla`)
    sla_compliance: float | None  # share of timed rows that finished within their limit
    timeout_rate: float | None = None  # timeout / count
    sla: str | None = None  # the node's limit as the playbook writes it (`3个工作日`, `30分钟`)
    open: int = 0  # rows without a finish time (skipped rows aside): open cases
    breached_open: int = 0  # open cases past their deadline at `as_of`: counted as breaches
    pending: int = 0  # open cases not yet due: out of the compliance rate
    as_of: str | None = None  # the evaluation time used, ISO 8601 (with the zone's offset)
    # cases past their limit (finished late, or open past the deadline): level ("" for all
    # rows) -> (how many, the first ten case ids in file order), for robot messages
    missed_cases: Mapping[str, tuple[int, tuple[str, ...]]] = field(default_factory=dict)


@dataclass(frozen=True)
class EventRow:
    """One row of the log as read: what per-level measures are computed from."""

    case_id: str
    node: str
    status: str
    level: str | None  # the `level` column's value, None without the column or when blank
    seconds: float | None  # duration; None without finished_at
    within_sla: bool | None  # None when not timed or the node has no limit
    span: Span | None = (
        None  # start and finish (schedule adherence, opsplay.pilot.process_measures)
    )


@dataclass(frozen=True)
class EventsData:
    """Per-node figures of a log, overall and per group (arm/segment values)."""

    source: SourceInfo
    nodes: tuple[NodeFigures, ...]  # in the order of `slas` (the playbook's nodes)
    groups: Mapping[tuple[tuple[str, str], ...], tuple[NodeFigures, ...]]
    unknown_nodes: Mapping[str, int]  # node ids not in the playbook -> rows (left out)
    warnings: tuple[str, ...]
    rows: tuple[EventRow, ...] = ()  # rows of the playbook's nodes, in file order
    as_of: datetime | None = None  # the evaluation time, on the zone's clock (aware if zoned)


def read_events(
    path: Path,
    slas: Mapping[str, Limit],
    *,
    group_columns: Sequence[str] = (),
    skip_bad_rows: bool = False,
    limit_for: LimitFor | None = None,
    calendar: WorkdayCalendar | None = None,
    realtime_seconds: float = 1.0,
    lang: str | None = None,
    names: Mapping[str, str] | None = None,
    display: str | None = None,
    timezone: tzinfo | None = None,
    as_of: datetime | None = None,
) -> EventsData:
    """Read a node execution log and compute each node's figures.

    `slas` maps each node of the playbook to its limit (a Duration, seconds, or None);
    `limit_for(node, level)` overrides it per row (per-level limits). `names` maps node
    names to ids: teams' systems log the node's name (退款审核), not its id. Warnings are
    in `lang` (the document language of the results); errors in the message language.
    `display` names the log in messages when `path` is a copy of it (a database table).
    `timezone`: the zone of naive stamps, to whose clock stamps with an offset are moved
    (None: each row on its start's clock). `as_of`: the evaluation time of open cases
    (None: the log's last timestamp).
    """
    source = open_source(Path(path))  # another system's export: its encoding is detected
    if display:
        source = replace(source, display=display)
    calendar = calendar or WorkdayCalendar()
    roles = _event_columns(source)
    for name in group_columns:
        roles[f"group:{name}"] = find_column(source, name, "a group column")
    headers = list(dict.fromkeys(roles.values()))
    limit_of = limit_for or (lambda node, level: slas.get(node))
    id_of = _name_index(names or {}, slas)
    wrong_width: list[str] = []
    rows: dict[tuple[tuple[str, str], ...], dict[str, _NodeRows]] = {}
    kept: list[EventRow] = []
    unknown: dict[str, int] = {}
    used = 0
    examples: list[str] = []
    skipped = 0
    latest = 0  # the log's last timestamp (ns on the zone's clock): the default `as_of`
    # open rows: (index in `kept`, start, limit, the node's counters it is in)
    open_rows: list[tuple[int, int, Limit, tuple[_NodeRows, ...]]] = []
    for batch in iter_string_batches(source, headers, skip_bad_rows, Progress(None), wrong_width):
        columns = {role: batch.columns[header] for role, header in roles.items()}
        for i in range(batch.num_rows):

            def where(role: str, i: int = i, locate: Callable[[int], str] = batch.locate) -> str:
                return _('{where}, column "{column}"').format(
                    where=locate(i), column=visible(roles[role])
                )

            try:
                node, status, timing, started = _event(columns, i, where, timezone)
            except _BadEvent as bad:
                if not skip_bad_rows:
                    raise InputError(
                        _("{problem}; or pass --skip-bad-rows to skip such rows").format(
                            problem=bad.message
                        )
                    ) from None
                skipped += 1
                if len(examples) < MAX_EXAMPLES:
                    examples.append(bad.message.removeprefix(source.display + ", "))
                continue
            used += 1
            if timing is not None:
                latest = max(latest, timing.finish_ns, timing.start_ns)
            elif started is not None:
                latest = max(latest, started)
            node = node if node in slas else id_of.get(_fold(node), node)
            if node not in slas:
                unknown[node] = unknown.get(node, 0) + 1
                continue
            level = (columns["level"][i] or None) if "level" in columns else None
            limit = limit_of(node, level)
            within = None
            if timing is not None and limit is not None:
                within = timing.within(limit, calendar, realtime_seconds)
            seconds = None if timing is None else timing.seconds
            kept.append(
                EventRow(columns["case_id"][i], node, status, level, seconds, within, timing)
            )
            group = tuple((name, columns[f"group:{name}"][i]) for name in group_columns)
            counted = []
            for key in {(), group}:
                node_rows = rows.setdefault(key, {}).setdefault(node, _NodeRows())
                node_rows.add(status, seconds, within)
                if within is False:
                    node_rows.missed_case(columns["case_id"][i], level)
                counted.append(node_rows)
            if timing is None and started is not None and status != "skipped":
                open_rows.append((len(kept) - 1, started, limit, tuple(counted)))
    skipped += len(wrong_width)
    if used == 0 and skipped == 0:
        raise InputError(_("{file}: has a header but no data rows").format(file=source.display))
    if used == 0:  # every row was skipped: say why, or the user has nothing to fix
        raise InputError(
            ngettext(
                "{file}: no usable rows ({count} bad row: {examples})",
                "{file}: no usable rows ({count} bad rows: {examples})",
                skipped,
            ).format(
                file=source.display,
                count=f"{skipped:,}",
                examples=_("; ").join((wrong_width + examples)[:MAX_EXAMPLES]),
            )
        )
    evaluated = _as_of(as_of, timezone, latest)
    for index, started, limit, counted in open_rows:
        breached = None
        if limit is not None:
            breached = _due_ns(started, limit, calendar, realtime_seconds) < as_ns(evaluated)
            kept[index] = replace(kept[index], within_sla=False if breached else None)
        for node_rows in counted:
            node_rows.add_open(breached)
            if breached:
                node_rows.missed_case(kept[index].case_id, kept[index].level)
    with language(lang):
        warnings = _warnings(source, slas, rows, unknown, skipped, wrong_width + examples)
        if calendar.outside_years:
            warnings.append(
                _(
                    "{file}: the official working-day calendar does not cover {years}; Monday to "
                    "Friday were counted as working days on those dates"
                ).format(
                    file=source.display, years=", ".join(map(str, sorted(calendar.outside_years)))
                )
            )
    shown_as_of = evaluated if timezone is None else evaluated.replace(tzinfo=timezone)
    stamp = shown_as_of.isoformat(timespec="seconds")
    figures = {
        key: tuple(
            replace(_figures(n, nodes.get(n), slas[n], realtime_seconds), as_of=stamp) for n in slas
        )
        for key, nodes in rows.items()
    }
    return EventsData(
        source=SourceInfo(source.display, "events", source.encoding, used, skipped),
        nodes=figures.get(
            (),
            tuple(replace(_figures(n, None, slas[n], realtime_seconds), as_of=stamp) for n in slas),
        ),
        groups=MappingProxyType({k: v for k, v in sorted(figures.items()) if k}),
        unknown_nodes=MappingProxyType(dict(sorted(unknown.items()))),
        warnings=tuple(warnings),
        rows=tuple(kept),
        as_of=shown_as_of,
    )


def evaluation_time(as_of: str | datetime | None, timezone: tzinfo) -> datetime | None:
    """`--as-of` as written (`2026-12-07 14:00`, `2026-12-07T14:00+08:00`), naive times in
    `timezone`; a UsageError naming the forms when it is not a time."""
    if as_of is None or isinstance(as_of, datetime):
        return as_of
    try:
        return parse_moment(as_of, timezone)
    except ValueError:
        raise UsageError(
            _(
                "--as-of {value} is not a time; write for example 2026-12-07 14:00 or "
                "2026-12-07T14:00:00+08:00"
            ).format(value=_quoted(as_of))
        ) from None


def _as_of(as_of: datetime | None, timezone: tzinfo | None, latest: int) -> datetime:
    """The evaluation time as a naive time on the zone's clock."""
    if as_of is None:
        return as_datetime(latest) if latest else datetime.min
    if as_of.tzinfo is not None:
        return as_of.astimezone(timezone).replace(tzinfo=None)
    return as_of


def _due_ns(started: int, limit: Limit, calendar: WorkdayCalendar, realtime: float) -> int:
    """When a case started at `started` (ns on the zone's clock) falls due under `limit`."""
    if isinstance(limit, HoursLimit):
        if not limit.limit.is_calendar:
            moment = as_datetime(started)
            return as_ns(limit.deadline(moment, calendar.is_working_day, realtime))
        limit = limit.limit
    if isinstance(limit, Duration) and limit.is_calendar:
        return as_ns(limit.deadline(as_datetime(started), calendar))
    seconds = limit.resolve(realtime) if isinstance(limit, Duration) else float(limit or 0)
    return started + round(seconds * 1e9)


def _name_index(names: Mapping[str, str], slas: Mapping[str, Limit]) -> dict[str, str]:
    """Folded node name -> id; a name two nodes share names neither (the id must be written)."""
    index: dict[str, str | None] = {}
    for name, node in names.items():
        if node in slas and name:
            key = _fold(name)
            index[key] = node if index.get(key, node) == node else None
    return {key: node for key, node in index.items() if node is not None}


def _quoted(column: str) -> str:
    """A header as the file has it: "工单" in English, “工单” in Chinese."""
    return _('"{column}"').format(column=visible(column))


def _fold(name: str) -> str:
    """A header as compared: NFKC (full width to half width), case-folded, trimmed."""
    return unicodedata.normalize("NFKC", name).strip().casefold()


def _event_columns(source: Source) -> dict[str, str]:
    """The header name of each event column, English or Chinese; `level` only when present."""
    roles = {}
    for role, aliases in COLUMN_ALIASES.items():
        found = [c for c in source.columns if _fold(c) in aliases]
        if len(found) > 1:
            raise InputError(
                _("{file}: the columns {columns} all mean `{name}`; keep one of them").format(
                    file=source.display,
                    columns="、".join(f'"{visible(c)}"' for c in found),
                    name=role,
                )
            )
        if found:
            roles[role] = found[0]
        elif role != "level":
            raise InputError(
                _(
                    '{file}: missing column "{name}" of the execution log; name it {aliases}; '
                    "the file has columns {columns}"
                ).format(
                    file=source.display,
                    name=_(COLUMN_NAMES[role]),
                    aliases=" / ".join(aliases),
                    columns=listing([_quoted(c) for c in source.columns[:30]]),
                )
            )
    return roles


def _warnings(
    source: Source,
    slas: Mapping[str, Limit],
    rows: Mapping[tuple[tuple[str, str], ...], Mapping[str, _NodeRows]],
    unknown: Mapping[str, int],
    skipped: int,
    examples: list[str],
) -> list[str]:
    warnings = []
    if skipped:
        warnings.append(
            ngettext(
                "{file}: skipped {count} bad row ({examples})",
                "{file}: skipped {count} bad rows ({examples})",
                skipped,
            ).format(
                file=source.display,
                count=f"{skipped:,}",
                examples=_("; ").join(examples[:MAX_EXAMPLES]),
            )
        )
    if unknown:
        listed = _("; ").join(
            ngettext("`{node}` ({count} row)", "`{node}` ({count} rows)", count).format(
                node=visible(node), count=f"{count:,}"
            )
            for node, count in sorted(unknown.items())
        )
        warnings.append(
            _(
                "{file}: nodes not in the playbook were left out: {listed}; write each node's id "
                "or its name as the playbook has it"
            ).format(file=source.display, listed=listed)
        )
    overall = rows.get((), {})
    for node in slas:
        if node not in overall:
            warnings.append(
                _("{file}: node `{node}` has no rows in the log").format(
                    file=source.display, node=visible(node)
                )
            )
    return warnings


class _BadEvent(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class _NodeRows:
    """Status counts, durations and limit checks of one node's rows."""

    def __init__(self) -> None:
        self.statuses = dict.fromkeys(STATUSES, 0)
        self.durations: list[float] = []
        self.checked = 0  # timed rows with a limit, and open cases past their deadline
        self.within = 0
        self.open = 0
        self.breached_open = 0
        self.pending = 0
        self.missed: dict[str, tuple[int, list[str]]] = {}  # level ("" all) -> count, ids

    def missed_case(self, case_id: str, level: str | None) -> None:
        """A case past its limit: counted, its id kept among the first ten (all, its level)."""
        for key in {"", level or ""}:
            count, ids = self.missed.get(key, (0, []))
            if len(ids) < 10:
                ids.append(case_id)
            self.missed[key] = (count + 1, ids)

    def add(self, status: str, duration: float | None, within: bool | None) -> None:
        self.statuses[status] += 1
        if duration is not None:
            self.durations.append(duration)
        if within is not None:
            self.checked += 1
            self.within += within

    def add_open(self, breached: bool | None) -> None:
        """An open case: a breach when past its deadline, pending before (None: no limit)."""
        self.open += 1
        if breached:
            self.breached_open += 1
            self.checked += 1
        elif breached is not None:
            self.pending += 1


def _event(
    columns: Mapping[str, list[str]],
    i: int,
    where: Callable[[str], str],
    timezone: tzinfo | None = None,
) -> tuple[str, str, Span | None, int | None]:
    """(node, status, start and finish, start of an open row) of row `i`."""
    node = columns["node"][i]
    if not node:
        raise _BadEvent(
            _("{where}: is blank; write the node id or its name").format(where=where("node"))
        )
    written = columns["status"][i]
    status = _STATUS_OF.get(written.casefold())
    if status is None:
        raise _BadEvent(
            _("{where}: {value} is not a status; write one of {statuses}").format(
                where=where("status"),
                value=_quoted(quote(written)[1:-1]),
                statuses=_(
                    "ok (成功), failed (失败), fallback (兜底), skipped (跳过), timeout (超时)"
                ),
            )
        )
    started = _timestamp(columns["started_at"][i], "started_at", where)
    finished = _timestamp(columns["finished_at"][i], "finished_at", where)
    if timezone is not None:
        started = None if started is None else on_clock(started, timezone)
        finished = None if finished is None else on_clock(finished, timezone)
    if finished is None:
        return node, status, None, None if started is None else started[0]
    if started is None:
        raise _BadEvent(
            _("{where}: is blank although the finish time is set").format(where=where("started_at"))
        )
    timing = span(started, finished)
    if timing.finish_ns < timing.start_ns:
        raise _BadEvent(
            _("{where}: {finished} is before the start time {started}; check the two times").format(
                where=where("finished_at"),
                finished=visible(columns["finished_at"][i]),
                started=visible(columns["started_at"][i]),
            )
        )
    return node, status, timing, None


def _timestamp(text: str, role: str, where: Callable[[str], str]) -> tuple[int, int | None] | None:
    try:
        return parse_timestamp(text)
    except BadTimestamp as bad:
        message = {
            "format": _(
                "{where}: {value} is not an ISO 8601 timestamp; write for example "
                "2024-08-01T09:30:00, 2024-08-01 09:30:00.250 or 2024-08-01T09:30:00+08:00"
            ),
            "date": _("{where}: {value} is not a valid date"),
            "time": _("{where}: {value} is not a valid time of day"),
        }[bad.problem]
        raise _BadEvent(
            message.format(where=where(role), value=_quoted(quote(text)[1:-1]))
        ) from None


def _figures(node: str, rows: _NodeRows | None, limit: Limit, realtime: float) -> NodeFigures:
    import numpy as np

    if isinstance(limit, HoursLimit):  # business hours: the limit as written, no fixed length
        figures = _figures(node, rows, limit.limit, realtime)
        return replace(figures, sla_s=None)
    calendar_limit = isinstance(limit, Duration) and limit.is_calendar
    sla_s = None
    if isinstance(limit, Duration) and not calendar_limit:
        sla_s = limit.resolve(realtime)
    elif isinstance(limit, int | float):
        sla_s = float(limit)
    written = limit.as_written if isinstance(limit, Duration) else None
    if rows is None:
        return NodeFigures(
            node, 0, None, None, None, None, 0, None, None, sla_s, None, None, written
        )
    count = sum(rows.statuses.values())
    durations = np.array(rows.durations, dtype=float)
    p50 = p95 = None
    if durations.size:
        p50, p95 = (float(q) for q in np.percentile(durations, [50, 95]))
    return NodeFigures(
        node=node,
        count=count,
        completion_rate=rows.statuses["ok"] / count,
        fallback_rate=rows.statuses["fallback"] / count,
        failure_rate=rows.statuses["failed"] / count,
        skipped_rate=rows.statuses["skipped"] / count,
        timed=int(durations.size),
        p50_s=p50,
        p95_s=p95,
        sla_s=sla_s,
        sla_compliance=rows.within / rows.checked if rows.checked else None,
        timeout_rate=rows.statuses["timeout"] / count,
        sla=written,
        open=rows.open,
        breached_open=rows.breached_open,
        pending=rows.pending,
        missed_cases=MappingProxyType(
            {key: (count, tuple(ids)) for key, (count, ids) in sorted(rows.missed.items())}
        ),
    )
