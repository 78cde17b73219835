"""`render-sop --site DIR`: a complete MkDocs project that the real `mkdocs build --strict` builds."""

from __future__ import annotations

import html
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from opsplay.cli import app
from opsplay.validate import load_playbook

from .conftest import EDGE_CASE, PLAYBOOKS, shipped_playbooks

REPORTED = [PLAYBOOKS / "new-user-onboarding.yaml", PLAYBOOKS / "member-recall.yaml"]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, comparison_files: dict[Path, Path]) -> Path:
    """The project written by the CLI for every shipped playbook plus the edge case, built."""
    root = tmp_path_factory.mktemp("kb")
    args = ["render-sop", *map(str, [*shipped_playbooks(), EDGE_CASE]), "--site", str(root)]
    for playbook in REPORTED:  # today's `pilot compare` JSON of each (see conftest)
        args += ["--report", str(comparison_files[playbook])]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    build = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(root / "mkdocs.yml")],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert build.returncode == 0, build.stderr
    assert "WARNING" not in build.stderr
    return root


def _config(built: Path) -> dict:
    """mkdocs.yml as MkDocs reads it, the slug function's `!!python/name:` tag as its name."""
    return yaml.safe_load((built / "mkdocs.yml").read_text("utf-8").replace("!!python/name:", ""))


def test_project_files_and_navigation(built: Path) -> None:
    config = _config(built)
    assert config["docs_dir"] == "docs"
    pages = [next(iter(entry.values())) for entry in config["nav"]]
    assert pages[0] == "index.md"
    sop_pages = sorted(next(iter(e.values())) for e in pages[1])
    ids = sorted(load_playbook(p).metadata.id for p in [*shipped_playbooks(), EDGE_CASE])
    assert sop_pages == [f"sop/{playbook_id}.md" for playbook_id in ids]
    assert sorted(next(iter(e.values())) for e in pages[2]) == [
        "reports/member-recall.md",
        "reports/new-user-onboarding.md",
    ]
    for page in [*sop_pages, "reports/member-recall.md", "index.md"]:
        assert (built / "docs" / page).is_file()


def test_home_page_lists_every_sop_by_status_with_owner_and_date(built: Path) -> None:
    home = (built / "site" / "index.html").read_text("utf-8")
    source = (built / "docs" / "index.md").read_text("utf-8")
    groups = re.findall(r"^## (.+)$", source, re.M)
    assert groups[0].startswith("生效") and any(g.startswith("试点") for g in groups)
    for path in [*shipped_playbooks(), EDGE_CASE]:
        playbook = load_playbook(path)
        meta = playbook.metadata
        assert f'href="sop/{meta.id}/"' in home
        row = next(line for line in source.splitlines() if f"(sop/{meta.id}.md)" in line)
        owner = next(role.name for role in playbook.roles if role.id == meta.owner)
        assert owner.split('"')[0].strip() in row
        assert f"{meta.updated.year}年{meta.updated.month}月{meta.updated.day}日" in row
        # the row sits under its status group
        heading = [
            line for line in source[: source.index(row)].splitlines() if line.startswith("## ")
        ][-1]
        assert heading.startswith(
            {
                "active": "## 生效",
                "rollout": "## 推广",
                "pilot": "## 试点",
                "draft": "## 草稿",
                "retired": "## 停用",
            }[meta.status]
        )
    assert 'href="reports/new-user-onboarding/"' in home


def test_sop_pages_show_the_drawn_flowchart_offline(built: Path) -> None:
    for path in shipped_playbooks():
        playbook = load_playbook(path)
        page = (built / "site" / "sop" / playbook.metadata.id / "index.html").read_text("utf-8")
        svg = re.search(r'<svg [^>]*class="opsplay-flowchart".*?</svg>', page, re.S)
        assert svg, path.name
        for node in playbook.nodes:
            assert f"<title>{node.name}</title>" in svg.group(0).replace("&amp;", "&")
        assert "language-mermaid" not in page and "```mermaid" not in page
        # `playbook:` front matter, not `source:` (the theme prints `source` as file links)
        assert "source-links" not in page
        assert '<script src="https://' not in page
    front = (built / "docs" / "sop" / "new-user-onboarding.md").read_text("utf-8")
    assert (
        "\nplaybook: " in front.split("\n---\n")[0] and "\nsource:" not in front.split("\n---\n")[0]
    )


