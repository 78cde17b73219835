"""Node execution logs through DuckDB (SPEC 12, "one query for event logs").

A local log (CSV in any encoding, Excel, Parquet: opsplay.pilot.readers.engine) is read by
DuckDB, and its node figures are the judged rows and figure columns of `pilot sql --events`
(opsplay.pilot.events_sql): the same limit per row and level, the same calendar deadlines
from the same generated working-day table, the same open cases. What the local path adds
is what only a file needs: timestamps in the forms teams write (`2024/8/5 9:30`,
`2024年10月8日 09:05`, with or without a UTC offset), node names and status words as
written (mapped in Python from the log's few distinct values), bad rows named by line and
column, groups, per-level figures and the facts schedules and messages need.

Two scans of the log: the distinct (node, status, level) values, then one query for
everything. Times are seconds since 1970-01-01 on the log's clock: in `timezone` when one
is given (a stamp with an offset moved there), else each row on its start's clock.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any

from opsplay.pilot.events_sql import (
    STATUS_WORDS,
    _calendar,
    _string,
    figure_columns,
    judged_sql,
)
from opsplay.pilot.readers.cells import normalize_text
from opsplay.pilot.sql import Quoter

# The timestamp forms of opsplay.pilot.event_times, for RE2 (no look-behind: `日` may be
# followed directly by the time).
_STAMP = (
    r"^(\d{4})(?:-|/|\.|年)(\d{1,2})(?:-|/|\.|月)(\d{1,2})"
    r"(?:(?:日(?:T|\s*)|T|\s+)(\d{1,2})[:：](\d{2})(?:[:：](\d{2})(?:[.,](\d{1,9}))?)?|日)?"
    r"\s*(Z|[+-]\d{2}(?::?\d{2})?)?$"
)
_GROUPS = "['y', 'mo', 'd', 'h', 'mi', 'sec', 'fr', 'z']"
_FULL_WIDTH = ("０１２３４５６７８９：／．－＋", "0123456789:/.-+")
EPOCH = datetime(1970, 1, 1)
NANOS = 10**9  # times in the query: whole nanoseconds, exact as the file path compared them


@dataclass
class LevelFigures:
    """Counts of one node (and level, or group) as the query gives them."""

    count: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    timed: int = 0
    p50_s: float | None = None
    p95_s: float | None = None
    within: int = 0
    checked: int = 0
    open: int = 0
    breached_open: int = 0
    pending: int = 0


@dataclass
class LogFacts:
    """Everything the node figures, per-level measures, schedules and messages need."""

    overall: dict[str, LevelFigures]
    groups: dict[tuple[tuple[str, str], ...], dict[str, LevelFigures]]
    levels: dict[str, dict[str, LevelFigures]]  # node -> level -> figures
    missed: dict[str, dict[str, tuple[int, tuple[str, ...]]]]  # node -> level|"" -> count, ids
    unknown: dict[str, int]
    used: int
    bad: list[tuple[int, str, str, str]]  # (record, problem, role, cell) in file order
    bad_count: int
    as_of: datetime
    span: tuple[datetime, datetime] | None  # first and last time of timed rows (schedules)
    ok_finishes: dict[str, list[datetime]]  # scheduled node -> finish times of `ok` runs
    years: set[int]  # years of the rows' days (the calendar's coverage warning)


def _stamp_sql(column: str) -> tuple[str, str]:
    """(the cleaned text, the regexp_extract struct) of a timestamp column."""
    text = (
        f"NULLIF(TRIM(translate(CAST({column} AS VARCHAR), "
        f"{_string(_FULL_WIDTH[0])}, {_string(_FULL_WIDTH[1])})), '')"
    )
    return text, f"regexp_extract({text}, {_string(_STAMP)}, {_GROUPS})"


def _nanos_sql(m: str) -> str:
    """Nanoseconds since 1970-01-01 of the wall time in a parsed struct (NULL when invalid)."""
    return (
        f"((CAST(epoch(try(make_date(CAST({m}.y AS INTEGER), CAST({m}.mo AS INTEGER), "
        f"CAST({m}.d AS INTEGER)))) AS BIGINT) "
        f"+ CAST(COALESCE(NULLIF({m}.h, ''), '0') AS BIGINT) * 3600 "
        f"+ CAST(COALESCE(NULLIF({m}.mi, ''), '0') AS BIGINT) * 60 "
        f"+ CAST(COALESCE(NULLIF({m}.sec, ''), '0') AS BIGINT)) * 1000000000 "
        f"+ CASE WHEN {m}.fr = '' THEN 0 ELSE CAST(rpad({m}.fr, 9, '0') AS BIGINT) END)"
    )


def _offset_sql(m: str) -> str:
    """The stamp's UTC offset in nanoseconds, NULL without one."""
    zone = f"{m}.z"
    digits = f"replace(substr({zone}, 2), ':', '')"
    return (
        f"CASE WHEN {zone} = '' THEN NULL WHEN {zone} = 'Z' THEN 0 ELSE "
        f"(CASE WHEN substr({zone}, 1, 1) = '-' THEN -1 ELSE 1 END) * "
        f"(CAST(substr({digits}, 1, 2) AS BIGINT) * 3600 + "
        f"CAST(COALESCE(NULLIF(substr({digits}, 3, 2), ''), '0') AS BIGINT) * 60) * 1000000000 END"
    )


