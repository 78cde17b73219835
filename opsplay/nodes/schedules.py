"""Schedule adherence (SPEC 8) in the node-log query: the CTEs `pilot sql --events` prints
and the file path runs over the `ok` runs of its log, so both count one definition.

Occurrences are generated as days × times of day: the days from the generated working-day
table `cal` (so `工作日` follows the same official calendar, 调休 included, as every limit),
picked by the schedule's day rule written as a condition on the day number (weekday, day of
the month, month), and the times of day as literals (a cron's hours × minutes). A table of
each schedule's occurrences over the calendar's century would be as exact but long (a daily
schedule: 36,525 rows in the query); days × times stays a few lines a schedule, and each
line says which rule it is.

Each occurrence's deadline is the one a case started at that time gets (judged_sql, the
node's limit for a case without a level): an occurrence is due when its deadline is at or
before the evaluation time, else pending; a due one is met when an `ok` run of the node
finishes in its window [occurrence, deadline].

"A run counts for one occurrence only" needs a greedy match (each occurrence in turn takes
the earliest run left in its window) when a run lies in the windows of two due occurrences
(a limit longer than the gap between occurrences: `每日 09:00` with `1个工作日` over a
weekend). When no run does, the greedy match and "a run in the window" are the same count
(each run can serve one occurrence only anyway); when one does, the query does not guess:
it gives the number of such runs (`schedule_shared_runs`) and no adherence, and the file
path matches those nodes' runs in Python (opsplay.nodes.measures).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from opsplay.i18n import _
from opsplay.model.duration import Duration
from opsplay.model.schedule import Schedule

# cron day-of-week (0 = Sunday) of a day number (1970-01-01 was a Thursday)
_CRON_WEEKDAY = 4
_TEXT = {"duckdb": "VARCHAR", "postgres": "TEXT"}
_DOUBLE = {"postgres": "DOUBLE PRECISION", "bigquery": "FLOAT64"}


@dataclass(frozen=True)
class Scheduled:
    """A scheduled node the query counts: its schedule and its limit (no level)."""

    node: str
    schedule: Schedule
    limit: Duration


def scheduled_nodes(playbook: Any) -> list[Scheduled]:
    """The playbook's scheduled nodes with a limit to judge a run by (none: no adherence)."""
    from opsplay.model.process import level_limit

    found = []
    for node in playbook.nodes:
        limit = level_limit(node.sla, None)
        if node.schedule is not None and limit is not None:
            found.append(Scheduled(node.id, node.schedule, limit))
    return found


def expressible(schedule: Schedule) -> bool:
    """Whether the query writes this schedule's occurrences (every Chinese form, and cron
    whose fields are numbers, ranges, steps and `L` for the month's last day; a form with
    anything else, such as croniter's `#`, which opsplay's validation refuses, is left to
    Python)."""
    return _cron_fields(schedule) is not None if schedule.kind == "cron" else True


def times_per_day(schedule: Schedule) -> int:
    """How many times a day the schedule can fall due (a bound for its occurrences)."""
    fields = _cron_fields(schedule)
    return 1 if fields is None else len(fields[0]) * len(fields[1])


def _cron_fields(schedule: Schedule) -> tuple[list[Any], ...] | None:
    if schedule.kind != "cron":
        return None
    from croniter import croniter

    try:
        expanded, nth = croniter.expand(schedule.text)
    except Exception:  # a form this croniter reads differently: not written in the query
        return None
    if nth:  # the n-th weekday of the month (`1#2`)
        return None
    minutes, hours, days, months, weekdays = (list(field) for field in expanded)
    for field in (minutes, hours, months, weekdays):
        if any(not isinstance(value, int) for value in field if value != "*"):
            return None
    if any(not isinstance(value, int) and value != "l" for value in days if value != "*"):
        return None
    if "*" in minutes:
        minutes = list(range(60))
    if "*" in hours:
        hours = list(range(24))
    return minutes, hours, days, months, weekdays


