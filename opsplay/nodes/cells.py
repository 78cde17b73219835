"""The cells of a node log as the node-log query reads them (opsplay.nodes.query):
stamps (DuckDB's CSV reader, a strict strptime, else the pattern of
opsplay.nodes.times), words mapped by a CASE over the few spellings, and times moved
to a zone's clock. Times are whole nanoseconds since 1970-01-01, exact as the file path
always compared them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, tzinfo
from typing import Any

from opsplay.nodes.sql import STATUS_WORDS, _string
from opsplay.nodes.times import FIRST_YEAR, LAST_YEAR
from opsplay.query.units import Quoter

# The timestamp forms of opsplay.nodes.times, for RE2 (no look-behind: `日` may be
# followed directly by the time).
_STAMP = (
    r"^(\d{4})(?:-|/|\.|年)(\d{1,2})(?:-|/|\.|月)(\d{1,2})"
    r"(?:(?:日(?:T|\s*)|T|\s+)(\d{1,2})[:：](\d{2})(?:[:：](\d{2})(?:[.,](\d{1,9}))?)?|日)?"
    r"\s*(Z|[+-]\d{2}(?::?\d{2})?)?$"
)
_GROUPS = "['y', 'mo', 'd', 'h', 'mi', 'sec', 'fr', 'z']"
_FULL_WIDTH = ("０１２３４５６７８９：／．－＋", "0123456789:/.-+")
# A row's status in the query of a local log: a small number, not its id (a CASE giving
# numbers, and the counts' filters on them, take about half the time of words)
STATUS_CODES = {name: code for code, name in enumerate((*STATUS_WORDS, "open"), start=1)}
IS_OPEN_CODED = (  # events_sql.IS_OPEN on the codes
    f"f IS NULL AND s IS NOT NULL AND (status IS NULL OR status <> {STATUS_CODES['skipped']})"
)
# events_sql.WITHIN in whole nanoseconds: a length's deadline is the start plus it, exactly,
# so the finish against the deadline is the duration against the length
WITHIN_EXACT = "f <= due"
EPOCH = datetime(1970, 1, 1)
NANOS = 10**9  # times in the query: whole nanoseconds, exact as the file path compared them


# A stamp as nearly every system writes it: read by DuckDB's CSV reader when a log's first
# rows all have it (with a space or a T, one for the whole log)
_WRITTEN = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}([ T])[0-9]{2}:[0-9]{2}:[0-9]{2}")


def typed_stamps(table: Any, roles: Mapping[str, str]) -> Any:
    """The log with its start and finish columns read as TIMESTAMP, when it is a CSV whose
    first rows write every stamp `2024-10-08 09:05:00` (or all with a T); else None. The
    reader is strptime: it also takes a trailing space (`09:05:0 `), which the pattern does
    not; any other cell makes the query raise TypedReadFailed and the log is read as text."""
    if table.source.format != "csv" or table.dialect != "duckdb":
        return None
    columns = (roles["started_at"], roles["finished_at"])
    q = Quoter("duckdb")
    rows = table.fetch(
        f"SELECT {', '.join(q.column(c) for c in columns)} FROM {table.first_rows(1000, text=True)}"
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


def stamps_sql(cells: str, typed: frozenset[str] = frozenset()) -> str:
    """`s_local`/`f_local` (the wall time written, in nanoseconds), `s_off`/`f_off` (the UTC
    offset written, NULL without one) and `s_bad`/`f_bad` (`format`, `date`, `time` or
    `range` for a cell that is not a log time) of each row.

    Layer by layer, each value computed once: the fast read (the CSV reader's TIMESTAMP for
    the columns in `typed`, else strptime of `2024-10-08 09:05:00`); the text of the other
    cells (full-width digits made ASCII); the pattern's parts of that text; what is wrong
    with it; its value."""

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

    def read(x: str, raw: str) -> str:
        # read by the CSV reader: a value of a year read, else (a far year, `infinity`) a
        # cell the pattern below would refuse: `range` when DuckDB writes it as a time of
        # a four-digit year, `format` otherwise (5-digit years, BC)
        written = r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d+)?"
        return (
            f"{x}_fast AS {x}_local, CAST(NULL AS BIGINT) AS {x}_off, "
            f"CASE WHEN {raw} IS NOT NULL AND {x}_fast IS NULL THEN CASE WHEN "
            f"regexp_full_match(CAST({raw} AS VARCHAR), {_string(written)}) "
            f"THEN 'range' ELSE 'format' END END AS {x}_bad"
        )

    # the text layers only for the stamps the CSV reader did not read
    stamps = (("s", "st"), ("f", "ft"))
    texts = [(x, raw) for x, raw in stamps if x not in typed]
    layers = [f"SELECT {cells}.*, {fast('s', 'st')}, {fast('f', 'ft')} FROM {cells}"]
    if texts:
        layers += [
            f"SELECT c.*, {', '.join(text(x, raw) for x, raw in texts)} FROM c",
            f"SELECT c.*, {', '.join(parts(x) for x, _ in texts)} FROM c",
            f"SELECT c.*, {', '.join(bad(x) for x, _ in texts)} FROM c",
        ]
    dropped = ["s_fast", "f_fast"] + [f"{x}_{part}" for x, _ in texts for part in ("text", "m")]
    layers.append(
        f"SELECT c.* EXCLUDE ({', '.join(dropped)}), "
        + ", ".join(read(x, raw) if x in typed else value(x) for x, raw in stamps)
        + " FROM c"
    )
    sql = layers[0]
    for layer in layers[1:]:
        sql = layer.replace("FROM c", f"FROM (\n{sql}\n) c", 1)
    return sql


def mapping_sql(
    column: str,
    words: Mapping[str, str | None],
    otherwise: str = "NULL",
    literal: Callable[[str], str] = _string,
) -> str:
    """`column` mapped by `words` (a CASE over the few spellings), `otherwise` for others;
    `literal` writes a meaning (a quoted string, or a status's code)."""
    if not words:
        return otherwise
    branches = " ".join(
        f"WHEN {_string(spelling)} THEN {'NULL' if meant is None else literal(meant)}"
        for spelling, meant in words.items()  # the likeliest first: ids, the words as listed
    )
    return f"CASE {column} {branches} ELSE {otherwise} END"


def zone_offset_sql(zone: tzinfo) -> Callable[[str], str]:
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
