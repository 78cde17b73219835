"""Cases as data: every tests/cases/valid file validates clean; every invalid case produces
exactly the diagnostics listed beside it. Adding a case adds no code.

`tests/cases/invalid/<name>.yaml` (or a folder `<name>/` checked as one run) sits beside
`<name>.expected`, one diagnostic per line: `[file:]line[:column] RULE [path]`.
Valid files say which rules they exercise without firing in a `# passes: OPS101 …` line.
"""

from __future__ import annotations

import re
import time
import tracemalloc
from pathlib import Path

import pytest

from opsplay.config import Config
from opsplay.diagnostics import RULES
from opsplay.validate import validate_paths

from .support import CASES

VALID = sorted((CASES / "valid").glob("*.yaml"))
INVALID = sorted(p.with_suffix("") for p in (CASES / "invalid").glob("*.expected"))
EXPECTED_LINE = re.compile(
    r"^(?:(?P<file>[^:\s]+\.ya?ml):)?(?P<line>\d+)(?::(?P<column>\d+))?"
    r" (?P<rule>OPS\d{3})(?: (?P<path>\S+))?$"
)
Expectation = tuple[str, int, "int | None", str, str]  # file, line, column, rule, path


def _expected(case: Path) -> list[Expectation]:
    """(file, line, column, rule, path) tuples listed in `<case>.expected`."""
    found = []
    text = case.with_suffix(".expected").read_text(encoding="utf-8")
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = EXPECTED_LINE.match(line)
        assert match, f"{case.name}.expected:{number}: cannot read {raw!r}"
        column = int(match["column"]) if match["column"] else None
        item = (match["file"] or "", int(match["line"]), column, match["rule"], match["path"] or "")
        found.append(item)
    return found


def _run(case: Path, monkeypatch: pytest.MonkeyPatch):
    """Validate one case (a file, or a folder as one run) with file names relative to it."""
    if case.is_dir():
        monkeypatch.chdir(case)
        return validate_paths([Path(".")], Config())
    monkeypatch.chdir(case.parent)
    return validate_paths([Path(case.name + ".yaml")], Config())


@pytest.mark.parametrize("case", VALID, ids=lambda p: p.name)
def test_valid_case_is_clean(case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(case.parent)
    result = validate_paths([Path(case.name)], Config())
    assert [(d.line, d.rule, d.path, d.message) for d in result.diagnostics] == []


def test_valid_cases_are_clean_together() -> None:
    """Checked in one run (playbook ids unique across files, OPS206 passes)."""
    result = validate_paths([CASES / "valid"], Config())
    assert result.files == len(VALID)
    assert list(result.diagnostics) == []


@pytest.mark.parametrize("case", INVALID, ids=lambda p: p.name)
def test_invalid_case_reports_exactly(case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = _expected(case)
    assert expected, f"{case.name}.expected lists no diagnostics"
    result = _run(case, monkeypatch)
    got = [
        (d.file if case.is_dir() else "", d.line, d.column, d.rule, d.path)
        for d in result.diagnostics
    ]
    listing = "\n".join(f"{line}:{column} {rule} {path}" for _, line, column, rule, path in got)
    assert sorted(map(_key, got)) == sorted(map(_key, expected)), listing
    columns: dict[tuple[str, int, str, str], set[int]] = {}
    for item in expected:
        if item[2] is not None:
            columns.setdefault(_key(item), set()).add(item[2])
    for item in got:
        assert item[2] in columns.get(_key(item), {item[2]}), f"wrong column: {item}"
    for d in result.diagnostics:
        assert d.message and "Traceback" not in d.message
        assert RULES[d.rule].severity == d.severity


def _key(item: Expectation) -> tuple[str, int, str, str]:
    return item[0], item[1], item[3], item[4]


def _rules_in_expectations() -> set[str]:
    return {rule for case in INVALID for _, _, _, rule, _ in _expected(case)}


def _rules_passed_by_valid_cases() -> set[str]:
    passed: set[str] = set()
    for case in VALID:
        for line in case.read_text(encoding="utf-8-sig").splitlines():
            if line.startswith("# passes:"):
                passed.update(line.removeprefix("# passes:").split())
    return passed


# OPS7xx compare a playbook with its version at a git ref; tests/diff/test_version_check.py
# covers each of them against real temporary repositories.
SINGLE_FILE_RULES = {rule for rule in RULES if not rule.startswith("OPS7")}


def test_every_rule_has_a_failing_case() -> None:
    assert sorted(SINGLE_FILE_RULES - _rules_in_expectations()) == []


def test_every_rule_has_a_passing_case() -> None:
    passed = _rules_passed_by_valid_cases()
    assert sorted(passed - set(RULES)) == [], "unknown rule ids in `# passes:` lines"
    assert sorted(SINGLE_FILE_RULES - passed) == []


def test_enough_broken_playbooks() -> None:
    assert len(INVALID) >= 30


def test_invalid_cases_have_distinct_playbook_ids() -> None:
    """So that checking the folder in one run (as the CLI does for context) adds no OPS206."""
    ids: dict[str, str] = {}
    cases = sorted((CASES / "invalid").glob("*.yaml"))
    assert len(cases) >= 30
    for case in cases:
        match = re.search(rb"^  id: (\S+)$", case.read_bytes(), re.MULTILINE)
        if match:
            name = match.group(1).decode("utf-8", "replace")
            assert name not in ids, f"{case.name} and {ids[name]} share metadata.id {name}"
            ids[name] = case.name
    # most cases name their playbook; none found means the pattern no longer reads them
    assert len(ids) >= len(cases) * 3 // 4, sorted(ids)


def test_alias_bomb_is_fast_and_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Billion laughs: stopped after a capped number of values, in well under a second."""
    bomb = CASES / "invalid" / "alias-bomb"
    tracemalloc.start()
    # CPU time, not wall time: other jobs on a shared CI runner must not make it fail
    started = time.process_time()
    try:
        result = _run(bomb, monkeypatch)
        elapsed = time.process_time() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [d.rule for d in result.diagnostics] == ["OPS008"]
    assert elapsed < 5  # typically ~0.2 s even under tracemalloc
    assert peak < 100 * 1024 * 1024


def test_gbk_case_really_is_gbk() -> None:
    """The committed bytes are GBK (not UTF-8), so the OPS001 case cannot silently go stale."""
    raw = (CASES / "invalid" / "gbk-encoding.yaml").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert "用户反馈处理" in raw.decode("gbk")