def occurrences_sql(scheduled: Sequence[Scheduled], dialect: str, span: str, unit: int = 1) -> str:
    """The body of CTE `sd`: each scheduled node's occurrences (node, lvl empty, s: the
    occurrence's time) on the days `lo` to `hi` of the one-row relation `span`, as days of the
    calendar table `cal` × times of day. Times are seconds since 1970-01-01 on the log's
    clock, or nanoseconds with `unit` 10**9."""
    text = "VARCHAR" if unit != 1 else _TEXT.get(dialect, "STRING")
    whole_day = "86400.0" if unit == 1 else str(86400 * unit)
    day = f"CAST(c.dn AS {_DOUBLE.get(dialect, 'DOUBLE')})" if unit == 1 else "CAST(c.dn AS BIGINT)"
    on = span if span == "sp" else f"{span} sp"

    def moment(seconds: int) -> str:
        return f"{seconds}.0" if unit == 1 else str(seconds * unit)

    days = []
    for item in scheduled:
        fields = _cron_fields(item.schedule)
        if fields is None:
            times = moment(item.schedule.time.hour * 3600 + item.schedule.time.minute * 60)
            source = f"FROM cal c CROSS JOIN {on}"
        else:
            seconds = [h * 3600 + m * 60 for h in fields[1] for m in fields[0]]
            listed = " UNION ALL ".join(f"SELECT {moment(s)} AS t" for s in sorted(seconds))
            times = "tod.t"
            source = f"FROM cal c CROSS JOIN {on} CROSS JOIN ({listed}) tod"
        rule = _day_rule(item.schedule, fields, dialect)
        days.append(
            "  -- "
            + _("{node}: {schedule} (days of `cal` x times of day)").format(
                node=_literal(item.node), schedule=item.schedule.text
            )
            + "\n"
            f"  SELECT {_literal(item.node)} AS node, CAST(NULL AS {text}) AS lvl, "
            f"{day} * {whole_day} + {times} AS s {source} "
            f"WHERE c.dn BETWEEN sp.lo AND sp.hi AND ({rule})"
        )
    return "\n  UNION ALL\n".join(days)


def adherence_ctes(scheduled: Sequence[Scheduled], span: str, runs: str) -> str:
    """The CTEs (each preceded by ",\n") after the occurrences are judged (`sj`: `sd` with
    `due`, their deadline): `so` each occurrence, due or pending, `sw` the due ones with the
    runs in their window, and `sa` one row per scheduled node: schedule_due, schedule_met,
    schedule_pending, schedule_shared_runs. `span` has `as_of`; `runs` names a relation
    with `node` and `f`, the finish times of the `ok` runs."""
    on = span if span == "sp" else f"{span} sp"
    nodes = " UNION ALL ".join(f"SELECT {_literal(item.node)} AS node" for item in scheduled)
    return (
        # each occurrence: due or pending, and the next one (a run in both windows is shared)
        ",\nso AS (SELECT sj.node, sj.s AS o, sj.due, "
        "CASE WHEN sj.due <= sp.as_of THEN 1 ELSE 0 END AS is_due, "
        "CASE WHEN LEAD(sj.due) OVER (PARTITION BY sj.node ORDER BY sj.s) <= sp.as_of "
        "THEN LEAD(sj.s) OVER (PARTITION BY sj.node ORDER BY sj.s) END AS next_due, "
        "LEAD(sj.s) OVER (PARTITION BY sj.node ORDER BY sj.s) AS following "
        f"FROM sj CROSS JOIN {on}),\n"
        # the due occurrences with the `ok` runs finishing in their window
        "sw AS (SELECT so.node, so.o, so.due, so.following, COUNT(ru.f) AS runs, "
        "SUM(CASE WHEN ru.f >= so.next_due THEN 1 ELSE 0 END) AS shared "
        f"FROM so LEFT JOIN {runs} ru ON ru.node = so.node AND ru.f >= so.o AND ru.f <= so.due "
        "WHERE so.is_due = 1 GROUP BY so.node, so.o, so.due, so.following),\n"
        "sa AS (SELECT sn.node, "
        "COALESCE(SUM(so.is_due), 0) AS schedule_due, "
        "COALESCE(SUM(CASE WHEN sw.runs > 0 THEN 1 ELSE 0 END), 0) AS schedule_met, "
        "COALESCE(SUM(1 - so.is_due), 0) AS schedule_pending, "
        "COALESCE(SUM(sw.shared), 0) AS schedule_shared_runs "
        f"FROM ({nodes}) sn LEFT JOIN so ON so.node = sn.node "
        "LEFT JOIN sw ON sw.node = so.node AND sw.o = so.o GROUP BY sn.node)"
    )


