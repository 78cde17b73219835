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
from typing import Any

from opsplay.errors import InputError, UsageError
from opsplay.i18n import N_, _, language, ngettext
from opsplay.model.duration import Duration
from opsplay.model.hours import HoursLimit
from opsplay.model.process import DEFAULT_LEVEL
from opsplay.nodes.sql import OPEN_WORDS, STATUS_WORDS
from opsplay.nodes.times import FIRST_YEAR, LAST_YEAR, as_datetime, parse_moment
from opsplay.readers.cells import MAX_EXAMPLES, normalize_text, quote
from opsplay.readers.results import SourceInfo
from opsplay.readers.sources import Source, find_column, open_source
from opsplay.text import joined, visible
from opsplay.workdays import WorkdayCalendar

STATUSES = tuple(STATUS_WORDS)
_STATUS_OF = {word: status for status, words in STATUS_WORDS.items() for word in words} | {
    word: "open" for word in OPEN_WORDS
}
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
    missed_open: frozenset[str] = frozenset()  # of those ids, the cases still open


@dataclass(frozen=True)
class EventsData:
    """Per-node figures of a log, overall and per group (arm/segment values)."""

    source: SourceInfo
    nodes: tuple[NodeFigures, ...]  # in the order of `slas` (the playbook's nodes)
    groups: Mapping[tuple[tuple[str, str], ...], tuple[NodeFigures, ...]]
    unknown_nodes: Mapping[str, int]  # node ids not in the playbook -> rows (left out)
    warnings: tuple[str, ...]
    facts: Any = None  # event_query.LogFacts: per-level figures, schedule runs, missed cases
    as_of: datetime | None = None  # the evaluation time, on the zone's clock (aware if zoned)
    # for the user, in the message language, on stderr: what the figures are read as
    notices: tuple[str, ...] = ()


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
    as_it_stood: bool = True,
) -> EventsData:
    """Read a node execution log and compute each node's figures, in one DuckDB query: the
    judged rows and figure columns `pilot sql --events` prints (opsplay.nodes.query).

    `slas` maps each node of the playbook to its limit (a Duration, seconds, or None), as
    shown in the node table; `limit_for` (opsplay.nodes.measures.limit_for) carries the limits as
    written, per level (`limits`), and the scheduled nodes (`scheduled`). `names` maps node
    names to ids: teams' systems log the node's name (退款审核), not its id. Warnings are
    in `lang` (the document language of the results); errors in the message language.
    `display` names the log in messages when `path` is a copy of it (a database table).
    `timezone`: the zone of naive stamps, to whose clock stamps with an offset are moved
    (None: each row on its start's clock). `as_of`: the evaluation time of open cases
    (None: the log's last timestamp); the log is read as it stood then (SPEC 12: rows
    started after it left out, cases finished after it open), said in `notices`, unless
    `as_it_stood` is False (watch's default evaluation time, now: the log as it stands).
    """
    from opsplay.nodes.query import query_log
    from opsplay.readers.engine import open_table

    # another system's export: its encoding is detected, an Excel sheet's header found below
    # any title rows (`工单处理日志（10月）`) by the columns a log has
    wanted = [alias for aliases in COLUMN_ALIASES.values() for alias in aliases]
    source = open_source(Path(path), wanted=wanted)
    if display:
        source = replace(source, display=display)
    calendar = calendar or WorkdayCalendar()
    roles = _event_columns(source)
    for name in group_columns:
        roles[f"group:{name}"] = find_column(source, name, "a group column")
    written = {**slas, **dict(getattr(limit_for, "limits", None) or {})}
    # a node's id or name in another case or width (`ＰＡＹ`, `Pay`) is that node, as the
    # printed query reads it
    id_of = _name_index({**{node: node for node in slas}, **(names or {})}, slas)

    def map_node(raw: str) -> str:
        node = normalize_text(raw)
        return node if node in slas else id_of.get(_fold(node), node)

    def map_status(raw: str) -> str | None:
        return _STATUS_OF.get(normalize_text(raw).casefold())

    evaluated = None if as_of is None else _as_of(as_of, timezone, 0)
    with open_table(source, skip_bad_rows) as table:
        if skip_bad_rows:  # the lines DuckDB skips (wrong number of fields) are known first
            table.fetch(f"SELECT count(*) FROM {table.relation}")
            table.count_rejects()
        facts = query_log(
            table,
            roles,
            group_columns,
            written,
            map_node=map_node,
            map_status=map_status,
            calendar_name=calendar.name,
            clock=calendar.limits == "clock",
            realtime=realtime_seconds,
            zone=timezone,
            as_of=evaluated,
            scheduled=tuple(getattr(limit_for, "scheduled", ()) or ()),
            first_bad_only=not skip_bad_rows,
            node_names=tuple(names or ()),
            # each level's p50/p95 (SPEC 12: the level rows of the printed query) when the
            # log has levels: the durations kept once more (4 or 8 bytes a row)
            level_durations="level" in roles,
            levels=tuple(getattr(limit_for, "levels", ()) or ()),
            as_it_stood=as_it_stood,
        )
        # the rows a message shows (each looks its cells up again): in the message language for
        # the error, and with --skip-bad-rows in the results' language for the warning
        shown_bad = facts.bad[:MAX_EXAMPLES]
        messages = [_bad_row(table, roles, record, problem) for record, problem, *_ in shown_bad]
        warned = []
        if skip_bad_rows:
            with language(lang):
                warned = [_bad_row(table, roles, rec, problem) for rec, problem, *_ in shown_bad]
        wrong_width = table.skipped_examples + [""] * (
            table.skipped_rows - len(table.skipped_examples)
        )
    if messages and not skip_bad_rows:
        raise InputError(
            _("{problem}; or pass --skip-bad-rows to skip such rows").format(problem=messages[0])
        )
    examples = [m.removeprefix(source.display + ", ") for m in messages[:MAX_EXAMPLES]]
    used, skipped = facts.used, facts.bad_count + len(wrong_width)
    if used == 0 and skipped == 0 and facts.later:
        raise InputError(
            _(
                "{file}: every row started after the evaluation time {time}: the log had no "
                "rows then; give a later --as-of"
            ).format(file=source.display, time=f"{evaluated:%Y-%m-%d %H:%M:%S}")
        )
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
    outside = set(calendar.outside_years)
    if calendar.name == "official":
        outside |= {year for year in facts.years if not official_year(year)}
    # a node in a warning by its name in the playbook (故障处置), as the results show it
    shown = {node: name for name, node in (names or {}).items() if node in slas}
    with language(lang):
        warnings = _warnings(
            source,
            slas,
            {(): facts.overall},
            facts.unknown,
            skipped,
            wrong_width + [m.removeprefix(source.display + ", ") for m in warned],
            shown,
        )
        warnings += _levels_without_limit(source, written, facts.overall, facts.levels, shown)
        declared = tuple(getattr(limit_for, "levels", ()) or ())
        warnings += _undeclared_levels(source, written, facts.levels, declared, shown)
        if outside:
            warnings.append(
                _(
                    "{file}: the official working-day calendar does not cover {years}; Monday to "
                    "Friday were counted as working days on those dates"
                ).format(file=source.display, years=", ".join(map(str, sorted(outside))))
            )
    shown_as_of = facts.as_of if timezone is None else facts.as_of.replace(tzinfo=timezone)
    stamp = shown_as_of.isoformat(timespec="seconds")

    def figures(found: Mapping[str, Any], missed: bool) -> tuple[NodeFigures, ...]:
        return tuple(
            replace(
                _figures(n, found.get(n), slas[n], realtime_seconds),
                as_of=stamp,
                missed_cases=MappingProxyType(dict(facts.missed.get(n, {}))) if missed else {},
                missed_open=frozenset(case for node, case in facts.still_open if node == n)
                if missed
                else frozenset(),
            )
            for n in slas
        )

    return EventsData(
        source=SourceInfo(source.display, "events", source.encoding, used, skipped),
        nodes=figures(facts.overall, True),
        groups=MappingProxyType(
            {key: figures(found, False) for key, found in sorted(facts.groups.items())}
        ),
        unknown_nodes=MappingProxyType(dict(sorted(facts.unknown.items()))),
        warnings=tuple(warnings),
        facts=facts,
        as_of=shown_as_of,
        notices=tuple(_later_rows(source, facts.later, evaluated)),
    )


