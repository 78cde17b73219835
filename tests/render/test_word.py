"""Word documents: python-docx opens them and finds the heading styles, real tables, the steps.

Also the output-file rules of `-o`: the format follows the suffix, an unknown suffix is a
usage error listing the formats (exit 2, nothing written), never Markdown under another name.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import docx
import pytest
from typer.testing import CliRunner

from opsplay.cli import app
from opsplay.render.documents import render_report_document, render_sops
from opsplay.validate import load_playbook

from .conftest import EDGE_CASE, REPORT_CASES, shipped_playbooks

HEADER = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}tblHeader"


def _open(data: bytes) -> Any:
    return docx.Document(io.BytesIO(data))


def _headings(document: Any) -> list[tuple[str, str]]:
    return [
        (p.style.name, p.text)
        for p in document.paragraphs
        if p.style.name == "Title" or p.style.name.startswith("Heading")
    ]


def _table_with(document: Any, first_header: str, rows: int) -> Any:
    """The table whose header row starts with `first_header`, with `rows` rows below it."""
    found = [
        t
        for t in document.tables
        if len(t.rows) == rows + 1 and t.rows[0].cells[0].text == first_header
    ]
    assert len(found) == 1, [[c.text for c in t.rows[0].cells] for t in document.tables]
    return found[0]


def _header_row(table: Any) -> list[str]:
    row = table.rows[0]
    assert row._tr.find(f".//{HEADER}") is not None, "first row is not a repeated header row"
    assert all(run.bold for cell in row.cells for p in cell.paragraphs for run in p.runs)
    return [cell.text for cell in row.cells]


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("zh", {"goal": "目的与目标", "table2": "流程阶段", "table1": "场景名称", "stage": "流程"}),
        (
            "en",
            {
                "goal": "Purpose and goal",
                "table2": "Process stage",
                "table1": "Scenario name",
                "stage": "Process",
            },
        ),
    ],
)
@pytest.mark.parametrize("path", [*shipped_playbooks(), EDGE_CASE], ids=lambda p: p.stem)
def test_sop_docx_has_headings_tables_and_numbered_steps(
    path: Path, lang: str, words: dict[str, str]
) -> None:
    playbook = load_playbook(path)
    documents = render_sops([path], fmt="docx", lang=lang)
    assert sorted(documents) == sorted([f"{playbook.metadata.id}.docx", "index.docx"])
    document = _open(documents[f"{playbook.metadata.id}.docx"])  # type: ignore[arg-type]
    headings = _headings(document)
    assert headings[0] == ("Title", playbook.metadata.title.replace("\n", " "))
    assert ("Heading 1", words["goal"]) in headings
    assert ("Heading 1", words["stage"]) in headings
    # Table 2: one row per node under a header row
    table2 = _table_with(document, words["table2"], len(playbook.nodes))
    assert words["table2"] in _header_row(table2)
    assert [row.cells[1].text for row in table2.rows[1:]] == [
        node.name.replace("\n", " ") for node in playbook.nodes
    ]
    if playbook.scenarios:
        table1 = _table_with(document, words["table1"], len(playbook.scenarios))
        _header_row(table1)
    # the flowchart as numbered steps, one per node, in order
    steps = [p.text for p in document.paragraphs if p.style.name == "List Paragraph"]
    for number, node in enumerate(playbook.nodes, start=1):
        assert any(s.startswith(f"{number}. {node.name}") for s in steps), (number, node.name)
    properties = document.core_properties
    assert properties.title == playbook.metadata.title
    assert properties.modified.date() == playbook.metadata.updated
    assert properties.language == ("zh-CN" if lang == "zh" else "en")


def test_docx_is_byte_stable_and_fallbacks_read_as_steps() -> None:
    path = shipped_playbooks()[0].parent / "new-user-onboarding.yaml"
    first = render_sops([path], fmt="docx", lang="zh")
    assert first == render_sops([path], fmt="docx", lang="zh")
    steps = [
        p.text
        for p in _open(first["new-user-onboarding.docx"]).paragraphs  # type: ignore[arg-type]
        if p.style.name == "List Paragraph"
    ]
    assert steps[0] == (
        "1. 行为标签识别（算法工程师）：完成后转第2步「个性化内容推送」；"
        "失败或超时时转至第2步「个性化内容推送」"
    )


def test_markup_in_text_stays_text_in_word() -> None:
    document = _open(render_sops([EDGE_CASE], fmt="docx", lang="zh")["edge-case.docx"])  # type: ignore[arg-type]
    text = "\n".join(p.text for p in document.paragraphs) + "\n".join(
        cell.text for table in document.tables for row in table.rows for cell in row.cells
    )
    assert "<script>alert(1)</script>" in text  # shown as written, as text


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("path", REPORT_CASES, ids=lambda p: p.stem)
def test_report_docx_has_table3_with_a_row_per_metric(
    path: Path, lang: str, comparison_files: dict[Path, Path]
) -> None:
    playbook = load_playbook(path)
    comparison = json.loads(comparison_files[path].read_text("utf-8"))
    data = render_report_document(playbook, comparison, fmt="docx", lang=lang)
    assert isinstance(data, bytes)
    document = _open(data)
    headings = _headings(document)
    assert headings[0][0] == "Title"
    table3_title = "表3 试点效果对比" if lang == "zh" else "Table 3"
    assert any(style == "Heading 1" and text.startswith(table3_title) for style, text in headings)
    table3 = _table_with(
        document, "试点范围" if lang == "zh" else "Pilot scope", len(comparison["metrics"])
    )
    header = _header_row(table3)
    assert ("偏差率" if lang == "zh" else "Deviation") in " ".join(header)


def test_render_report_writes_docx_from_the_suffix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, comparison_files: dict[Path, Path]
) -> None:
    monkeypatch.chdir(tmp_path)
    path = REPORT_CASES[0]
    saved = comparison_files[path]
    result = CliRunner().invoke(
        app, ["render-report", str(path), "--from-json", str(saved), "-o", "review.docx"]
    )
    assert result.exit_code == 0, result.output
    document = docx.Document(str(tmp_path / "review.docx"))
    assert document.tables and _headings(document)[0][0] == "Title"


@pytest.mark.parametrize("command", ["render-sop", "render-report"])
def test_unknown_suffix_is_a_usage_error_listing_the_formats(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    command: str,
    comparison_files: dict[Path, Path],
) -> None:
    monkeypatch.chdir(tmp_path)
    path = REPORT_CASES[0]
    saved = comparison_files[path]
    args = [command, str(path), "-o", "x.pdf"]
    if command == "render-report":
        args += ["--from-json", str(saved)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert ".pdf" in result.output and "docx" in result.output and "html" in result.output
    assert "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []


def test_format_contradicting_the_suffix_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    path = shipped_playbooks()[0]
    result = CliRunner().invoke(app, ["render-sop", str(path), "-o", "x.docx", "--format", "html"])
    assert result.exit_code == 2 and "x.html" in result.output
    assert list(tmp_path.iterdir()) == []


def test_render_sop_one_file_and_folder_of_docx(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    one = shipped_playbooks()[0]
    result = runner.invoke(app, ["render-sop", str(one), "-o", "one.docx"])
    assert result.exit_code == 0, result.output
    assert _headings(docx.Document("one.docx"))[0][1] == load_playbook(one).metadata.title
    many = runner.invoke(app, ["render-sop", str(one.parent), "-o", "all.docx"])
    assert many.exit_code == 2 and "-o DIR" in many.output
    folder = runner.invoke(app, ["render-sop", str(one.parent), "-o", "word", "--format", "docx"])
    assert folder.exit_code == 0, folder.output
    assert folder.output.count("wrote") == len(shipped_playbooks()) + 1, folder.output
    names = sorted(p.name for p in (tmp_path / "word").iterdir())
    assert names == sorted([*(p.stem + ".docx" for p in shipped_playbooks()), "index.docx"])
    written = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "word").iterdir()}
    again = runner.invoke(app, ["render-sop", str(one.parent), "-o", "word", "--format", "docx"])
    assert again.exit_code == 0, again.output
    # same bytes: nothing rewritten
    assert "wrote" not in again.output
    assert {p.name: p.stat().st_mtime_ns for p in (tmp_path / "word").iterdir()} == written


def test_render_sop_without_output_says_where_to_write() -> None:
    result = CliRunner().invoke(app, ["render-sop", str(shipped_playbooks()[0])])
    assert result.exit_code == 2 and "--site" in result.output and "-o" in result.output


def test_fixed_date_when_the_html_has_none() -> None:
    from opsplay.render.word import html_to_docx

    document = _open(html_to_docx("<main><h1>x</h1></main>", steps=[], lang="en"))
    assert document.core_properties.modified.date() == dt.date(2000, 1, 1)


def _body_order(document: Any) -> list[Any]:
    """Paragraphs and tables in document order (python-docx objects)."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    items = []
    for child in document.element.body.iterchildren():
        if child.tag.endswith("}p"):
            items.append(Paragraph(child, document))
        elif child.tag.endswith("}tbl"):
            items.append(Table(child, document))
    return items


