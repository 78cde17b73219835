"""Issue 19: the DuckDB cell rules (SPEC 7) against an independent Python oracle, over random
cells: every missing word, true/false word, full-width digit, `%`, thousands separator and
date form. The oracle is written from the specification, not from opsplay's constants, so a
word dropped from the query (`-` no longer missing, `y` no longer true) or a date no longer
zero-padded is a counterexample here, without PostgreSQL or Spark."""

from __future__ import annotations

import math
import re

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opsplay.query.columns import MetricColumns, Window
from opsplay.query.units import Plan, Query

# ----------------------------------------------------------------------------- the oracle
# SPEC 7: a cell is missing when blank or one of these words (any case, full-width folded).
MISSING = {"", "na", "n/a", "null", "nan", "#n/a", "-", "—"}
TRUE = {"1", "true", "yes", "y", "是"}
FALSE = {"0", "false", "no", "n", "否"}
FULL_WIDTH = {chr(0xFF10 + d): str(d) for d in range(10)} | {
    "．": ".", "，": ",", "＋": "+", "－": "-", "％": "%", "／": "/", "＃": "#",
    "\u3000": " ", "\u00a0": " ", "\u2212": "-",
}  # fmt: skip
FULL_WIDTH |= {chr(0xFF21 + i): chr(ord("A") + i) for i in range(26)}
FULL_WIDTH |= {chr(0xFF41 + i): chr(ord("a") + i) for i in range(26)}
NUMBER = re.compile(
    r"[+-]?(\d{1,200}(\.\d*)?|\.\d+|\d{1,3}(,\d{3}){1,66}(\.\d*)?)(e[+-]?\d{1,2})?%?", re.ASCII
)
LARGEST = 1.7976931348623157e308


def clean(cell: str) -> str:
    """Full-width folded, spaces trimmed, lower case."""
    text = "".join(FULL_WIDTH.get(ch, ch) for ch in cell) if not cell.isascii() else cell
    return text.strip(" ").lower()


def oracle_value(cell: str | None, proportion: bool) -> tuple[str, float | None]:
    """('missing' | 'invalid' | 'value', the number)."""
    if cell is None:
        return "missing", None
    text = clean(cell)
    if text in MISSING:
        return "missing", None
    if proportion and text in TRUE | FALSE:
        return "value", 1.0 if text in TRUE else 0.0
    if not NUMBER.fullmatch(text):
        return "invalid", None
    number = float(text.replace(",", "").replace("%", ""))
    if "%" in text:
        number /= 100
    if proportion:
        return ("value", number) if number in (0.0, 1.0) else ("invalid", None)
    return (
        ("value", number) if math.isfinite(number) and abs(number) <= LARGEST else ("invalid", None)
    )


def oracle_date(cell: str | None) -> str | None:
    """`YYYY-MM-DD` of a date cell: ISO, 2026-11-5, 2026/11/5, 2026.11.05, 2026年11月5日, 20261105."""
    if cell is None:
        return None
    text = "".join(FULL_WIDTH.get(ch, ch) for ch in cell) if not cell.isascii() else cell
    text = text.strip(" ")
    text = text.replace("年", "-").replace("月", "-").replace("日", " ")
    text = text.replace("/", "-").replace(".", "-")
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text[:10], re.ASCII):
        return text[:10]
    spelled = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:\D.*)?", text, re.ASCII | re.S)
    spelled = spelled or re.fullmatch(r"(\d{4})(\d{2})(\d{2})", text, re.ASCII)
    if spelled:
        year, month, day = spelled.groups()
        return f"{year}-{month.zfill(2)}-{day.zfill(2)}"
    return None


# ----------------------------------------------------------------------------- the query
PLAN = Plan(
    metrics=(
        MetricColumns(id="p", kind="proportion", column="p"),
        MetricColumns(id="m", kind="mean", column="m"),
    ),
    arm_column="arm",
    window=Window(date_column="d", period=None),
    local=True,
)
QUERY = Query(PLAN, "duckdb")
CON = duckdb.connect()


def duckdb_cells(cells: list[tuple[str | None, str | None, str | None]]) -> list[tuple]:
    """(p value, p missing, p bad, m value, m missing, m bad, date) as the query reads them."""
    CON.execute("CREATE OR REPLACE TABLE t (arm VARCHAR, p VARCHAR, m VARCHAR, d VARCHAR)")
    CON.executemany("INSERT INTO t VALUES ('a', ?, ?, ?)", cells)
    # the date is read from the row's first 11 characters, as the grouped query does
    sql = (
        f"SELECT v0, miss0, bad0, v1, miss1, bad1 FROM ({QUERY.cleaned('t', row_number=True)}) c "
        "ORDER BY rn"
    )
    values = CON.execute(sql).fetchall()
    day = QUERY._date("SUBSTR(TRIM(CAST(d AS VARCHAR)), 1, 11)")
    dates = CON.execute(f"SELECT {day} FROM t").fetchall()
    return [(*v, d[0]) for v, d in zip(values, dates, strict=True)]


