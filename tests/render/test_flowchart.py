"""The flowchart drawn as inline SVG: every node named, no box over another, byte-stable, inert.

Non-overlap is checked twice: on the layout's own coordinates (always), and on what a
real browser draws (headless Chromium's getBBox of each node group, text included), which
is skipped with the reason when no Chromium is installed.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from opsplay.render.flowtext import wrap
from opsplay.render.layout import layout
from opsplay.render.sop import flow, playbook_data, render_sop
from opsplay.text import visible
from opsplay.validate import load_playbook

from .conftest import EDGE_CASE, FIXTURES, REPO, shipped_playbooks

PLAYBOOKS = sorted(
    {
        *shipped_playbooks(),
        EDGE_CASE,
        *FIXTURES.glob("*.yaml"),
        *(REPO / "tests/cases/valid").glob("*.yaml"),
    }
)
GROUP = re.compile(r'<g class="node (\w+)" data-id="([^"]*)">\n<title>([^<]*)</title>', re.M)


def _svg(text: str) -> str:
    blocks = re.findall(r"<svg [^>]*class=\"opsplay-flowchart\".*?</svg>", text, flags=re.S)
    assert len(blocks) == 1, "exactly one flowchart per document"
    return blocks[0]


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("path", PLAYBOOKS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_html_sop_draws_every_node_by_name(path: Path, lang: str) -> None:
    playbook = load_playbook(path)
    document = render_sop(playbook, lang=lang, fmt="html")
    svg = _svg(document)
    groups = GROUP.findall(svg)
    process = [(key, html.unescape(title)) for kind, key, title in groups if kind == "process"]
    assert [title for _, title in process] == [visible(node.name) for node in playbook.nodes]
    assert len({key for _, key, _ in groups}) == len(groups)
    fallbacks = sum(
        len(node.fallback) if isinstance(node.fallback, list) else 1
        for node in playbook.nodes
        if node.fallback
    )
    assert svg.count('<g class="edge fallback"') == fallbacks
    assert svg.count('stroke-dasharray="5 4"') == svg.count('<g class="edge') - svg.count(
        '<g class="edge next"'
    )
    assert "```mermaid" not in document and 'class="mermaid"' not in document
    # inert: no script, no link, nothing fetched
    assert "<script" not in svg.lower() and "href" not in svg and "url(" not in svg
    assert re.findall(r"https?://[^\"' ]+", svg) == ["http://www.w3.org/2000/svg"]


@pytest.mark.parametrize("path", PLAYBOOKS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_layout_boxes_never_overlap(path: Path) -> None:
    playbook = load_playbook(path)
    drawing = layout(flow(playbook_data(playbook)), "zh")
    boxes = drawing.boxes
    assert len(boxes) >= len(playbook.nodes) > 0  # a box per node at least (fallbacks add more)
    for index, box in enumerate(boxes):
        assert box.width > 0 and box.height > 0
        assert box.x >= 0 and box.y >= 0
        assert box.x + box.width <= drawing.width and box.y + box.height <= drawing.height
        for other in boxes[index + 1 :]:
            assert not box.overlaps(other), f"{box.key} overlaps {other.key}"


def test_markup_in_a_node_name_stays_text(tmp_path: Path) -> None:
    source = (REPO / "playbooks" / "new-user-onboarding.yaml").read_text("utf-8")
    hostile = source.replace(
        "name: 行为标签识别", "name: '<script>alert(1)</script> & <b>x</b>'", 1
    )
    assert hostile != source
    path = tmp_path / "hostile.yaml"
    path.write_text(hostile, "utf-8")
    svg = _svg(render_sop(load_playbook(path), fmt="html"))
    assert "<script>" not in svg and "<b>" not in svg
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;x&lt;/b&gt;" in svg


@pytest.mark.parametrize("limit", [90, 120, 150, 180])
def test_a_number_stays_with_its_unit(limit: int) -> None:
    """CLREQ: `30` and `分钟内` are not split across lines (a per-level limit under a node)."""
    note = "值班运维工程师 · P1 5分钟 / P2 30分钟内 / 其他 3个工作日；超时1.5小时升级"
    lines = wrap(note, 11, limit=limit, max_lines=9)
    assert "".join(lines).replace(" ", "") == note.replace(" ", "")
    for unit in ("5分钟", "30分钟内", "3个工作日", "1.5小时"):
        assert any(unit in line for line in lines), (unit, lines)


@pytest.mark.parametrize("limit", [100, 140, 180])
def test_a_time_limit_is_never_broken_inside(limit: int) -> None:
    """Issue 21 try-out: the SVG read `次日12|点前` and `P2|15分钟`. Each limit, and the
    owner's name, stays on one line when it fits on one."""
    whole = [
        "值班负责人（李娜）",
        "P1 次日12点前",
        "P2 1个工作日",
        "P2 15分钟",
        "2小时（客服班次）",
    ]
    note = "值班负责人（李娜） · P1 次日12点前、P2 1个工作日、P2 15分钟、2小时（客服班次）"
    lines = wrap(note, 11, limit=limit, max_lines=9, keep=whole)
    assert "".join(lines).replace(" ", "") == note.replace(" ", "")
    for phrase in whole:
        assert any(phrase in line for line in lines), (phrase, lines)