def test_hostile_text_stays_text_in_the_site(built: Path) -> None:
    page = (built / "site" / "sop" / "edge-case" / "index.html").read_text("utf-8")
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page
    home = (built / "site" / "index.html").read_text("utf-8")
    assert "<b>粗体</b>" not in home and "&lt;b&gt;粗体&lt;/b&gt;" in home


def test_report_pages_have_no_source_links(built: Path) -> None:
    page = (built / "site" / "reports" / "member-recall" / "index.html").read_text("utf-8")
    assert "source-links" not in page and "<h1" in page


def test_site_is_stable_and_reports_unchanged_files(tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["render-sop", str(PLAYBOOKS / "new-user-onboarding.yaml"), "--site", str(tmp_path)]
    assert runner.invoke(app, args).exit_code == 0
    again = runner.invoke(app, args)
    assert again.exit_code == 0 and "wrote" not in again.output


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["-o", "out"], "--site"),
        (["--format", "html"], "--format"),
        (["--report", "member-recall"], "member-recall"),
    ],
)
def test_site_usage_errors_exit_2(
    tmp_path: Path, extra: list[str], message: str, comparison_files: dict[Path, Path]
) -> None:
    if extra == ["--report", "member-recall"]:  # a comparison of a playbook not given
        extra = ["--report", str(comparison_files[PLAYBOOKS / "member-recall.yaml"])]
    result = CliRunner().invoke(
        app,
        [
            "render-sop",
            str(PLAYBOOKS / "new-user-onboarding.yaml"),
            "--site",
            str(tmp_path / "kb"),
            *extra,
        ],
    )
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert not (tmp_path / "kb").exists()


def test_a_comparison_without_playbook_id_is_refused(tmp_path: Path) -> None:
    saved = tmp_path / "bare.json"
    saved.write_text('{"metrics": []}', "utf-8")
    result = CliRunner().invoke(
        app,
        ["render-sop", str(PLAYBOOKS), "--site", str(tmp_path / "kb"), "--report", str(saved)],
    )
    assert result.exit_code == 2 and "playbook.id" in result.output
    assert not (tmp_path / "kb").exists()


def test_report_without_site_is_a_usage_error(
    tmp_path: Path, comparison_files: dict[Path, Path]
) -> None:
    saved = comparison_files[REPORTED[0]]
    result = CliRunner().invoke(
        app,
        ["render-sop", str(PLAYBOOKS), "-o", str(tmp_path), "--report", str(saved)],
    )
    assert result.exit_code == 2 and "--site" in result.output


def test_navigation_and_home_follow_pinyin_and_the_site_speaks_chinese(built: Path) -> None:
    from pypinyin import lazy_pinyin

    config = _config(built)
    assert config["theme"]["locale"] == "zh_CN"
    assert config["plugins"][0]["search"]["lang"] == ["zh", "en"]
    assert config["extra_javascript"] == ["assets/opsplay-search.js"]
    titles = [next(iter(entry)) for entry in config["nav"][1]["SOP"]]

    def key(title: str) -> list[str]:
        return [part.casefold() for part in lazy_pinyin(title)]

    assert titles == sorted(titles, key=key)
    assert titles.index("会员流失召回") < titles.index("双11大促运营保障")  # hui < shuang
    home = (built / "site" / "index.html").read_text("utf-8")
    assert "搜索" in home and "Search" not in home and "下一" in home
    for page in ("index.html", "sop/member-recall/index.html", "reports/member-recall/index.html"):
        ids = re.findall(r'<h[1-6] id="([^"]*)"', (built / "site" / page).read_text("utf-8"))
        assert ids, page
        for anchor in ids:  # a CSS selector `#id` needs an id that does not start with a digit
            assert not re.match(r"-?\d", anchor), (page, anchor)
    assert re.search(r'id="生效\d+"', home)


def test_report_pages_carry_their_chart(built: Path) -> None:
    page = (built / "site" / "reports" / "member-recall" / "index.html").read_text("utf-8")
    chart = page.index('<div class="opsplay-chart">')
    assert "<svg" in page[chart : chart + 400]
    assert chart < page.index('id="表3-试点效果对比"')


def _chromium() -> str | None:
    import shutil

    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