def _later_rows(source: Source, later: int, as_of: datetime | None) -> list[str]:
    """The notice that the log runs past a given evaluation time: it was read as it stood
    then (SPEC 12), not as it stands at its end."""
    if not later or as_of is None:
        return []
    return [
        ngettext(
            "{file}: {count} row started after the evaluation time {time}; the log is read as "
            "it stood then: rows started later are not counted, and cases finished later count "
            "as open",
            "{file}: {count} rows started after the evaluation time {time}; the log is read as "
            "it stood then: rows started later are not counted, and cases finished later count "
            "as open",
            later,
        ).format(file=source.display, count=f"{later:,}", time=f"{as_of:%Y-%m-%d %H:%M}")
    ]


def _levels_without_limit(
    source: Source,
    written: Mapping[str, Any],
    overall: Mapping[str, Any],
    levels: Mapping[str, Mapping[Any, Any]],
    shown: Mapping[str, str],
) -> list[str]:
    """A warning per node with per-level limits whose log has rows of a level without one
    (`P3`, blank, with no `default`): they are left out of its SLA compliance. (`p1` is
    P1 already, events_sql.level_sql, unless the playbook declares `p1` too.) Blank levels
    have no row of their own in the query: they are the node's rows no level row counts."""
    warnings = []
    for node, sla in written.items():
        declared = getattr(sla, "root", None)  # per-level limits (LevelLimits)
        if not isinstance(declared, dict) or not hasattr(sla, "limit"):
            continue
        of_node = levels.get(node, {})
        left = {
            level: figures.count
            for level, figures in of_node.items()
            if figures.count and sla.limit(level) is None
        }
        blank = (overall[node].count if node in overall else 0) - sum(
            figures.count for figures in of_node.values()
        )
        if blank > 0 and sla.limit(None) is None:
            left[""] = blank
        if not left:
            continue
        listed = _listed_levels(left)
        warnings.append(
            _(
                "{file}: node `{node}` has rows of levels without a time limit there: {listed}; "
                "they are left out of its SLA compliance. Write one of {levels}, or give the "
                "node a `default` limit"
            ).format(
                file=source.display,
                node=visible(shown.get(node, node)),
                listed=listed,
                levels=joined(level for level in declared if level != DEFAULT_LEVEL),
            )
        )
    return warnings


