"""Issue 19 (second adversarial pass): text from a playbook or an export must not become HTML
attributes or links in a knowledge base whose own mkdocs.yml enables more of Markdown.

- High: with MkDocs' `attr_list` (common with the Material theme), a heading or table cell
  ending in `{: tabindex=0 autofocus onfocus=… }` became `<h1 autofocus onfocus=…>`: a title,
  node, metric, goal, scenario, and a segment value from the data. Every `{` of such text is
  written as `&#123;`.
- Medium: the `--site` home page wrote a scope stage, a scenario name and the owner's role
  name with `md_cell`, which left `[点我](javascript:…)` a link. `md_cell` escapes brackets
  where they would link, as the `markdown` filter does.
"""

from __future__ import annotations

import functools
import html
import http.server
import json
import re
import shutil
import subprocess
import sys
import threading
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from opsplay.cli import app
from opsplay.text import md_cell

from .conftest import EDGE_CASE, EDGE_COMPARISON

# Run, it writes XSSRAN at the very start of the page (autofocus fires onfocus on load).
ATTRS = "{: tabindex=0 autofocus onfocus=document.body.prepend('XSSRAN') }"
BARE_ATTRS = "{tabindex=0 autofocus onfocus=document.body.prepend('XSSRAN')}"  # `:` is optional
LINK = "[点我](javascript:document.body.prepend('XSSRAN'))"
EXTENSIONS = "markdown_extensions:\n- attr_list\n"


class _Injected(HTMLParser):
    """The elements of a page with an attribute the text asked for, or a link to script."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            script_link = name in ("href", "src") and (value or "").strip().lower().startswith(
                "javascript:"
            )
            if name in ("onfocus", "autofocus") or script_link:
                self.found.append(self.get_starttag_text() or tag)


def _hostile_playbook(data: dict[str, Any]) -> dict[str, Any]:
    """The edge case with attribute lists and script links where the adversary put them."""
    data["metadata"]["title"] = "边界 " + ATTRS
    data["goal"]["statement"] += " " + ATTRS
    data["metrics"][0]["name"] = "完成率 " + ATTRS
    data["nodes"][0]["name"] = "受理 " + BARE_ATTRS
    data["scope"]["stages"] = [LINK, "处理"]
    data["scenarios"][0]["name"] = LINK
    data["scenarios"][1]["name"] = "加购 " + ATTRS
    owner = data["metadata"]["owner"]
    for role in data["roles"]:
        if role["id"] == owner:
            role["name"] = "[负责人](javascript:alert(9))"
    return data


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The hostile playbook and a comparison of it whose segment values carry the payloads."""
    folder = tmp_path_factory.mktemp("attr")
    playbook = folder / "edge-case.yaml"
    data = _hostile_playbook(yaml.safe_load(EDGE_CASE.read_text("utf-8")))
    playbook.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    result = CliRunner().invoke(app, ["validate", str(playbook)])
    assert result.exit_code == 0, result.output
    comparison = json.loads(EDGE_COMPARISON.read_text("utf-8"))
    segmented = [row for row in comparison["metrics"] if row["segment"]]
    assert segmented, "the edge comparison has a segmented row"
    segmented[0]["segment"] = {"region": "杭州 " + ATTRS}
    extra = {**segmented[0], "segment": {"region": LINK}}
    comparison["metrics"].insert(comparison["metrics"].index(segmented[0]) + 1, extra)
    path = folder / "compare.json"
    path.write_text(json.dumps(comparison, ensure_ascii=False), "utf-8")
    return playbook, path


def _mkdocs_build(root: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "-f", str(root / "mkdocs.yml")],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr


def _assert_no_injection(page: Path) -> None:
    parser = _Injected()
    parser.feed(page.read_text("utf-8"))
    assert not parser.found, (page, parser.found)


