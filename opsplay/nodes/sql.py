"""`pilot sql --events`: the node figures of SPEC 2, 8 and 12 computed in the warehouse from
an event table (case_id, node, started_at, finished_at, status, and `level` when the
playbook has per-level limits or an alert on one level).

One row per node (`level` empty), and with a `level` column one per node and level
(GROUPING SETS: the same columns over that level's rows): count, the status counts (ok,
failed, fallback, skipped, timeout, with the Chinese words of SPEC 6), `timed` (rows with
finished_at), the duration quantiles p50/p95 (linear interpolation; approximate in BigQuery,
which has no exact aggregate), the time limit in seconds (NULL for calendar limits; on the
node's row the limit of a case without a level, as `pilot compare --events` gives it; on a
level row the level's), `within_sla` and `checked` (timed rows with a limit, plus open cases
past their deadline): sla_compliance = within_sla / checked; `open`, `breached_open` and
`pending` as of the evaluation time (the table's last timestamp unless one is given).

Each row's limit is its level's (`level` column: the level's own, else `default`, else the
node's only limit for a row without a level), so per-level limits agree with `pilot compare
--events`. Calendar limits (`3个工作日`, `T+1`, `当天`, cut-offs such as `次日12点前`) are
judged on deadlines worked out in the query from a generated working-day table: one row per
day from 2000 to 2099 with mainland China's official working days (holidays and 调休
make-up days listed in the query from the `chinese-calendar` package; Monday–Friday outside
its years, as the file path does), or Monday–Friday for `calendar = "weekdays"`. Times are
counted in whole-day numbers and seconds since 1970-01-01 of the naive timestamps, so no
engine's session time zone moves a deadline. Business hours (a node's `calendar`) are
counted in the query too: the open time of each day, from the generated table.

Scheduled nodes get their schedule adherence on the node's row (schedule_due, schedule_met,
schedule_pending, schedule_adherence, schedule_shared_runs: opsplay.nodes.schedules);
a playbook without schedules has those columns empty and none of their CTEs.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from opsplay.errors import UsageError
from opsplay.model.duration import Duration
from opsplay.model.playbook import Playbook
from opsplay.model.process import DEFAULT_LEVEL
from opsplay.nodes.schedules import adherence_ctes, expressible, occurrences_sql
from opsplay.query.lines import fold_sql
from opsplay.query.units import Quoter, fold_wide

STATUS_WORDS = {
    "ok": ("ok", "成功", "完成", "正常", "已完成", "已处理", "处理完成"),
    "failed": ("failed", "failure", "失败", "异常", "已失败"),
    "fallback": ("fallback", "兜底", "降级", "已兜底"),
    "skipped": ("skipped", "跳过", "已跳过"),
    "timeout": ("timeout", "超时", "已超时"),
}
# A case still being worked on, as ticket systems export it (a blank status with no finish
# time too): an open case, counted in no outcome (SPEC 12).
OPEN_WORDS = (
    "open",
    "pending",
    "in progress",
    "processing",
    "处理中",
    "进行中",
    "未完成",
    "待处理",
    "跟进中",
    "未结",
    "未结案",
    "待办",
)
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)  # the generated calendar's days
_EPOCH = date(1970, 1, 1)
# Limit kinds in the query: a length in seconds, a day (its 24:00 or a cut-off), or N
# working days at the start's clock time (`workday_limits = "clock"`).
_SECONDS, _DAY, _CLOCK, _CALENDAR_DAYS = 0, 1, 2, 4  # (3: a length in business hours)


def events_sql(slas: dict[str, Any], table: str, dialect: str, **options: Any) -> str:
    """The node-figures query over `table`; `slas` maps each node id to its limit (a
    Duration, per-level limits, seconds or None). Options: `names` (node name -> id),
    `calendar` ("official" | "weekdays"), `workday_limits`, `realtime_seconds`, `as_of`,
    `levels` (read the `level` column even without per-level limits), `schedules`
    (event_schedules.Scheduled: their adherence), `window` (the pilot's first and last
    day: the days schedules count) and `columns` (role -> the table's own column name, as
    `--db` finds 节点 for `node`; else the English names)."""
    q = Quoter(dialect)
    named = options.get("columns") or {}

    def column(role: str) -> str:
        return q.column(named.get(role, role))

    leveled = bool(options.get("levels")) or any(
        not isinstance(s, (Duration, int, float, type(None))) for s in slas.values()
    )
    text = _text(dialect)
    double = {"duckdb": "DOUBLE", "postgres": "DOUBLE PRECISION", "bigquery": "FLOAT64"}.get(
        dialect, "DOUBLE"
    )

    def folded(role: str) -> str:
        """A cell trimmed and full-width folded, as the file path reads it (`Ｏｋ ` is ok)."""
        return fold_wide(f"CAST({column(role)} AS {text})", dialect, wrap=True)

    status = f"LOWER({folded('status')})"
    raw_node = f"TRIM(CAST({column('node')} AS {text}))"
    names = {**{n: n for n in slas}, **(options.get("names") or {})}
    node_case = " ".join(
        f"WHEN {_string(unicodedata.normalize('NFKC', name).strip().lower())} THEN {_string(node)}"
        for name, node in names.items()
        if node in slas and name
    )
    # the node as meant (a name or an id, in any case or width), else as written
    node = (
        f"CASE LOWER({folded('node')}) {node_case} ELSE {raw_node} END" if node_case else raw_node
    )
    # the level as written, trimmed and full-width folded (`Ｐ１ ` is P1); matched to a
    # declared level in the outer SELECT (level_sql)
    written_level = folded("level")
    level = f"NULLIF({written_level}, '')" if leveled else f"CAST(NULL AS {text})"
    # a blank time is written '' by many loaders of text tables: no time, as NULL is
    started, finished = (
        _epoch(
            f"CASE WHEN TRIM(CAST({column(name)} AS {text})) = '' THEN NULL "
            f"ELSE CAST({column(name)} AS TIMESTAMP) END",
            dialect,
        )
        for name in ("started_at", "finished_at")
    )
    rows = (
        f"SELECT {node} AS node, {status} AS status, "
        f"{level} AS lt, {started} AS s, {finished} AS f FROM {q.table(table)}"
    )
    realtime = float(options.get("realtime_seconds") or 1.0)
    clock = options.get("workday_limits") == "clock"
    as_of = options.get("as_of")
    given = isinstance(as_of, datetime)
    as_of_e = (
        f"CAST({_seconds_of(as_of)!r} AS {double})"
        if given
        else "(SELECT MAX(COALESCE(f, s)) FROM r)"
    )
    lvl = level_sql("lt", declared_levels(slas, options.get("declared") or ())) if leveled else "lt"
    # the log as it stood at a given evaluation time (snapshot_sql); the default one, the
    # last time of the rows, has none after it: read as they are
    rows = (
        snapshot_sql(rows, as_of_e, lvl)
        if given
        else f"SELECT node, status, {lvl} AS lvl, s, f FROM (\n{rows}\n) w"
    )
    judged = judged_sql(slas, dialect, realtime, clock)
    known = ", ".join(_string(node) for node in slas) or "''"
    select = [
        _node_limit(column, slas, realtime, clock, double, leveled, q)
        for column in figure_columns(q, dialect)
    ]
    if leveled:  # a row per node and one per node and level (rows without a level: the node's)
        level_column = "lvl"
        grouping = (
            "GROUP BY GROUPING SETS ((node), (node, lvl))\n"
            "HAVING GROUPING(lvl) = 1 OR lvl IS NOT NULL"
        )
    else:
        level_column = f"CAST(NULL AS {text}) AS lvl"
        grouping = "GROUP BY node"
    schedules = [s for s in options.get("schedules") or () if s.node in slas]
    written = [s for s in schedules if expressible(s.schedule)]
    figures = (
        f"fg AS (\nSELECT\n  node,\n  {level_column},\n  "
        + ",\n  ".join(select)
        + f"\nFROM x\nWHERE node IN ({known})\n{grouping}\n)"
    )
    adherence = _schedule_columns(written, dialect, double)
    shown = ", ".join("fg." + column.rsplit(" AS ", 1)[1] for column in select)
    ctes = [
        f"cal AS (\n{_calendar(dialect, options.get('calendar') or 'official')}\n)",
        f"r AS (\n{rows}\n)",
        f"j AS (\n{judged}\n)",
        "x AS (\nSELECT j.*, CASE WHEN f IS NOT NULL THEN f - s END AS d, "
        f"{as_of_e} AS as_of FROM j\n)",
        figures,
    ]
    tail = joined = ""
    if written:  # the schedule CTEs, joined to the node rows
        tail = _schedule_sql(written, dialect, known, realtime, clock, options.get("window"))
        joined = " LEFT JOIN sa ON sa.node = fg.node AND fg.lvl IS NULL"
        # a scheduled node with no row in the log missed every occurrence due: its row too
        empty = ", ".join(
            f"0 AS {name}" if name == q.alias("count") else f"NULL AS {name}"
            for name in (column.rsplit(" AS ", 1)[1] for column in select)
        )
        joined += (
            f"\nUNION ALL\nSELECT sa.node, NULL AS {q.alias('level')}, {empty}, {adherence}\n"
            "FROM sa WHERE NOT EXISTS (SELECT 1 FROM fg WHERE fg.node = sa.node)"
        )
    return (
        _header(dialect, as_of, leveled, schedules, written)
        + _calendar_note(options.get("calendar") or "official")
        + _columns_read(named, leveled)
        + "WITH "
        + ",\n".join(ctes)
        + tail
        + "\n"
        f"SELECT fg.node, fg.lvl AS {q.alias('level')}, {shown}, {adherence}\nFROM fg{joined}\n"
        "ORDER BY 1, 2 NULLS FIRST;\n"
    )


def snapshot_sql(rows: str, as_of: str, level: str = "lt") -> str:
    """The rows of `rows` (node, status, lt, s, f) as the log stood at the evaluation time
    `as_of` (SPEC 12): a row started after it did not exist yet and is left out; a row
    finished after it was still open then (no finish, status `open`, whatever its status
    word says). Rows without a start are kept (the checks name them). `level`: the `lvl`
    expression over `lt`."""
    later = f"f > {as_of}"
    return (
        f"SELECT node, CASE WHEN {later} THEN 'open' ELSE status END AS status, "
        f"{level} AS lvl, s, CASE WHEN {later} THEN NULL ELSE f END AS f FROM (\n{rows}\n) w "
        f"WHERE s IS NULL OR s <= {as_of}"
    )


def declared_levels(slas: Mapping[str, Any], declared: Iterable[str] = ()) -> list[str]:
    """The levels a log's level cell can mean: the playbook's `levels` ids and the levels
    of every node's per-level `sla` (not `default`), NFKC-normalised and trimmed."""
    found = [*declared]
    for sla in slas.values():
        root = getattr(sla, "root", None)
        if isinstance(root, dict):
            found += [level for level in root if level != DEFAULT_LEVEL]
    shown = (unicodedata.normalize("NFKC", str(level)).strip() for level in found)
    return list(dict.fromkeys(level for level in shown if level))