def _undeclared_levels(
    source: Source,
    written: Mapping[str, Any],
    levels: Mapping[str, Mapping[Any, Any]],
    declared: Sequence[str],
    shown: Mapping[str, str],
) -> list[str]:
    """A warning per node with per-level limits and a `default` whose log has rows of a level
    neither the playbook's `levels` nor its limits name (`P 1`, `一级`): the default judges
    them, so a typo for P1 would loosen its limit without a word (a try-out's `P 1`: from
    2 hours to 8). Levels in another case or width are the declared ones already."""
    warnings = []
    for node, sla in written.items():
        limits = getattr(sla, "root", None)
        if not isinstance(limits, dict) or DEFAULT_LEVEL not in limits:
            continue
        known = {*declared, *limits}
        odd = {
            level: figures.count
            for level, figures in levels.get(node, {}).items()
            if figures.count and level not in known
        }
        if not odd:
            continue
        listed = _listed_levels(odd)
        warnings.append(
            _(
                "{file}: node `{node}` has rows of levels the playbook does not declare: "
                "{listed}; its `default` limit judged them. If one means a declared level "
                "({levels}), write that level in the log"
            ).format(
                file=source.display,
                node=visible(shown.get(node, node)),
                listed=listed,
                levels=joined(level for level in (declared or limits) if level != DEFAULT_LEVEL),
            )
        )
    return warnings


def _listed_levels(counts: Mapping[str, int]) -> str:
    """`P3` (2 rows); blank (1 row): levels of a log and their rows, for a warning."""
    return _("; ").join(
        ngettext("`{level}` ({count} row)", "`{level}` ({count} rows)", count).format(
            level=visible(level) if level else _("blank"), count=f"{count:,}"
        )
        for level, count in sorted(counts.items(), key=lambda item: item[0] or "")
    )


def official_year(year: int) -> bool:
    """Whether the official working-day calendar (chinese-calendar) covers `year`."""
    import chinese_calendar

    days = chinese_calendar.holidays
    return min(days).year <= year <= max(days).year


