"""Issue 19 (high): a playbook's text must not become script or template code in a knowledge base.

- Front matter is read by MkDocs themes into `<title>`, the navigation and `<meta>` without
  escaping (and `striptags` undoes HTML entities): its strings carry no `<>&"'`.
- mkdocs-macros renders every page as Jinja: pages say `render_macros: false`, and no
  `{{`, `{%` or `{#` from a playbook reaches a page either.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from opsplay.cli import app

from .conftest import EDGE_CASE, EDGE_COMPARISON

XSS = '<img src=x onerror="alert(1)">'
# Executed, it prints PWNED; kept as text, the word is never whole. No `_`, `*` or `` ` ``:
# nothing the Markdown escaping already breaks.
MACRO = "{% set a = 'PW' %}{{ a ~ 'NED' }}{# c #}"
# Free-text keys (ids, enums, dates and references stay as they are).
TEXT_KEYS = {
    "title", "statement", "name", "persona", "trigger", "behavior", "defect", "demand",
    "summary", "standard", "action", "cause", "scope", "stage", "unit",
}  # fmt: skip
TEXT_LISTS = {
    "duties", "inputs", "outputs", "tools", "training", "successes", "segments", "stages",
    "improvements", "resources", "feedback", "tags",
}  # fmt: skip
TEMPLATE_SYNTAX = re.compile(r"\{[{%#]")


def _poisoned(node: Any, key: str | None = None) -> Any:
    """The edge case with the payloads appended to every free-text value."""
    if isinstance(node, dict):
        return {k: _poisoned(v, k) for k, v in node.items()}
    if isinstance(node, list):
        return [_poisoned(v, key) for v in node]
    if isinstance(node, str) and (key in TEXT_KEYS or key in TEXT_LISTS):
        return f"{node} {XSS} {MACRO}"
    return node


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The edge-case playbook with script and macros in every free-text field."""
    data = _poisoned(yaml.safe_load(EDGE_CASE.read_text("utf-8")))
    path = tmp_path_factory.mktemp("hostile") / "edge-case.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    return path


def _front_matter(page: str) -> tuple[dict[str, Any], str]:
    """A Markdown page's front matter (read as MkDocs reads it) and its body."""
    assert page.startswith("---\n")
    head, body = page[4:].split("\n---\n", 1)
    return yaml.safe_load(head), body


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []


def _assert_safe_markdown(page: str) -> None:
    meta, body = _front_matter(page)
    assert meta["render_macros"] is False
    for text in _strings(meta):
        assert not set("<>&\"'") & set(text), text
        assert not TEMPLATE_SYNTAX.search(text), text
    for bad in [re.search("<img", body), TEMPLATE_SYNTAX.search(body)]:
        assert bad is None, body[bad.start() - 200 : bad.end() + 50]


@pytest.mark.parametrize("command", ["render-sop", "render-report"])
def test_markdown_documents_carry_no_script_and_no_template_code(
    hostile: Path, tmp_path: Path, command: str
) -> None:
    out = tmp_path / "doc.md"
    args = [command, str(hostile), "-o", str(out)]
    if command == "render-report":
        args += ["--from-json", str(EDGE_COMPARISON)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    _assert_safe_markdown(out.read_text("utf-8"))


def test_title_with_script_is_text_in_the_front_matter(tmp_path: Path) -> None:
    """The case of the issue: `title: '新用户<img src=x onerror="…">'`."""
    source = EDGE_CASE.read_text("utf-8")
    title = re.search(r"^  title: .*$", source, re.M)
    assert title
    path = tmp_path / "edge-case.yaml"
    path.write_text(source.replace(title.group(0), f"  title: '新用户{XSS}'"), "utf-8")
    out = tmp_path / "sop.md"
    assert CliRunner().invoke(app, ["render-sop", str(path), "-o", str(out)]).exit_code == 0
    meta, _body = _front_matter(out.read_text("utf-8"))
    assert meta["title"].startswith("新用户") and "img src=x onerror=" in meta["title"]
    assert "<" not in meta["title"] and '"' not in meta["title"]


def _build(root: Path, plugins: list[str]) -> subprocess.CompletedProcess[str]:
    config = root / "mkdocs.yml"
    text = config.read_text("utf-8")
    if plugins:  # added after the project's own (search)
        head, tail = text.split("\nplugins:\n", 1)
        added = "".join(f"- {plugin}\n" for plugin in plugins)
        config.write_text(f"{head}\nplugins:\n{added}{tail}", "utf-8")
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "-f", str(config)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.mark.parametrize(
    "plugins",
    [
        pytest.param([], id="mkdocs"),
        pytest.param(
            ["macros"],
            id="mkdocs-macros",
            marks=pytest.mark.skipif(
                importlib.util.find_spec("mkdocs_macros") is None,
                reason="mkdocs-macros-plugin is not installed (the `test` extra installs it)",
            ),
        ),
    ],
)
def test_built_site_runs_no_script_and_no_macro(
    hostile: Path, tmp_path: Path, plugins: list[str]
) -> None:
    root = tmp_path / "kb"
    args = ["render-sop", str(hostile), "--site", str(root)]
    args += ["--report", str(EDGE_COMPARISON)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    for page in (root / "docs").rglob("*.md"):
        _assert_safe_markdown(page.read_text("utf-8"))
    nav = (root / "mkdocs.yml").read_text("utf-8").split("\nnav:\n", 1)[1]
    assert not set('<>&"') & set(nav.split("\n", 1)[1]) and not TEMPLATE_SYNTAX.search(nav)
    build = _build(root, plugins)
    assert build.returncode == 0, build.stderr
    pages = list((root / "site").rglob("*.html"))
    assert len(pages) >= 3
    for page in pages:
        text = page.read_text("utf-8")
        tag = re.search(r"<img[^>]*onerror", text)
        assert tag is None, (page, text[tag.start() - 300 : tag.end() + 50])
        assert "PWNED" not in text, page
    sop = (root / "site" / "sop" / "edge-case" / "index.html").read_text("utf-8")
    assert "PW" in sop and "NED" in sop  # the macro is shown as text