def level_spellings(declared: Sequence[str]) -> dict[str, str]:
    """Lower-case spelling -> the one declared level written so in another case (`p1` ->
    P1); a spelling two declared levels share (`p1` and `P1` both declared) is in none."""
    folds: dict[str, list[str]] = {}
    for level in declared:
        folds.setdefault(level.lower(), []).append(level)
    return {lower: levels[0] for lower, levels in folds.items() if len(levels) == 1}


def level_sql(written: str, declared: Sequence[str]) -> str:
    """The level of a row from `written`, its cell trimmed with full-width letters and digits
    folded: a declared level as written is that level; else the one declared level it is
    in another case (`p1` is P1, unless `p1` and `P1` are both declared); else as written
    (a level without a limit: the node's `default`)."""
    if not declared:
        return written
    exact = ", ".join(_string(level) for level in declared)
    folded = " ".join(
        f"WHEN {_string(lower)} THEN {_string(level)}"
        for lower, level in level_spellings(declared).items()
    )
    if not folded:  # every declared level shares its spelling with another: as written
        return written
    return (
        f"CASE WHEN {written} IN ({exact}) THEN {written} "
        f"ELSE CASE LOWER({written}) {folded} ELSE {written} END END"
    )


def match_level(level: str, declared: Sequence[str]) -> str:
    """level_sql in Python: the declared level `level` (NFKC-normalised, trimmed) means."""
    written = unicodedata.normalize("NFKC", level).strip()
    if written in declared:
        return written
    return level_spellings(declared).get(written.lower(), written)


