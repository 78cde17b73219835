"""Word documents (python-docx) made from the HTML SOPs and reports, so the words are the templates'.

The HTML document is walked once: headings become Word heading styles, tables real
Word tables whose first row is a repeated header row, lists and paragraphs keep bold
text and line breaks. Table columns are sized to their content; a table too wide for a
portrait page sits on a landscape page of its own. The drawn flowchart becomes a picture
when it can be drawn (opsplay.render.picture), followed by a numbered list of the nodes
with their next steps, exception handling and escalation, which pastes into 钉钉 / 飞书 /
Confluence as text; without a picture, its legend is left out.
The .docx bytes are stable: fixed zip timestamps and document dates from the playbook.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import struct
import zipfile
from typing import Any
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

    def __init__(
        self,
        style_ids: dict[str, str],
        steps: list[str],
        picture: str | None = None,
        page: str = "",
    ) -> None:
        self.style_ids = style_ids
        self.steps = steps
        self.picture = picture  # the flowchart as a <w:drawing>, when it could be drawn
        self.page = page  # the portrait section's page size and margins (<w:pgSz>, <w:pgMar>)
        self.parts: list[str] = []
        self.pending_steps = False
        self.last_heading = -1  # where the latest heading was written (it goes with its table)

    def flush_steps(self) -> None:
        """The flowchart as numbered steps (once, after the picture and its legend)."""
        if self.pending_steps:
            self.pending_steps = False
            for line in self.steps:
                self.paragraph("List Paragraph", _run(line))

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
        if self.pending_steps and not (tag == "p" and "flowchart-legend" in node.classes()):
            self.flush_steps()
        if tag in _HEADINGS:
            level_of = _HEADINGS[tag]
            style = "Title" if level_of == 0 else f"Heading {level_of}"
            self.last_heading = len(self.parts)
            self.paragraph(style, _run(clean(text_of(node))))
        elif tag == "p" and "flowchart-legend" in node.classes():
            if self.picture is not None:  # no legend for a picture that is not there
                self.paragraph(None, self.runs(node))
            self.flush_steps()
        elif tag == "p":
            self.paragraph(None, self.runs(node))
        elif tag in ("ul", "ol"):
            self.listing(node, ordered=tag == "ol", level=level)
        elif tag == "table":
            self.table(node)
        elif tag == "figure":
            if "flowchart" in node.classes():
                if self.picture is not None:
                    self.parts.append(
                        f'<w:p><w:pPr><w:jc w:val="center"/></w:pPr><w:r>{self.picture}</w:r></w:p>'
                    )
                self.pending_steps = True  # written after the legend that follows the picture
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

    def section_end(self, *, landscape: bool, at: int | None = None) -> None:
        """End the section so far (or at part `at`): portrait, or landscape (turned)."""
        page = self.page
        if landscape:
            page = re.sub(
                r'<w:pgSz w:w="(\d+)" w:h="(\d+)"/>',
                r'<w:pgSz w:w="\2" w:h="\1" w:orient="landscape"/>',
                page,
            )
        self.parts.insert(
            len(self.parts) if at is None else at,
            f"<w:p><w:pPr><w:sectPr>{page}</w:sectPr></w:pPr></w:p>",
        )

    def table(self, node: Element) -> None:
        grid = _grid([row for row in _rows(node) if row])
        columns = max((len(row) for row in grid), default=0)
        rows = [[cell or Element("td") for cell, _ in row] for row in grid]
        widths, landscape = column_widths(rows, columns)
        if landscape and self.page:
            # a heading and its note just before the table turn with it (表3 over Table 3)
            recent = 0 <= self.last_heading and len(self.parts) - self.last_heading <= 3
            self.section_end(landscape=False, at=self.last_heading if recent else None)
        caption = find(node, "caption")
        if caption is not None:
            self.paragraph("Caption", self.runs(caption))
        if not rows:
            return
        header = all(cell.tag == "th" for cell in rows[0])
        out = [
            f'<w:tbl><w:tblPr><w:tblStyle w:val="{self.style_ids["Table Grid"]}"/>'
            f'<w:tblW w:type="dxa" w:w="{sum(widths)}"/><w:tblLayout w:type="fixed"/>'
            '<w:tblLook w:firstRow="1" w:lastRow="0" '
            'w:firstColumn="1" w:lastColumn="0" w:noHBand="0" w:noVBand="1" w:val="04A0"/>'
            "</w:tblPr><w:tblGrid>"
            + "".join(f'<w:gridCol w:w="{width}"/>' for width in widths)
            + "</w:tblGrid>"
        ]
        for index, row in enumerate(grid):
            out.append("<w:tr>")
            if index == 0 and header:
                out.append('<w:trPr><w:tblHeader w:val="true"/></w:trPr>')
            cells = [*row, *([(None, "")] * (columns - len(row)))]
            for (cell, merge), width in zip(cells, widths, strict=True):
                runs = "" if cell is None else self.runs(cell, bold=cell.tag == "th")
                right = cell is not None and "num" in cell.classes()
                alignment = '<w:pPr><w:jc w:val="right"/></w:pPr>' if right else ""
                # a cell of `rowspan` starts a vertical merge the rows below continue
                merged = {"restart": '<w:vMerge w:val="restart"/>', "continue": "<w:vMerge/>"}
                out.append(
                    f'<w:tc><w:tcPr><w:tcW w:type="dxa" w:w="{width}"/>{merged.get(merge, "")}'
                    f"</w:tcPr><w:p>{alignment}{runs}</w:p></w:tc>"
                )
            out.append("</w:tr>")
        out.append("</w:tbl>")
        self.parts.append("".join(out))
        if landscape and self.page:
            self.section_end(landscape=True)
        else:
            self.paragraph(None, "")


def _units(text: str) -> float:
    """Width of a line in half-ems: a Chinese (wide) character 2, any other 1.3 (digits and `%`
    of the fonts Word and LibreOffice fall back to are wider than half an em)."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1.3 for ch in text)


