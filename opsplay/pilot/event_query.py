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
    start_text, _start = _stamp_sql(col("started_at"))
    finish_text, _finish = _stamp_sql(col("finished_at"))
    plain = (
        "SELECT row_number() OVER () AS rn, "
        f"TRIM(CAST({col('case_id')} AS VARCHAR)) AS case_id, "
        f"COALESCE(TRIM(CAST({col('node')} AS VARCHAR)), '') AS node_raw, "
        f"COALESCE(TRIM(CAST({col('status')} AS VARCHAR)), '') AS status_raw, "
        f"{level} AS level_raw, {start_text} AS st, {finish_text} AS ft"
        + "".join(", " + g for g in group_sql)
        + f" FROM {table.relation}"
    )
    # A stamp written as ISO 8601 without an offset (nearly every one) is read by a cast;
    # the others (2024/8/5 9:30, 2024年10月8日, offsets, mistakes) by the pattern.
    fast = (
        "CASE WHEN length({x}) BETWEEN 10 AND 29 AND substr({x}, 5, 1) = '-' "
        "AND substr({x}, 8, 1) = '-' AND (length({x}) = 10 OR substr({x}, 11, 1) IN (' ', 'T')) "
        "AND strpos(substr({x}, 12), '+') = 0 AND strpos(substr({x}, 12), '-') = 0 "
        "AND right({x}, 1) <> 'Z' THEN try_cast({x} AS TIMESTAMP_NS) END"
    )
    stamps = (
        f"SELECT c.*, CASE WHEN sfast IS NULL AND st IS NOT NULL THEN "
        f"regexp_extract(st, {_string(_STAMP)}, {_GROUPS}) END AS sm, "
        f"CASE WHEN ffast IS NULL AND ft IS NOT NULL THEN "
        f"regexp_extract(ft, {_string(_STAMP)}, {_GROUPS}) END AS fm FROM ("
        f"SELECT b.*, {fast.format(x='st')} AS sfast, {fast.format(x='ft')} AS ffast "
        f"FROM ({plain}) b) c"
    )
    raw = stamps
    # 1. The few distinct node, status and level values, mapped in Python as the file path
    #    always read them (NFKC, case- and width-insensitive names, status words).
    distinct = table.fetch(
        f"SELECT DISTINCT node_raw, status_raw, level_raw FROM ({plain}) raw_rows"
    )
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

    # 2. Each row parsed (each value once, layer by layer) and checked in the order the file
    #    path checked it.
    def parts(x: str, m: str) -> str:
        """A stamp's date, clock time (ns), UTC offset (ns) and what is wrong with it."""
        day = f"try_strptime({m}.y || '-' || {m}.mo || '-' || {m}.d, '%Y-%m-%d')"
        hour, minute, second = (
            f"CAST(COALESCE(NULLIF({m}.{g}, ''), '0') AS BIGINT)" for g in ("h", "mi", "sec")
        )
        fraction = f"CASE WHEN {m}.fr = '' THEN 0 ELSE CAST(rpad({m}.fr, 9, '0') AS BIGINT) END"
        clock_ns = f"((({hour}) * 3600 + ({minute}) * 60 + ({second})) * 1000000000 + {fraction})"
        bad_time = f"({hour}) > 23 OR ({minute}) > 59 OR ({second}) > 59"
        return (
            f"COALESCE(epoch_ns({x}fast), CAST(epoch({day}) AS BIGINT) * 1000000000 "
            f"+ {clock_ns}) AS {x}_local, "
            f"CASE WHEN {x}fast IS NOT NULL THEN NULL ELSE {_offset_sql(m)} END AS {x}_off, "
            f"CASE WHEN {x}t IS NULL OR {x}fast IS NOT NULL THEN NULL WHEN {m}.y = '' "
            f"THEN 'format' WHEN {day} IS NULL THEN 'date' WHEN {bad_time} THEN 'time' END "
            f"AS {x}_bad"
        )

    if zone is not None:
        offset = _zone_offset_sql(zone)
        s_wall = f"CASE WHEN s_off IS NULL THEN s_local ELSE {offset('(s_local - s_off)')} END"
        f_wall = f"CASE WHEN f_off IS NULL THEN f_local ELSE {offset('(f_local - f_off)')} END"
    else:  # each row on its start's clock; a stamp without an offset takes the other's
        s_wall = "s_local"
        f_wall = (
            "CASE WHEN s_off IS NOT NULL AND f_off IS NOT NULL "
            "THEN f_local - f_off + s_off ELSE f_local END"
        )
    parsed = (
        f"SELECT raw_rows.* EXCLUDE (sm, fm, sfast, ffast), {parts('s', 'sm')}, "
        f"{parts('f', 'fm')} "
        f"FROM ({raw}) raw_rows"
    )
    walled = (
        f"SELECT p.*, CASE WHEN st IS NULL OR s_bad IS NOT NULL THEN NULL ELSE {s_wall} END "
        f"AS s_all, CASE WHEN ft IS NULL OR f_bad IS NOT NULL THEN NULL ELSE {f_wall} END AS f_all "
        f"FROM ({parsed}) p"
    )
    problem = (
        "CASE WHEN node_raw = '' THEN 'node' "
        "WHEN sm_.status_id IS NULL THEN 'status' "
        "WHEN s_bad IS NOT NULL THEN 'started_at:' || s_bad "
        "WHEN f_bad IS NOT NULL THEN 'finished_at:' || f_bad "
        "WHEN ft IS NOT NULL AND st IS NULL THEN 'start_blank' "
        "WHEN ft IS NOT NULL AND f_all < s_all THEN 'finish_before' END"
    )
    checked = (
        "SELECT w.rn, w.case_id, nm.node_id, sm_.status_id, lm.level_id, w.s_all, "
        f"w.f_all{''.join(f', w.g{i}' for i in range(len(group_columns)))}, {problem} AS problem "
        f"FROM ({walled}) w LEFT JOIN {node_map} nm USING (node_raw) "
        f"LEFT JOIN {status_map} sm_ USING (status_raw) "
        "LEFT JOIN " + level_map + " lm ON lm.level_raw = w.level_raw"
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
    miss = (
        "(f IS NOT NULL AND due IS NOT NULL AND NOT "
        "(CASE WHEN kind = 0 THEN d <= secs ELSE f <= due END)) "
        "OR (f IS NULL AND s IS NOT NULL AND status <> 'skipped' AND due < as_of)"
    )
    # one pass: the figures of each node, level and group, the cases past their limit (how
    # many, the first ten), and the span of the log's times (schedules, calendar coverage)
    extra = (
        f"count(*) FILTER (WHERE {miss}) AS missed_n, "
        f"min_by(case_id, rn, 10) FILTER (WHERE {miss}) AS missed_ids, "  # first ten in file order
        "min(s) FILTER (WHERE f IS NOT NULL) AS first_s, max(f) AS last_f, "
        "min(s) FILTER (WHERE kind IN (1, 2)) AS low, "
        "max(due) FILTER (WHERE kind IN (1, 2)) AS high"
    )
    cursor = table.execute(
        base + f"SELECT node, lvl, {keys}{grouping}, {figures}, {extra} FROM x "
        f"GROUP BY GROUPING SETS ({', '.join(sets)})"
    )
    names = [d[0] for d in cursor.description]
    overall: dict[str, LevelFigures] = {}
    by_level: dict[str, dict[str, LevelFigures]] = {}
    groups: dict[tuple[tuple[str, str], ...], dict[str, LevelFigures]] = {}
    missed: dict[str, dict[str, tuple[int, tuple[str, ...]]]] = {}
    spans: list[tuple[Any, ...]] = []
    for values in cursor.fetchall():
        row = dict(zip(names, values, strict=True))
        figures_row = _figures(row)
        if row["missed_n"] and (row["by_level"] == 1 or row["lvl"] is not None):
            if not group_names or any(row[f"by_{g}"] for g in group_names):
                key = "" if row["by_level"] else str(row["lvl"])
                ids = tuple(str(i) for i in row["missed_ids"] or ())
                missed.setdefault(str(row["node"]), {})[key] = (int(row["missed_n"]), ids)
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
        spans.append((row["first_s"], row["last_f"], row["low"], row["high"]))
    used, bad_count, as_of_all = table.fetch(
        f"SELECT count(*) FILTER (WHERE problem IS NULL), count(*) FILTER (WHERE problem IS NOT "
        f"NULL), {as_of_sql} FROM {rows_table}"
    )[0]

    def least(values: Sequence[Any]) -> Any:
        found = [v for v in values if v is not None]
        return min(found) if found else None

    def most(values: Sequence[Any]) -> Any:
        found = [v for v in values if v is not None]
        return max(found) if found else None

    first_s, last_f = least([v[0] for v in spans]), most([v[1] for v in spans])
    low, high = least([v[2] for v in spans]), most([v[3] for v in spans])
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