@pytest.fixture(scope="module")
def team_kb(hostile: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A team's own knowledge base (`attr_list, tables, md_in_html`, as with Material): an SOP
    written by `render-sop -o kb/docs/sop` and a report by `render-report -o`, built."""
    playbook, comparison = hostile
    root = tmp_path_factory.mktemp("kb")
    docs = root / "docs"
    (docs / "reports").mkdir(parents=True)
    (docs / "index.md").write_text("# KB\n", "utf-8")
    (root / "mkdocs.yml").write_text(
        "site_name: KB\nmarkdown_extensions: [attr_list, tables, md_in_html]\n", "utf-8"
    )
    runner = CliRunner()
    result = runner.invoke(app, ["render-sop", str(playbook), "-o", str(docs / "sop")])
    assert result.exit_code == 0, result.output
    report = docs / "reports" / "edge-case.md"
    args = ["render-report", str(playbook), "--from-json", str(comparison), "-o", str(report)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "杭州" in report.read_text("utf-8")  # the segment value is in the report
    _mkdocs_build(root)
    return root


@pytest.fixture(scope="module")
def site(hostile: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`render-sop --site` with the report, its mkdocs.yml given `attr_list`, built."""
    playbook, comparison = hostile
    root = tmp_path_factory.mktemp("site")
    args = ["render-sop", str(playbook), "--site", str(root), "--report", str(comparison)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    config = root / "mkdocs.yml"
    text = config.read_text("utf-8")
    assert "\nmarkdown_extensions:\n" in text
    config.write_text(text.replace("\nmarkdown_extensions:\n", "\n" + EXTENSIONS), "utf-8")
    _mkdocs_build(root)
    return root


def test_attribute_lists_stay_text_in_a_teams_knowledge_base(team_kb: Path) -> None:
    pages = {
        page.relative_to(team_kb / "site").as_posix(): page
        for page in (team_kb / "site").rglob("index.html")
    }
    assert {"sop/edge-case/index.html", "reports/edge-case/index.html"} <= set(pages)
    for page in pages.values():
        _assert_no_injection(page)
    sop = html.unescape(pages["sop/edge-case/index.html"].read_text("utf-8"))
    assert "<h1" in sop and "边界 {: tabindex=0 autofocus" in sop  # shown as written
    assert "受理 {tabindex=0 autofocus" in sop
    report = html.unescape(pages["reports/edge-case/index.html"].read_text("utf-8"))
    assert "杭州 {: tabindex=0 autofocus" in report


def test_site_home_page_has_no_script_links_and_no_attributes(site: Path) -> None:
    pages = list((site / "site").rglob("*.html"))
    assert len(pages) >= 3
    for page in pages:
        _assert_no_injection(page)
    home = html.unescape((site / "site" / "index.html").read_text("utf-8"))
    assert "[点我](javascript:" in home and "[负责人](javascript:alert(9))" in home  # as text


@pytest.mark.parametrize(
    "text",
    [LINK, "[a][ref]", "[ref]: javascript:x", "\\[x](javascript:x)", "x\\](javascript:x)"],
)
def test_md_cell_makes_no_link(text: str) -> None:
    import markdown

    rendered = markdown.markdown(
        f"| h |\n|---|\n| {md_cell(text)} |\n\n[ref]: javascript:y", extensions=["tables"]
    )
    assert "<a" not in rendered, rendered


def test_md_cell_keeps_brackets_that_do_not_link() -> None:
    assert md_cell("data[1].csv [草稿]") == "data[1].csv [草稿]"
    assert md_cell("a {b} c") == "a &#123;b} c"


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


def test_pages_in_chromium_run_no_injected_script(
    team_kb: Path, site: Path, tmp_path: Path
) -> None:
    """Served as published, the pages' bodies do not start with what the script would write."""
    browser = _chromium()
    if browser is None:
        pytest.skip("headless Chromium is not installed (apt-get install -y chromium)")
    for root, pages in [
        (team_kb, ["sop/edge-case/", "reports/edge-case/"]),
        (site, ["", "sop/edge-case/"]),
    ]:
        handler = functools.partial(
            http.server.SimpleHTTPRequestHandler, directory=str(root / "site")
        )
        handler.log_message = lambda *args: None  # type: ignore[attr-defined]
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            for page in pages:
                url = f"http://127.0.0.1:{server.server_address[1]}/{page}"
                result = subprocess.run(
                    [browser, "--headless", "--no-sandbox", "--disable-gpu"]
                    + ["--user-data-dir=" + str(tmp_path)]
                    + ["--virtual-time-budget=3000", "--dump-dom", url],
                    capture_output=True,
                    text=True,
                    timeout=120,
                )
                assert result.returncode == 0, result.stderr[-2000:]
                assert "<body" in result.stdout, page
                assert not re.search(r"<body[^>]*>\s*XSSRAN", result.stdout), page
        finally:
            server.shutdown()
            server.server_close()
