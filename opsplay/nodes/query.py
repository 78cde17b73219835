"""Node execution logs through DuckDB (SPEC 12, "one query for event logs").

A local log (CSV in any encoding, Excel, Parquet: opsplay.readers.engine) is read by
DuckDB, and its node figures are the judged rows and figure columns of `pilot sql --events`
(opsplay.nodes.sql): the same limit per row and level, the same calendar deadlines
from the same generated working-day table, the same open cases. What the local path adds
is what only a file needs: timestamps in the forms teams write (`2024/8/5 9:30`,
`2024年10月8日 09:05`, with or without a UTC offset), node names and status words as
written (mapped in Python), bad rows named by line and column, groups, per-level figures
and the facts schedules and messages need.

How it stays fast and small (a 5M-row log in about two seconds and ~300 MB, 10M in ~350):
- One scan, streamed on every core: nothing of the log is kept but the aggregates (the
  durations the quantiles need, as any exact quantile: in seconds, 4 bytes a row for the
  nodes and 4 for the levels when the CSV reader read the stamps, 8 otherwise; and the
  deadlines of open cases, judged once the evaluation time is known: by default the log's
  last time, known only at the end of the scan).
- No row numbers in that scan: DuckDB's row_number() keeps file order by making the scan
  single-threaded. The rows messages name (the first bad rows, the first ten breaches of
  each node and level) are found by a second read that numbers rows and stops as soon as
  it has them.
- Cells are taken as written. A CSV whose stamps are all written `2024-10-08 09:05:00` (or
  with a T, judged on its first rows) has them read by DuckDB's CSV reader; other stamps
  are read by a strict strptime when written so, and only the rest by the pattern of
  opsplay.nodes.times (full-width digits, 年月日, offsets, fractions).
- Node and status words the query was not given (another width, case or spacing) come
  back with the result, where Python maps them; only when one meant a node, a status or a
  level after all is the log read again, with them mapped.

Times are nanoseconds since 1970-01-01 on the log's clock: in `timezone` when one is given
(a stamp with an offset moved there), else each row on its start's clock.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from opsplay.errors import InputError
from opsplay.nodes.cells import (
    IS_OPEN_CODED,
    NANOS,
    STATUS_CODES,
    WITHIN_EXACT,
    mapping_sql,
    moment,
    nanos,
    stamps_sql,
    typed_stamps,
    zone_offset_sql,
)
from opsplay.nodes.figures import figures_sql, node_id_sql, wide_span
from opsplay.nodes.sql import (
    OPEN_WORDS,
    STATUS_WORDS,
    _calendar,
    declared_levels,
    due_days_sql,
    judged_sql,
    match_level,
)
from opsplay.query.units import Quoter
from opsplay.readers.cells import normalize_text
from opsplay.readers.engine import TypedReadFailed


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
    # scheduled node -> finish times of `ok` runs in nanoseconds, as the query counts them
    ok_nanos: dict[str, list[int]] = field(default_factory=dict)
    later: int = 0  # good rows started after a given evaluation time: left out (SPEC 12)
    # of the cases in `missed`, those still open (past their deadline with no finish): (node,
    # case id), a case's rows at two nodes being two cases of the process
    still_open: frozenset[tuple[str, str]] = frozenset()


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
    levels: Iterable[str] = (),
    as_it_stood: bool = True,
) -> LogFacts:
    """Run the node-figures query over an opened log (opsplay.readers.engine.Table).

    `node_names` are the spellings of nodes a log is expected to use besides their ids (the
    playbook's names): the query maps them itself, any other spelling costs a second scan
    when it turns out to mean a node. `level_durations`: the quantiles of each level too
    (an alert on one level's p50/p95 needs them; they keep the durations once more).
    `levels`: the playbook's `levels` ids, which a level cell can mean besides the levels of
    the limits (events_sql.level_sql). A given `as_of` reads the log as it stood then
    (events_sql.snapshot_sql): rows started after it are left out (`LogFacts.later`), unless
    `as_it_stood` is False."""
    words = _Words(
        nodes={
            spelling: map_node(spelling)
            for spelling in (*slas, *node_names)
            if map_node(spelling) in slas
        },
        statuses={
            spelling: status
            for casing in (str, str.upper, str.title)
            for words in (*STATUS_WORDS.values(), OPEN_WORDS)
            for word in words
            if (status := map_status(spelling := casing(word))) is not None
        },
    )
    sql = _LogQuery(table, roles, group_columns, slas, calendar_name, clock, realtime, zone)
    sql.level_durations = level_durations
    sql.declared = declared_levels(slas, levels)
    sql.cut = None if as_of is None or not as_it_stood else nanos(as_of.replace(tzinfo=None))
    typed = typed_stamps(table, roles)
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
        learned = _learn(rows, words, slas, map_node, map_status, sql.declared)
        if learned is None:
            break
        words = learned
        rows = sql.run(words, as_of, scheduled)
    facts = _facts(rows, slas, group_columns, map_node, scheduled)
    facts.later = sum(
        int(row["count"])
        for row in rows
        if row["node"] is None
        and row["odd_status"] == _LATER
        and row["by_lvl"] == 1
        and all(row[f"by_g{i}"] == 1 for i in range(len(group_columns)))
    )
    if facts.bad_count or facts.missed:  # name them: the first in file order
        wanted = min(facts.bad_count, 1 if first_bad_only else 5)
        latest = next(row["as_of"] for row in rows)  # in nanoseconds, as the query judged
        facts.bad, found, facts.still_open = sql.first_rows(words, latest, facts.missed, wanted)
        facts.missed = {
            node: {key: (count, found.get((node, key), ())) for key, (count, _) in keys.items()}
            for node, keys in facts.missed.items()
        }
    return facts


_TABLES = itertools.count(1)  # temporary tables of a connection, numbered
# `odd_status` of the rows started after a given evaluation time (no node: counted apart)
_LATER = "\x01later"


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
        self._due_days: str | None = None  # the table of deadline days, once made
        self.declared: list[str] = []  # the levels a level cell can mean
        self.cut: int | None = None  # a given evaluation time (nanoseconds): the snapshot

    def _days_table(self) -> str | None:
        """The days the deadlines fall on, per day of the calendar and limit, made a
        temporary table on the log's connection at the first read: every read of the log
        joins it (the query `pilot sql --events` prints works them out from `cal` itself)."""
        if self._due_days is None:
            days = due_days_sql(self.slas, self.realtime, self.clock, NANOS)
            if days is None:
                return None
            name = f"opsplay_due_days_{next(_TABLES)}"
            calendar = _calendar("duckdb", self.calendar_name)
            self.table.execute(
                f"CREATE TEMPORARY TABLE {name} AS WITH cal AS (\n{calendar}\n)\n{days}"
            )
            self._due_days = name
        return self._due_days

    def run(
        self, words: _Words, as_of: datetime | None, scheduled: Sequence[str]
    ) -> list[dict[str, Any]]:
        """The grouped rows of the query: one per node, node and level, node and group."""
        groups = [f"g{i}" for i in range(len(self.group_columns))]
        # stamps read by the CSV reader are whole seconds: the quantiles keep INTEGER seconds
        whole = self._typed() == {"s", "f"}
        rows = self._figures(groups, words, as_of, scheduled, whole)
        if whole and wide_span(rows):  # a duration may be beyond INTEGER seconds
            rows = self._figures(groups, words, as_of, scheduled, False)
        return rows

    def _figures(
        self,
        groups: list[str],
        words: _Words,
        as_of: datetime | None,
        scheduled: Sequence[str],
        whole_seconds: bool,
    ) -> list[dict[str, Any]]:
        sql = self.rows(words, numbered=False) + figures_sql(
            groups, as_of, scheduled, list(self.slas), self.level_durations, whole_seconds
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
        as_of: int | None,
        missed: Mapping[str, Mapping[str, tuple[int, Any]]],
        bad_wanted: int,
    ) -> tuple[
        list[tuple[int, str, str, str]],
        dict[tuple[str, str], tuple[str, ...]],
        frozenset[tuple[str, str]],
    ]:
        """The first bad rows (record, problem) and, per node and per node and level, the
        first ten cases past their limit as of `as_of` (nanoseconds), in file order, and
        which of those are still open.

        Numbering the rows keeps them in file order, which makes the scan single-threaded:
        it is read as a stream, and only until every count asked for is found (a log's
        first breaches are usually near its start)."""
        late = f"NOT ({WITHIN_EXACT})"  # (NULL without a finish or a deadline)
        past = "false" if as_of is None else f"{IS_OPEN_CODED} AND due < {as_of}"
        sql = self.rows(words, numbered=True) + (
            f"SELECT rn, problem, {node_id_sql(list(self.slas))} AS node, lvl, "
            "TRIM(case_id) AS id, f IS NULL AS still_open FROM x "
            f"WHERE problem IS NOT NULL OR ({late}) OR ({past})"
        )
        wanted = {
            (node, key): min(count, 10)
            for node, keys in missed.items()
            for key, (count, _) in keys.items()
        }
        found: dict[tuple[str, str], list[str]] = {key: [] for key in wanted}
        bad: list[tuple[int, str, str, str]] = []
        still_open: set[tuple[str, str]] = set()
        with self._joins():
            cursor = self.table.execute(sql)
            while rows := self.table.next_rows(cursor, 4096):
                for rn, problem, node, level, case_id, unfinished in rows:
                    if problem is not None:
                        if len(bad) < bad_wanted:
                            bad.append((int(rn), str(problem), "", ""))
                        continue
                    for key in ((node, ""), (node, level)):
                        ids = found.get(key)
                        if ids is not None and len(ids) < wanted[key]:
                            ids.append(str(case_id))
                            if unfinished:
                                still_open.add((node, str(case_id)))
                done = all(len(ids) >= wanted[key] for key, ids in found.items())
                if done and len(bad) >= bad_wanted:
                    break  # the next statement on the connection ends the read
        return bad, {key: tuple(ids) for key, ids in found.items()}, frozenset(still_open)

    @contextlib.contextmanager
    def _joins(self) -> Iterator[None]:
        """The log is the probe side of every join with the calendar: DuckDB does not know
        how long a CSV is before reading it and would otherwise hash the whole log."""
        try:  # (a DuckDB before 1.1 has no such optimizer: it keeps the written order)
            self.table.execute("SET disabled_optimizers = 'build_side_probe_side'")
        except InputError:
            yield
            return
        try:
            yield
        finally:
            self.table.execute("RESET disabled_optimizers")

    def rows(self, words: _Words, *, numbered: bool) -> str:
        """The judged rows `x`: cells -> stamps -> checked rows -> judged rows, as CTEs.

        `numbered`: with `rn`, the record in file order (row_number() keeps file order by
        making the scan single-threaded: only the reads that name rows ask for it)."""
        groups = "".join(f", g{i}" for i in range(len(self.group_columns)))
        judged = judged_sql(
            self.slas,
            "duckdb",
            self.realtime,
            self.clock,
            NANOS,
            due_days=self._days_table(),
            node_codes=self._node_codes(),
        )
        # as the log stood at a given evaluation time (events_sql.snapshot_sql): a row
        # started after it has no node (counted apart, by its `odd_status`), a row finished
        # after it is open; without one, the log's last time has no row after it
        node, odd_node, status, level = "node", "odd_node", "status", "lvl"
        odd = "CASE WHEN status_id IS NULL THEN status_raw END"
        kept = finished = "problem IS NULL"
        source = "checked"
        if self.cut is not None:  # each row's two flags worked out once
            source = (
                f"(SELECT *, COALESCE(problem IS NULL AND s_all > {self.cut}, false) AS later, "
                f"COALESCE(problem IS NULL AND f_all > {self.cut}, false) AS ended "
                "FROM checked) checked"
            )
            node, odd_node, level = (
                f"CASE WHEN later THEN NULL ELSE {name} END" for name in ("node", "odd_node", "lvl")
            )
            status = (
                f"CASE WHEN later THEN NULL WHEN ended THEN {STATUS_CODES['open']} ELSE status END"
            )
            odd = f"CASE WHEN later THEN chr(1) || 'later' ELSE {odd} END"
            kept = "problem IS NULL AND NOT later"
            finished = f"{kept} AND NOT ended"
        return (
            f"WITH cells AS (\n{self._cells(numbered)}\n),\n"
            f"stamps AS (\n{stamps_sql('cells', self._typed())}\n),\n"
            f"checked AS (\n{self._checked(words)}\n),\n"
            # the judged rows of `pilot sql --events` (bad rows have no node: they are counted)
            f"r AS (SELECT {'rn, ' if numbered else ''}case_id, {node} AS node, "
            f"{odd_node} AS odd_node, "
            f"{status} AS status, {odd} AS odd_status, {level} AS lvl, problem, "
            f"CASE WHEN {kept} THEN s_all END AS s, "
            f"CASE WHEN {finished} THEN f_all END AS f{groups} FROM {source}),\n"
            f"j AS (\n{judged}\n),\n"
            # (a row without a start has no finish: a bad row has neither)
            "x AS (SELECT j.*, f - s AS d FROM j)\n"
        )

    def _node_codes(self) -> dict[str, int]:
        """Each node's number in the query: a row's node is a number while its row is
        judged and counted (half the work of its id), named once per group."""
        return {node: code for code, node in enumerate(self.slas, start=1)}

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
        codes = self._node_codes()
        node_id = mapping_sql("node_raw", words.nodes, literal=lambda node: str(codes[node]))
        # a blank status with no finish time: a case still open (SPEC 12); in the CASE's
        # ELSE, so only the rows of no status word are checked (a COALESCE checks them all)
        blank = "NULLIF(TRIM(CAST({} AS VARCHAR)), '') IS NULL"
        no_finish = "ft IS NULL" if "f" in self._typed() else blank.format("ft")
        status_id = mapping_sql(
            "status_raw",
            words.statuses,
            f"CASE WHEN {blank.format('status_raw')} AND {no_finish} "
            f"THEN {STATUS_CODES['open']} END",
            lambda status: str(STATUS_CODES[status]),
        )
        # levels as written; a spelling meaning a declared level in another case or width
        # (events_sql.level_sql: `p1`, `Ｐ１`, ` P1 `) is learned from the result (_learn)
        level = mapping_sql("level_raw", words.levels or {}, "level_raw")
        if self.zone is not None:
            offset = zone_offset_sql(self.zone)
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
            "SELECT w.*, CASE WHEN problem IS NULL THEN node_id END AS node, "
            "CASE WHEN problem IS NULL AND node_id IS NULL THEN node_raw END AS odd_node, "
            f"status_id AS status FROM (\nSELECT v.*, {problem} AS problem FROM (\n{walls}\n) v\n) w"
        )


def _learn(
    rows: Sequence[Mapping[str, Any]],
    words: _Words,
    slas: Mapping[str, Any],
    map_node: Callable[[str], str],
    map_status: Callable[[str], str | None],
    declared: Sequence[str] = (),
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
        if odd not in (None, _LATER) and (status := map_status(odd)) is not None:
            statuses[odd] = status
            again = True
        if row["by_lvl"] == 0 and level is not None and match_level(level, declared) != level:
            levels[level] = match_level(level, declared) or None
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
    ok_nanos: dict[str, list[int]] = {node: [] for node in scheduled}
    spans: list[tuple[Any, ...]] = []
    used = bad_count = 0
    as_of_all = None
    for row in rows:
        as_of_all = row["as_of"]
        node = row["node"]
        per_node = row["by_lvl"] == 1 and all(row[f"by_{g}"] == 1 for g in group_names)
        if node is None:  # bad rows, by the status word the query was not given
            if per_node and row["odd_status"] != _LATER:
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
            ok_nanos[node] = sorted(int(value) for value in row["ok_finishes"] or ())
            ok_finishes[node] = [moment(value) for value in ok_nanos[node]]

    def least(values: Sequence[Any]) -> Any:
        found = [v for v in values if v is not None]
        return min(found) if found else None

    def most(values: Sequence[Any]) -> Any:
        found = [v for v in values if v is not None]
        return max(found) if found else None

    # the node's own first, then its levels (the result's rows come in no set order)
    missed = {node: dict(sorted(keys.items())) for node, keys in sorted(missed.items())}
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
        ok_nanos,
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