def _calendar_note(name: str) -> str:
    """A comment saying what `cal`'s day numbers are and which years they cover: a reviewer
    sees a few hundred bare numbers, and a log reaching past the package's years would count
    Monday–Friday there (the file path warns of that; the query cannot)."""
    from opsplay.i18n import _

    if name != "official":
        return _('-- `cal`: Monday to Friday are working days (calendar = "weekdays").\n')
    import chinese_calendar

    years = sorted({day.year for day in chinese_calendar.holidays})
    return _(
        "-- `cal`: mainland China's official holidays and make-up working days (调休) of\n"
        "-- {first}–{last}, as day numbers since 1970-01-01 (the chinese-calendar package);\n"
        "-- other years count Monday to Friday: a newer chinese-calendar adds the next year.\n"
    ).format(first=years[0], last=years[-1])


def _columns_read(named: Mapping[str, str], leveled: bool) -> str:
    """A comment naming the table's columns the query reads: the English names unless the
    table's own were found (`--db`), for a table whose columns are 节点, 开始时间…"""
    from opsplay.i18n import _

    roles = ["node", "status", *(["level"] if leveled else []), "started_at", "finished_at"]
    if named:
        shown = ", ".join(f"{role} = {named.get(role, role)}" for role in roles)
        return _("-- Columns read: {columns}.\n").format(columns=shown)
    return _(  # (one line: printing folds it)
        "-- Columns read: {columns}. A table naming them otherwise (节点, 开始时间…): pass "
        "--db with the table's database, and the query reads its own names.\n"
    ).format(columns=", ".join(roles))


def _header(
    dialect: str, as_of: Any, leveled: bool, schedules: list[Any], written: list[Any]
) -> str:
    """The comments above the query: what each figure is (in the message language)."""
    from opsplay.i18n import _

    lines = [
        _(
            "-- opsplay node figures ({dialect}): one row per node of the execution log.\n"
            "-- completion_rate = ok / count, fallback_rate = fallback / count, failure_rate =\n"
            "-- failed / count, timeout_rate = timeout / count, sla_compliance = within_sla /\n"
            "-- checked (open cases past their deadline count as missed; `pending` ones are not\n"
            "-- due yet). Each row's limit is its level's; calendar limits (working days, T+N,\n"
            "-- cut-offs) are judged against the generated working-day table `cal`.\n"
        ).format(dialect=dialect)
    ]
    if leveled:
        lines.append(
            _(
                "-- Per-level rows: one row per node and level (`level` set) beside the node's\n"
                "-- row (`level` empty), with the same figure columns; sla_s is the level's\n"
                "-- limit on a level row, on the node's row the limit of a case without a level.\n"
            )
        )
    if leveled:
        lines.append(
            _(
                "-- Levels: a level cell is trimmed and its full-width letters and digits made\n"
                "-- half-width; written as a declared level in another case (`p1` for P1) it is\n"
                "-- that level, unless two declared levels differ only in case; others stay as\n"
                "-- written (the node's `default` limit).\n"
            )
        )
    if isinstance(as_of, datetime):
        lines.append(
            _("-- Evaluation time (as_of): {time} on the log's clock.\n").format(
                time=f"{as_of:%Y-%m-%d %H:%M:%S}"
            )
        )
        lines.append(
            _(
                "-- The table is read as it stood at as_of: rows started after it are left out,\n"
                "-- and a case finished after it was still open then (no finish, whatever its\n"
                "-- status); p50/p95 are over the rows finished by as_of.\n"
            )
        )
    else:
        lines.append(_("-- Evaluation time (as_of): the table's last timestamp.\n"))
    if written:
        lines.append(
            _(
                "-- Schedule adherence (scheduled nodes, on the node's row): the occurrences from\n"
                "-- the log's first day (within the pilot window) to the evaluation time's day,\n"
                "-- generated as days of `cal` x times of day; one is due when occurrence + the\n"
                "-- node's limit is at or before as_of (else schedule_pending), and met when an\n"
                "-- ok run finishes within the limit after it. schedule_adherence =\n"
                "-- schedule_met / schedule_due. A run counts for one occurrence only: when an ok\n"
                "-- run lies in the windows of two due occurrences (schedule_shared_runs > 0: a\n"
                "-- limit longer than the gap between occurrences), matching it needs a greedy\n"
                "-- match this query does not do, and schedule_adherence is left empty; run\n"
                "-- `opsplay pilot compare --events` for that node's figure.\n"
            )
        )
    for item in schedules:
        if item not in written:
            lines.append(
                _(
                    "-- Node `{node}`: its schedule `{schedule}` is not written in this query\n"
                    "-- (a cron form it does not read); its schedule columns are empty: run\n"
                    "-- `opsplay pilot compare --events` for its schedule adherence.\n"
                ).format(node=item.node, schedule=item.schedule)
            )
    return "".join(lines)


def _node_limit(
    column: str,
    slas: dict[str, Any],
    realtime: float,
    clock: bool,
    double: str,
    leveled: bool,
    q: Quoter,
) -> str:
    """`sla_s` on the node's row: the limit of a case without a level (the `default`, else
    the node's only limit; none for calendar limits and business hours), as `pilot compare
    --events` gives it; on a level row the level's own. Other columns as they are."""
    if not column.endswith(f"AS {q.alias('sla_s')}"):
        return column
    branches = []
    for node, sla in slas.items():
        limit = sla
        if getattr(sla, "root", None) is not None:
            limits = sla.root
            limit = limits.get(DEFAULT_LEVEL)
            if limit is None and len(limits) == 1:
                limit = next(iter(limits.values()))
        if limit is not None and _part(limit, 0, realtime, clock, double) == "0":
            branches.append(f"WHEN {_string(node)} THEN {_part(limit, 3, realtime, clock, double)}")
    plain = f"CASE node {' '.join(branches)} END" if branches else f"CAST(NULL AS {double})"
    if not leveled:
        return f"{plain} AS {q.alias('sla_s')}"
    level = column.removesuffix(f" AS {q.alias('sla_s')}")
    return f"CASE WHEN GROUPING(lvl) = 1 THEN {plain} ELSE {level} END AS {q.alias('sla_s')}"