def _problem_sql(text: str, m: str) -> str:
    """`format`, `date` or `time` for a cell that is not a timestamp; NULL when it is one."""
    return (
        f"CASE WHEN {text} IS NULL THEN NULL WHEN {m}.y = '' THEN 'format' "
        f"WHEN try(make_date(CAST({m}.y AS INTEGER), CAST({m}.mo AS INTEGER), "
        f"CAST({m}.d AS INTEGER))) IS NULL THEN 'date' "
        f"WHEN CAST(COALESCE(NULLIF({m}.h, ''), '0') AS INTEGER) > 23 "
        f"OR CAST(COALESCE(NULLIF({m}.mi, ''), '0') AS INTEGER) > 59 "
        f"OR CAST(COALESCE(NULLIF({m}.sec, ''), '0') AS INTEGER) > 59 THEN 'time' END"
    )


def _values(rows: Sequence[tuple[Any, ...]], names: Sequence[str]) -> str:
    """A small inline table (VALUES) of Python values mapped to SQL literals."""
    if not rows:
        nulls = ", ".join(f"CAST(NULL AS VARCHAR) AS {n}" for n in names)
        return f"(SELECT {nulls} WHERE false)"
    body = ", ".join(
        "(" + ", ".join("NULL" if v is None else _string(str(v)) for v in row) + ")" for row in rows
    )
    return f"(SELECT * FROM (VALUES {body}) AS v({', '.join(names)}))"


