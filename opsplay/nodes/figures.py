"""The node figures of the judged rows `x` of the node-log query (opsplay.nodes.query):
one aggregation by node, level and group columns (the levels' duration quantiles in it),
gathered per node, level and group; the nodes' quantiles beside it; what depends on the
evaluation time last.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from opsplay.nodes.cells import IS_OPEN_CODED, NANOS, STATUS_CODES, WITHIN_EXACT, nanos
from opsplay.nodes.sql import STATUS_WORDS, _string, counted


def figures_sql(
    groups: Sequence[str],
    as_of: datetime | None,
    scheduled: Sequence[str],
    node_ids: Sequence[str],
    level_durations: bool = True,
    whole_seconds: bool = False,
) -> str:
    """The figures of each node, node and level, node and group from the judged rows `x`.

    The rows stream once through two aggregations: `t`, every count by node, level, group
    columns and the status word the query was not given (`odd_status`: bad rows) at once,
    the status counts as filters, so the per-node, per-level and per-group figures are
    gathered from its few rows; and the duration quantiles of each node. Each keeps the
    durations, as any exact quantile does; `t` keeps those of each node and level (a row of
    a node has no odd status: its groups are the node's levels) unless the log has group
    columns, whose quantiles, and the levels' then, are aggregations of their own.

    The quantiles are of the durations in seconds (`ds`), as the printed query's. `whole_seconds`:
    every time is a whole second (both stamps read by the CSV reader), so they keep them as
    INTEGER, 4 bytes a row instead of a DOUBLE's 8, with the same figures; a duration beyond
    INTEGER (68 years) is NULL there, and the caller reads the log again without it when a
    node's span is that long (wide_span).

    Without a given evaluation time the log's last one (the latest time of a good row) is
    known only after the pass: the deadlines of the open cases are kept to count those past
    it.

    A row of `x` carries its node as a number, `node_ids`' (from 1), or as the spelling the
    query was not given (`odd_node`); each group is named once, by its node id or that
    spelling."""
    conditions = counted(deferred=True, is_open=IS_OPEN_CODED)
    conditions["within_sla"] = WITHIN_EXACT  # (a row with a deadline and a finish)
    # the status of a judged row of the file path is its code (the query maps the words)
    statuses = {name: f"status = {STATUS_CODES[name]}" for name in STATUS_WORDS}
    for name in STATUS_WORDS:
        conditions.pop(name)
    is_open = f"{IS_OPEN_CODED} AND due IS NOT NULL"
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
    named = node_id_sql(node_ids)
    if scheduled:
        wanted = ", ".join(str(node_ids.index(node) + 1) for node in scheduled)
        ok_scan = (
            f", list(f) FILTER (WHERE status = {STATUS_CODES['ok']} AND f IS NOT NULL "
            f"AND node IN ({wanted})) AS ok_finishes"
        )
        ok_gathered = ", flatten(list(ok_finishes)) AS ok_finishes"
    # in seconds, as the printed query counts them (the same figures from both reads)
    duration = f"TRY_CAST(d // {NANOS} AS INTEGER)" if whole_seconds else f"d / {NANOS:.1f}"
    levels_in_scan = level_durations and not groups
    scan = (
        f"SELECT {named} AS node, {', '.join(keys)}, count(*) AS count, "
        + "".join(f"count(*) FILTER (WHERE {c}) AS {name}, " for name, c in statuses.items())
        + "".join(f"count(*) FILTER (WHERE {c}) AS {name}, " for name, c in conditions.items())
        + "count(d) AS timed, max(COALESCE(f, s)) AS last_t, "
        f"{open_scan}"
        "min(s) FILTER (WHERE f IS NOT NULL) AS first_s, max(f) AS last_f, "
        "min(s) FILTER (WHERE kind IN (1, 2)) AS low, "
        f"max(due) FILTER (WHERE kind IN (1, 2)) AS high{ok_scan}"
        + (", quantile_cont(ds, [0.5, 0.95]) AS quantiles" if levels_in_scan else "")
        + f" FROM y GROUP BY node, odd_node, {', '.join(keys)}"
    )
    sets = [("odd_status",), ("lvl",)] + ([tuple(groups)] if groups else [])
    gathered = (
        f"SELECT node, {', '.join(keys)}, "
        + "".join(f"GROUPING({key}) AS by_{key}, " for key in keys)
        + "SUM(count) AS count, "
        + "".join(f"SUM({name}) AS {name}, " for name in statuses)
        + "".join(f"SUM({name}) AS {name}, " for name in conditions)
        + "SUM(timed) AS timed, max(last_t) AS last_t, "
        f"{open_gathered}"
        "min(first_s) AS first_s, max(last_f) AS last_f, min(low) AS low, "
        f"max(high) AS high{ok_gathered} FROM t "
        "GROUP BY GROUPING SETS ("
        + ", ".join(f"(node, {', '.join(columns)})" for columns in sets)
        + ")"
    )

    def flags(columns: Sequence[str], node: str = "node") -> str:
        shown = [
            (key if key in columns else f"NULL AS {key}", "0" if key in columns else "1")
            for key in keys
        ]
        return f"{node}, {', '.join(c for c, _ in shown)}, " + "".join(
            f"{flag} AS by_{key}, " for key, (_, flag) in zip(keys, shown, strict=True)
        )

    def quantiles(columns: Sequence[str]) -> str:
        return (
            f"SELECT {flags(columns, f'{named} AS node')}"
            "quantile_cont(ds, [0.5, 0.95]) AS quantiles FROM y WHERE d IS NOT NULL "
            f"GROUP BY node, odd_node{''.join(', ' + c for c in columns)}"
        )

    parts = [quantiles(())]
    if levels_in_scan:  # a node's rows have no odd status: t's groups are its levels
        parts.append(f"SELECT {flags(('lvl',))}quantiles FROM t WHERE node IS NOT NULL")
    elif level_durations:
        parts.append(quantiles(("lvl",)))
    if groups:
        parts.append(quantiles(tuple(groups)))
    quantile_sql = "\nUNION ALL ".join(parts)
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
        breached = f"COALESCE(len(list_filter(open_dues, {lambda_sql('due', 'due < as_of')})), 0)"
        counts = (
            f"SELECT a.* EXCLUDE (open_dues), {breached} AS breached_open, "
            f"COALESCE(len(open_dues), 0) - {breached} AS pending FROM a"
        )
    else:
        counts = "SELECT a.* FROM a"
    return (
        # each row's duration in seconds worked out once, for both aggregations
        f",\ny AS (SELECT x.*, {duration} AS ds FROM x),\n"
        f"t AS (\n{scan}\n),\n"
        f"q AS (\n{quantile_sql}\n),\n"
        f"g AS (\n{gathered}\n),\n"
        f"a AS (SELECT g.*, {latest} AS as_of FROM g),\n"
        f"n AS ({counts})\n"
        "SELECT g.* EXCLUDE (checked), q.quantiles[1] AS p50_s, q.quantiles[2] AS p95_s, "
        "checked + breached_open AS checked, "
        "checked - within_sla + breached_open AS missed_n "
        "FROM n g LEFT JOIN q ON "
        f"{match} AND g.odd_status IS NULL"
    )


def node_id_sql(node_ids: Sequence[str]) -> str:
    """A judged row's node id from its number (from 1, in `node_ids`), else the spelling
    the query was not given (`odd_node`)."""
    return f"COALESCE([{', '.join(_string(node) for node in node_ids)}][node], odd_node)"


def wide_span(rows: Sequence[Mapping[str, Any]]) -> bool:
    """Whether a row of the result spans more time than INTEGER seconds hold (68 years):
    then a duration may be too, and figures_sql(whole_seconds=True) left it out."""
    limit = (2**31 - 1) * NANOS
    return any(
        row["first_s"] is not None
        and row["last_f"] is not None
        and row["last_f"] - row["first_s"] > limit
        for row in rows
    )


def lambda_sql(name: str, body: str) -> str:
    """A lambda of DuckDB's list functions: `lambda c: …` since 1.3 (the only one 2.0 reads),
    `c -> …` before."""
    import duckdb

    major, minor = (int(part) for part in duckdb.__version__.split(".")[:2])
    return f"lambda {name}: {body}" if (major, minor) >= (1, 3) else f"{name} -> {body}"