_SCHEDULE_COLUMNS = ("schedule_due", "schedule_met", "schedule_pending", "schedule_shared_runs")


def _schedule_columns(written: list[Any], dialect: str, double: str) -> str:
    """The schedule columns of the result: from `sa` on a scheduled node's row, else empty."""
    if not written:
        return ", ".join(
            f"CAST(NULL AS {double}) AS {name}"
            for name in (*_SCHEDULE_COLUMNS[:3], "schedule_adherence", _SCHEDULE_COLUMNS[3])
        )
    adherence = (
        "CASE WHEN sa.schedule_due > 0 AND sa.schedule_shared_runs = 0 "
        f"THEN CAST(sa.schedule_met AS {double}) / sa.schedule_due END AS schedule_adherence"
    )
    return ", ".join(
        [*(f"sa.{name}" for name in _SCHEDULE_COLUMNS[:3]), adherence, f"sa.{_SCHEDULE_COLUMNS[3]}"]
    )


def _schedule_sql(
    written: list[Any], dialect: str, known: str, realtime: float, clock: bool, window: Any
) -> str:
    """The schedule CTEs over the judged rows `x`: the span of the occurrences (the log's
    first day, or the pilot window's, to the evaluation time's day) and the `ok` runs."""
    started = "MIN(CASE WHEN f IS NOT NULL THEN s END)"  # the first start of a timed row
    first, last = _floor_day(started, dialect), _floor_day("MAX(as_of)", dialect)
    if window is not None:  # (GREATEST and LEAST skip NULLs in some engines: kept NULL)
        low, high = ((day - _EPOCH).days for day in window)
        first = f"CASE WHEN {started} IS NOT NULL THEN GREATEST({first}, {low}) END"
        last = f"CASE WHEN MAX(as_of) IS NOT NULL THEN LEAST({last}, {high}) END"
    nodes = ", ".join(_string(item.node) for item in written)
    ok = ", ".join(_string(word) for word in STATUS_WORDS["ok"])
    return (
        f",\nsp AS (SELECT {first} AS lo, {last} AS hi, MAX(as_of) AS as_of "
        f"FROM x WHERE node IN ({known})),\n"
        f"ok_runs AS (SELECT node, f FROM x WHERE node IN ({nodes}) AND status IN ({ok}) "
        "AND f IS NOT NULL)"
        + schedule_sql(written, dialect, span="sp", runs="ok_runs", realtime=realtime, clock=clock)
    )


def schedule_sql(
    scheduled: Sequence[Any],
    dialect: str,
    *,
    span: str,
    runs: str,
    realtime: float,
    clock: bool,
    unit: int = 1,
) -> str:
    """The schedule-adherence CTEs (opsplay.nodes.schedules), each after ",\n": `sd`
    the occurrences, `sj` them judged as a case started at that time without a level is
    (the node's limit, the same deadlines from `cal`), then `so`, `sw` and `sa`. `span` names
    a one-row relation with `lo`, `hi` (day numbers) and `as_of`; `runs` one with `node` and
    `f`, the finish times of the `ok` runs; times in seconds, or nanoseconds with `unit`."""
    limits = {item.node: item.limit for item in scheduled}
    judged = judged_sql(limits, dialect, realtime, clock, unit, rows="sd")
    return (
        f",\nsd AS (\n{occurrences_sql(scheduled, dialect, span, unit)}\n),\n"
        f"sj AS (\n{judged}\n)" + adherence_ctes(scheduled, span, runs)
    )


def events_sql_for_playbook(playbook: Playbook, *, table: str, dialect: str, **options: Any) -> str:
    """The node-figures query for the playbook's nodes and their time limits."""
    from opsplay.model.hours import written_in_hours

    # per level, in the node's business hours if it has a `calendar`
    slas = {
        node.id: written_in_hours(node.sla, playbook.business_hours(node))
        for node in playbook.nodes
    }
    names = {node.name: node.id for node in playbook.nodes}
    from opsplay.nodes.schedules import scheduled_nodes

    window = None
    if playbook.pilot is not None and playbook.pilot.period is not None:
        window = (playbook.pilot.period.start, playbook.pilot.period.end)
    # the level column is read for per-level limits and for alerts on one level (their rows)
    levels = any(alert.level for alert in playbook.alerts)
    try:
        return fold_sql(
            events_sql(
                slas,
                table,
                dialect,
                names=names,
                schedules=scheduled_nodes(playbook),
                window=window,
                levels=levels,
                declared=[level.id for level in playbook.levels],
                **options,
            )
        )
    except ValueError as error:
        raise UsageError(str(error)) from None


