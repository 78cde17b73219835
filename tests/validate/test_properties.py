"""Property-based: mutated and generated playbook bytes never end in a traceback (issue 13).

The loader, the schema check and every rule must turn any input into findings; the example
count is bounded so that the suite (and CI) stays quick.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opsplay.diagnostics import Diagnostic, Severity
from opsplay.diff import compare
from opsplay.errors import OpsplayError
from opsplay.i18n import language
from opsplay.loader import load_file
from opsplay.rules import PlaybookData, run_rules
from opsplay.schema_check import check_schema
from opsplay.validate import load_playbook

from .support import CASES

SEED = (CASES / "valid" / "zh-new-user-onboarding.yaml").read_bytes()
CHINESE = (CASES / "valid" / "zh-only-chinese-values.yaml").read_bytes()
SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _findings(raw: bytes, lang: str) -> list[Diagnostic]:
    with language(lang):
        loaded = load_file(raw, "x.yaml")
        if isinstance(loaded.data, dict):
            check_schema(loaded)
            run_rules(PlaybookData(loaded))
    return list(loaded.diagnostics)


def _check(raw: bytes, lang: str = "en") -> None:
    """No traceback, and laws (issue 19): the same bytes give the same findings, each on a
    line of the file; a playbook without errors has no change against itself."""
    found = _findings(raw, lang)
    for d in found:
        assert d.message and "Traceback" not in d.message
        assert "\x1b" not in d.message
        # YAML counts NEL, LS and PS as line breaks too (a quoted "\x85" moves the line on)
        text = raw.decode("utf-8", "replace")
        breaks = sum(text.count(c) for c in ("\n", "\x85", "\u2028", "\u2029"))
        assert 1 <= d.line <= breaks + 2 and d.column >= 1, d
    assert _findings(raw, lang) == found
    if not any(d.severity is Severity.ERROR for d in found):
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "x.yaml"
            path.write_bytes(raw)
            try:
                playbook = load_playbook(path)
            except OpsplayError:
                return  # settings of a project (none here) may still refuse it
            assert compare(playbook, playbook) == []


@st.composite
def mutated(draw: st.DrawFn, seed: bytes) -> bytes:
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 8))):
        position = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["flip", "insert", "delete", "splice"]))
        if action == "flip" and position < len(data):
            data[position] = draw(st.integers(0, 255))
        elif action == "insert":
            token = draw(
                st.sampled_from(
                    [
                        b"[",
                        b"]",
                        b"{",
                        b":",
                        b"- ",
                        b"\t",
                        b"&a ",
                        b"*a",
                        b"\x1b",
                        b"\n  ",
                        b"!!python/name:os.system ",
                        b".nan",
                        b"9" * 40,
                        b"\xe4\xb8",
                    ]
                )
            )
            data[position:position] = token
        elif action == "delete":
            del data[position : position + draw(st.integers(1, 20))]
        else:
            start = draw(st.integers(0, len(seed)))
            data[position:position] = seed[start : start + draw(st.integers(1, 200))]
    return bytes(data)


@SETTINGS
@given(mutated(SEED), st.sampled_from(["en", "zh"]))
def test_mutated_playbooks_give_findings_not_tracebacks(raw: bytes, lang: str) -> None:
    _check(raw, lang)


@SETTINGS
@given(mutated(CHINESE))
def test_mutated_chinese_value_playbooks(raw: bytes) -> None:
    _check(raw, "zh")


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=30,
)
KEYS = [
    "apiVersion",
    "kind",
    "metadata",
    "goal",
    "roles",
    "metrics",
    "nodes",
    "alerts",
    "pilot",
    "scope",
    "review",
    "rollout",
    "scenarios",
]


@SETTINGS
@given(st.dictionaries(st.sampled_from(KEYS), JSONISH, max_size=8))
def test_generated_structures_give_findings_not_tracebacks(data: dict[str, object]) -> None:
    _check(json.dumps(data, ensure_ascii=False).encode("utf-8"))  # JSON is YAML


def test_validate_command_on_garbage_folder(tmp_path: Path) -> None:
    """The whole command over a folder of junk: exit 1 with findings, never an exception."""
    from opsplay.config import Config
    from opsplay.validate import validate_paths

    junk = [b"\x00\x01", b"\xff\xfe", b"[" * 2000, b"a: *b", b"- - - -", "中文：冒号".encode(), b""]
    for index, raw in enumerate(junk):
        (tmp_path / f"junk{index}.yaml").write_bytes(raw)
    result = validate_paths([tmp_path], Config())
    assert result.files == len(junk) and result.errors >= len(junk)
