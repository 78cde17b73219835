"""The node figures of the judged rows `x` of the node-log query (opsplay.pilot.event_query):
one aggregation by node, level, status and group columns, gathered per node, level and
group; the duration quantiles beside it; what depends on the evaluation time last.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from opsplay.pilot.event_cells import nanos
from opsplay.pilot.events_sql import IS_OPEN, STATUS_WORDS, _string, counted


def figures_sql(
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
        breached = f"COALESCE(len(list_filter(open_dues, {lambda_sql('due', 'due < as_of')})), 0)"
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


def lambda_sql(name: str, body: str) -> str:
    """A lambda of DuckDB's list functions: `lambda c: …` since 1.3 (the only one 2.0 reads),
    `c -> …` before."""
    import duckdb

    major, minor = (int(part) for part in duckdb.__version__.split(".")[:2])
    return f"lambda {name}: {body}" if (major, minor) >= (1, 3) else f"{name} -> {body}"
