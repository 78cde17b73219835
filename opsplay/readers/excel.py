"""Excel and ODS workbooks (.xlsx, .xlsm, .xls, .ods) read with pandas + python-calamine.

The first sheet unless `--sheet NAME|N`; title rows above the header (as Chinese report exports
have) are skipped: the header is the first row holding the columns the reader needs. The cells
go to DuckDB as text, so the query cleans them exactly as it cleans a CSV file.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from opsplay.errors import InputError
from opsplay.i18n import _
from opsplay.readers.cells import names, normalize_text

_HEADER_SEARCH = 50  # rows looked at for the header
# Unpacked bytes a zipped workbook (.xlsx, .xlsm, .ods) may hold. Its XML compresses some
# 250-fold, so a 2 MB file can unpack to 500 MB and take gigabytes to read: the size is
# counted by unpacking (headers can lie) before the workbook is opened. 200 MB is about
# four million cells, far above an export; a larger one reads better as CSV.
MAX_UNPACKED_BYTES = 200 * 2**20
# Cells a sheet may span (rows × columns up to its farthest cell): calamine and pandas hold
# every one, empty or not, some 60 bytes each — 10 million take 6 s and 0.7 GB.
MAX_CELLS = 10_000_000
# Characters of one shared text: Excel writes at most 32,767 in a cell; a 20 MB one that 400
# cells point to would be copied 400 times.
MAX_SHARED_TEXT = 2 * 2**20


@lru_cache(maxsize=4)
def _sheet(path: Path, stamp: tuple[int, int], sheet: str | None) -> tuple[str, Any]:
    """(sheet name, the sheet as a DataFrame of objects without a header)."""
    import pandas as pd

    display = str(path)
    _check_unpacked_size(path, display)
    try:
        book = pd.ExcelFile(path, engine="calamine")  # closed below, after the sheet is read
    except Exception as exc:  # calamine raises several types for a damaged workbook
        raise InputError(
            _("{file}: is not a readable workbook ({reason})").format(
                file=display, reason=str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            )
        ) from None
    with book:
        return _read_sheet(book, display, sheet)


def _check_unpacked_size(path: Path, display: str) -> None:
    """InputError when a zipped workbook would take far more memory than its size says, found
    while unpacking it in blocks, before calamine opens it: more than MAX_UNPACKED_BYTES of
    XML (a zip bomb), a sheet whose cells span more than MAX_CELLS (one stray cell at XFD3000
    makes calamine hold 49 million), one shared text over MAX_SHARED_TEXT, or cells repeating
    shared texts to more than MAX_UNPACKED_BYTES. A workbook that is no zip (.xls) is left be."""
    import zipfile
    import zlib
    from xml.parsers import expat

    if not zipfile.is_zipfile(path):
        return
    try:
        with zipfile.ZipFile(path) as archive:
            scan = _Scan(display, archive)
            # the shared texts first: a sheet's cells are counted with their lengths
            for entry in sorted(archive.infolist(), key=lambda e: not scan.is_shared(e.filename)):
                parser = scan.parser(entry.filename)
                with archive.open(entry) as member:
                    while block := member.read(1 << 20):
                        scan.unpacked(len(block))
                        if parser is not None:
                            parser.Parse(block, False)
                if parser is not None:
                    parser.Parse(b"", True)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError,
            NotImplementedError, RuntimeError, zlib.error, expat.ExpatError) as exc:  # fmt: skip
        raise InputError(
            _("{file}: is not a readable workbook ({reason})").format(
                file=display, reason=str(exc) or type(exc).__name__
            )
        ) from None


_CELL_REF = re.compile(r"([A-Za-z]{1,3})([0-9]{1,9})$")


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - 64
    return number


def _reference(column: int, row: int) -> str:
    """`XFD3000` for (16384, 3000)."""
    letters = ""
    while column > 0:
        column, rest = divmod(column - 1, 26)
        letters = chr(65 + rest) + letters
    return f"{letters}{row}"


def _save_as_csv() -> str:
    return _("it was not read. Save the sheet as CSV (UTF-8) and pass that file instead")


class _Scan:
    """What reading a workbook would hold in memory, counted from its XML as it is unpacked,
    a block at a time: the XML itself, each shared text (expat) and each sheet's span of
    cells and the text its cells repeat (_SheetCells)."""

    def __init__(self, display: str, archive: Any) -> None:
        self.display = display
        self.total = 0
        self.lengths = array("L")  # the length of each shared text, by index
        self.longest = 0
        self.sheets = _sheet_parts(archive)  # part name -> sheet name

    @staticmethod
    def is_shared(name: str) -> bool:
        return name.lower().endswith("sharedstrings.xml")

    def unpacked(self, size: int) -> None:
        self.total += size
        if self.total > MAX_UNPACKED_BYTES:
            raise InputError(
                _(
                    "{file}: the workbook unpacks to more than {limit} MB "
                    "(its XML is far larger than the file); it was not read. "
                    "Save the sheet as CSV (UTF-8) and pass that file instead"
                ).format(file=self.display, limit=MAX_UNPACKED_BYTES // 2**20)
            )

    def parser(self, name: str) -> Any:
        """An expat parser counting the part `name`, None for a part not counted."""
        import posixpath
        from xml.parsers import expat

        if self.is_shared(name):
            return self._shared_texts(expat.ParserCreate())
        sheet = self.sheets.get(posixpath.normpath(name.lstrip("/")).lower())
        if sheet is None:
            return None
        return self._cells(sheet)

    def _shared_texts(self, parser: Any) -> Any:
        length = 0
        inside = False

        def start(tag: str, _attrs: dict[str, str]) -> None:
            nonlocal length, inside
            local = tag.rpartition(":")[2]
            if local == "si":
                length = 0
            elif local == "t":
                inside = True

        def end(tag: str) -> None:
            nonlocal inside
            local = tag.rpartition(":")[2]
            if local == "t":
                inside = False
            elif local == "si":
                self.lengths.append(length)
                self.longest = max(self.longest, length)

        def text(data: str) -> None:
            nonlocal length
            if inside:
                length += len(data)
                if length > MAX_SHARED_TEXT:
                    raise InputError(
                        _(
                            "{file}: one text of the workbook is longer than {limit} MB "
                            "(Excel holds at most 32,767 characters in a cell); {what}"
                        ).format(
                            file=self.display,
                            limit=MAX_SHARED_TEXT // 2**20,
                            what=_save_as_csv(),
                        )
                    )

        def entity(*_declared: object) -> None:  # `<!ENTITY …>`: no workbook declares one
            raise ValueError("the shared texts declare an XML entity")

        parser.StartElementHandler, parser.EndElementHandler = start, end
        parser.CharacterDataHandler, parser.EntityDeclHandler = text, entity
        parser.buffer_text = True
        return parser

    def _cells(self, sheet: str) -> _SheetCells:
        return _SheetCells(self, sheet)

    def repeated_too_much(self, sheet: str) -> InputError:
        return InputError(
            _(
                "{file}: the cells of sheet `{sheet}` repeat its shared texts to "
                "more than {limit} MB of text; {what}"
            ).format(
                file=self.display,
                sheet=sheet,
                limit=MAX_UNPACKED_BYTES // 2**20,
                what=_save_as_csv(),
            )
        )

    def too_wide(self, sheet: str, rows: int, columns: int) -> InputError:
        return InputError(
            _(
                "{file}: sheet `{sheet}` has cells as far as column {column} and row {row}, "
                "so reading it would hold {rows:,} rows × {columns:,} columns, more than "
                "{limit:,} cells; it was not read. Delete the stray cells below or right "
                "of the data, or save the sheet as CSV (UTF-8) and pass that file instead"
            ).format(
                file=self.display,
                sheet=sheet,
                column=_reference(columns, 1)[:-1],
                row=rows,
                rows=rows,
                columns=columns,
                limit=MAX_CELLS,
            )
        )


# A sheet's XML is read with regular expressions over its bytes, a block at a time: expat
# would call Python for each of the millions of elements (8 s for 150 MB instead of 1 s).
_NS = rb"<(?:[A-Za-z_][\w.-]*:)?"
_CELL_OR_ROW = re.compile(_NS + rb"(?:c|row)[\s/>]")
_SHEET_DATA = re.compile(rb"<([A-Za-z_][\w.-]*:)?sheetData\b")
# A cell's `r` as writers write it (only a cell's holds letters); a sheet whose cells it does
# not all match (no `r`, other spaces or quotes) is read one tag at a time.
_REFERENCE = re.compile(rb' r="([A-Za-z]{1,3})([0-9]{1,9})"')
# Only a cell has a `t`; a shared text's index is its value. A shared cell whose index the
# second expression misses counts as the longest shared text.
_SHARED_TYPE = re.compile(rb"""\st\s*=\s*["']s["']""")
_SHARED_VALUE = re.compile(rb' t="s"[^>]*>\s*' + _NS + rb"v>\s*([0-9]{1,11})")
# one tag at a time, for the rare sheet whose cells have no reference (`<c>` after `<c>`)
_SHEET_TAG = re.compile(_NS + rb"(row|c)\b([^>]*)>")
_R_ATTRIBUTE = re.compile(rb"""\sr\s*=\s*["']([^"']*)["']""")
_LONGEST_CELL = 4 * 2**20


class _SheetCells:
    """A sheet's XML fed a block at a time (the interface of an expat parser): InputError as
    soon as its cells span more than MAX_CELLS or repeat shared texts beyond the limit. Each
    block is cut before its last cell, so no cell is split between two."""

    def __init__(self, scan: _Scan, sheet: str) -> None:
        self.scan, self.sheet = scan, sheet
        self.rest = b""
        self.row = self.rows = self.columns = self.column = 0
        self.repeated = 0
        self.prefix: bytes | None = None  # of the sheet's tags (`x:` in `<x:c>`), once seen
        self.cell_tag = re.compile(rb"<c[\s/>]")

    def Parse(self, block: bytes, final: bool = False) -> None:  # noqa: N802 (expat's name)
        data = self.rest + block
        cut = len(data)
        if not final:
            # what is kept holds no cell but the one it begins with: look only at the block
            cut = self._last_cell(data, max(1, len(self.rest) - 64))
            if cut == 0 and len(data) > _LONGEST_CELL:
                cut = len(data)  # no cell is that long: count what there is
        self.rest, data = data[cut:], data[:cut]
        if data:
            self._count(data)

    @staticmethod
    def _last_cell(data: bytes, since: int) -> int:
        """Where the last cell or row of `data` after `since` begins (0: none)."""
        at = len(data)
        for _tries in range(64):  # in a sheet, a few tags back
            at = data.rfind(b"<", since, at)
            if at < 0:
                return 0
            if _CELL_OR_ROW.match(data, at):
                return at
        last = 0
        for found in _CELL_OR_ROW.finditer(data, since, at):
            last = found.start()
        return last

    def _count(self, data: bytes) -> None:
        if self.prefix is None and (found := _SHEET_DATA.search(data)):
            self.prefix = found.group(1) or b""
            self.cell_tag = re.compile(re.escape(b"<" + self.prefix + b"c") + rb"[\s/>]")
        cells = len(self.cell_tag.findall(data))
        references = _REFERENCE.findall(data)
        if len(references) < cells:
            self._one_by_one(data)  # cells placed by their order in the row
        elif references:
            letters, rows = zip(*references, strict=True)
            widest = max({r.upper() for r in letters}, key=lambda r: (len(r), r))
            self.column = _column_number(widest.decode("ascii"))
            self.row = int(rows[-1])
            self._reach(max(map(int, rows)), self.column)
        shared = len(_SHARED_TYPE.findall(data))
        if shared:
            lengths, count = self.scan.lengths, len(self.scan.lengths)
            indexes = [int(i) for i in _SHARED_VALUE.findall(data)]
            self.repeated += sum(lengths[i] for i in indexes if i < count)
            self.repeated += max(0, shared - len(indexes)) * self.scan.longest
        if self.repeated > MAX_UNPACKED_BYTES:
            raise self.scan.repeated_too_much(self.sheet)

    def _one_by_one(self, data: bytes) -> None:
        for name, attrs in _SHEET_TAG.findall(data):
            found = _R_ATTRIBUTE.search(attrs)
            reference = found.group(1).decode("latin-1") if found else ""
            if name == b"row":
                self.row = int(reference) if reference.isdigit() else self.row + 1
                self.column = 0
                continue
            cell = _CELL_REF.match(reference)
            if cell:
                self.column, self.row = _column_number(cell.group(1)), int(cell.group(2))
            else:
                self.column += 1
            self._reach(self.row, self.column)

    def _reach(self, row: int, column: int) -> None:
        if row > self.rows or column > self.columns:
            self.rows, self.columns = max(self.rows, row), max(self.columns, column)
            if self.rows * self.columns > MAX_CELLS:
                raise self.scan.too_wide(self.sheet, self.rows, self.columns)


def _sheet_parts(archive: Any) -> dict[str, str]:
    """{part name in the zip, in lower case: sheet name} of a workbook's sheets, as calamine
    finds them (xl/workbook.xml and its relationships); any part under xl/worksheets/ counts
    too, and every XML part when the workbook's list of sheets cannot be read."""
    import posixpath
    from xml.etree import ElementTree

    def plain(name: str) -> str:
        return posixpath.normpath(name.lstrip("/")).lower()

    names = archive.namelist()
    parts = {
        plain(name): posixpath.splitext(posixpath.basename(name))[0]
        for name in names
        if re.match(r"(?i)/?xl/worksheets/[^/]+\.xml$", name)
    }
    sizes = {plain(e.filename): e.file_size for e in archive.infolist()}
    found = {plain(n): n for n in names}
    book_name, rels_name = "xl/workbook.xml", "xl/_rels/workbook.xml.rels"
    try:
        if max(sizes.get(book_name, 0), sizes.get(rels_name, 0)) > 16 * 2**20:
            raise ValueError("too large to list its sheets")
        book = ElementTree.fromstring(archive.read(found[book_name]))
        rels = ElementTree.fromstring(archive.read(found[rels_name]))
    except (KeyError, ValueError, ElementTree.ParseError):  # counted as sheets, one and all
        every = {plain(n): n for n in names if n.lower().endswith(".xml")}
        return every | parts
    targets = {}
    for rel in rels:
        target = rel.get("Target", "")
        target = target if target.startswith("/") else posixpath.join("xl", target)
        targets[rel.get("Id")] = plain(target)
    for sheet in book.iter():
        if sheet.tag.rpartition("}")[2] != "sheet":
            continue
        rid = next((v for k, v in sheet.attrib.items() if k.rpartition("}")[2] == "id"), None)
        if rid in targets:
            parts[targets[rid]] = sheet.get("name", targets[rid])
    return parts


def _read_sheet(book: Any, display: str, sheet: str | None) -> tuple[str, Any]:
    import pandas as pd

    sheets = [str(s) for s in book.sheet_names]
    name = sheets[0] if sheets else None
    if sheet is not None:
        wanted = normalize_text(sheet)
        if wanted in sheets:
            name = wanted
        elif wanted.isdigit() and 1 <= int(wanted) <= len(sheets):
            name = sheets[int(wanted) - 1]
        else:
            raise InputError(
                _("{file}: no sheet `{sheet}`; the workbook has the sheets {sheets}").format(
                    file=display, sheet=sheet, sheets=names(sheets)
                )
            )
    if name is None:
        raise InputError(_("{file}: the workbook has no sheets").format(file=display))
    frame = pd.read_excel(book, sheet_name=name, header=None, dtype=object)
    return name, frame


def _stamp(path: Path) -> tuple[int, int]:
    """What tells a re-saved workbook from the one read before (the cache key)."""
    stat = path.stat()
    return stat.st_mtime_ns, stat.st_size


def _text(value: object) -> str | None:
    """A cell as text: None when empty; whole floats without `.0`; dates in ISO form."""
    if value is None:
        return None
    if isinstance(value, float):
        if value != value:  # NaN: an empty cell
            return None
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))  # Excel keeps every number as a float: 2024.0 is 2024
        return repr(value)
    return str(value)