def _cell_lines(node: Element | str) -> list[str]:
    """The lines of a cell's text (`<br>` breaks a line)."""
    if isinstance(node, str):
        return [node]
    if node.tag == "br":
        return ["", ""]
    lines = [""]
    for child in node.children:
        first, *rest = _cell_lines(child)
        lines[-1] += first
        lines += rest
    return lines


def column_widths(rows: list[list[Element]], columns: int) -> tuple[list[int], bool]:
    """Column widths in twips sized to the content, and whether the table needs a landscape page.

    A column asks for its longest line (up to a paragraph's worth) and gets at least its
    header's width up to six Chinese characters, so 异常处理方案 wraps in two lines at most,
    not every three characters. A table asking for much more than a portrait page holds
    goes on a landscape page.
    """
    if not columns:
        return [], False
    wanted: list[float] = [_MIN_UNITS] * columns
    least: list[float] = [_MIN_UNITS] * columns
    for index, row in enumerate(rows):
        for column, cell in enumerate(row[:columns]):
            lines = [" ".join(line.split()) for line in _cell_lines(cell)]
            longest = max((_units(line) for line in lines), default=0)
            wanted[column] = max(wanted[column], min(longest, _MAX_UNITS))
            if index == 0 and cell.tag == "th":
                least[column] = max(least[column], min(longest, _HEADER_UNITS))
            # a number or a Latin word is not broken: +10.7% stays on one line
            words = [w for line in lines for w in _UNBROKEN.findall(line)]
            unbroken = max((_units(word) for word in words), default=0)
            least[column] = max(least[column], min(unbroken, _WORD_UNITS))
    wanted = [max(w, m) for w, m in zip(wanted, least, strict=True)]
    natural = sum(w * _UNIT + _PADDING for w in wanted)
    landscape = columns >= 6 and natural > _TEXT_WIDTH * 1.3
    width = _LANDSCAPE_WIDTH if landscape else _TEXT_WIDTH
    floor = [m * _UNIT + _PADDING for m in least]
    if natural <= width:  # everything fits on one line: widen in proportion
        widths = [round((w * _UNIT + _PADDING) * width / natural) for w in wanted]
    elif sum(floor) >= width:
        widths = [round(f * width / sum(floor)) for f in floor]
    else:  # each column its floor, the rest shared by what they still want
        extra = [max(w * _UNIT + _PADDING - f, 0) for w, f in zip(wanted, floor, strict=True)]
        spare = width - sum(floor)
        widths = [round(f + spare * e / sum(extra)) for f, e in zip(floor, extra, strict=True)]
    return widths, landscape


