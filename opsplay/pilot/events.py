"""Node execution logs (`--events`): completion, fallback and failure rates, durations, SLAs.

A log has `case_id, node, started_at, finished_at, status` (status ok | failed | fallback |
skipped) and optionally arm and segment columns. Timestamps are ISO 8601 (`T` or a space,
with or without fractional seconds or a UTC offset, mixed in one file); `2024/8/5 9:30`,
as Excel re-saves them, is accepted too. When only one of a row's two timestamps carries an
offset, the other is taken to be in the same zone. Files are read like metric exports
(same encodings, same messages naming file, line and column).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import MappingProxyType

from opsplay.errors import InputError
from opsplay.pilot.readers.cells import MAX_EXAMPLES, SKIP_HINT, quote
from opsplay.pilot.readers.chunks import Progress
from opsplay.pilot.readers.results import SourceInfo
from opsplay.pilot.readers.sources import find_column, open_source
from opsplay.pilot.readers.string_batches import iter_string_batches

STATUSES = ("ok", "failed", "fallback", "skipped")
# The playbook's fallback triggers say `failure`; logs written with that word mean failed.
_STATUS_ALIASES = {"failure": "failed"}
EVENT_COLUMNS = ("case_id", "node", "started_at", "finished_at", "status")

_TIMESTAMP = re.compile(
    r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})"
    r"(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?"
    r"\s*(Z|[+-]\d{2}(?::?\d{2})?)?$"
)


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
    sla_s: float | None
    sla_compliance: float | None  # share of timed rows with duration <= sla_s


@dataclass(frozen=True)
class EventsData:
    """Per-node figures of a log, overall and per group (arm/segment values)."""

    source: SourceInfo
    nodes: tuple[NodeFigures, ...]  # in the order of `slas` (the playbook's nodes)
    groups: Mapping[tuple[tuple[str, str], ...], tuple[NodeFigures, ...]]
    unknown_nodes: Mapping[str, int]  # node ids not in the playbook -> rows (left out)
    warnings: tuple[str, ...]


def read_events(
    path: Path,
    slas: Mapping[str, float | None],
    *,
    group_columns: Sequence[str] = (),
    skip_bad_rows: bool = False,
) -> EventsData:
    """Read a node execution log and compute each node's figures; `slas` maps node -> seconds."""
    source = open_source(Path(path))  # another system's export: its encoding is detected
    roles = {name: find_column(source, name, "an execution log column") for name in EVENT_COLUMNS}
    for name in group_columns:
        roles[f"group:{name}"] = find_column(source, name, "a group column")
    headers = list(dict.fromkeys(roles.values()))
    wrong_width: list[str] = []
    rows: dict[tuple[tuple[str, str], ...], dict[str, _NodeRows]] = {}
    unknown: dict[str, int] = {}
    used = 0
    examples: list[str] = []
    skipped = 0
    for batch in iter_string_batches(source, headers, skip_bad_rows, Progress(None), wrong_width):
        columns = {role: batch.columns[header] for role, header in roles.items()}
        for i in range(batch.num_rows):

            def where(role: str, i: int = i, locate: Callable[[int], str] = batch.locate) -> str:
                return f'{locate(i)}, column "{roles[role]}"'

            try:
                node, status, duration = _event(columns, i, where)
            except _BadEvent as bad:
                if not skip_bad_rows:
                    raise InputError(f"{bad.message}, {SKIP_HINT}") from None
                skipped += 1
                if len(examples) < MAX_EXAMPLES:
                    examples.append(bad.message.removeprefix(source.display + ", "))
                continue
            used += 1
            if node not in slas:
                unknown[node] = unknown.get(node, 0) + 1
                continue
            group = tuple((name, columns[f"group:{name}"][i]) for name in group_columns)
            for key in {(), group}:
                rows.setdefault(key, {}).setdefault(node, _NodeRows()).add(status, duration)
    skipped += len(wrong_width)
    if used == 0 and skipped == 0:
        raise InputError(f"{source.display}: has a header but no data rows")
    if used == 0:
        raise InputError(f"{source.display}: no usable rows ({skipped:,} bad)")
    warnings = []
    if skipped:
        shown = "; ".join((wrong_width + examples)[:MAX_EXAMPLES])
        warnings.append(f"{source.display}: skipped {skipped:,} bad row(s) ({shown})")
    if unknown:
        listed = ", ".join(f"`{n}` ({c:,} rows)" for n, c in sorted(unknown.items()))
        warnings.append(
            f"{source.display}: nodes not in the playbook were left out: {listed}; "
            "check the node ids"
        )
    overall = rows.get((), {})
    for node in slas:
        if node not in overall:
            warnings.append(f"{source.display}: node `{node}` has no rows in the log")
    figures = {
        key: tuple(_figures(n, nodes.get(n), slas[n]) for n in slas) for key, nodes in rows.items()
    }
    return EventsData(
        source=SourceInfo(source.display, "events", source.encoding, used, skipped),
        nodes=figures.get((), tuple(_figures(n, None, slas[n]) for n in slas)),
        groups=MappingProxyType({k: v for k, v in sorted(figures.items()) if k}),
        unknown_nodes=MappingProxyType(dict(sorted(unknown.items()))),
        warnings=tuple(warnings),
    )