def test_table2_sits_on_a_landscape_page_with_columns_sized_to_content() -> None:
    from docx.enum.section import WD_ORIENT

    path = shipped_playbooks()[0].parent / "complaint-handling.yaml"
    document = _open(render_sops([path], fmt="docx", lang="zh")["complaint-handling.docx"])  # type: ignore[arg-type]
    table2 = _table_with(document, "流程阶段", len(load_playbook(path).nodes))
    widths = [cell.width for cell in table2.rows[0].cells]
    header = _header_row(table2)
    assert len(set(widths)) > 2, widths
    assert max(widths) == widths[header.index("异常处理方案")]
    assert widths[header.index("异常处理方案")] > 2 * widths[header.index("负责人")]
    assert any(s.orientation == WD_ORIENT.LANDSCAPE for s in document.sections)
    assert document.sections[-1].orientation == WD_ORIENT.PORTRAIT
    # the table fits the turned page: its widths add up to the landscape text width at most
    landscape = next(s for s in document.sections if s.orientation == WD_ORIENT.LANDSCAPE)
    assert sum(widths) <= landscape.page_width - landscape.left_margin - landscape.right_margin


def test_tags_are_separated_and_escalation_steps_are_sentences() -> None:
    folder = shipped_playbooks()[0].parent
    document = _open(
        render_sops([folder / "incident-response.yaml"], fmt="docx", lang="zh")[
            "incident-response.docx"
        ]
    )  # type: ignore[arg-type]
    texts = [p.text for p in document.paragraphs]
    assert "标签：sre、incident、on-call和postmortem" in texts or any(
        t.startswith("标签：sre、incident、") for t in texts
    ), [t for t in texts if "sre" in t]
    steps = [p.text for p in document.paragraphs if p.style.name == "List Paragraph"]
    assert any(
        "超过5m仍未完成则升级至Secondary on-call engineer（PagerDuty pages the secondary on-call）"
        in step
        for step in steps
    ), steps