# Characters XML 1.0 cannot hold at all (control characters are already made visible).
_NOT_XML = re.compile("[\ud800-\udfff\ufffe\uffff]")
# Text width of python-docx's default page (8.5 in − 2 × 1.25 in margins), in twentieths of a
# point, upright and turned (11 in − 2 × 1.25 in).
_TEXT_WIDTH = 8640
_LANDSCAPE_WIDTH = 12240
_UNIT = 115  # twips of half an em at 11 pt (python-docx's default size), bold a little wider
_PADDING = 230  # a cell's left and right margins (0.08 in each)
_MIN_UNITS = 4  # two Chinese characters
_HEADER_UNITS = 12  # six Chinese characters
_MAX_UNITS = 80
_WORD_UNITS = 16  # a longer Latin word (a URL, say) may wrap
_UNBROKEN = re.compile(r"[^\s\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f]+")


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


def _grid(rows: list[list[Element]]) -> list[list[tuple[Element | None, str]]]:
    """The table's rows column by column: a cell with `rowspan` is `(cell, "restart")` and each
    row it spans below has `(None, "continue")` in its column, so the cells after it keep their
    columns (the escalation table names its node once, on the node's first step)."""
    grid: list[list[tuple[Element | None, str]]] = []
    spanning: dict[int, int] = {}  # column → rows still covered by a cell above
    for row in rows:
        out: list[tuple[Element | None, str]] = []
        cells = iter(row)
        while True:
            column = len(out)
            if spanning.get(column, 0) > 0:
                spanning[column] -= 1
                out.append((None, "continue"))
                continue
            cell = next(cells, None)
            if cell is None:
                break
            span = _span(cell.attrs.get("rowspan"))
            if span > 1:
                spanning[column] = span - 1
            out.append((cell, "restart" if span > 1 else ""))
        grid.append(out)
    return grid


def _span(value: str | None) -> int:
    return int(value) if value and value.strip().isdigit() else 1


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
    from lxml import etree

    root = parse_html(html)
    document = docx.Document()
    normal = document.styles["Normal"]
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), EAST_ASIAN_FONT)
    meta = _metadata(root)
    body = find(root, "main") or find(root, "body") or root
    section = document.element.body.sectPr
    page = "".join(
        etree.tostring(child, encoding=str)
        for child in section
        if child.tag in (qn("w:pgSz"), qn("w:pgMar"))
    )
    page = re.sub(r' xmlns:\w+="[^"]*"', "", page)
    writer = _Writer(
        {style.name: style.style_id for style in document.styles},
        steps,
        _picture(document, html),
        page,
    )
    writer.block(body)
    writer.flush_steps()
    parsed = parse_xml(
        f"<w:body {nsdecls('w', 'wp', 'a', 'pic', 'r')}>{''.join(writer.parts)}</w:body>"
    )
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


_FLOWCHART = re.compile(r'<svg [^>]*class="opsplay-flowchart".*?</svg>', re.S)
_PICTURE_WIDTH = 5486400  # EMU: 6 in, the portrait text width


def _picture(document: Any, html: str) -> str | None:
    """The document's flowchart as a <w:drawing> of a PNG picture, or None (see picture.py)."""
    from lxml import etree

    from opsplay.render.picture import SCALE, flowchart_png

    found = _FLOWCHART.search(html)
    png = flowchart_png(found.group(0)) if found else None
    if png is None:
        return None
    width_px = struct.unpack(">I", png[16:20])[0] / SCALE  # the IHDR width, in SVG units
    width = min(_PICTURE_WIDTH, int(width_px * 9525))  # 9525 EMU per CSS pixel
    inline = document.part.new_pic_inline(io.BytesIO(png), width=width)
    drawing = etree.tostring(inline, encoding=str)
    return "<w:drawing>" + re.sub(r' xmlns:\w+="[^"]*"', "", drawing) + "</w:drawing>"


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