class _BadEvent(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class _NodeRows:
    """Status counts and durations of one node's rows."""

    def __init__(self) -> None:
        self.statuses = dict.fromkeys(STATUSES, 0)
        self.durations: list[float] = []

    def add(self, status: str, duration: float | None) -> None:
        self.statuses[status] += 1
        if duration is not None:
            self.durations.append(duration)


def _event(
    columns: Mapping[str, list[str]], i: int, where: Callable[[str], str]
) -> tuple[str, str, float | None]:
    node = columns["node"][i]
    if not node:
        raise _BadEvent(f"{where('node')}: is blank; write the node id")
    status = columns["status"][i].casefold()
    status = _STATUS_ALIASES.get(status, status)
    if status not in STATUSES:
        raise _BadEvent(
            f"{where('status')}: {quote(columns['status'][i])} is not a status; "
            f"write one of {', '.join(STATUSES)}"
        )
    started = _timestamp(columns["started_at"][i], "started_at", where)
    finished = _timestamp(columns["finished_at"][i], "finished_at", where)
    if finished is None:
        return node, status, None
    if started is None:
        raise _BadEvent(f"{where('started_at')}: is blank although finished_at is set")
    (start_ns, start_offset), (finish_ns, finish_offset) = started, finished
    start_offset = finish_offset if start_offset is None else start_offset
    finish_offset = start_offset if finish_offset is None else finish_offset
    duration_ns = (finish_ns - (finish_offset or 0)) - (start_ns - (start_offset or 0))
    if duration_ns < 0:
        raise _BadEvent(
            f"{where('finished_at')}: {columns['finished_at'][i]} is before started_at "
            f"{columns['started_at'][i]}; check the two timestamps"
        )
    return node, status, duration_ns / 1e9


def _timestamp(text: str, role: str, where: Callable[[str], str]) -> tuple[int, int | None] | None:
    """(ns since 0001-01-01 in the stated zone, UTC offset in ns or None); None when blank."""
    if not text:
        return None
    match = _TIMESTAMP.match(text)
    if match is None:
        raise _BadEvent(
            f"{where(role)}: {quote(text)} is not an ISO 8601 timestamp; write for example "
            "2024-08-01T09:30:00, 2024-08-01 09:30:00.250 or 2024-08-01T09:30:00+08:00"
        )
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        days = date(int(year), int(month), int(day)).toordinal()
    except ValueError:
        raise _BadEvent(f"{where(role)}: {quote(text)} is not a valid date") from None
    hour_i, minute_i, second_i = int(hour or 0), int(minute or 0), int(second or 0)
    if hour_i > 23 or minute_i > 59 or second_i > 59:
        raise _BadEvent(f"{where(role)}: {quote(text)} is not a valid time of day")
    nanos = int((fraction or "").ljust(9, "0"))
    total = ((days * 24 + hour_i) * 60 + minute_i) * 60 + second_i
    offset = None
    if zone:
        if zone == "Z":
            offset = 0
        else:
            digits = zone[1:].replace(":", "")
            minutes = int(digits[:2]) * 60 + int(digits[2:4] or 0)
            offset = (-1 if zone[0] == "-" else 1) * minutes * 60 * 10**9
    return total * 10**9 + nanos, offset


def _figures(node: str, rows: _NodeRows | None, sla: float | None) -> NodeFigures:
    import numpy as np

    if rows is None:
        return NodeFigures(node, 0, None, None, None, None, 0, None, None, sla, None)
    count = sum(rows.statuses.values())
    durations = np.array(rows.durations, dtype=float)
    p50 = p95 = compliance = None
    if durations.size:
        p50, p95 = (float(q) for q in np.percentile(durations, [50, 95]))
        if sla is not None:
            compliance = float(np.count_nonzero(durations <= sla)) / durations.size
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
        sla_s=sla,
        sla_compliance=compliance,
    )