def test_flowchart_is_a_picture_or_has_no_legend() -> None:
    from opsplay.render.picture import flowchart_png

    path = shipped_playbooks()[0].parent / "complaint-handling.yaml"
    document = _open(render_sops([path], fmt="docx", lang="zh")["complaint-handling.docx"])  # type: ignore[arg-type]
    items = _body_order(document)
    texts = [getattr(item, "text", None) for item in items]
    legend = "实线为正常流转，虚线为异常处理（标注触发条件）。"
    drawn = flowchart_png('<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"></svg>')
    if drawn is None:
        assert legend not in texts and len(document.inline_shapes) == 0
        return
    assert len(document.inline_shapes) == 1
    picture = next(
        index
        for index, item in enumerate(items)
        if getattr(item, "_p", None) is not None and item._p.xpath(".//w:drawing")
    )
    # picture, its legend, then the numbered steps
    assert texts[picture + 1] == legend
    assert texts[picture + 2].startswith("1. 多渠道受理登记")


def test_without_a_picture_the_legend_is_left_out(monkeypatch: pytest.MonkeyPatch) -> None:
    import opsplay.render.picture

    monkeypatch.setattr(opsplay.render.picture, "flowchart_png", lambda svg: None)
    path = shipped_playbooks()[0].parent / "complaint-handling.yaml"
    document = _open(render_sops([path], fmt="docx", lang="zh")["complaint-handling.docx"])  # type: ignore[arg-type]
    texts = [p.text for p in document.paragraphs]
    assert len(document.inline_shapes) == 0
    assert not any(text.startswith("实线为正常流转") for text in texts)
    assert any(text.startswith("1. 多渠道受理登记") for text in texts)