def judged_sql(
    slas: dict[str, Any],
    dialect: str,
    realtime: float,
    clock: bool,
    unit: int = 1,
    rows: str = "r",
    due_days: str | None = None,
    node_codes: Mapping[str, int] | None = None,
) -> str:
    """The rows of CTE `rows` (node, status, lvl, s, f: time since 1970-01-01 on the log's
    clock, in seconds, or in nanoseconds with `unit` 10**9 as the file path counts) with `due`,
    their deadline in the same unit, judged on the working-day table `cal`: the one
    definition of a row's limit for the warehouse and the file path.

    Each row joins the calendar once, on its start day and its limit: the days a deadline
    of that limit falls on for a start on that day are looked up per day and limit in `cal`
    first (due_days_sql), not per row. `due_days`: the name of a table holding them (the
    file path makes it once for its reads of a log; due_days_sql: a business-hour limit's
    `opened`, `h0` and `h1` in its `w0`, `da` and `db`), else the query works them out.
    `node_codes`: the rows' `node` is a number (node id -> it), as the file path has it."""
    double = {"duckdb": "DOUBLE", "postgres": "DOUBLE PRECISION", "bigquery": "FLOAT64"}.get(
        dialect, "DOUBLE"
    )
    if unit != 1:
        double = "BIGINT"  # whole nanoseconds: exact, as the file path always compared
    limits = _limits(slas, realtime, clock, double, unit, dialect, node_codes)
    day = _floor_day("lr.s", dialect) if unit == 1 else f"CAST(lr.s // {86400 * unit} AS INTEGER)"
    whole_day = "86400.0" if unit == 1 else str(86400 * unit)
    minute = "60.0" if unit == 1 else str(60 * unit)
    source = "r" if rows == "r" else f"{rows} r"
    hours = limits.hours
    looked_up = ["w0", "da", "db"] + (["opened", "h0", "h1"] if hours else [])
    params = limits.params
    started = (
        f"SELECT lr.*, {params[0]} AS kind, {params[1]} AS n, {params[2]} AS cut, "
        f"{params[3]} AS secs, {day} AS dn FROM (SELECT r.*, {limits.lim} AS lim FROM {source}) lr"
    )
    days = _due_days(limits, unit)
    if days is None:  # no limit counts days: nothing to look up
        nothing = ", ".join(f"CAST(NULL AS INTEGER) AS {name}" for name in looked_up)
        limited = f"SELECT l.*, {nothing} FROM (\n{started}\n) l"
    else:
        table, shown = f"(\n{days}\n)", [f"dd.{name}" for name in looked_up]
        if due_days is not None:  # three columns for both kinds of limit (half the join's load)
            table, shown = due_days, [f"dd.{name}" for name in ("w0", "da", "db")]
            if hours:
                shown += ["dd.w0 AS opened", "dd.da AS h0", "dd.db AS h1"]
        limited = (
            f"SELECT l.*, {', '.join(shown)} FROM (\n{started}\n) l\n"
            f"LEFT JOIN {table} dd ON dd.dn = l.dn AND dd.lim = l.lim"
        )
    if hours:
        limited = _hours_position(limited, hours, unit)
    calendar_day = "m.dn + m.n" if unit == 1 else "CAST(m.dn AS BIGINT) + m.n"  # 第二天: any day
    in_hours = ""
    if hours:  # business hours: the open day the limit runs out on, then the time in it
        h0, h1 = ("m.h0", "m.h1") if unit == 1 else ("CAST(m.h0 AS BIGINT)", "CAST(m.h1 AS BIGINT)")
        in_hours = f"WHEN m.kind = 3 THEN {_hours_deadline(hours, unit, h0, h1, whole_day)} "
    # limits of days: the deadline for a start on that day, from the table (`da`, and `db`
    # for a start after the cut-off); at the clock time, `da` + the start's clock time
    deadline = (
        f"CASE WHEN m.kind = 0 THEN m.s + m.secs {in_hours}"
        "WHEN m.kind = 2 THEN m.da + m.w0 * m.s "
        f"WHEN m.kind = {_CALENDAR_DAYS} THEN ({calendar_day}) * {whole_day} "
        f"+ COALESCE(m.cut * {minute}, {whole_day}) "
        "WHEN m.cut IS NOT NULL AND m.da < m.s THEN m.db ELSE m.da END"
    )
    return f"SELECT m.*, {deadline} AS due FROM (\n{limited}\n) m"


@dataclass(frozen=True)
class _Limits:
    """The limits of a query, numbered: `lim`, each row's number (a CASE on node and level,
    evaluated once); `params`, the four parameters of a numbered limit (kind, n, cut-off,
    seconds), each a CASE on `lim`; `days`, (number, kind, n) of the limits that count days
    (kinds 1 and 2); `hours`, number -> (BusinessHours, its length in the query's unit) of
    those counted in business hours (kind 3)."""

    lim: str
    params: list[str]
    days: list[tuple[int, int, int, str]]
    hours: dict[int, tuple[Any, float | int]]


def due_days_sql(
    slas: dict[str, Any], realtime: float, clock: bool, unit: int = 1, dialect: str = "duckdb"
) -> str | None:
    """The days the deadlines of `slas` fall on, per day of `cal` and limit (_due_days), to
    be made a table once and named to judged_sql; None when no limit counts days. Three
    columns: a business-hour limit's `opened`, `h0` and `h1` are in `w0`, `da` and `db`
    (each limit has one kind: a row of it needs only its own)."""
    double = "BIGINT" if unit != 1 else "DOUBLE"
    limits = _limits(slas, realtime, clock, double, unit, dialect)
    days = _due_days(limits, unit)
    if days is None or not limits.hours:
        return days
    return (
        "SELECT dn, lim, COALESCE(opened, w0) AS w0, COALESCE(da, h0) AS da, "
        f"COALESCE(db, h1) AS db FROM (\n{days}\n) d"
    )