def _day_rule(schedule: Schedule, fields: tuple[list[Any], ...] | None, dialect: str) -> str:
    """The days a schedule falls on, as a condition on the day `c` of the calendar table."""
    weekday = "MOD(c.dn + 3, 7)" if dialect == "bigquery" else "(c.dn + 3) % 7"  # Monday 0
    dom, month = _date_part("DAY", "c.dn", dialect), _date_part("MONTH", "c.dn", dialect)
    last_of_month = f"{_date_part('DAY', 'c.dn + 1', dialect)} = 1"
    if fields is None:
        if schedule.kind == "daily":
            return "1 = 1"
        if schedule.kind == "workdays":
            return "c.work = 1"
        if schedule.kind == "weekly":
            return f"{weekday} = {schedule.weekday}"
        wanted = schedule.day or 1  # 每月31日 falls on a shorter month's last day
        rule = f"{dom} = {wanted} OR ({dom} < {wanted} AND {last_of_month})"
        if schedule.kind == "quarterly":
            rule = f"{month} IN (1, 4, 7, 10) AND ({rule})"
        return rule
    _minutes, _hours, days, months, weekdays = fields
    cron_weekday = (
        f"MOD(c.dn + {_CRON_WEEKDAY}, 7)"
        if dialect == "bigquery"
        else f"(c.dn + {_CRON_WEEKDAY}) % 7"
    )
    parts = []
    if "*" not in months:
        parts.append(f"{month} IN ({', '.join(str(m) for m in sorted(months))})")
    day_rule = week_rule = None
    if "*" not in days:
        named = [str(d) for d in sorted(d for d in days if d != "l")]
        rules = [f"{dom} IN ({', '.join(named)})"] if named else []
        if "l" in days:
            rules.append(last_of_month)
        day_rule = " OR ".join(rules)
    if "*" not in weekdays:
        week_rule = f"{cron_weekday} IN ({', '.join(map(str, sorted(weekdays)))})"
    if day_rule and week_rule:  # both restricted: either one (as cron and croniter read it)
        parts.append(f"(({day_rule}) OR ({week_rule}))")
    elif day_rule or week_rule:
        parts.append(f"({day_rule or week_rule})")
    return " AND ".join(parts) or "1 = 1"


def _date_part(part: str, day_number: str, dialect: str) -> str:
    """The day of the month or the month of a day number (days since 1970-01-01)."""
    if dialect == "postgres":
        date = f"(DATE '1970-01-01' + CAST({day_number} AS INTEGER))"
    elif dialect == "bigquery":
        date = f"DATE_ADD(DATE '1970-01-01', INTERVAL {day_number} DAY)"
    elif dialect == "duckdb":
        date = f"(DATE '1970-01-01' + CAST({day_number} AS INTEGER))"
    else:
        date = f"date_add(DATE'1970-01-01', {day_number})"
    return f"CAST(EXTRACT({part} FROM {date}) AS INTEGER)"


def _literal(text: str) -> str:
    """A SQL string literal (quotes doubled)."""
    return "'" + str(text).replace("'", "''") + "'"