def test_the_oncall_flowchart_keeps_limits_whole_and_names_business_hours() -> None:
    playbook = load_playbook(REPO / "tests" / "render" / "fixtures" / "wms-oncall.yaml")
    svg = _svg(render_sop(playbook, fmt="html", lang="zh"))
    labels = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    for limit in ("P1 次日12点前、P2 1个工作日", "P2 15分钟", "2小时（客服班次）"):
        assert any(limit in label for label in labels), (limit, labels)
    assert not any(label.endswith(("次日12", "P2", "P1")) for label in labels), labels


def test_long_chinese_names_wrap_and_punctuation_never_starts_a_line() -> None:
    lines = wrap("智能分级置信度低于0.8或用户对分级有异议时，人工复核并就高定级，" * 3, 13)
    assert len(lines) == 3 and lines[-1].endswith("…")
    assert not any(line.startswith(("，", "。")) for line in lines)
    # English breaks at spaces, never inside a word
    assert wrap("Escalate to the on-call duty manager", 13, limit=120) == [
        "Escalate to",
        "the on-call",
        "duty manager",
    ]


def test_same_input_same_bytes_across_processes() -> None:
    code = (
        "import sys; from pathlib import Path; from opsplay.validate import load_playbook;"
        "from opsplay.render.sop import render_sop;"
        "[sys.stdout.write(render_sop(load_playbook(Path(p)), fmt='html')) for p in sys.argv[1:]]"
    )
    paths = [str(p) for p in shipped_playbooks()]
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code, *paths],
            capture_output=True,
            check=True,
            env={"PYTHONHASHSEED": seed, "PYTHONPATH": str(REPO)},
            cwd=REPO,
            timeout=120,
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(outputs) == 1


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


MEASURE = """<script>
const out = [];
document.querySelectorAll("svg.opsplay-flowchart").forEach((svg, index) => {
  const boxes = [];
  svg.querySelectorAll("g.node").forEach((g) => {
    const b = g.getBBox();
    boxes.push([g.dataset.id, b.x, b.y, b.width, b.height]);
  });
  out.push({index: index, boxes: boxes});
});
document.getElementById("result").textContent = JSON.stringify(out);
</script>"""


def test_chromium_draws_node_boxes_apart(tmp_path: Path) -> None:
    browser = _chromium()
    if browser is None:
        pytest.skip("headless Chromium is not installed (apt-get install -y chromium)")
    svgs = [
        _svg(render_sop(load_playbook(path), lang=lang, fmt="html"))
        for path in PLAYBOOKS
        for lang in ("zh", "en")
    ]
    page = tmp_path / "measure.html"
    page.write_text(
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>'
        + "".join(f"<div>{svg}</div>" for svg in svgs)
        + '<pre id="result"></pre>'
        + MEASURE
        + "</body></html>",
        "utf-8",
    )
    result = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    found = re.search(r'<pre id="result">(.*?)</pre>', result.stdout, re.S)
    assert found and found.group(1), result.stdout[-2000:]
    measured = json.loads(html.unescape(found.group(1)))
    assert len(measured) == len(svgs)
    for chart in measured:
        boxes = chart["boxes"]
        assert boxes, "a flowchart without node boxes"
        for index, (key, x, y, w, h) in enumerate(boxes):
            assert w > 0 and h > 0, key
            for other, ox, oy, ow, oh in boxes[index + 1 :]:
                apart = x + w <= ox or ox + ow <= x or y + h <= oy or oy + oh <= y
                assert apart, f"chart {chart['index']}: {key} overlaps {other}"


def test_a_ladder_per_level_speaks_of_its_level_not_of_default(tmp_path: Path) -> None:
    """Issue 20: the edges read `default: 4小时` (the tables say 其他级别) and Word's steps
    `超过default: 4小时仍未完成…` and `超过P1: 30分钟…`."""
    from opsplay.render.flowchart import flow_steps, flowchart_svg

    case = REPO / "tests" / "cases" / "valid" / "zh-incident-levels.yaml"
    text = case.read_text("utf-8")
    ladder = """    escalation:
      - {after: 5分钟, to: ops-manager, action: 电话通知运维经理}
      - {after: 30分钟, to: tech-vp, action: 升级至技术副总裁}
"""
    per_level = """    escalation:
      P1:
        - {after: 5分钟, to: ops-manager, action: 电话通知运维经理}
      default:
        - {after: 30分钟, to: tech-vp, action: 升级至技术副总裁}
"""
    assert text.count(ladder) == 1
    path = tmp_path / "levels.yaml"
    path.write_text(text.replace(ladder, per_level), "utf-8")
    playbook = load_playbook(path)
    graph = flow(playbook_data(playbook))
    steps = "\n".join(flow_steps(graph, "zh"))
    assert "P1 级超过5分钟仍未完成则升级至" in steps, steps
    assert "其他级别超过30分钟仍未完成则升级至" in steps, steps
    svg = str(flowchart_svg(graph, lang="zh", title="t"))
    labels = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    assert "P1：5分钟" in labels and "其他级别：30分钟" in labels, labels
    page = render_sop(playbook, fmt="md", lang="zh")
    assert '-.->|"其他级别：30分钟"|' in page
    assert "default" not in steps + svg + page.split("```mermaid")[1].split("```")[0]
    english = "\n".join(flow_steps(graph, "en"))
    assert "at other levels, if unfinished after 30分钟" in english, english
