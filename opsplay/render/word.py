"""Word documents (python-docx) made from the HTML SOPs and reports, so the words are the templates'.

The HTML document is walked once: headings become Word heading styles, tables real
Word tables whose first row is a repeated header row, lists and paragraphs keep bold
text and line breaks. The drawn flowchart becomes a numbered list of the nodes with
their next steps and exception handling: a picture would need a rasteriser with fonts
for Chinese (a system binary), and a list pastes into 钉钉 / 飞书 / Confluence as text.
The .docx bytes are stable: fixed zip timestamps and document dates from the playbook.
"""

from __future__ import annotations

import datetime as dt
import io
import struct
import zipfile
from typing import Any

from opsplay.render.htmltree import SKIP, Element, clean, find, parse_html, text_of
from opsplay.text import visible

_HEADINGS = {"h1": 0, "h2": 1, "h3": 2, "h4": 3, "h5": 4, "h6": 5}
EAST_ASIAN_FONT = "Microsoft YaHei"


class _Writer:
    """Appends the element tree to a python-docx Document."""

    def __init__(self, document: Any, steps: list[str]) -> None:
        self.document = document
        self.steps = steps
        # style ids by name, looked up once (python-docx searches the styles part every time)
        self.style_ids = {style.name: style.style_id for style in document.styles}

    def paragraph(self, style: str | None = None, text: str = "") -> Any:
        """A new paragraph at the end of the document, in the named paragraph style."""
        paragraph = self.document.add_paragraph(text)
        if style is not None:
            paragraph._p.style = self.style_ids[style]
        return paragraph

    def block(self, node: Element | str, level: int = 0) -> None:
        """Write one block-level node (descending into containers)."""
        if isinstance(node, str):
            if node.strip():
                self.paragraph(None, clean(node))
            return
        tag = node.tag
        if tag in SKIP or tag in ("nav", "button"):
            return
        if tag in _HEADINGS:
            level_of = _HEADINGS[tag]
            self.paragraph(
                "Title" if level_of == 0 else f"Heading {level_of}", clean(text_of(node))
            )
        elif tag == "p":
            self.runs(self.paragraph(), node)
        elif tag in ("ul", "ol"):
            self.listing(node, ordered=tag == "ol", level=level)
        elif tag == "table":
            self.table(node)
        elif tag == "figure":
            if "flowchart" in node.classes():
                for line in self.steps:
                    self.paragraph("List Paragraph", line)
            # other figures are charts of numbers the tables already hold
        elif tag == "pre":
            paragraph = self.paragraph()
            run = paragraph.add_run(visible(text_of(node)))
            run.font.name = "Consolas"
        elif tag == "footer":
            paragraph = self.paragraph()
            self.runs(paragraph, node)
            for run in paragraph.runs:
                run.font.size = _pt(8)
        else:
            inline = [c for c in node.children if isinstance(c, str) or c.tag in _INLINE]
            if inline and all(isinstance(c, str) or c.tag in _INLINE for c in node.children):
                if clean(text_of(node)):
                    self.runs(self.paragraph(), node)
                return
            for child in node.children:
                self.block(child, level)

    def runs(self, paragraph: Any, node: Element | str, bold: bool = False) -> None:
        """Inline content as runs: bold for strong/b/th, a line break for <br>."""
        if isinstance(node, str):
            text = visible(" ".join(node.split("\n")))
            if text.strip() or (text and paragraph.runs):
                run = paragraph.add_run(text)
                if bold:
                    run.bold = True
            return
        if node.tag in SKIP:
            return
        if node.tag == "br":
            paragraph.add_run().add_break()
            return
        strong = bold or node.tag in ("strong", "b", "th")
        for child in node.children:
            self.runs(paragraph, child, strong)

    def listing(self, node: Element, *, ordered: bool, level: int) -> None:
        number = 0
        for item in node.children:
            if not isinstance(item, Element) or item.tag != "li":
                continue
            number += 1
            style = "List Number" if ordered else "List Bullet"
            if level:
                style += f" {min(level + 1, 3)}"
            # numbers written out: Word's list numbering would run on across separate lists
            paragraph = self.paragraph("List Paragraph" if ordered else style)
            if ordered:
                paragraph.add_run(f"{number}. ")
            nested = []
            for child in item.children:
                if isinstance(child, Element) and child.tag in ("ul", "ol"):
                    nested.append(child)
                else:
                    self.runs(paragraph, child)
            for child in nested:
                self.listing(child, ordered=child.tag == "ol", level=level + 1)

    def table(self, node: Element) -> None:
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn

        caption = find(node, "caption")
        if caption is not None:
            self.runs(self.paragraph("Caption"), caption)
        rows = [row for row in _rows(node) if row]
        if not rows:
            return
        width = max(len(row) for row in rows)
        table = self.document.add_table(rows=len(rows), cols=width)
        table._tbl.tblPr.style = self.style_ids["Table Grid"]
        for row, row_cells in zip(rows, table.rows, strict=True):
            for cell, target in zip(row, row_cells.cells, strict=False):
                paragraph = target.paragraphs[0]
                self.runs(paragraph, cell, bold=cell.tag == "th")
                if "num" in cell.classes():
                    paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        if all(cell.tag == "th" for cell in rows[0]):
            properties = table.rows[0]._tr.get_or_add_trPr()
            header = OxmlElement("w:tblHeader")
            header.set(qn("w:val"), "true")
            properties.append(header)
        self.paragraph()


