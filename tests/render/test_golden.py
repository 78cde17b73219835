"""Golden files: every shipped template, both languages, on the shipped playbooks and the edge case.

Regenerate with `pytest tests/render --update-goldens` and review the diff; a playbook
edit changes its documents (and the sha256 in their front matter) on purpose.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from opsplay.render.report import render_report
from opsplay.render.sop import FORMATS, render_sop_files, source_of
from opsplay.validate import load_playbook

from .conftest import EDGE_CASE, GOLDEN, REPORT_CASES, shipped_playbooks

LANGS = ("zh", "en")
SOP_PLAYBOOKS = [*shipped_playbooks(), EDGE_CASE]


@pytest.mark.parametrize("fmt", list(FORMATS))
@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("path", SOP_PLAYBOOKS, ids=lambda p: p.stem)
def test_sop(path: Path, lang: str, fmt: str, golden: Callable[[str, str], None]) -> None:
    documents = render_sop_files([path], fmt=fmt, lang=lang)
    golden(f"sop/{path.stem}.{lang}{FORMATS[fmt]}", documents[path.stem + FORMATS[fmt]])


@pytest.mark.parametrize("fmt", list(FORMATS))
@pytest.mark.parametrize("lang", LANGS)
def test_index(lang: str, fmt: str, golden: Callable[[str, str], None]) -> None:
    documents = render_sop_files(SOP_PLAYBOOKS, fmt=fmt, lang=lang)
    golden(f"index/index.{lang}{FORMATS[fmt]}", documents["index" + FORMATS[fmt]])


@pytest.mark.parametrize("fmt", list(FORMATS))
@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("path", REPORT_CASES, ids=lambda p: p.stem)
def test_report(
    path: Path,
    lang: str,
    fmt: str,
    golden: Callable[[str, str], None],
    comparison_files_by_lang: dict[tuple[Path, str], Path],
) -> None:
    comparison = json.loads(comparison_files_by_lang[(path, lang)].read_text("utf-8"))
    text = render_report(
        load_playbook(path), comparison, lang=lang, fmt=fmt, source=source_of(path)
    )
    golden(f"report/{path.stem}.{lang}{FORMATS[fmt]}", text)


# The warehouse on-call process of the issue 21 try-out: two entries, P1/P2 limits with
# cut-offs, ladders per level and business hours. Drawn on its own (not in the index).
ONCALL = EDGE_CASE.parent / "wms-oncall.yaml"


@pytest.mark.parametrize("fmt", list(FORMATS))
@pytest.mark.parametrize("lang", LANGS)
def test_oncall_sop(lang: str, fmt: str, golden: Callable[[str, str], None]) -> None:
    documents = render_sop_files([ONCALL], fmt=fmt, lang=lang)
    golden(f"sop/{ONCALL.stem}.{lang}{FORMATS[fmt]}", documents[ONCALL.stem + FORMATS[fmt]])


def test_rendering_is_deterministic() -> None:
    """The same input gives the same bytes (no clock, no dict-order or hash-seed effects)."""
    first = render_sop_files(SOP_PLAYBOOKS, fmt="html")
    second = render_sop_files(SOP_PLAYBOOKS, fmt="html")
    assert first == second


@pytest.mark.parametrize("path", SOP_PLAYBOOKS, ids=lambda p: p.stem)
def test_markdown_lines_have_no_trailing_whitespace(path: Path) -> None:
    text = render_sop_files([path])[path.stem + ".md"]
    assert [line for line in text.splitlines() if line != line.rstrip()] == []
    assert text.endswith("\n") and not text.endswith("\n\n")


def test_the_golden_cases_are_not_empty() -> None:
    """A glob that finds nothing would make every parametrized golden test vanish silently."""
    assert len(shipped_playbooks()) >= 5
    assert all((GOLDEN / "sop" / f"{p.stem}.zh.md").exists() for p in SOP_PLAYBOOKS)
    assert len(REPORT_CASES) == 3
