"""Issue 19: laws that must hold for every input, checked by Hypothesis (derandomised in CI,
tests/conftest.py), not only "no crash":

- a playbook compared with itself has no change;
- a change that tightens a→b loosens b→a (time limits, alert thresholds);
- the version a bump proposes is greater than the version;
- a calendar deadline never falls before its start and grows with N;
- `pilot compare` on a file and the printed SQL run in DuckDB give the same figures.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import duckdb
import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from opsplay.diff import Level, bump, compare
from opsplay.model.duration import parse_duration
from opsplay.validate import load_playbook
from opsplay.version_check import precedence
from opsplay.workdays import WorkdayCalendar
from tests.pilot.test_cell_oracle import cells
from tests.pilot.test_warehouse import (
    COLUMNS,
    assert_same,
    duckdb_file,
    figures,
    printed_sql,
    write_csv,
)
from tests.pilot.test_warehouse import (
    compare as compare_json,
)

ROOT = Path(__file__).resolve().parent.parent
INCIDENT = ROOT / "playbooks" / "incident-response.yaml"
ONBOARDING = ROOT / "playbooks" / "new-user-onboarding.yaml"
SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _playbook(data: dict, folder: Path, name: str):
    path = folder / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    return load_playbook(path)


@pytest.fixture(scope="module")
def shipped() -> list:
    return [load_playbook(path) for path in sorted((ROOT / "playbooks").glob("*.yaml"))]


def test_every_shipped_playbook_compared_with_itself_has_no_change(shipped) -> None:
    for playbook in shipped:
        assert compare(playbook, playbook) == [], playbook.metadata.id


MINUTES = st.integers(1, 600)


@SETTINGS
@given(MINUTES, MINUTES, st.floats(0.01, 0.99), st.floats(0.01, 0.99))
def test_tightened_one_way_is_loosened_the_other(a: int, b: int, low: float, high: float) -> None:
    assume(a != b and abs(low - high) > 1e-6)
    data = yaml.safe_load(ONBOARDING.read_text("utf-8"))
    with tempfile.TemporaryDirectory() as folder:
        old_data, new_data = (
            yaml.safe_load(yaml.safe_dump(data)),
            yaml.safe_load(yaml.safe_dump(data)),
        )
        old_data["nodes"][1]["sla"], new_data["nodes"][1]["sla"] = f"{a}m", f"{b}m"
        old_data["alerts"][0]["threshold"], new_data["alerts"][0]["threshold"] = low, high
        old = _playbook(old_data, Path(folder), "old.yaml")
        new = _playbook(new_data, Path(folder), "new.yaml")
        forward = {(c.kind, c.item) for c in compare(old, new)}
        backward = {(c.kind, c.item) for c in compare(new, old)}
        assert compare(old, old) == [] and compare(new, new) == []
    flipped = {
        (
            kind.replace("tightened", "§")
            .replace("loosened", "tightened")
            .replace("§", "loosened"),
            item,
        )
        for kind, item in forward
    }
    assert flipped == backward
    assert any(kind.startswith("node.sla.") for kind, _item in forward)
    assert any(kind.startswith("alert.") for kind, _item in forward)


VERSIONS = st.builds(
    lambda major, minor, patch, pre: f"{major}.{minor}.{patch}" + (f"-{pre}" if pre else ""),
    st.integers(0, 10**6),
    st.integers(0, 10**6),
    st.integers(0, 10**6),
    st.sampled_from(["", "rc.1", "alpha", "beta.2", "0"]),
)


@SETTINGS
@given(VERSIONS, st.sampled_from([Level.PATCH, Level.MINOR, Level.MAJOR]))
def test_a_bump_is_greater_than_the_version(version: str, level: Level) -> None:
    proposed = bump(version, level)
    assert proposed is not None
    assert precedence(proposed) > precedence(version), (version, level, proposed)
    assert precedence(bump(proposed, level)) > precedence(proposed)


STARTS = st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2099, 12, 1))
FORMS = ["{n}个工作日", "T+{n}", "T+{n} 12:00", "{n} working days"]


@SETTINGS
@given(STARTS, st.sampled_from(FORMS), st.integers(1, 30), st.sampled_from(["day_end", "clock"]))
def test_a_deadline_never_falls_before_its_start_and_grows_with_n(
    start: dt.datetime, form: str, n: int, limits: str
) -> None:
    calendar = WorkdayCalendar("official", limits)  # type: ignore[arg-type]
    due = parse_duration(form.format(n=n)).deadline(start, calendar)
    later = parse_duration(form.format(n=n + 1)).deadline(start, calendar)
    assert start <= due <= later, (start, form, n, due, later)
    assert later > due or form.startswith("T+") and " " in form  # a cut-off may hold


ARMS = st.sampled_from(["control", "pilot", "Pilot", "ｐｉｌｏｔ", "", "NA"])


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(ARMS, cells(), cells(), cells(), cells()), min_size=4, max_size=60))
def test_the_file_path_equals_the_printed_sql_in_duckdb(rows) -> None:
    """Random cells (words, full-width digits, %, 1,234, blanks): the same figures both ways."""
    table = [
        [f"u{i}", arm, "华东", retained, ordered, used, revenue, "1"]
        for i, (arm, retained, ordered, used, revenue) in enumerate(rows)
    ]
    assert len(table[0]) == len(COLUMNS)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder)
        result = _file_compare(write_csv(table, path / "units.csv"))
        assume(result is not None)  # too few readable rows for the statistics: nothing to compare
        database = duckdb_file(table, path / "units.duckdb")
        stats = path / "stats.csv"
        with duckdb.connect(str(database), read_only=True) as con:
            sql = printed_sql("duckdb").strip().rstrip(";")
            con.execute(f"COPY ({sql}) TO '{stats}' (HEADER)")
        assert_same(figures(result), figures(compare_json(str(stats), "--skip-bad-rows")))


def _file_compare(path: Path) -> dict | None:
    import json

    from typer.testing import CliRunner

    from opsplay.cli import app

    args = ["pilot", "compare", str(ONBOARDING), str(path), "--skip-bad-rows", "--format", "json"]
    result = CliRunner().invoke(app, args)
    if result.exit_code != 0:
        assert result.exit_code == 2 and "Traceback" not in result.output, result.output
        return None
    return json.loads(result.stdout)


SQL_WORDS = st.one_of(
    st.sampled_from(["SELECT", "CASE", "WHEN", "THEN", "END", "AS", "IN", "(", ")", ",", "'a--b'"]),
    st.text("abcxyz_0123456789", min_size=1, max_size=12),
    st.text("ab 成功处理中 'x", max_size=20).map(lambda t: "'" + t.replace("'", "''") + "'"),
    st.text("节点 a", min_size=1, max_size=8).map(lambda t: '"' + t + '"'),
)


@SETTINGS
@given(st.lists(SQL_WORDS, min_size=1, max_size=80), st.integers(0, 8))
def test_folding_a_printed_query_moves_only_whitespace(words: list[str], indent: int) -> None:
    """A folded code line is the same words in the same order (quoted strings and names
    whole, `--` inside a string no comment) on lines of at most 100 columns, but for a word
    wider than a line, which has a line of its own."""
    from opsplay.query.lines import _code_words, fold_sql
    from opsplay.text import display_width

    line = " " * indent + " ".join(words)
    folded = fold_sql(line).split("\n")
    pieces = [_code_words(piece.strip()) for piece in folded]
    assert all(piece is not None for piece in pieces)  # no piece ends inside a quote
    assert [word for piece in pieces for word in piece] == words
    for piece, its_words in zip(folded, pieces, strict=True):
        assert display_width(piece) <= 100 or len(its_words) == 1