def outcome(value: float | None, missing: int, bad: int) -> tuple[str, float | None]:
    if missing:
        return "missing", None
    return ("invalid", None) if bad else ("value", value)


# ----------------------------------------------------------------------------- random cells
def _case(draw: st.DrawFn, word: str) -> str:
    return "".join(ch.upper() if draw(st.booleans()) else ch for ch in word)


WIDE = {v: k for k, v in FULL_WIDTH.items() if k not in ("\u00a0", "\u2212", "\u3000")}


@st.composite
def cells(draw: st.DrawFn) -> str | None:
    kind = draw(st.sampled_from(["word", "number", "percent", "thousands", "junk", "none"]))
    if kind == "none":
        return None
    if kind == "word":
        text = _case(draw, draw(st.sampled_from(sorted(MISSING | TRUE | FALSE | {"yes!", "ok"}))))
    elif kind == "number":
        number = draw(st.floats(allow_nan=False, allow_infinity=False, width=32))
        text = draw(st.sampled_from([repr(number), f"{number:.3f}", str(int(number))]))
    elif kind == "percent":
        text = f"{draw(st.integers(-200, 200))}{draw(st.sampled_from(['', '.5']))}%"
    elif kind == "thousands":
        text = f"{draw(st.integers(1000, 10**9)):,}" + draw(st.sampled_from(["", ".25"]))
    else:
        text = draw(st.text(alphabet="0123456789.,%+-eE ab是否", max_size=8))
    if draw(st.booleans()):  # typed on a Chinese keyboard
        text = "".join(WIDE.get(ch, ch) if draw(st.booleans()) else ch for ch in text)
    pad = draw(st.sampled_from(["", " ", "\u3000"]))
    return pad + text + pad


@st.composite
def dates(draw: st.DrawFn) -> str | None:
    if draw(st.integers(0, 9)) == 0:
        return draw(st.sampled_from([None, "", "NA", "soon", "2026-1", "2026年"]))
    year, month, day = (
        draw(st.integers(1990, 2099)),
        draw(st.integers(1, 12)),
        draw(st.integers(1, 28)),
    )
    pad = draw(st.booleans())
    m, d = (f"{month:02d}", f"{day:02d}") if pad else (str(month), str(day))
    form = draw(st.sampled_from(["-", "/", ".", "年", "digits", "time"]))
    if form == "年":
        text = f"{year}年{m}月{d}日"
    elif form == "digits":
        text = f"{year}{month:02d}{day:02d}"
    elif form == "time":
        text = f"{year}-{m}-{d} 09:3{day % 10}:00"
    else:
        text = f"{year}{form}{m}{form}{d}"
    if draw(st.booleans()):
        text = "".join(WIDE.get(ch, ch) for ch in text)
    return text


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(cells(), cells(), dates()), min_size=1, max_size=40))
def test_duckdb_reads_every_cell_as_the_specification_says(rows) -> None:
    got = duckdb_cells(rows)
    for (p, m, d), (pv, pmiss, pbad, mv, mmiss, mbad, day) in zip(rows, got, strict=True):
        assert outcome(pv, pmiss, pbad) == pytest.approx(oracle_value(p, True)), (p,)
        assert outcome(mv, mmiss, mbad) == pytest.approx(oracle_value(m, False)), (m,)
        assert day == oracle_date(d), (d,)


@pytest.mark.parametrize("word", sorted(MISSING - {""}))
def test_every_missing_word_is_missing(word: str) -> None:
    """The words one by one (a dropped `-` is caught on every run, not by chance)."""
    ((p, pmiss, _pbad, _m, mmiss, _mbad, _d),) = duckdb_cells([(word, word.upper(), None)])
    assert (pmiss, mmiss, p) == (1, 1, None)


@pytest.mark.parametrize(
    ("word", "value"), [(w, 1.0) for w in sorted(TRUE)] + [(w, 0.0) for w in sorted(FALSE)]
)
def test_every_true_and_false_word(word: str, value: float) -> None:
    ((p, pmiss, pbad, *_rest),) = duckdb_cells([(word.upper(), None, None)])
    assert (p, pmiss, pbad) == (value, 0, 0)


@pytest.mark.parametrize(
    ("cell", "day"),
    [("2026-11-5", "2026-11-05"), ("2026/1/5", "2026-01-05"), ("2026年1月5日", "2026-01-05"),
     ("20260105", "2026-01-05"), ("２０２６．１．５", "2026-01-05")],
)  # fmt: skip
def test_dates_are_zero_padded(cell: str, day: str) -> None:
    ((*_values, got),) = duckdb_cells([(None, None, cell)])
    assert got == day == oracle_date(cell)
