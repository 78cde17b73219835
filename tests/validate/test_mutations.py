"""Seeded mutations of real playbooks: validate reports them, it never crashes.

Each case deletes, swaps or garbles a few lines of a shipped or valid playbook with the
tokens users really mistype (YAML 1.1 words, full-width colons, anchors, odd numbers…).
It found a crash once (a role whose `name` was a list); a regression stays cheap here.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from opsplay.config import Config
from opsplay.diagnostics import Diagnostic
from opsplay.loader import load_file
from opsplay.rules import PlaybookData, run_rules
from opsplay.schema_check import check_schema
from opsplay.validate import _apply_settings

from .support import CASES, PLAYBOOKS

SOURCES = [p.read_text(encoding="utf-8") for p in sorted(PLAYBOOKS.glob("*.yaml"))] + [
    p.read_text(encoding="utf-8-sig") for p in sorted((CASES / "valid").glob("*.yaml"))
]
TOKENS = [
    "null", "[]", "{}", "- x", "1:30", "yes", "1.10", "&a [1]", "*a", "!!str 1", "\t", "：",
    "'", '"', "[", "{", "2024-13-01", "0x1F", "-.inf", ".nan", "~", "<<: *a", "? [a]",
    "1e400", "|", ">", "%", "@", "`", "x: y: z", "---", "...", "id: 1", "next: 5", "goto: []",
    "when: failure", "sla: 1e9h", "sla: -1m", "baseline: 1e308", "target: nan", "name: [a]",
]  # fmt: skip


def mutate(text: str, rng: random.Random) -> str:
    """A few random edits of the kinds people make by hand."""
    lines = text.splitlines()
    for _ in range(rng.randint(1, 4)):
        i = rng.randrange(len(lines))
        choice = rng.random()
        if choice < 0.3:
            del lines[i]
        elif choice < 0.6:
            cut = rng.randrange(len(lines[i]) + 1)
            lines[i] = lines[i][:cut] + rng.choice(TOKENS) + lines[i][cut:]
        elif choice < 0.8:
            j = rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        else:
            lines.insert(i, lines[i].split(":")[0] + ": " + rng.choice(TOKENS))
        lines = lines or ["a"]
    return "\n".join(lines) + "\n"


def check(text: str) -> list[Diagnostic]:
    loaded = load_file(text.encode("utf-8"), "mutated.yaml")
    if isinstance(loaded.data, dict):
        check_schema(loaded)
        run_rules(PlaybookData(loaded))
    return _apply_settings(loaded, Config(root=Path(".")))


@pytest.mark.parametrize("seed", range(8))
def test_mutated_playbooks_never_crash(seed: int) -> None:
    rng = random.Random(seed)
    found = 0
    for _ in range(150):
        text = mutate(rng.choice(SOURCES), rng)
        for diagnostic in check(text):
            found += 1
            assert diagnostic.line >= 1 and diagnostic.column >= 1, (diagnostic, text)
    assert found > 0, "150 mutated playbooks and not one finding: the mutations do nothing"