def _bad_row(table: Any, roles: Mapping[str, str], record: int, problem: str) -> str:
    """The message of a bad row, as the file path always worded it (file, line, column)."""

    def where(role: str) -> str:
        return _('{where}, column "{column}"').format(
            where=table.where(record), column=visible(roles[role])
        )

    def cell(role: str) -> str:
        return normalize_text(table.cell(record, roles[role]))

    if problem == "node":
        return _("{where}: is blank; write the node id or its name").format(where=where("node"))
    if problem == "status":
        return _("{where}: {value} is not a status; write one of {statuses}").format(
            where=where("status"),
            value=_quoted(quote(cell("status"))[1:-1]),
            statuses=_(
                "ok (成功), failed (失败), fallback (兜底), skipped (跳过), timeout (超时); for "
                "a case still open, 处理中 (open) or a blank status with a blank finish time"
            ),
        )
    if problem == "start_blank":
        return _("{where}: is blank although the finish time is set").format(
            where=where("started_at")
        )
    if problem == "finish_before":
        return _(
            "{where}: {finished} is before the start time {started}; check the two times"
        ).format(
            where=where("finished_at"),
            finished=visible(cell("finished_at")),
            started=visible(cell("started_at")),
        )
    role, _colon, kind = problem.partition(":")
    message = {
        "format": _(
            "{where}: {value} is not a time; write for example 2024-08-01 09:30:00, "
            "2024/8/1 9:30, 2024年8月1日 09:30 or 2024-08-01T09:30:00+08:00"
        ),
        "date": _("{where}: {value} is not a valid date"),
        "time": _("{where}: {value} is not a valid time of day"),
        "range": _(
            "{where}: {value} is not a time a log can hold (years {first} to {last} are read); "
            "write when it happened, or leave the finish time blank for a case still open"
        ),
    }[kind]
    return message.format(
        where=where(role),
        value=_quoted(quote(cell(role))[1:-1]),
        first=FIRST_YEAR,
        last=LAST_YEAR,
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


def table_event_columns(url: str, table: str) -> dict[str, str]:
    """The column of each event role in a database table (`--db`): 节点 for `node`, as a log
    file's header is read."""
    from opsplay.readers.warehouse import columns_of, connect, table_source

    with connect(url) as (con, dialect):
        columns = tuple(name for name, _type in columns_of(con, dialect, table, url))
    return _event_columns(table_source(url, table, columns))


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
                    columns=joined([_quoted(c) for c in source.columns[:30]]),
                )
            )
    return roles


def _warnings(
    source: Source,
    slas: Mapping[str, Limit],
    rows: Mapping[tuple[tuple[str, str], ...], Mapping[str, Any]],
    unknown: Mapping[str, int],
    skipped: int,
    examples: list[str],
    shown: Mapping[str, str],
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
                    file=source.display, node=visible(shown.get(node, node))
                )
            )
    return warnings


def _figures(node: str, rows: Any, limit: Limit, realtime: float) -> NodeFigures:
    """A node's figures from its counts in the query (event_query.LevelFigures), or none."""
    if isinstance(limit, HoursLimit):  # business hours: the limit as written, no fixed length
        return replace(_figures(node, rows, limit.limit, realtime), sla_s=None)
    calendar_limit = isinstance(limit, Duration) and limit.is_calendar
    sla_s = None
    if isinstance(limit, Duration) and not calendar_limit:
        sla_s = limit.resolve(realtime)
    elif isinstance(limit, int | float):
        sla_s = float(limit)
    written = limit.as_written if isinstance(limit, Duration) else None
    if rows is None or not rows.count:
        return NodeFigures(
            node, 0, None, None, None, None, 0, None, None, sla_s, None, None, written
        )
    count = rows.count
    return NodeFigures(
        node=node,
        count=count,
        completion_rate=rows.statuses["ok"] / count,
        fallback_rate=rows.statuses["fallback"] / count,
        failure_rate=rows.statuses["failed"] / count,
        skipped_rate=rows.statuses["skipped"] / count,
        timed=rows.timed,
        p50_s=rows.p50_s,
        p95_s=rows.p95_s,
        sla_s=sla_s,
        sla_compliance=rows.within / rows.checked if rows.checked else None,
        timeout_rate=rows.statuses["timeout"] / count,
        sla=written,
        open=rows.open,
        breached_open=rows.breached_open,
        pending=rows.pending,
    )