def _due_days(limits: _Limits, unit: int) -> str | None:
    """One row per day of `cal` and limit that counts days: what a row starting on that
    day needs of the calendar, so that it joins the calendar once.

    `w0` whether the start day is a working day. Limits of days end on day D1, the n-th
    working day after the start day, or the (n+1)-th from a day off when counted at the
    clock time (`当天`, n = 0, ends on the start day itself): `da` is the deadline, the end
    of D1 or its cut-off time, and `db` the cut-off time of the working day after D1 (for
    a start after the cut-off, which judged_sql compares); at the clock time (kind 2),
    `da` + w0 × the start is the deadline (D1 at the start's clock time on a working day,
    D1's 00:00 from a day off).
    Business hours: `opened` whether the start day is open; with `base` the open days
    before it, the limit runs out on the open day numbered kb = base + ceil(L / B) (the
    start's first open minute) or kb + 1 (_hours_position), which are days `h0` and `h1`."""
    day_limits = limits.days
    hour_limits = []
    for number, (h, secs) in limits.hours.items():
        per_day = sum(closes - opens for opens, closes in h.hours.ranges) * 60 * unit
        ahead = -(-secs // per_day) if unit != 1 else math.ceil(secs / per_day)
        hour_limits.append((number, _RULES[h.days], int(ahead)))
    if not day_limits and not hour_limits:
        return None
    none = "CAST(NULL AS INTEGER)"
    parts = []
    if day_limits:
        values = " UNION ALL ".join(
            f"SELECT {number} AS lim, {kind} AS kind, {n} AS n, {cut} AS cut"
            for number, kind, n, cut in day_limits
        )
        hours_none = "".join(
            f", {none} AS {name}" for name in ("opened", "h0", "h1") if hour_limits
        )
        whole_day = "86400.0" if unit == 1 else str(86400 * unit)
        minute = "60.0" if unit == 1 else str(60 * unit)
        d1 = "CASE WHEN l.n = 0 AND l.kind = 1 THEN c0.dn ELSE c1.dn END"  # 当天: the start day
        d1, d2 = (
            (f"({d1})", "c2.dn")
            if unit == 1
            else (f"CAST({d1} AS BIGINT)", "CAST(c2.dn AS BIGINT)")
        )
        da = (
            f"CASE WHEN l.kind = 2 THEN ({d1} - c0.work * c0.dn) * {whole_day} "
            f"WHEN l.cut IS NULL THEN ({d1} + 1) * {whole_day} "
            f"ELSE {d1} * {whole_day} + l.cut * {minute} END"
        )
        parts.append(
            f"SELECT c0.dn, l.lim, c0.work AS w0, {da} AS da, "
            f"{d2} * {whole_day} + l.cut * {minute} AS db{hours_none}\n"
            f"FROM cal c0 CROSS JOIN ({values}) l\n"
            "LEFT JOIN cal c1 ON c1.work = 1 AND c1.k = c0.k + l.n "
            "+ CASE WHEN l.kind = 2 THEN 1 - c0.work ELSE 0 END\n"
            "LEFT JOIN cal c2 ON c2.work = 1 AND c2.k = c0.k + l.n + 1"
        )
    if hour_limits:
        values = " UNION ALL ".join(
            f"SELECT {number} AS lim, {rule} AS hrule, {ahead} AS ahead"
            for number, rule, ahead in hour_limits
        )
        count = "CASE l.hrule WHEN 0 THEN c0.k WHEN 1 THEN c0.kw ELSE c0.dn END"
        opened = "CASE l.hrule WHEN 0 THEN c0.work WHEN 1 THEN c0.wd ELSE 1 END"
        rules = {rule for _number, rule, _ahead in hour_limits}
        # the open day numbered kb (+ 1): a working day, a Monday–Friday, or (every day
        # open) that day itself; only the rules some limit has are joined
        lookups = [
            (0, "w", "work", "k"),
            (1, "v", "wd", "kw"),
        ]
        open_days, joins = [], []
        for name, plus in (("h0", ""), ("h1", " + 1")):
            branches = " ".join(
                f"WHEN {rule} THEN {name}{alias}.dn"
                for rule, alias, _flag, _count in lookups
                if rule in rules
            )
            chosen = f"CASE b.hrule {branches} ELSE b.kb{plus} END" if branches else f"b.kb{plus}"
            open_days.append(f"{chosen} AS {name}")
            joins += [
                f"\nLEFT JOIN cal {name}{alias} ON b.hrule = {rule} AND {name}{alias}.{flag} = 1 "
                f"AND {name}{alias}.{counted} = b.kb{plus}"
                for rule, alias, flag, counted in lookups
                if rule in rules
            ]
        parts.append(
            f"SELECT b.dn, b.lim, b.w0, {none} AS da, {none} AS db, b.opened, "
            f"{', '.join(open_days)} FROM (\n"
            f"SELECT c0.dn, l.lim, l.hrule, c0.work AS w0, {count} - {opened} AS base, "
            f"{opened} AS opened, {count} - {opened} + l.ahead AS kb\n"
            f"FROM cal c0 CROSS JOIN ({values}) l\n) b{''.join(joins)}"
        )
    return "\nUNION ALL\n".join(parts)


_RULES = {"workdays": 0, "weekdays": 1, "daily": 2}


def _hours_position(limited: str, hours: dict[int, tuple[Any, float | int]], unit: int) -> str:
    """The rows with `hx`, for business-hour limits (kind 3): the business time the limit
    has left to spend from the start of its first open day (`h0`); more than that day's
    open time B runs out on the next open day (`h1`).

    Business time is counted as a position: the limit of L runs out ceil(L / B) - 1 whole
    open days after the one it starts counting on, with r = L - B·(ceil(L / B) - 1), in
    (0, B], to spend; a start within an open day's hours (`opened`) adds what of that day
    was open before it: hx = r + that, in (0, 2B] (the table's `h0` is the open day
    ceil(L / B) - 1 after the start's first open day, from the start's day)."""

    def lit(seconds: float | int) -> str:  # in the query's unit (literals cannot overflow)
        return repr(float(seconds)) if unit == 1 else f"CAST({int(seconds)} AS BIGINT)"

    def second(seconds: int) -> str:
        return lit(seconds if unit == 1 else seconds * unit)

    whole_day = "86400.0" if unit == 1 else str(86400 * unit)
    branches = []
    for number, (h, secs) in sorted(hours.items()):
        per_day = sum(closes - opens for opens, closes in h.hours.ranges) * 60 * unit
        ahead = -(-secs // per_day) if unit != 1 else math.ceil(secs / per_day)
        before = " + ".join(  # open time of the start's day before the start
            f"GREATEST(LEAST(o.s - o.dn * {whole_day} - {second(opens * 60)}, "
            f"{second((closes - opens) * 60)}), 0)"
            for opens, closes in h.hours.ranges
        )
        branches.append(
            f"WHEN {number} THEN {lit(secs - per_day * (ahead - 1))} + o.opened * ({before})"
        )
    return f"SELECT o.*, CASE o.lim {' '.join(branches)} END AS hx FROM (\n{limited}\n) o"


def _hours_deadline(
    hours: dict[int, tuple[Any, float | int]], unit: int, h0: str, h1: str, whole_day: str
) -> str:
    """The deadline of a business-hour limit: where on day `h0` the business time `hx` runs
    out (the ranges of the limit's hours in turn), or on `h1`, past that day's open time."""

    def lit(seconds: int) -> str:
        return f"{seconds}.0" if unit == 1 else f"CAST({seconds * unit} AS BIGINT)"

    def in_day(left: str, ranges: Sequence[tuple[int, int]]) -> str:
        spent, steps = 0, []
        for opens, closes in ranges:
            spent += (closes - opens) * 60
            steps.append(
                f"WHEN {left} <= {lit(spent)} THEN {lit(opens * 60)} + {left} - "
                f"{lit(spent - (closes - opens) * 60)}"
            )
        return f"CASE {' '.join(steps)} END"

    branches = []
    for number, (h, _secs) in sorted(hours.items()):
        ranges = h.hours.ranges
        per_day = lit(sum(closes - opens for opens, closes in ranges) * 60)
        branches.append(
            f"WHEN {number} THEN CASE WHEN m.hx <= {per_day} "
            f"THEN {h0} * {whole_day} + {in_day('m.hx', ranges)} "
            f"ELSE {h1} * {whole_day} + {in_day(f'(m.hx - {per_day})', ranges)} END"
        )
    return f"CASE m.lim {' '.join(branches)} END"


# A judged row's verdicts, as the figures count them: a length is judged on the duration (as
# the file path always did), a calendar limit on the finish time against the deadline; an
# open case has no finish time and is not skipped.
WITHIN = "CASE WHEN kind = 0 THEN d <= secs ELSE f <= due END"
IS_OPEN = "f IS NULL AND s IS NOT NULL AND (status IS NULL OR status NOT IN ('{}'))".format(
    "', '".join(STATUS_WORDS["skipped"])
)


def counted(*, deferred: bool = False, is_open: str = IS_OPEN) -> dict[str, str]:
    """The figures that count judged rows (a SUM of 1 or 0 each): name -> the condition.

    `deferred`: without what depends on the evaluation time `as_of` (the file path counts it
    from each group's open cases once the log's last time is known): `checked` counts
    finished rows only, and breached_open and pending are left out. `is_open`: the open-case
    condition of rows whose status is written otherwise (the file path's status codes)."""
    conditions = {
        name: f"status IN ({', '.join(_string(w) for w in words)})"
        for name, words in STATUS_WORDS.items()
    }
    finished = "f IS NOT NULL AND due IS NOT NULL"
    conditions["within_sla"] = f"{finished} AND {WITHIN}"
    conditions["checked"] = finished if deferred else f"({finished}) OR ({is_open} AND due < as_of)"
    conditions["open"] = is_open
    if not deferred:
        conditions["breached_open"] = f"{is_open} AND due < as_of"
        conditions["pending"] = f"{is_open} AND due >= as_of"
    return conditions


def figure_columns(q: Quoter, dialect: str, unit: int = 1) -> list[str]:
    """The node figures over judged rows with `d` (duration) and `as_of`: status counts,
    timed, p50/p95 and sla_s (in seconds), within_sla, checked, open, breached_open, pending."""
    per = "" if unit == 1 else f" / {float(unit)!r}"
    sums = {
        name: f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END) AS {q.alias(name)}"
        for name, condition in counted().items()
    }
    return [
        f"COUNT(*) AS {q.alias('count')}",
        *(sums[name] for name in STATUS_WORDS),
        f"COUNT(d) AS {q.alias('timed')}",
        f"{_quantile('d', 0.5, dialect)}{per} AS {q.alias('p50_s')}",
        f"{_quantile('d', 0.95, dialect)}{per} AS {q.alias('p95_s')}",
        f"MAX(CASE WHEN kind = 0 THEN secs END){per} AS {q.alias('sla_s')}",
        *(sums[name] for name in ("within_sla", "checked", "open", "breached_open", "pending")),
        f"MAX(as_of) AS {q.alias('as_of_epoch')}",
    ]


def _limits(
    slas: dict[str, Any],
    realtime: float,
    clock: bool,
    double: str,
    unit: int = 1,
    dialect: str = "duckdb",
    node_codes: Mapping[str, int] | None = None,
) -> _Limits:
    """Each row's limit, from its node and level, numbered (see _Limits). A limit counted in
    business hours is numbered with its hours: two nodes' `4小时` in different calendars
    are two limits. DuckDB picks a parameter from a list by the number (half the work of a
    CASE over the numbers, which the other engines get)."""
    from opsplay.model.hours import HoursLimit

    numbered: list[tuple[Any, ...]] = []
    days: list[tuple[int, int, int, str]] = []
    hours: dict[int, tuple[Any, float | int]] = {}

    def number(limit: Any) -> str:
        parts = tuple(_part(limit, part, realtime, clock, double, unit) for part in range(4))
        in_hours = parts[0] == "3" and isinstance(limit, HoursLimit)
        key = (*parts, (limit.hours.hours.ranges, limit.hours.days) if in_hours else None)
        if key not in numbered:
            numbered.append(key)
            index = len(numbered)
            if parts[0] in (str(_DAY), str(_CLOCK)):
                days.append((index, int(parts[0]), int(parts[1]), parts[2]))
            elif in_hours:
                seconds = limit.limit.resolve(realtime)
                hours[index] = (
                    limit.hours,
                    float(seconds) if unit == 1 else round(seconds * unit),
                )
        return str(numbered.index(key) + 1)

    def node_is(node: str) -> str:
        return f"node = {node_codes[node] if node_codes else _string(node)}"

    branches = []
    for node, sla in slas.items():
        if sla is None:
            continue
        if getattr(sla, "root", None) is None:
            branches.append(f"WHEN {node_is(node)} THEN {number(sla)}")
            continue
        limits = sla.root
        inner = " ".join(
            f"WHEN lvl = {_string(level)} THEN {number(limit)}"
            for level, limit in limits.items()
            if level != DEFAULT_LEVEL
        )
        fallback = "NULL"
        if DEFAULT_LEVEL in limits:
            fallback = number(limits[DEFAULT_LEVEL])
        elif len(limits) == 1:  # a row without a level takes the node's only limit
            fallback = f"CASE WHEN lvl IS NULL THEN {number(next(iter(limits.values())))} END"
        branches.append(
            f"WHEN {node_is(node)} THEN CASE {inner} ELSE {fallback} END"
            if inner
            else f"WHEN {node_is(node)} THEN {fallback}"
        )
    lim = f"CAST(CASE {' '.join(branches)} END AS INTEGER)" if branches else "CAST(NULL AS INTEGER)"
    params = []
    for part in range(4):
        cast = double if part == 3 else "INTEGER"
        if not numbered:
            params.append(f"CAST(NULL AS {cast})")
        elif dialect == "duckdb":
            listed = ", ".join(f"CAST({parts[part]} AS {cast})" for parts in numbered)
            params.append(f"[{listed}][lim]")
        else:
            values = " ".join(
                f"WHEN {index} THEN {parts[part]}" for index, parts in enumerate(numbered, start=1)
            )
            params.append(f"CAST(CASE lim {values} END AS {cast})")
    return _Limits(lim, params, days, hours)


def _part(
    limit: Duration | float, part: int, realtime: float, clock: bool, double: str, unit: int = 1
) -> str:
    """kind (0 seconds, 1 a day, 2 working days at the clock time, 4 calendar days), n,
    cut-off or the length
    in seconds (whole nanoseconds with `unit` 10**9, rounded as the file path rounds them);
    a NULL typed, as PostgreSQL wants in a CASE."""
    no_cut, no_seconds = "CAST(NULL AS INTEGER)", f"CAST(NULL AS {double})"

    def length(seconds: float) -> str:
        return repr(float(seconds)) if unit == 1 else str(round(seconds * unit))

    from opsplay.model.hours import HoursLimit

    if isinstance(limit, HoursLimit):  # counted in business hours (kind 3), unless by day
        if not limit.limit.is_calendar:
            return ("3", "0", no_cut, length(limit.limit.resolve(realtime)))[part]
        limit = limit.limit

    if isinstance(limit, (int, float)):
        return ("0", "0", no_cut, length(limit))[part]
    rule = limit.calendar
    if rule is None:
        return ("0", "0", no_cut, length(limit.resolve(realtime)))[part]
    kind = _CLOCK if rule.kind == "working_days" and clock and rule.cutoff is None else _DAY
    if rule.kind == "calendar_days":
        kind = _CALENDAR_DAYS
    cut = no_cut if rule.cutoff is None else str(rule.cutoff)
    return (str(kind), str(rule.days), cut, no_seconds)[part]


def _calendar(dialect: str, name: str) -> str:
    """One row per day number (days since 1970-01-01) from FIRST_DAY to LAST_DAY: whether it
    is a working day, and `k`, the working days up to it (the N-th working day after a day
    is the working day whose k is N more); `wd` and `kw` the same for Monday–Friday (the
    `周一至周五` days of business hours)."""
    first, last = (FIRST_DAY - _EPOCH).days, (LAST_DAY - _EPOCH).days
    series = {
        "duckdb": f"SELECT CAST(range AS INTEGER) AS dn FROM range({first}, {last + 1})",
        "postgres": f"SELECT generate_series({first}, {last}) AS dn",
        "bigquery": f"SELECT dn FROM UNNEST(GENERATE_ARRAY({first}, {last})) AS dn",
    }.get(dialect, f"SELECT explode(sequence({first}, {last})) AS dn")
    weekday = "MOD(dn + 3, 7)" if dialect == "bigquery" else "(dn + 3) % 7"  # Monday = 0
    off, on = _exceptions() if name == "official" else ([], [])
    rules = []
    if off:
        rules.append(f"WHEN dn IN ({', '.join(map(str, off))}) THEN 0")
    if on:
        rules.append(f"WHEN dn IN ({', '.join(map(str, on))}) THEN 1")
    work = f"CASE {' '.join(rules)} WHEN {weekday} < 5 THEN 1 ELSE 0 END"
    # counts as INTEGER: a SUM is wider (HUGEINT in DuckDB), and so would be every deadline
    cumulative = "OVER (ORDER BY dn ROWS UNBOUNDED PRECEDING) AS INTEGER)"
    return (
        f"SELECT dn, work, CAST(SUM(work) {cumulative} AS k, wd, "
        f"CAST(SUM(wd) {cumulative} AS kw FROM (\n"
        f"SELECT dn, {work} AS work, CASE WHEN {weekday} < 5 THEN 1 ELSE 0 END AS wd "
        f"FROM ({series}) days\n) marked"
    )


def _exceptions() -> tuple[list[int], list[int]]:
    """Day numbers of official holidays on Monday–Friday and of make-up working days (调休)
    on weekends, in the years the `chinese-calendar` package covers."""
    import chinese_calendar

    off = sorted(
        (day - _EPOCH).days
        for day in chinese_calendar.holidays
        if day.weekday() < 5 and FIRST_DAY <= day <= LAST_DAY
    )
    on = sorted(
        (day - _EPOCH).days
        for day in chinese_calendar.workdays
        if day.weekday() >= 5 and FIRST_DAY <= day <= LAST_DAY
    )
    return off, on


def _seconds_of(moment: datetime) -> float:
    """Seconds since 1970-01-01 of a naive time on the log's clock."""
    naive = moment.replace(tzinfo=None)
    return (naive - datetime(1970, 1, 1)).total_seconds()


def _string(text: str) -> str:
    """A SQL string literal (quotes doubled)."""
    return "'" + str(text).replace("'", "''") + "'"


def _text(dialect: str) -> str:
    return {"duckdb": "VARCHAR", "postgres": "TEXT"}.get(dialect, "STRING")


def _epoch(timestamp: str, dialect: str) -> str:
    """Seconds since 1970-01-01 of a naive timestamp, whatever the session's time zone."""
    if dialect == "duckdb":
        return f"epoch({timestamp})"
    if dialect == "postgres":
        return f"EXTRACT(EPOCH FROM {timestamp})"
    if dialect == "bigquery":
        return f"UNIX_MICROS(TIMESTAMP(DATETIME({timestamp}))) / 1e6"
    return (
        f"(datediff(to_date({timestamp}), DATE'1970-01-01') * 86400.0 + hour({timestamp}) * "
        f"3600.0 + minute({timestamp}) * 60.0 + second({timestamp}))"
    )


def _floor_day(seconds: str, dialect: str) -> str:
    """The day number of a time in seconds since 1970-01-01."""
    return (
        f"CAST(FLOOR({seconds} / 86400.0) AS INTEGER)"
        if dialect != "bigquery"
        else (f"CAST(FLOOR({seconds} / 86400.0) AS INT64)")
    )


def _quantile(expr: str, p: float, dialect: str) -> str:
    if dialect in ("duckdb", "postgres"):
        return f"percentile_cont({p}) WITHIN GROUP (ORDER BY {expr})"
    if dialect == "bigquery":
        return f"APPROX_QUANTILES({expr}, 100)[OFFSET({int(p * 100)})]"
    return f"percentile({expr}, {p})"
