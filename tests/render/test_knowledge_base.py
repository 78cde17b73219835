"""Real consumers: MkDocs builds the rendered SOPs strictly, and the Mermaid blocks parse.

There is no Mermaid CLI offline, so the flowcharts are checked against the subset of
Mermaid syntax the template writes: ASCII ids, quoted escaped labels, and edges
between declared nodes.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from opsplay.render.sop import render_sop_files
from opsplay.render.writer import write_files

from .conftest import EDGE_CASE, shipped_playbooks

PLAYBOOKS = [*shipped_playbooks(), EDGE_CASE]

LABEL = r'"(?P<label>[^"]*)"'
NODE = re.compile(
    r"^    (?P<id>[A-Za-z][A-Za-z0-9_]*)(?:\["
    + LABEL
    + r"\]|\(\["
    + LABEL.replace("label", "label2")
    + r"\]\)"
    r"|\(\(" + LABEL.replace("label", "label3") + r"\)\))$"
)
EDGE = re.compile(
    r"^    (?P<src>[A-Za-z][A-Za-z0-9_]*) "
    r'(?:-->|-\.->\|"(?P<label>[^"]*)"\|) '
    r"(?P<dst>[A-Za-z][A-Za-z0-9_]*)$"
)
RESERVED = {
    "end",
    "graph",
    "flowchart",
    "subgraph",
    "style",
    "class",
    "classDef",
    "click",
    "linkStyle",
    "default",
}
ENTITY = re.compile(r"#(?:\d+|[a-z]+);")


def _check_label(label: str) -> None:
    bare = ENTITY.sub("", label.replace("<br>", ""))
    assert "#" not in bare, f"unescaped # in label {label!r}"
    assert not set("<>`|\n") & set(bare), f"unescaped character in label {label!r}"


def parse_flowchart(block: str) -> tuple[dict[str, str], list[tuple[str, str, str | None]]]:
    """Nodes and edges of a generated flowchart; AssertionError on anything else."""
    lines = block.splitlines()
    assert lines[0] == "flowchart TD"
    nodes: dict[str, str] = {}
    edges: list[tuple[str, str, str | None]] = []
    for line in lines[1:]:
        if match := NODE.match(line):
            label = match.group("label") or match.group("label2") or match.group("label3") or ""
            assert match.group("id") not in nodes, f"node declared twice: {line}"
            assert match.group("id") not in RESERVED
            _check_label(label)
            nodes[match.group("id")] = label
        elif match := EDGE.match(line):
            assert match.group("src") in nodes and match.group("dst") in nodes, (
                f"edge to undeclared node: {line}"
            )
            if match.group("label") is not None:
                _check_label(match.group("label"))
            edges.append((match.group("src"), match.group("dst"), match.group("label")))
        else:
            raise AssertionError(f"not valid flowchart syntax: {line!r}")
    return nodes, edges


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("path", PLAYBOOKS, ids=lambda p: p.stem)
def test_mermaid_blocks_parse(path: Path, lang: str) -> None:
    text = render_sop_files([path], lang=lang)[path.stem + ".md"]
    blocks = re.findall(r"^```mermaid\n(.*?)^```$", text, flags=re.S | re.M)
    assert len(blocks) == 1
    nodes, edges = parse_flowchart(blocks[0])
    process = [label for node_id, label in nodes.items() if re.fullmatch(r"n\d+", node_id)]
    from opsplay.validate import load_playbook

    playbook = load_playbook(path)
    assert len(process) == len(playbook.nodes)
    fallbacks = [e for e in edges if e[2] is not None]
    # dashed, labelled edges: one per fallback (its triggers), one per escalation step (its wait)
    assert len(fallbacks) == sum(len(n.fallbacks) + len(n.escalation) for n in playbook.nodes)


def test_edge_case_flowchart_escapes_every_label() -> None:
    text = render_sop_files([EDGE_CASE])["edge-case.md"]
    block = re.findall(r"^```mermaid\n(.*?)^```$", text, flags=re.S | re.M)[0]
    nodes, edges = parse_flowchart(block)
    assert nodes["n1"].startswith("受理 #quot;工单#quot; #35;1 #124; [A]<br>")
    assert nodes["n2"].startswith(
        "end<br>"
    )  # a node named `end` keeps an ASCII id that is not `end`
    assert ("n2", "n1", "超时") in edges  # fallback goto: dashed edge labelled with its trigger
    assert nodes["n3f"].endswith("…")


def test_mkdocs_builds_the_rendered_sops_strictly(tmp_path: Path) -> None:
    documents = render_sop_files(PLAYBOOKS)
    write_files(tmp_path / "docs", documents)
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: 运营流程手册\nstrict: true\nuse_directory_urls: true\n", encoding="utf-8"
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",
            "--quiet",
            "-f",
            str(tmp_path / "mkdocs.yml"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "site" / "new-user-onboarding" / "index.html").read_text(encoding="utf-8")
    assert "<title>新用户引导优化" in page  # front matter title used, not printed
    assert "sha256:" not in page
    assert page.count("<table>") >= 5
    assert 'class="language-mermaid"' in page
    edge = (tmp_path / "site" / "edge-case" / "index.html").read_text(encoding="utf-8")
    assert "<script>alert(1)" not in edge and "&lt;script&gt;alert(1)" in edge
    assert 'href="http://evil.example"' not in edge
    assert 'href="http://x"' not in edge
    for table in re.findall(
        r"<table>(.*?)</table>", edge, flags=re.S
    ):  # `|` in text broke no table
        widths = {
            len(re.findall(r"<t[hd][ >]", row))
            for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)
        }
        assert len(widths) == 1, table[:300]
    assert edge.count("<table>") == 7
    index = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert 'href="new-user-onboarding/"' in index


def test_front_matter_names_the_playbook_without_mkdocs_reserved_keys() -> None:
    import yaml

    documents = render_sop_files([EDGE_CASE, *shipped_playbooks()[:1]])
    assert len([name for name in documents if not name.startswith("index")]) == 2, list(documents)
    for name, text in documents.items():
        if name.startswith("index"):
            continue
        front = yaml.safe_load(text.split("---\n")[1])
        # MkDocs themes read `source` as a list of files (one link per character of a string).
        assert "source" not in front, name
        assert front["playbook"].endswith(".yaml") and "/" in front["playbook"], front
        assert len(front["sha256"]) == 64