def test_pages_in_chromium_run_without_script_errors_and_style_their_tables(
    built: Path, tmp_path: Path
) -> None:
    """The theme's script runs to its end (it adds Bootstrap's classes to every table) and
    prints no error, on the home page, an SOP and a report, served over HTTP as published."""
    import functools
    import http.server
    import threading

    browser = _chromium()
    if browser is None:
        pytest.skip("headless Chromium is not installed (apt-get install -y chromium)")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(built / "site"))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        for page in ("", "sop/member-recall/", "sop/daily-inspection/", "reports/member-recall/"):
            url = f"http://127.0.0.1:{server.server_address[1]}/{page}"
            result = subprocess.run(
                [browser, "--headless", "--no-sandbox", "--disable-gpu"]
                + ["--enable-logging=stderr", "--v=0", "--user-data-dir=" + str(tmp_path)]
                + ["--virtual-time-budget=3000", "--dump-dom", url],
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert result.returncode == 0, result.stderr[-2000:]
            console = [line for line in result.stderr.splitlines() if "CONSOLE" in line]
            assert not [line for line in console if "Uncaught" in line or "rror" in line], console
            tables = re.findall(r"<table[^>]*>", result.stdout)
            assert tables, page
            assert all("table-striped" in table for table in tables), (page, tables)
    finally:
        server.shutdown()
        server.server_close()


def _search_in_chromium(site: Path, queries: list[str], tmp_path: Path) -> dict[str, list[str]]:
    """What the site's own search finds for each query: the scripts its worker loads (lunr, the
    languages of search_index.json, MkDocs' worker.js) and the page script, run in headless
    Chromium's main thread on the built index, each query as the search box sends it."""
    import functools
    import http.server
    import json
    import shutil
    import threading

    browser = _chromium()
    if browser is None:
        pytest.skip("headless Chromium is not installed (apt-get install -y chromium)")
    served = tmp_path / "site"
    shutil.copytree(site, served)
    index = json.loads((served / "search" / "search_index.json").read_text("utf-8"))
    languages = index["config"]["lang"]
    scripts = ["lunr.js"]  # the order of MkDocs' worker.js
    if languages != ["en"]:
        scripts.append("lunr.stemmer.support.js")
    if len(languages) > 1:
        scripts.append("lunr.multi.js")
    if "ja" in languages:
        scripts.append("tinyseg.js")
    scripts += [f"lunr.{code}.js" for code in languages if code != "en"]
    probe = (
        '<!doctype html><meta charset="utf-8"><body>'
        + "".join(f'<script src="{script}"></script>' for script in scripts)
        + "<script>function importScripts() {}</script>"  # worker.js as the worker runs it
        + '<script src="worker.js"></script><script src="../assets/opsplay-search.js"></script>'
        + "<script>var got = new XMLHttpRequest(); got.open('GET', 'search_index.json', false);"
        + "got.send(); data = JSON.parse(got.responseText); lang = data.config.lang;"
        + "onScriptsLoaded();"
        + "var asked = typeof opsplaySearchQuery === 'function' ? opsplaySearchQuery : String;"
        + "var found = {};"
        + f"{json.dumps(queries, ensure_ascii=False)}.forEach(function (q) {{"
        + "  found[q] = search(asked(q)).map(function (doc) { return doc.location; }); });"
        + "var out = document.createElement('pre'); out.id = 'found';"
        + "out.textContent = JSON.stringify(found); document.body.appendChild(out);</script>"
    )
    (served / "search" / "probe.html").write_text(probe, "utf-8")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        result = subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu"]
            + ["--user-data-dir=" + str(tmp_path / "profile"), "--virtual-time-budget=5000"]
            + ["--dump-dom", f"http://127.0.0.1:{server.server_address[1]}/search/probe.html"],
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        server.shutdown()
        server.server_close()
    found = re.search(r'<pre id="found">(.*?)</pre>', result.stdout, re.S)
    assert found, result.stderr[-2000:]
    return json.loads(html.unescape(found.group(1)))


def test_chinese_search_finds_two_and_four_character_words_inside_sentences(
    built: Path, tmp_path: Path
) -> None:
    """Issue 20: with lunr's Japanese splitter and `min_search_length: 3`, 退款 was not searched
    and 售后退款 / 时限达标率 found nothing: lunr looks a query word up whole."""
    import json

    config = json.loads((built / "site" / "search" / "search_index.json").read_text("utf-8"))
    assert config["config"]["min_search_length"] == 2  # the search box sends 2 characters
    words = {"投诉": "complaint-handling", "召回": "member-recall", "巡检": "daily-inspection"}
    words |= {"用户投诉": "complaint-handling", "电话回访": "member-recall"}
    words |= {"解决率": "complaint-handling"}
    found = _search_in_chromium(built / "site", [*words, "不存在的词"], tmp_path)
    for word, playbook in words.items():
        assert any(place.startswith(f"sop/{playbook}/") for place in found[word]), (word, found)
    assert found["不存在的词"] == []
