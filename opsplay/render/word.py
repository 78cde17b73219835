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
import re
import struct
import zipfile
from xml.sax.saxutils import escape as xml_escape

from opsplay.render.htmltree import SKIP, Element, clean, find, parse_html, text_of
from opsplay.text import visible

_HEADINGS = {"h1": 0, "h2": 1, "h3": 2, "h4": 3, "h5": 4, "h6": 5}
EAST_ASIAN_FONT = "Microsoft YaHei"


class _Writer:
    """Writes the element tree as WordprocessingML body text (parsed once at the end).

    Building the XML as text is several times faster than python-docx's element-by-element
    API, which matters when a thousand SOPs are rendered; the document package, styles and
    properties still come from python-docx.
    """

    def __init__(self, style_ids: dict[str, str], steps: list[str]) -> None:
        self.style_ids = style_ids
        self.steps = steps
        self.parts: list[str] = []

    def paragraph(self, style: str | None, runs: str, *, right: bool = False) -> None:
        """Append a paragraph in the named style holding the given runs."""
        properties = ""
        if style is not None:
            properties += f'<w:pStyle w:val="{self.style_ids[style]}"/>'
        if right:
            properties += '<w:jc w:val="right"/>'
        self.parts.append(
            f"<w:p>{f'<w:pPr>{properties}</w:pPr>' if properties else ''}{runs}</w:p>"
        )

    def block(self, node: Element | str, level: int = 0) -> None:
        """Write one block-level node (descending into containers)."""
        if isinstance(node, str):
            if node.strip():
                self.paragraph(None, _run(clean(node)))
            return
        tag = node.tag
        if tag in SKIP or tag in ("nav", "button"):
            return
        if tag in _HEADINGS:
            level_of = _HEADINGS[tag]
            style = "Title" if level_of == 0 else f"Heading {level_of}"
            self.paragraph(style, _run(clean(text_of(node))))
        elif tag == "p":
            self.paragraph(None, self.runs(node))
        elif tag in ("ul", "ol"):
            self.listing(node, ordered=tag == "ol", level=level)
        elif tag == "table":
            self.table(node)
        elif tag == "figure":
            if "flowchart" in node.classes():
                for line in self.steps:
                    self.paragraph("List Paragraph", _run(line))
            # other figures are charts of numbers the tables already hold
        elif tag == "pre":
            self.paragraph(None, _run(visible(text_of(node)), font="Consolas"))
        elif tag == "footer":
            self.paragraph(None, self.runs(node, size=16))
        else:
            if all(isinstance(c, str) or c.tag in _INLINE for c in node.children):
                if clean(text_of(node)):
                    self.paragraph(None, self.runs(node))
                return
            for child in node.children:
                self.block(child, level)

    def runs(self, node: Element | str, bold: bool = False, size: int | None = None) -> str:
        """Inline content as runs: bold for strong/b/th, a line break for <br>."""
        out: list[str] = []

        def walk(item: Element | str, strong: bool) -> None:
            if isinstance(item, str):
                text = visible(" ".join(item.split("\n")))
                if text.strip() or (text and out):
                    out.append(_run(text, bold=strong, size=size))
                return
            if item.tag in SKIP:
                return
            if item.tag == "br":
                out.append("<w:r><w:br/></w:r>")
                return
            for child in item.children:
                walk(child, strong or item.tag in ("strong", "b", "th"))

        walk(node, bold)
        return "".join(out)

    def listing(self, node: Element, *, ordered: bool, level: int) -> None:
        number = 0
        for item in node.children:
            if not isinstance(item, Element) or item.tag != "li":
                continue
            number += 1
            style = "List Bullet" + (f" {min(level + 1, 3)}" if level else "")
            nested = [c for c in item.children if isinstance(c, Element) and c.tag in ("ul", "ol")]
            inline = Element(
                "li", children=[c for c in item.children if all(c is not n for n in nested)]
            )
            # numbers written out: Word's list numbering would run on across separate lists
            prefix = _run(f"{number}. ") if ordered else ""
            self.paragraph("List Paragraph" if ordered else style, prefix + self.runs(inline))
            for child in nested:
                self.listing(child, ordered=child.tag == "ol", level=level + 1)

    def table(self, node: Element) -> None:
        caption = find(node, "caption")
        if caption is not None:
            self.paragraph("Caption", self.runs(caption))
        rows = [row for row in _rows(node) if row]
        if not rows:
            return
        columns = max(len(row) for row in rows)
        width = _TEXT_WIDTH // columns
        header = all(cell.tag == "th" for cell in rows[0])
        out = [
            f'<w:tbl><w:tblPr><w:tblStyle w:val="{self.style_ids["Table Grid"]}"/>'
            '<w:tblW w:type="auto" w:w="0"/><w:tblLook w:firstRow="1" w:lastRow="0" '
            'w:firstColumn="1" w:lastColumn="0" w:noHBand="0" w:noVBand="1" w:val="04A0"/>'
            "</w:tblPr><w:tblGrid>" + f'<w:gridCol w:w="{width}"/>' * columns + "</w:tblGrid>"
        ]
        for index, row in enumerate(rows):
            out.append("<w:tr>")
            if index == 0 and header:
                out.append('<w:trPr><w:tblHeader w:val="true"/></w:trPr>')
            cells = [*row, *([None] * (columns - len(row)))]
            for cell in cells:
                runs = "" if cell is None else self.runs(cell, bold=cell.tag == "th")
                right = cell is not None and "num" in cell.classes()
                alignment = '<w:pPr><w:jc w:val="right"/></w:pPr>' if right else ""
                out.append(
                    f'<w:tc><w:tcPr><w:tcW w:type="dxa" w:w="{width}"/></w:tcPr>'
                    f"<w:p>{alignment}{runs}</w:p></w:tc>"
                )
            out.append("</w:tr>")
        out.append("</w:tbl>")
        self.parts.append("".join(out))
        self.paragraph(None, "")


# Characters XML 1.0 cannot hold at all (control characters are already made visible).
_NOT_XML = re.compile("[\ud800-\udfff\ufffe\uffff]")
# Text width of python-docx's default page (8.5 in − 2 × 1.25 in margins), in twentieths of a point.
_TEXT_WIDTH = 8640


def _run(text: str, *, bold: bool = False, size: int | None = None, font: str | None = None) -> str:
    """One run of text (XML-escaped; spaces kept)."""
    properties = ""
    if font:
        properties += f'<w:rFonts w:ascii="{font}" w:hAnsi="{font}"/>'
    if bold:
        properties += "<w:b/>"
    if size:
        properties += f'<w:sz w:val="{size}"/>'
    escaped = xml_escape(_NOT_XML.sub("\ufffd", visible(text)))
    return (
        f"<w:r>{f'<w:rPr>{properties}</w:rPr>' if properties else ''}"
        f'<w:t xml:space="preserve">{escaped}</w:t></w:r>'
    )


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
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls, qn

    root = parse_html(html)
    document = docx.Document()
    normal = document.styles["Normal"]
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), EAST_ASIAN_FONT)
    meta = _metadata(root)
    body = find(root, "main") or find(root, "body") or root
    writer = _Writer({style.name: style.style_id for style in document.styles}, steps)
    writer.block(body)
    parsed = parse_xml(f"<w:body {nsdecls('w')}>{''.join(writer.parts)}</w:body>")
    section = document.element.body.sectPr
    for element in list(parsed):
        section.addprevious(element)
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