def query_log(
    table: Any,
    roles: Mapping[str, str],
    group_columns: Sequence[str],
    slas: Mapping[str, Any],
    *,
    map_node: Callable[[str], str],
    map_status: Callable[[str], str | None],
    calendar_name: str,
    clock: bool,
    realtime: float,
    zone: tzinfo | None,
    as_of: datetime | None,
    scheduled: Sequence[str] = (),
    first_bad_only: bool = False,
) -> LogFacts:
    """Run the node-figures query over an opened log (opsplay.pilot.readers.engine.Table)."""
    q = Quoter("duckdb")

    def col(role: str) -> str:
        return q.column(roles[role])

    level = f"NULLIF(TRIM(CAST({col('level')} AS VARCHAR)), '')" if "level" in roles else "NULL"
    group_sql = [
        f"TRIM(CAST({q.column(roles[f'group:{name}'])} AS VARCHAR)) AS g{i}"
        for i, name in enumerate(group_columns)
    ]
    start_text, start_m = _stamp_sql(col("started_at"))
    finish_text, finish_m = _stamp_sql(col("finished_at"))
    raw = (
        "SELECT row_number() OVER () AS rn, "
        f"TRIM(CAST({col('case_id')} AS VARCHAR)) AS case_id, "
        f"COALESCE(TRIM(CAST({col('node')} AS VARCHAR)), '') AS node_raw, "
        f"COALESCE(TRIM(CAST({col('status')} AS VARCHAR)), '') AS status_raw, "
        f"{level} AS level_raw, "
        f"{start_text} AS st, {start_m} AS sm, {finish_text} AS ft, {finish_m} AS fm"
        + "".join(", " + g for g in group_sql)
        + f" FROM {table.relation}"
    )
    # 1. The few distinct node, status and level values, mapped in Python as the file path
    #    always read them (NFKC, case- and width-insensitive names, status words).
    distinct = table.fetch(f"SELECT DISTINCT node_raw, status_raw, level_raw FROM ({raw}) raw_rows")
    nodes = sorted({row[0] for row in distinct})
    statuses = sorted({row[1] for row in distinct})
    levels = sorted({row[2] for row in distinct if row[2] is not None})
    node_map = _values(
        [(raw_node, map_node(raw_node)) for raw_node in nodes], ("node_raw", "node_id")
    )
    status_map = _values(
        [(word, map_status(word)) for word in statuses], ("status_raw", "status_id")
    )
    level_map = _values(
        [(value, normalize_text(value) or None) for value in levels], ("level_raw", "level_id")
    )
    # 2. Each row parsed and checked in the order the file path checked it.
    s_local, f_local = _nanos_sql("sm"), _nanos_sql("fm")
    s_off, f_off = _offset_sql("sm"), _offset_sql("fm")
    if zone is not None:
        offset = _zone_offset_sql(zone)
        s_wall = f"CASE WHEN {s_off} IS NULL THEN {s_local} ELSE {offset('(' + s_local + ' - ' + s_off + ')')} END"
        f_wall = f"CASE WHEN {f_off} IS NULL THEN {f_local} ELSE {offset('(' + f_local + ' - ' + f_off + ')')} END"
    else:  # each row on its start's clock; a stamp without an offset takes the other's
        s_wall = s_local
        f_wall = (
            f"CASE WHEN {s_off} IS NOT NULL AND {f_off} IS NOT NULL "
            f"THEN {f_local} - {f_off} + {s_off} ELSE {f_local} END"
        )
    problem = (
        "CASE WHEN node_raw = '' THEN 'node' "
        "WHEN sm_.status_id IS NULL THEN 'status' "
        f"WHEN {_problem_sql('st', 'sm')} IS NOT NULL THEN 'started_at:' || {_problem_sql('st', 'sm')} "
        f"WHEN {_problem_sql('ft', 'fm')} IS NOT NULL THEN 'finished_at:' || {_problem_sql('ft', 'fm')} "
        "WHEN ft IS NOT NULL AND st IS NULL THEN 'start_blank' "
        f"WHEN ft IS NOT NULL AND ({f_wall}) < ({s_wall}) THEN 'finish_before' END"
    )
    checked = (
        f"SELECT raw_rows.*, nm.node_id, sm_.status_id, lm.level_id, "
        f"CASE WHEN st IS NULL THEN NULL ELSE {s_wall} END AS s_all, "
        f"CASE WHEN ft IS NULL THEN NULL ELSE {f_wall} END AS f_all, {problem} AS problem "
        f"FROM ({raw}) raw_rows LEFT JOIN {node_map} nm USING (node_raw) "
        f"LEFT JOIN {status_map} sm_ USING (status_raw) "
        f"LEFT JOIN {level_map} lm ON lm.level_raw = raw_rows.level_raw"
    )
    known = ", ".join(_string(node) for node in slas) or "''"
    judged = judged_sql(dict(slas), "duckdb", realtime, clock, NANOS)
    group_names = [f"g{i}" for i in range(len(group_columns))]
    figures = ", ".join(figure_columns(q, "duckdb", NANOS))
    # The log parsed and checked once, kept as a temporary table every figure is read from.
    rows_table = f"opsplay_log_{id(table):x}"
    table.execute(f"CREATE OR REPLACE TEMP TABLE {rows_table} AS {checked}")
    try:
        return _facts(
            table,
            rows_table,
            known,
            judged,
            group_columns,
            group_names,
            figures,
            calendar_name,
            as_of,
            scheduled,
            first_bad_only,
        )
    finally:
        table.execute(f"DROP TABLE IF EXISTS {rows_table}")