def open_excel(path: Path, display: str, size: int, sheet: str | None, wanted: Sequence[str]):  # noqa: ANN201
    """The Source of a workbook sheet: its header row found below any title rows."""
    from opsplay.readers.opened import Source, unique_columns

    name, frame = _sheet(path, _stamp(path), sheet)
    folded = {normalize_text(w).casefold() for w in wanted if w}
    best, header = _header_row(frame, folded)
    if sheet is None and best < len(folded):  # a 说明 sheet first, the data further on?
        other = _sheet_with_more(path, name, folded, best)
        if other is not None:
            raise InputError(
                _(
                    "{file}: the first sheet `{sheet}` does not hold the export's columns; "
                    "sheet `{other}` does: pass --sheet {other}"
                ).format(file=display, sheet=name, other=other)
            )
    if len(frame) == 0:
        raise InputError(_("{file}: sheet `{sheet}` is empty").format(file=display, sheet=name))
    columns = unique_columns([normalize_text(_text(v) or "") for v in frame.iloc[header]])
    return Source(
        path, display, "excel", "excel", ",", columns, 0, size, sheet=name, header_row=header + 1
    )


def _header_row(frame: Any, folded: set[str]) -> tuple[int, int]:
    """(how many wanted columns, row index) of the first row holding the most of them."""
    best, header = -1, 0
    for index in range(min(len(frame), _HEADER_SEARCH)):
        cells = {normalize_text(_text(v) or "").casefold() for v in frame.iloc[index]}
        hits = len(folded & cells)
        if hits > best:
            best, header = hits, index
        if folded and hits == len(folded):
            break
    return max(best, 0), header


def _sheet_with_more(path: Path, first: str, folded: set[str], found: int) -> str | None:
    """The sheet whose header holds the most wanted columns, when it beats the first sheet's."""
    import pandas as pd

    with pd.ExcelFile(path, engine="calamine") as book:
        best, chosen = found, None
        for name in (str(s) for s in book.sheet_names):
            if name == first:
                continue
            frame = pd.read_excel(
                book, sheet_name=name, header=None, dtype=object, nrows=_HEADER_SEARCH
            )
            hits, _row = _header_row(frame, folded)
            if hits > best:
                best, chosen = hits, name
    return chosen


def frame_of(source: Any) -> Any:
    """The data rows below the header, every cell as text, columns named by the header."""
    import pandas as pd

    _name, frame = _sheet(source.path, _stamp(source.path), source.sheet)
    data = frame.iloc[source.header_row :]
    out = pd.DataFrame(
        {
            column: pd.Series([_text(v) for v in data.iloc[:, i]], dtype=object)
            for i, column in enumerate(source.columns)
        }
    )
    return out
