"""Node execution logs through DuckDB (SPEC 12, "one query for event logs").

A local log (CSV in any encoding, Excel, Parquet: opsplay.pilot.readers.engine) is read by
DuckDB, and its node figures are the judged rows and figure columns of `pilot sql --events`
(opsplay.pilot.events_sql): the same limit per row and level, the same calendar deadlines
from the same generated working-day table, the same open cases. What the local path adds
is what only a file needs: timestamps in the forms teams write (`2024/8/5 9:30`,
`2024年10月8日 09:05`, with or without a UTC offset), node names and status words as
written (mapped in Python), bad rows named by line and column, groups, per-level figures
and the facts schedules and messages need.

One scan of the log, streamed: nothing of it is kept but the aggregates (the durations the
quantiles need, and the open cases, whose judgement waits for the evaluation time: by
default the log's last timestamp, known only at the end of the scan). The cells are taken
as written; node and status words the query was not given are few and come back with the
result, where Python maps them, and only when one of them meant a node, a status or a level
after all is the log read a second time with them mapped.

Times are nanoseconds since 1970-01-01 on the log's clock: in `timezone` when one is given
(a stamp with an offset moved there), else each row on its start's clock. A stamp that
DuckDB reads back as the same text (`2024-10-08 09:05:00`, or with a `T`) is read by a
cast; any other by the pattern of opsplay.pilot.event_times.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any

from opsplay.pilot.event_times import FIRST_YEAR, LAST_YEAR
from opsplay.pilot.events_sql import (
    IS_OPEN,
    STATUS_WORDS,
    WITHIN,
    _calendar,
    _string,
    counted,
    judged_sql,
)
from opsplay.pilot.readers.cells import normalize_text
from opsplay.pilot.readers.engine import TypedReadFailed
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


@dataclass
class _Words:
    """Cells as written -> what they mean: node ids, status ids and levels. A cell not in
    `nodes` stays as written (an unknown node, named in a warning), one not in `statuses` is
    a bad row, and levels are taken as written unless `levels` is given."""

    nodes: dict[str, str]
    statuses: dict[str, str]
    levels: dict[str, str | None] | None = None


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
    node_names: Iterable[str] = (),
    level_durations: bool = True,
) -> LogFacts:
    """Run the node-figures query over an opened log (opsplay.pilot.readers.engine.Table).

    `node_names` are the spellings of nodes a log is expected to use besides their ids (the
    playbook's names): the query maps them itself, any other spelling costs a second scan
    when it turns out to mean a node. `level_durations`: the quantiles of each level too
    (an alert on one level's p50/p95 needs them; they keep the durations once more)."""
    words = _Words(
        nodes={
            spelling: map_node(spelling)
            for spelling in (*slas, *node_names)
            if map_node(spelling) in slas
        },
        statuses={
            spelling: status
            for casing in (str, str.upper, str.title)
            for words in STATUS_WORDS.values()
            for word in words
            if (status := map_status(spelling := casing(word))) is not None
        },
    )
    sql = _LogQuery(table, roles, group_columns, slas, calendar_name, clock, realtime, zone)
    sql.level_durations = level_durations
    typed = _typed_stamps(table, roles)
    try:
        if typed is not None:  # the stamps read by DuckDB's CSV reader, if they all can be
            sql.table = typed
        rows = sql.run(words, as_of, scheduled)
    except TypedReadFailed:
        sql.table = table
        rows = sql.run(words, as_of, scheduled)
    # A spelling meant a node, a status or a level after all: read the log again with it
    # mapped. Statuses come back from every row, so the rows made good by them are seen by
    # the second read, and a third maps their spellings.
    for _again in range(2):
        learned = _learn(rows, words, slas, map_node, map_status)
        if learned is None:
            break
        words = learned
        rows = sql.run(words, as_of, scheduled)
    facts = _facts(rows, slas, group_columns, map_node, scheduled)
    if facts.bad_count or facts.missed:  # name them: the first in file order
        wanted = min(facts.bad_count, 1 if first_bad_only else 5)
        facts.bad, found = sql.first_rows(words, facts.as_of, facts.missed, wanted)
        facts.missed = {
            node: {key: (count, found.get((node, key), ())) for key, (count, _) in keys.items()}
            for node, keys in facts.missed.items()
        }
    return facts


# A stamp as nearly every system writes it: read by DuckDB's CSV reader when a log's first
# rows all have it (with a space or a T, one for the whole log)
_WRITTEN = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}([ T])[0-9]{2}:[0-9]{2}:[0-9]{2}")


def _typed_stamps(table: Any, roles: Mapping[str, str]) -> Any:
    """The log with its start and finish columns read as TIMESTAMP, when it is a CSV whose
    first rows write every stamp `2024-10-08 09:05:00` (or all with a T); else None. The
    reader is strptime: it also takes a trailing space (`09:05:0 `), which the pattern does
    not; any other cell makes the query raise TypedReadFailed and the log is read as text."""
    if table.source.format != "csv" or table.dialect != "duckdb":
        return None
    columns = (roles["started_at"], roles["finished_at"])
    q = Quoter("duckdb")
    rows = table.fetch(
        f"SELECT {', '.join(q.column(c) for c in columns)} FROM {table.text_relation} LIMIT 1000"
    )
    separators = set()
    for cell in (cell for row in rows for cell in row if cell):
        written = _WRITTEN.fullmatch(cell)
        if written is None:
            return None
        separators.add(written.group(1))
    if len(separators) != 1:
        return None
    stamp_format = f"%Y-%m-%d{separators.pop()}%H:%M:%S"
    return table.with_stamps(frozenset(columns), stamp_format)


class _LogQuery:
    """The query of one log, for the words known so far."""

    def __init__(
        self,
        table: Any,
        roles: Mapping[str, str],
        group_columns: Sequence[str],
        slas: Mapping[str, Any],
        calendar_name: str,
        clock: bool,
        realtime: float,
        zone: tzinfo | None,
    ) -> None:
        self.table, self.roles, self.group_columns = table, roles, group_columns
        self.slas = dict(slas)
        self.level_durations = True
        self.calendar_name, self.clock, self.realtime, self.zone = (
            calendar_name,
            clock,
            realtime,
            zone,
        )

    def run(
        self, words: _Words, as_of: datetime | None, scheduled: Sequence[str]
    ) -> list[dict[str, Any]]:
        """The grouped rows of the query: one per node, node and level, node and group."""
        groups = [f"g{i}" for i in range(len(self.group_columns))]
        sql = self.rows(words, numbered=False) + _grouped(
            groups, as_of, scheduled, self.level_durations
        )
        with self._joins():
            cursor = self.table.execute(sql)
            names = [d[0] for d in cursor.description]
            rows = []
            while batch := self.table.next_rows(cursor, 1000):
                rows += [dict(zip(names, values, strict=True)) for values in batch]
            return rows

    def first_rows(
        self,
        words: _Words,
        as_of: datetime,
        missed: Mapping[str, Mapping[str, tuple[int, Any]]],
        bad_wanted: int,
    ) -> tuple[list[tuple[int, str, str, str]], dict[tuple[str, str], tuple[str, ...]]]:
        """The first bad rows (record, problem) and, per node and per node and level, the
        first ten cases past their limit as of `as_of`, in file order.

        Numbering the rows keeps them in file order, which makes the scan single-threaded:
        it is read as a stream, and only until every count asked for is found (a log's
        first breaches are usually near its start)."""
        due = str(nanos(as_of))
        late = f"f IS NOT NULL AND due IS NOT NULL AND NOT ({WITHIN})"
        past = f"{IS_OPEN} AND due < {due}"
        sql = self.rows(words, numbered=True) + (
            "SELECT rn, problem, node, lvl, TRIM(case_id) AS id FROM x "
            f"WHERE problem IS NOT NULL OR ({late}) OR ({past})"
        )
        wanted = {
            (node, key): min(count, 10)
            for node, keys in missed.items()
            for key, (count, _) in keys.items()
        }
        found: dict[tuple[str, str], list[str]] = {key: [] for key in wanted}
        bad: list[tuple[int, str, str, str]] = []
        with self._joins():
            cursor = self.table.execute(sql)
            while rows := self.table.next_rows(cursor, 4096):
                for rn, problem, node, level, case_id in rows:
                    if problem is not None:
                        if len(bad) < bad_wanted:
                            bad.append((int(rn), str(problem), "", ""))
                        continue
                    for key in ((node, ""), (node, level)):
                        ids = found.get(key)
                        if ids is not None and len(ids) < wanted[key]:
                            ids.append(str(case_id))
                done = all(len(ids) >= wanted[key] for key, ids in found.items())
                if done and len(bad) >= bad_wanted:
                    break  # the next statement on the connection ends the read
        return bad, {key: tuple(ids) for key, ids in found.items()}

    @contextlib.contextmanager
    def _joins(self) -> Iterator[None]:
        """The log is the probe side of every join with the calendar: DuckDB does not know
        how long a CSV is before reading it and would otherwise hash the whole log."""
        self.table.execute("SET disabled_optimizers = 'build_side_probe_side'")
        try:
            yield
        finally:
            self.table.execute("RESET disabled_optimizers")

    def rows(self, words: _Words, *, numbered: bool) -> str:
        """The judged rows `x`: cells -> stamps -> checked rows -> judged rows, as CTEs.

        `numbered`: with `rn`, the record in file order (row_number() keeps file order by
        making the scan single-threaded: only the reads that name rows ask for it)."""
        groups = "".join(f", g{i}" for i in range(len(self.group_columns)))
        judged = judged_sql(self.slas, "duckdb", self.realtime, self.clock, NANOS)
        return (
            f"WITH cal AS (\n{_calendar('duckdb', self.calendar_name)}\n),\n"
            f"cells AS (\n{self._cells(numbered)}\n),\n"
            f"stamps AS (\n{_stamps('cells', self._typed())}\n),\n"
            f"checked AS (\n{self._checked(words)}\n),\n"
            # the judged rows of `pilot sql --events` (bad rows have no node: they are counted)
            f"r AS (SELECT {'rn, ' if numbered else ''}case_id, node, status, "
            "CASE WHEN status_id IS NULL THEN status_raw END AS odd_status, lvl, problem, "
            "CASE WHEN problem IS NULL THEN s_all END AS s, "
            f"CASE WHEN problem IS NULL THEN f_all END AS f{groups} FROM checked),\n"
            f"j AS (\n{judged}\n),\n"
            "x AS (SELECT j.*, CASE WHEN f IS NOT NULL THEN f - s END AS d FROM j)\n"
        )

    def _typed(self) -> frozenset[str]:
        """`s` and `f` when the start and finish stamps are read as TIMESTAMP."""
        stamps = getattr(self.table, "stamps", frozenset())
        return frozenset(
            x
            for x, role in (("s", "started_at"), ("f", "finished_at"))
            if self.roles[role] in stamps
        )

    def _cells(self, numbered: bool) -> str:
        """The cells as written (numbered in file order when asked)."""
        q = Quoter("duckdb")

        def text(role: str) -> str:  # stamps read by the CSV reader as they are
            column = self.roles[role]
            typed = column in getattr(self.table, "stamps", ())
            return q.column(column) if typed else f"CAST({q.column(column)} AS VARCHAR)"

        level = text("level") if "level" in self.roles else "CAST(NULL AS VARCHAR)"
        groups = "".join(
            f", TRIM(CAST({q.column(self.roles[f'group:{name}'])} AS VARCHAR)) AS g{i}"
            for i, name in enumerate(self.group_columns)
        )
        return (
            f"SELECT {'row_number() OVER () AS rn, ' if numbered else ''}"
            f"{text('case_id')} AS case_id, "
            f"{text('node')} AS node_raw, {text('status')} AS status_raw, "
            f"NULLIF({level}, '') AS level_raw, {text('started_at')} AS st, "
            f"{text('finished_at')} AS ft{groups} FROM {self.table.relation}"
        )

    def _checked(self, words: _Words) -> str:
        """Each row's node, status and level as meant, its times on the log's clock, and what
        is wrong with it (NULL for a good row), checked in the order messages name them."""
        node_id = _mapping("node_raw", words.nodes)
        status_id = _mapping("status_raw", words.statuses)
        level = _mapping("level_raw", words.levels or {}, "level_raw")
        if self.zone is not None:
            offset = _zone_offset_sql(self.zone)
            s_wall = f"CASE WHEN s_off IS NULL THEN s_local ELSE {offset('(s_local - s_off)')} END"
            f_wall = f"CASE WHEN f_off IS NULL THEN f_local ELSE {offset('(f_local - f_off)')} END"
        else:  # each row on its start's clock; a stamp without an offset takes the other's
            s_wall = "s_local"
            f_wall = (
                "CASE WHEN s_off IS NOT NULL AND f_off IS NOT NULL "
                "THEN f_local - f_off + s_off ELSE f_local END"
            )
        problem = (
            "CASE WHEN node_raw IS NULL OR (node_id IS NULL AND TRIM(node_raw) = '') THEN 'node' "
            "WHEN status_id IS NULL THEN 'status' "
            "WHEN s_bad IS NOT NULL THEN 'started_at:' || s_bad "
            "WHEN f_bad IS NOT NULL THEN 'finished_at:' || f_bad "
            "WHEN f_local IS NOT NULL AND s_local IS NULL THEN 'start_blank' "
            "WHEN f_local IS NOT NULL AND f_all < s_all THEN 'finish_before' END"
        )
        walls = (
            f"SELECT m.*, {s_wall} AS s_all, {f_wall} AS f_all FROM (\n"
            f"SELECT stamps.*, {node_id} AS node_id, {status_id} AS status_id, "
            f"{level} AS lvl FROM stamps\n) m"
        )
        return (
            "SELECT w.*, CASE WHEN problem IS NULL THEN COALESCE(node_id, node_raw) END AS node, "
            f"status_id AS status FROM (\nSELECT v.*, {problem} AS problem FROM (\n{walls}\n) v\n) w"
        )


def _stamps(cells: str, typed: frozenset[str] = frozenset()) -> str:
    """`s_local`/`f_local` (the wall time written, in nanoseconds), `s_off`/`f_off` (the UTC
    offset written, NULL without one) and `s_bad`/`f_bad` (`format`, `date`, `time` or
    `range` for a cell that is not a log time) of each row.

    Layer by layer, each value computed once: the cast; the text of the cells the cast did not
    read back as written (full-width digits made ASCII); the pattern's parts of that text;
    what is wrong with it; its value."""

    def fast(x: str, raw: str) -> str:
        if x in typed:  # read by the CSV reader: a year read
            first, last = f"TIMESTAMP '{FIRST_YEAR}-01-01'", f"TIMESTAMP '{LAST_YEAR + 1}-01-01'"
            return (
                f"CASE WHEN {raw} >= {first} AND {raw} < {last} "
                f"THEN epoch_us({raw}) * 1000 END AS {x}_fast"
            )
        # `2024-10-08 09:05:00` (or with a T), the way nearly every system writes a time, of
        # a year read; strptime alone would take `09:05:0 ` (a space for a digit) too
        return (
            f"CASE WHEN strlen({raw}) = 19 AND {raw} >= '{FIRST_YEAR}' "
            f"AND {raw} < '{LAST_YEAR + 1}' AND right({raw}, 1) BETWEEN '0' AND '9' "
            f"THEN epoch_us(try_strptime({raw}, ['%Y-%m-%d %H:%M:%S', '%Y-%m-%dT%H:%M:%S'])) "
            f"* 1000 END AS {x}_fast"
        )

    def text(x: str, raw: str) -> str:
        raw = f"CAST({raw} AS VARCHAR)" if x in typed else raw
        cleaned = (
            f"NULLIF(TRIM(translate({raw}, {_string(_FULL_WIDTH[0])}, "
            f"{_string(_FULL_WIDTH[1])})), '')"
        )
        return f"CASE WHEN {x}_fast IS NULL THEN {cleaned} END AS {x}_text"

    def parts(x: str) -> str:
        return (
            f"CASE WHEN {x}_text IS NOT NULL THEN "
            f"regexp_extract({x}_text, {_string(_STAMP)}, {_GROUPS}) END AS {x}_m"
        )

    def number(m: str, part: str) -> str:
        return f"CAST(COALESCE(NULLIF({m}.{part}, ''), '0') AS BIGINT)"

    def day(m: str) -> str:
        return f"try_strptime({m}.y || '-' || {m}.mo || '-' || {m}.d, '%Y-%m-%d')"

    def bad(x: str) -> str:
        m = f"{x}_m"
        hour, minute, second = (number(m, g) for g in ("h", "mi", "sec"))
        return (
            f"CASE WHEN {m} IS NULL THEN NULL WHEN {m}.y = '' THEN 'format' "
            f"WHEN {day(m)} IS NULL THEN 'date' "
            f"WHEN {hour} > 23 OR {minute} > 59 OR {second} > 59 THEN 'time' "
            f"WHEN CAST({m}.y AS INTEGER) NOT BETWEEN {FIRST_YEAR} AND {LAST_YEAR} THEN 'range' "
            f"END AS {x}_bad"
        )

    def value(x: str) -> str:
        m = f"{x}_m"
        hour, minute, second = (number(m, g) for g in ("h", "mi", "sec"))
        fraction = f"CASE WHEN {m}.fr = '' THEN 0 ELSE CAST(rpad({m}.fr, 9, '0') AS BIGINT) END"
        clock_ns = f"(({hour} * 3600 + {minute} * 60 + {second}) * 1000000000 + {fraction})"
        written = f"CAST(epoch({day(m)}) AS BIGINT) * 1000000000 + {clock_ns}"
        zone = f"{m}.z"
        digits = f"replace(substr({zone}, 2), ':', '')"
        offset = (
            f"CASE WHEN {zone} = '' THEN NULL WHEN {zone} = 'Z' THEN 0 ELSE "
            f"(CASE WHEN substr({zone}, 1, 1) = '-' THEN -1 ELSE 1 END) * "
            f"(CAST(substr({digits}, 1, 2) AS BIGINT) * 3600 + "
            f"CAST(COALESCE(NULLIF(substr({digits}, 3, 2), ''), '0') AS BIGINT) * 60) "
            "* 1000000000 END"
        )
        good = f"{m} IS NOT NULL AND {x}_bad IS NULL"
        return (
            f"COALESCE({x}_fast, CASE WHEN {good} THEN {written} END) AS {x}_local, "
            f"CASE WHEN {good} THEN {offset} END AS {x}_off"
        )

    layers = [
        f"SELECT {cells}.*, {fast('s', 'st')}, {fast('f', 'ft')} FROM {cells}",
        f"SELECT c.*, {text('s', 'st')}, {text('f', 'ft')} FROM c",
        f"SELECT c.*, {parts('s')}, {parts('f')} FROM c",
        f"SELECT c.*, {bad('s')}, {bad('f')} FROM c",
        f"SELECT c.* EXCLUDE (s_fast, f_fast, s_text, f_text, s_m, f_m), "
        f"{value('s')}, {value('f')} FROM c",
    ]
    sql = layers[0]
    for layer in layers[1:]:
        sql = layer.replace("FROM c", f"FROM (\n{sql}\n) c", 1)
    return sql


def _mapping(column: str, words: Mapping[str, str | None], otherwise: str = "NULL") -> str:
    """`column` mapped by `words` (a CASE over the few spellings), `otherwise` for others."""
    if not words:
        return otherwise
    branches = " ".join(
        f"WHEN {_string(spelling)} THEN {'NULL' if meant is None else _string(meant)}"
        for spelling, meant in words.items()  # the likeliest first: ids, the words as listed
    )
    return f"CASE {column} {branches} ELSE {otherwise} END"


def _grouped(
    groups: Sequence[str],
    as_of: datetime | None,
    scheduled: Sequence[str],
    level_durations: bool = True,
) -> str:
    """The figures of each node, node and level, node and group from the judged rows `x`.

    The rows stream once through two aggregations: `t`, every count by node, level, status,
    group columns and the status word the query was not given (`odd_status`: bad rows) at
    once, so the per-node, per-level and per-group figures are gathered from its few rows;
    and `q`, the duration quantiles of each node, node and group, and node and level when
    asked (each keeps the durations, as any exact quantile does: 8 bytes a row).

    Without a given evaluation time the log's last one (the latest time of a good row) is
    known only after the pass: the deadlines of the open cases are kept to count those past
    it."""
    conditions = counted(deferred=True)
    statuses = {name: conditions.pop(name) for name in STATUS_WORDS}  # counted by status
    is_open = f"{IS_OPEN} AND due IS NOT NULL"
    given = None if as_of is None else str(nanos(as_of.replace(tzinfo=None)))
    keys = ["lvl", "odd_status", *groups]
    if given is None:
        open_scan = f"list(due) FILTER (WHERE {is_open}) AS open_dues, "
        open_gathered = "flatten(list(open_dues)) AS open_dues, "
    else:
        open_scan = (
            f"count(*) FILTER (WHERE {is_open} AND due < {given}) AS breached_open, "
            f"count(*) FILTER (WHERE {is_open} AND due >= {given}) AS pending, "
        )
        open_gathered = "SUM(breached_open) AS breached_open, SUM(pending) AS pending, "
    ok_scan = ok_gathered = ""
    if scheduled:
        wanted = ", ".join(_string(node) for node in scheduled)
        ok_scan = (
            ", list(f) FILTER (WHERE status = 'ok' AND f IS NOT NULL "
            f"AND node IN ({wanted})) AS ok_finishes"
        )
        ok_gathered = ", flatten(list(ok_finishes)) AS ok_finishes"
    scan = (
        f"SELECT node, status, {', '.join(keys)}, count(*) AS count, "
        + "".join(f"count(*) FILTER (WHERE {c}) AS {name}, " for name, c in conditions.items())
        + "count(d) AS timed, max(CASE WHEN kind = 0 THEN secs END) AS sla, "
        "max(COALESCE(f, s)) AS last_t, "
        f"{open_scan}"
        "min(s) FILTER (WHERE f IS NOT NULL) AS first_s, max(f) AS last_f, "
        "min(s) FILTER (WHERE kind IN (1, 2)) AS low, "
        f"max(due) FILTER (WHERE kind IN (1, 2)) AS high{ok_scan} "
        f"FROM x GROUP BY node, status, {', '.join(keys)}"
    )
    sets = [("odd_status",), ("lvl",)] + ([tuple(groups)] if groups else [])
    gathered = (
        f"SELECT node, {', '.join(keys)}, "
        + "".join(f"GROUPING({key}) AS by_{key}, " for key in keys)
        + "SUM(count) AS count, "
        + "".join(f"SUM(count) FILTER (WHERE {c}) AS {name}, " for name, c in statuses.items())
        + "".join(f"SUM({name}) AS {name}, " for name in conditions)
        + "SUM(timed) AS timed, max(sla) AS sla, max(last_t) AS last_t, "
        f"{open_gathered}"
        "min(first_s) AS first_s, max(last_f) AS last_f, min(low) AS low, "
        f"max(high) AS high{ok_gathered} FROM t "
        "GROUP BY GROUPING SETS ("
        + ", ".join(f"(node, {', '.join(columns)})" for columns in sets)
        + ")"
    )

    def quantiles(columns: Sequence[str]) -> str:
        shown = [
            (key if key in columns else f"NULL AS {key}", "0" if key in columns else "1")
            for key in keys
        ]
        return (
            f"SELECT node, {', '.join(c for c, _ in shown)}, "
            + "".join(f"{flag} AS by_{key}, " for key, (_, flag) in zip(keys, shown, strict=True))
            + "quantile_cont(d, [0.5, 0.95]) AS quantiles FROM x WHERE d IS NOT NULL "
            f"GROUP BY node{''.join(', ' + c for c in columns)}"
        )

    by_level = [()] + ([("lvl",)] if level_durations else []) + ([tuple(groups)] if groups else [])
    quantile_sql = "\nUNION ALL ".join(quantiles(columns) for columns in by_level)
    # the node rows of `gathered` are those by node and status word: the good rows have
    # none, and get the node's quantiles
    node_rows = " AND ".join(f"by_{key} = 1" for key in ("lvl", *groups))
    match = " AND ".join(
        ["g.node = q.node"]
        + [
            f"g.{key} IS NOT DISTINCT FROM q.{key} AND g.by_{key} = q.by_{key}"
            for key in keys
            if key != "odd_status"
        ]
    )
    latest = given or f"max(last_t) FILTER (WHERE node IS NOT NULL AND {node_rows}) OVER ()"
    if given is None:
        breached = f"COALESCE(len(list_filter(open_dues, {_lambda('due', 'due < as_of')})), 0)"
        counts = (
            f"SELECT a.* EXCLUDE (open_dues), {breached} AS breached_open, "
            f"COALESCE(len(open_dues), 0) - {breached} AS pending FROM a"
        )
    else:
        counts = "SELECT a.* FROM a"
    return (
        f",\nt AS (\n{scan}\n),\n"
        f"q AS (\n{quantile_sql}\n),\n"
        f"g AS (\n{gathered}\n),\n"
        f"a AS (SELECT g.*, {latest} AS as_of FROM g),\n"
        f"n AS ({counts})\n"
        "SELECT g.* EXCLUDE (sla, checked), q.quantiles[1] / 1e9 AS p50_s, "
        "q.quantiles[2] / 1e9 AS p95_s, sla / 1e9 AS sla_s, "
        "checked + breached_open AS checked, "
        "checked - within_sla + breached_open AS missed_n "
        "FROM n g LEFT JOIN q ON "
        f"{match} AND g.odd_status IS NULL"
    )


def _lambda(name: str, body: str) -> str:
    """A lambda of DuckDB's list functions: `lambda c: …` since 1.3 (the only one 2.0 reads),
    `c -> …` before."""
    import duckdb

    major, minor = (int(part) for part in duckdb.__version__.split(".")[:2])
    return f"lambda {name}: {body}" if (major, minor) >= (1, 3) else f"{name} -> {body}"


def _learn(
    rows: Sequence[Mapping[str, Any]],
    words: _Words,
    slas: Mapping[str, Any],
    map_node: Callable[[str], str],
    map_status: Callable[[str], str | None],
) -> _Words | None:
    """The words with the spellings the result showed mapped, when one of them meant a node,
    a status or a level (NFKC, case, spaces); None when the result stands as it is."""
    nodes, statuses = dict(words.nodes), dict(words.statuses)
    levels = dict(words.levels or {})
    again = False
    for row in rows:
        node, level, odd = row["node"], row["lvl"], row["odd_status"]
        if node is not None and node not in slas and map_node(node) in slas:
            nodes[node] = map_node(node)
            again = True
        if odd is not None and (status := map_status(odd)) is not None:
            statuses[odd] = status
            again = True
        if row["by_lvl"] == 0 and level is not None and normalize_text(level) != level:
            levels[level] = normalize_text(level) or None
            again = True
    if not again:
        return None
    return _Words(nodes, statuses, levels or words.levels)


def _facts(
    rows: Sequence[Mapping[str, Any]],
    slas: Mapping[str, Any],
    group_columns: Sequence[str],
    map_node: Callable[[str], str],
    scheduled: Sequence[str],
) -> LogFacts:
    """The query's grouped rows as LogFacts (the bad rows and the case ids not yet named)."""
    group_names = [f"g{i}" for i in range(len(group_columns))]
    overall: dict[str, LevelFigures] = {}
    by_level: dict[str, dict[str, LevelFigures]] = {}
    groups: dict[tuple[tuple[str, str], ...], dict[str, LevelFigures]] = {}
    missed: dict[str, dict[str, tuple[int, tuple[str, ...]]]] = {}
    unknown: dict[str, int] = {}
    ok_finishes: dict[str, list[datetime]] = {node: [] for node in scheduled}
    spans: list[tuple[Any, ...]] = []
    used = bad_count = 0
    as_of_all = None
    for row in rows:
        as_of_all = row["as_of"]
        node = row["node"]
        per_node = row["by_lvl"] == 1 and all(row[f"by_{g}"] == 1 for g in group_names)
        if node is None:  # bad rows, by the status word the query was not given
            if per_node:
                bad_count += int(row["count"])
            continue
        if node not in slas:  # a node the playbook does not have (its spellings summed)
            if per_node:
                used += int(row["count"])
                name = map_node(node)
                unknown[name] = unknown.get(name, 0) + int(row["count"])
            continue
        figures_row = _figures(row)
        if row["missed_n"] and (row["by_lvl"] == 1 or row["lvl"] is not None):
            if not group_names or any(row[f"by_{g}"] for g in group_names):
                key = "" if row["by_lvl"] else str(row["lvl"])
                missed.setdefault(str(node), {})[key] = (int(row["missed_n"]), ())
        if row["by_lvl"] == 0:
            if row["lvl"] is not None:
                by_level.setdefault(node, {})[row["lvl"]] = figures_row
            continue
        if not per_node:
            key = tuple(
                (name, "" if row[g] is None else normalize_text(str(row[g])))
                for name, g in zip(group_columns, group_names, strict=True)
            )
            groups.setdefault(key, {})[node] = figures_row
            continue
        used += int(row["count"])
        overall[node] = figures_row
        spans.append((row["first_s"], row["last_f"], row["low"], row["high"]))
        if node in ok_finishes:
            ok_finishes[node] = [moment(value) for value in sorted(row["ok_finishes"] or ())]

    def least(values: Sequence[Any]) -> Any:
        found = [v for v in values if v is not None]
        return min(found) if found else None

    def most(values: Sequence[Any]) -> Any:
        found = [v for v in values if v is not None]
        return max(found) if found else None

    first_s, last_f = least([v[0] for v in spans]), most([v[1] for v in spans])
    low, high = least([v[2] for v in spans]), most([v[3] for v in spans])
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
        dict(sorted(unknown.items())),
        used,
        [],
        bad_count,
        moment(as_of_all) if as_of_all is not None else datetime.min,
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
    """Nanoseconds since 1970 in UTC -> the same instant on `zone`'s clock: a fixed offset
    when the zone has had one since 1992 (Asia/Shanghai), else the zone's offset at that
    instant from DuckDB's ICU time zones (summer time included)."""
    samples = {
        (datetime(year, month, 15) + timedelta(hours=12)).replace(tzinfo=zone).utcoffset()
        for year in (1992, 2010, 2030)
        for month in (1, 7)
    }
    if len(samples) == 1:
        shift = next(iter(samples))
        offset = round(shift.total_seconds()) * NANOS if shift is not None else 0
        return lambda utc: f"({utc} + {offset})"
    name = _string(getattr(zone, "key", "UTC"))

    def local(utc: str) -> str:
        # timezone('UTC', naive) is that UTC instant; timezone(zone, instant) its wall time
        micros = f"(({utc}) // 1000)"
        wall = f"epoch_us(timezone({name}, timezone('UTC', make_timestamp({micros}))))"
        return f"({utc} + ({wall} - {micros}) * 1000)"

    return local


def moment(value: int) -> datetime:
    """Nanoseconds since 1970-01-01 as a naive datetime (microseconds kept)."""
    return EPOCH + timedelta(microseconds=int(value) // 1000)


def nanos(when: datetime) -> int:
    """A naive datetime as nanoseconds since 1970-01-01."""
    delta = when - EPOCH
    return (delta.days * 86400 + delta.seconds) * 10**9 + delta.microseconds * 1000