def _facts(
    table: Any,
    rows_table: str,
    known: str,
    judged: str,
    group_columns: Sequence[str],
    group_names: Sequence[str],
    figures: str,
    calendar_name: str,
    as_of: datetime | None,
    scheduled: Sequence[str],
    first_bad_only: bool,
) -> LogFacts:
    as_of_sql = (
        str(nanos(as_of.replace(tzinfo=None)))
        if as_of is not None
        else f"(SELECT MAX(COALESCE(f_all, s_all)) FROM {rows_table} WHERE problem IS NULL)"
    )
    base = (
        f"WITH cal AS (\n{_calendar('duckdb', calendar_name)}\n),\n"
        "r AS (SELECT rn, case_id, node_id AS node, status_id AS status, level_id AS lvl, "
        f"s_all AS s, f_all AS f{''.join(', ' + g for g in group_names)} FROM {rows_table} "
        f"WHERE problem IS NULL AND node_id IN ({known})),\n"
        f"j AS (\n{judged}\n),\n"
        f"x AS (SELECT j.*, CASE WHEN f IS NOT NULL THEN f - s END AS d, {as_of_sql} AS as_of "
        "FROM j)\n"
    )
    sets = ["(node)", "(node, lvl)"] + (
        [f"(node, {', '.join(group_names)})"] if group_names else []
    )
    grouping = ", ".join(
        ["GROUPING(lvl) AS by_level", *(f"GROUPING({g}) AS by_{g}" for g in group_names)]
    )
    keys = "".join(g + ", " for g in group_names)
    cursor = table.execute(
        base + f"SELECT node, lvl, {keys}{grouping}, {figures} FROM x "
        f"GROUP BY GROUPING SETS ({', '.join(sets)})"
    )
    names = [d[0] for d in cursor.description]
    overall: dict[str, LevelFigures] = {}
    by_level: dict[str, dict[str, LevelFigures]] = {}
    groups: dict[tuple[tuple[str, str], ...], dict[str, LevelFigures]] = {}
    for values in cursor.fetchall():
        row = dict(zip(names, values, strict=True))
        figures_row = _figures(row)
        if row["by_level"] == 0:
            if row["lvl"] is not None:
                by_level.setdefault(row["node"], {})[row["lvl"]] = figures_row
            continue
        if group_names and all(row[f"by_{g}"] == 0 for g in group_names):
            key = tuple(
                (name, "" if row[g] is None else normalize_text(str(row[g])))
                for name, g in zip(group_columns, group_names, strict=True)
            )
            groups.setdefault(key, {})[row["node"]] = figures_row
            continue
        overall[row["node"]] = figures_row
    used, bad_count, as_of_all = table.fetch(
        f"SELECT count(*) FILTER (WHERE problem IS NULL), count(*) FILTER (WHERE problem IS NOT "
        f"NULL), {as_of_sql} FROM {rows_table}"
    )[0]
    first_s, last_f, low, high = table.fetch(
        base + "SELECT min(s) FILTER (WHERE f IS NOT NULL), max(f), "
        "min(s) FILTER (WHERE kind IN (1, 2)), max(due) FILTER (WHERE kind IN (1, 2)) FROM x"
    )[0]
    unknown = {
        str(node): int(count)
        for node, count in table.fetch(
            f"SELECT node_id, count(*) FROM {rows_table} WHERE problem IS NULL "
            f"AND node_id NOT IN ({known}) GROUP BY node_id ORDER BY node_id"
        )
    }
    bad = [
        (int(rn), str(problem), "", "")
        for rn, problem in table.fetch(
            f"SELECT rn, problem FROM {rows_table} WHERE problem IS NOT NULL ORDER BY rn "
            f"LIMIT {1 if first_bad_only else 5}"
        )
    ]
    miss = (
        "(f IS NOT NULL AND due IS NOT NULL AND NOT "
        "(CASE WHEN kind = 0 THEN d <= secs ELSE f <= due END)) "
        "OR (f IS NULL AND s IS NOT NULL AND status <> 'skipped' AND due < as_of)"
    )
    missed: dict[str, dict[str, tuple[int, tuple[str, ...]]]] = {}
    for node, lvl, by_lvl, count, ids in table.fetch(
        base + "SELECT node, lvl, GROUPING(lvl), count(*), list(case_id ORDER BY rn)[1:10] "
        f"FROM x WHERE {miss} GROUP BY GROUPING SETS ((node), (node, lvl))"
    ):
        if by_lvl == 0 and lvl is None:
            continue  # rows without a level: in the node's entry already
        key = "" if by_lvl else str(lvl)
        missed.setdefault(str(node), {})[key] = (int(count), tuple(str(i) for i in ids))
    ok_finishes: dict[str, list[datetime]] = {node: [] for node in scheduled}
    if scheduled:
        wanted = ", ".join(_string(node) for node in scheduled)
        for node, value in table.fetch(
            f"SELECT node_id, f_all FROM {rows_table} WHERE problem IS NULL AND status_id = 'ok' "
            f"AND f_all IS NOT NULL AND node_id IN ({wanted}) ORDER BY f_all"
        ):
            ok_finishes[str(node)].append(moment(value))
    when = moment(as_of_all) if as_of_all is not None else datetime.min
    span = None
    if first_s is not None and last_f is not None:
        span = (moment(first_s), moment(last_f))
    years: set[int] = set()
    if low is not None and high is not None:
        years = set(range(moment(low).year, moment(high).year + 1))
    return LogFacts(
        overall,
        groups,
        by_level,
        missed,
        unknown,
        int(used),
        bad,
        int(bad_count),
        when,
        span,
        ok_finishes,
        years,
    )


