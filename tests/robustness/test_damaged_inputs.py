"""Property-based tests: damaged playbooks (in diff and render) and exports never raise.

(validate's own property tests live in tests/validate/test_properties.py.)

Hypothesis mutates the shipped playbooks and example exports byte by byte and line by line
(the slips and the hostile inputs users and pull requests bring) and every command must end
with exit 0, 1 or 2 and a message — never an exception escaping to the user. The example
count is bounded so CI stays fast; set OPSPLAY_HYPOTHESIS_EXAMPLES to run more locally.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from opsplay.cli import app

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOKS = sorted((ROOT / "playbooks").glob("*.yaml"))
ONBOARDING = ROOT / "playbooks" / "new-user-onboarding.yaml"
EXPORTS = [
    ROOT / "examples" / "onboarding_units.csv",
    ROOT / "examples" / "onboarding_stats.csv",
    ROOT / "examples" / "onboarding_summary.csv",
]
EVENTS = ROOT / "examples" / "onboarding_events.csv"
EXAMPLES = int(os.environ.get("OPSPLAY_HYPOTHESIS_EXAMPLES", "40"))
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same examples every CI run; failures reproduce
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# What users and hostile pull requests put into files: YAML and CSV syntax, Chinese,
# full-width punctuation, control characters, huge numbers, formula and HTML payloads.
SNIPPETS = [
    b":",
    b"- ",
    b"  ",
    b"\t",
    b"{",
    b"}",
    b"[",
    b"]",
    b"&a ",
    b"*a",
    b"!!python/object ",
    b"---\n",
    b"\xef\xbc\x9a",
    b"\xe8\xaf\x95\xe7\x82\xb9",
    b"\xff\xfe",
    b"\x00",
    b"\x1b[2J",
    b"\r",
    b"1e308",
    b"-1e309",
    b".nan",
    b".inf",
    b"99999999999999999999999",
    b"1:30",
    b"yes",
    b"~",
    b"=HYPERLINK(1)",
    b"<script>",
    b",",
    b'"',
    b"\n",
    b"NA",
    b"\xe6\x98\xaf",
    b"35%",
    b"1,234",
]


def _mutations() -> st.SearchStrategy[list[tuple[str, int, bytes]]]:
    edit = st.tuples(
        st.sampled_from(["insert", "delete", "replace", "dup-line", "drop-line"]),
        st.integers(min_value=0, max_value=10**6),
        st.sampled_from(SNIPPETS) | st.binary(min_size=1, max_size=4),
    )
    return st.lists(edit, min_size=1, max_size=6)


def mutate(data: bytes, edits: list[tuple[str, int, bytes]]) -> bytes:
    """Apply a few edits at positions taken modulo the data's length."""
    for kind, where, snippet in edits:
        if not data:
            data = snippet
            continue
        at = where % len(data)
        if kind == "insert":
            data = data[:at] + snippet + data[at:]
        elif kind == "delete":
            data = data[:at] + data[at + len(snippet) :]
        elif kind == "replace":
            data = data[:at] + snippet + data[at + len(snippet) :]
        else:
            lines = data.split(b"\n")
            index = where % len(lines)
            if kind == "dup-line":
                lines.insert(index, lines[index])
            else:
                del lines[index]
            data = b"\n".join(lines)
    return data


def run(*args: str) -> Any:
    """Run opsplay in-process; fail on anything but a clean exit 0/1/2."""
    result = CliRunner().invoke(app, list(args), catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"opsplay {' '.join(args)} raised {result.exception!r}") from (
            result.exception
        )
    assert result.exit_code in (0, 1, 2), (result.exit_code, result.output[-2000:])
    if result.exit_code == 2:
        assert result.output.strip(), "exit 2 without a message"
    return result


def _loaded(path: Path) -> Any:
    """The playbook at `path`, or None when it does not validate."""
    from opsplay.errors import OpsplayError
    from opsplay.validate import load_playbook

    try:
        return load_playbook(path)
    except OpsplayError:
        return None


def _swapped(kinds: set[tuple[str, str | None]]) -> set[tuple[str, str | None]]:
    """Tightened and loosened changes, each read the other way round."""
    turn = {"tightened": "loosened", "loosened": "tightened"}
    return {
        (re.sub(r"tightened|loosened", lambda m: turn[m.group(0)], kind), item)
        for kind, item in kinds
        if "tightened" in kind or "loosened" in kind
    }


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


@SETTINGS
@given(source=st.sampled_from(PLAYBOOKS), edits=_mutations())
def test_damaged_playbooks_never_raise_in_diff_or_render(
    workdir: Path, source: Path, edits
) -> None:
    new = workdir / "new.yaml"
    new.write_bytes(mutate(source.read_bytes(), edits))
    run("diff", str(source), str(new))
    out = workdir / "out"
    shutil.rmtree(out, ignore_errors=True)
    run("render-sop", str(new), "-o", str(out))
    # Laws (issue 19): a playbook has no change against itself; what tightens one way
    # loosens the other.
    from opsplay.diff import compare

    old_playbook, new_playbook = _loaded(source), _loaded(new)
    if new_playbook is not None:
        assert compare(new_playbook, new_playbook) == []
        forward = {(c.kind, c.item) for c in compare(old_playbook, new_playbook)}
        backward = {(c.kind, c.item) for c in compare(new_playbook, old_playbook)}
        assert _swapped(forward) == _swapped(_swapped(backward))


@SETTINGS
@given(source=st.sampled_from(EXPORTS), edits=_mutations())
def test_damaged_exports_never_raise_in_pilot_compare(workdir: Path, source: Path, edits) -> None:
    export = workdir / source.name
    export.write_bytes(mutate(source.read_bytes()[:20000], edits))
    first = run("pilot", "compare", str(ONBOARDING), str(export), "--format", "json")
    run("pilot", "compare", str(ONBOARDING), str(export), "--skip-bad-rows")
    if first.exit_code != 2:  # laws (issue 19): the same answer twice; no arm counts more
        again = run("pilot", "compare", str(ONBOARDING), str(export), "--format", "json")
        assert again.stdout == first.stdout
        lines = export.read_bytes().count(b"\n") + 1
        for metric in json.loads(first.stdout)["metrics"]:
            for arm in ("baseline", "pilot"):
                counted = metric[arm]
                assert counted["n"] >= 0, metric["metric"]
                if source == EXPORTS[0]:  # unit rows: each row is one unit at most
                    assert counted["n"] + (counted.get("missing") or 0) <= lines


@SETTINGS
@given(edits=_mutations())
def test_damaged_event_logs_never_raise(workdir: Path, edits) -> None:
    log = workdir / "events.csv"
    log.write_bytes(mutate(EVENTS.read_bytes()[:20000], edits))
    result = run(
        "pilot", "compare", str(ONBOARDING), str(EXPORTS[2]), "--events", str(log), "-f", "json"
    )
    if result.exit_code != 2:  # laws (issue 19): rates are shares, counts within the log
        lines = log.read_bytes().count(b"\n") + 1
        for node in json.loads(result.stdout)["nodes"]:
            assert 0 <= node["count"] <= lines, node["node"]
            for rate in ("completion_rate", "fallback_rate", "failure_rate", "sla_compliance"):
                assert node.get(rate) is None or 0 <= node[rate] <= 1, (node["node"], rate)