_INLINE = {"a", "span", "strong", "b", "em", "i", "code", "br", "small", "sub", "sup", "abbr"}


def _rows(table: Element) -> list[list[Element]]:
    rows: list[list[Element]] = []
    for child in table.children:
        if not isinstance(child, Element) or child.tag == "caption":
            continue
        if child.tag == "tr":
            rows.append(
                [c for c in child.children if isinstance(c, Element) and c.tag in ("th", "td")]
            )
        elif child.tag in ("thead", "tbody", "tfoot"):
            rows.extend(_rows(child))
    return rows


def _pt(size: float) -> Any:
    from docx.shared import Pt

    return Pt(size)


def _metadata(root: Element) -> dict[str, str]:
    """The `<meta name="opsplay:…">` front matter of an opsplay HTML document."""
    found: dict[str, str] = {}

    def walk(node: Element) -> None:
        for child in node.children:
            if isinstance(child, Element):
                name = child.attrs.get("name", "")
                if child.tag == "meta" and name.startswith("opsplay:"):
                    found[name.removeprefix("opsplay:")] = child.attrs.get("content", "")
                walk(child)

    walk(root)
    return found


def html_to_docx(html: str, *, steps: list[str], lang: str) -> bytes:
    """A Word document with the content of an opsplay HTML document (see the module docstring)."""
    import docx
    from docx.oxml.ns import qn

    root = parse_html(html)
    document = docx.Document()
    normal = document.styles["Normal"]
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), EAST_ASIAN_FONT)
    meta = _metadata(root)
    body = find(root, "main") or find(root, "body") or root
    _Writer(document, steps).block(body)
    properties = document.core_properties
    title = find(root, "title")
    properties.title = visible(meta.get("title") or (clean(text_of(title)) if title else ""))
    properties.subject = visible(meta.get("description", ""))
    properties.keywords = visible(meta.get("tags", "")).strip("[]")
    properties.category = visible(meta.get("status", ""))
    properties.identifier = visible(meta.get("id", ""))
    properties.version = visible(meta.get("version", ""))
    properties.language = "zh-CN" if lang == "zh" else "en"
    properties.author = "opsplay"
    properties.last_modified_by = "opsplay"
    properties.comments = ""
    properties.revision = 1
    stamp = _date(meta.get("updated")) or dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
    properties.created = stamp
    properties.modified = stamp
    buffer = io.BytesIO()
    document.save(buffer)
    return _stable_zip(buffer.getvalue())


def _date(value: str | None) -> dt.datetime | None:
    try:
        day = dt.date.fromisoformat(str(value))
    except ValueError:
        return None
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc)


def _stable_zip(data: bytes) -> bytes:
    """The same archive with fixed entry timestamps, so equal content is equal bytes.

    python-docx stamps each zip entry with the current time; only those two-byte DOS time
    and date fields are rewritten (in the local headers and the central directory), so
    the compressed data is not redone.
    """
    patched = bytearray(data)
    time_field, date_field = 0, (1 << 5) | 1  # 00:00:00, 1980-01-01
    stamp = struct.pack("<HH", time_field, date_field)
    archive = zipfile.ZipFile(io.BytesIO(data))
    for info in archive.infolist():
        local = info.header_offset
        if patched[local : local + 4] != b"PK\x03\x04":
            raise ValueError("unexpected zip layout")
        patched[local + 10 : local + 14] = stamp
    start = data.rfind(b"PK\x05\x06")
    count, _size, offset = struct.unpack("<HII", data[start + 10 : start + 20])
    position = offset
    for _ in range(count):
        if patched[position : position + 4] != b"PK\x01\x02":
            raise ValueError("unexpected zip layout")
        patched[position + 12 : position + 16] = stamp
        name_length, extra_length, comment_length = struct.unpack(
            "<HHH", data[position + 28 : position + 34]
        )
        position += 46 + name_length + extra_length + comment_length
    return bytes(patched)
