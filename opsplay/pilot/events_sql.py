"""`pilot sql --events`: the node figures of SPEC 2 computed in the warehouse from an event table.

One row per node: count, the status counts (ok, failed, fallback, skipped, timeout, with the
Chinese words of SPEC 6), `timed` (rows with finished_at), the duration quantiles p50/p95
(linear interpolation; approximate in BigQuery, which has no exact aggregate), the node's
time limit in seconds and how many timed rows are within it. A time limit counted in working
days depends on the calendar and is left NULL here (`pilot compare --events` computes it).
"""

from __future__ import annotations

from opsplay.errors import UsageError
from opsplay.model.playbook import Playbook
from opsplay.pilot.sql import Quoter, _literal

STATUS_WORDS = {
    "ok": ("ok", "成功", "完成", "正常"),
    "failed": ("failed", "failure", "失败", "异常"),
    "fallback": ("fallback", "兜底", "降级"),
    "skipped": ("skipped", "跳过"),
    "timeout": ("timeout", "超时"),
}


def events_sql(slas: dict[str, float | None], table: str, dialect: str) -> str:
    """The node-figures query over `table` (case_id, node, started_at, finished_at, status)."""
    q = Quoter(dialect)
    source = q.table(table)
    started, finished = (
        _timestamp(q.column("started_at"), dialect),
        _timestamp(q.column("finished_at"), dialect),
    )
    status = f"LOWER(TRIM(CAST({q.column('status')} AS {_text(dialect)})))"
    counts = [
        f"SUM(CASE WHEN {status} IN ({', '.join(repr(w) for w in words)}) THEN 1 ELSE 0 END) "
        f"AS {q.alias(name)}"
        for name, words in STATUS_WORDS.items()
    ]
    double = {"duckdb": "DOUBLE", "postgres": "DOUBLE PRECISION", "bigquery": "FLOAT64"}
    sla = " ".join(
        f"WHEN {_literal(node)} THEN CAST({seconds!r} AS {double.get(dialect, 'DOUBLE')})"
        for node, seconds in slas.items()
        if seconds
    )
    sla_expr = f"CASE e.node {sla} END" if sla else f"CAST(NULL AS {double.get(dialect, 'DOUBLE')})"
    select = [
        "node",
        f"COUNT(*) AS {q.alias('count')}",
        *counts,
        f"COUNT(d) AS {q.alias('timed')}",
        f"{_quantile('d', 0.5, dialect)} AS {q.alias('p50_s')}",
        f"{_quantile('d', 0.95, dialect)} AS {q.alias('p95_s')}",
        f"MAX(sla_s) AS {q.alias('sla_s')}",
        f"SUM(CASE WHEN d IS NOT NULL AND d <= sla_s THEN 1 ELSE 0 END) AS {q.alias('within_sla')}",
    ]
    inner = (
        f"SELECT TRIM(CAST({q.column('node')} AS {_text(dialect)})) AS node, {status} AS status, "
        f"{_seconds(started, finished, dialect)} AS d FROM {source}"
    )
    return (
        f"-- opsplay node figures ({dialect}): one row per node of the execution log.\n"
        "-- completion_rate = ok / count, fallback_rate = fallback / count, failure_rate =\n"
        "-- failed / count, timeout_rate = timeout / count, sla_compliance = within_sla / timed.\n"
        "SELECT\n  " + ",\n  ".join(select) + "\nFROM (\n"
        f"SELECT e.*, {sla_expr} AS sla_s FROM (\n{inner}\n) e\n"
        ") f\nGROUP BY node\nORDER BY 1;\n"
    )


def events_sql_for_playbook(playbook: Playbook, *, table: str, dialect: str) -> str:
    """The node-figures query for the playbook's nodes and their time limits."""
    slas: dict[str, float | None] = {}
    for node in playbook.nodes:
        seconds = None
        if node.sla is not None:
            try:
                seconds = float(node.sla.resolve(1.0))
            except (TypeError, ValueError):
                seconds = None  # a calendar limit (working days): not expressible here
        slas[node.id] = seconds
    try:
        return events_sql(slas, table, dialect)
    except ValueError as error:
        raise UsageError(str(error)) from None


def _text(dialect: str) -> str:
    return {"duckdb": "VARCHAR", "postgres": "TEXT"}.get(dialect, "STRING")


def _timestamp(column: str, dialect: str) -> str:
    return f"CAST({column} AS TIMESTAMP)"


def _seconds(started: str, finished: str, dialect: str) -> str:
    if dialect == "duckdb":
        return f"(epoch({finished}) - epoch({started}))"
    if dialect == "postgres":
        return f"EXTRACT(EPOCH FROM ({finished} - {started}))"
    if dialect == "bigquery":
        return f"TIMESTAMP_DIFF({finished}, {started}, MICROSECOND) / 1e6"
    return f"(CAST({finished} AS DOUBLE) - CAST({started} AS DOUBLE))"


def _quantile(expr: str, p: float, dialect: str) -> str:
    if dialect in ("duckdb", "postgres"):
        return f"percentile_cont({p}) WITHIN GROUP (ORDER BY {expr})"
    if dialect == "bigquery":
        return f"APPROX_QUANTILES({expr}, 100)[OFFSET({int(p * 100)})]"
    return f"percentile({expr}, {p})"