def test_a_wide_tables_heading_turns_with_it_and_numbers_stay_whole(
    comparison_files: dict[Path, Path],
) -> None:
    """表3's heading and note sit on the landscape page with the table, not on the page before;
    `+10.7%` gets a column wide enough for it."""
    from opsplay.render.htmltree import Element
    from opsplay.render.word import column_widths

    path = REPORT_CASES[0]
    comparison = json.loads(comparison_files[path].read_text("utf-8"))
    data = render_report_document(load_playbook(path), comparison, fmt="docx", lang="zh")
    document = _open(data)  # type: ignore[arg-type]
    body = list(document.element.body.iterchildren())
    heading = next(i for i, e in enumerate(body) if e.xpath("string(.)") == "表3 试点效果对比")
    breaks = [i for i, e in enumerate(body) if e.tag.endswith("}p") and e.xpath(".//w:sectPr")]
    table = next(i for i, e in enumerate(body) if e.tag.endswith("}tbl") and i > heading)
    assert any(b < heading for b in breaks) and any(table < b for b in breaks)
    assert not any(heading < b < table for b in breaks)
    cell = Element("td", children=["+10.7%"])
    widths, _landscape = column_widths([[Element("th", children=["偏差率"])], [cell]], 1)
    assert widths[0] >= 8 * 115  # eight Latin characters' worth at least


def test_escalation_table_keeps_each_step_in_its_columns() -> None:
    """Issue 20: the node cell spans its ladder (`rowspan`); from a node's second step every
    cell moved one column left (the time under 节点, the action under 升级至)."""
    folder = shipped_playbooks()[0].parent
    data = render_sops([folder / "incident-response.yaml"], fmt="docx", lang="zh")
    document = _open(data["incident-response.docx"])  # type: ignore[arg-type]
    table = _table_with(document, "节点", 9)  # the escalation table: nine steps
    assert _header_row(table) == ["节点", "未完成时长", "升级给", "处置动作"]
    rows = [[cell.text for cell in row.cells] for row in table.rows[1:]]
    assert all(len(row) == 4 for row in rows), rows
    first, second, third, fourth = rows[:4]  # the first node's ladder of three steps
    assert first[0] == second[0] == third[0] == "Acknowledge and assign severity"  # merged
    assert fourth[0] == "Escalate to incident commander"
    assert [row[1] for row in rows[:4]] == ["5m", "10m", "20m", "10m"], rows[:4]
    assert second[2] == "Incident commander", second
    assert second[3] == "PagerDuty pages the incident commander rotation", second
    assert third[3].startswith("The incident commander calls"), third


def test_flowchart_picture_shows_its_edge_labels() -> None:
    """Issue 20: the Word picture had no 失败 / 超时 / escalation waits. An edge label's white
    halo is `paint-order="stroke"`, which cairo ignores: the halo was painted over the letters."""
    import re

    from opsplay.render.flowchart import flowchart_svg
    from opsplay.render.picture import SCALE, flowchart_png
    from opsplay.render.sop import flow, playbook_data

    image = pytest.importorskip("PIL.Image")
    playbook = load_playbook(shipped_playbooks()[0].parent / "complaint-handling.yaml")
    svg = str(flowchart_svg(flow(playbook_data(playbook)), lang="zh", title="t"))
    labels = re.findall(r"<text [^>]*paint-order=\"stroke\"[^>]*>[^<]*</text>", svg)
    assert labels and any("超时" in label for label in labels)
    # the labels alone, as the flowchart writes them (no line under them)
    only_labels = re.sub(
        r"(<svg [^>]*>).*(</svg>)", lambda m: m[1] + "".join(labels) + m[2], svg, flags=re.S
    )
    png = flowchart_png(only_labels)
    if png is None:
        pytest.skip("no CairoSVG or no Chinese font here: the document has no picture")
    picture = image.open(io.BytesIO(png)).convert("RGBA")
    drawn = image.new("RGBA", picture.size, "white")
    drawn.alpha_composite(picture)  # as Word shows it, on white paper
    for label in labels:
        x, y = (float(v) for v in re.findall(r' [xy]="([\d.]+)"', label)[:2])
        box = (
            int((x - 12) * SCALE),
            int((y - 10) * SCALE),
            int((x + 12) * SCALE),
            int((y + 2) * SCALE),
        )
        colours = drawn.crop(box).getcolors(maxcolors=100_000) or []
        letters = sum(count for count, colour in colours if sum(colour[:3]) < 500)
        assert letters > 20, (label, letters)  # not white: the letters show