def _figures(row: Mapping[str, Any]) -> LevelFigures:
    return LevelFigures(
        count=int(row["count"]),
        statuses={name: int(row[name] or 0) for name in STATUS_WORDS},
        timed=int(row["timed"]),
        p50_s=None if row["p50_s"] is None else float(row["p50_s"]),
        p95_s=None if row["p95_s"] is None else float(row["p95_s"]),
        within=int(row["within_sla"] or 0),
        checked=int(row["checked"] or 0),
        open=int(row["open"] or 0),
        breached_open=int(row["breached_open"] or 0),
        pending=int(row["pending"] or 0),
    )


def _zone_offset_sql(zone: tzinfo) -> Callable[[str], str]:
    """Seconds since 1970 in UTC -> the same instant on `zone`'s clock; a fixed offset when the
    zone has had one since 1992 (Asia/Shanghai), else DuckDB's ICU time zones."""
    samples = {
        (datetime(year, month, 15) + timedelta(hours=12)).replace(tzinfo=zone).utcoffset()
        for year in (1992, 2010, 2030)
        for month in (1, 7)
    }
    if len(samples) == 1:
        shift = next(iter(samples))
        offset = round(shift.total_seconds()) * NANOS if shift is not None else 0
        return lambda utc: f"({utc} + {offset})"
    name = getattr(zone, "key", "UTC")
    return lambda utc: (
        f"epoch_ns(CAST(timezone({_string(name)}, make_timestamp_ns({utc})) AS TIMESTAMP))"
    )


def moment(value: int) -> datetime:
    """Nanoseconds since 1970-01-01 as a naive datetime (microseconds kept)."""
    return EPOCH + timedelta(microseconds=int(value) // 1000)


def nanos(when: datetime) -> int:
    """A naive datetime as nanoseconds since 1970-01-01."""
    delta = when - EPOCH
    return (delta.days * 86400 + delta.seconds) * 10**9 + delta.microseconds * 1000
