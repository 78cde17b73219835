"""Excel and ODS workbooks (.xlsx, .xlsm, .xls, .ods) read with pandas + python-calamine.

The first sheet unless `--sheet NAME|N`; title rows above the header (as Chinese report exports
have) are skipped: the header is the first row holding the columns the reader needs. The cells
go to DuckDB as text, so the query cleans them exactly as it cleans a CSV file.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from opsplay.errors import InputError
from opsplay.i18n import _
from opsplay.pilot.readers.cells import names, normalize_text

_HEADER_SEARCH = 50  # rows looked at for the header
# Unpacked bytes a zipped workbook (.xlsx, .xlsm, .ods) may hold. Its XML compresses some
# 250-fold, so a 2 MB file can unpack to 500 MB and take gigabytes to read: the size is
# counted by unpacking (headers can lie) before the workbook is opened. 200 MB is about
# four million cells, far above an export; a larger one reads better as CSV.
MAX_UNPACKED_BYTES = 200 * 2**20


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
    """InputError when a zipped workbook unpacks to more than MAX_UNPACKED_BYTES (a zip
    bomb), counted while unpacking in blocks; a workbook that is no zip (.xls) is left be."""
    import zipfile
    import zlib

    if not zipfile.is_zipfile(path):
        return
    total = 0
    try:
        with zipfile.ZipFile(path) as archive:
            for entry in archive.infolist():
                with archive.open(entry) as member:
                    while block := member.read(1 << 20):
                        total += len(block)
                        if total > MAX_UNPACKED_BYTES:
                            raise InputError(
                                _(
                                    "{file}: the workbook unpacks to more than {limit} MB "
                                    "(its XML is far larger than the file); it was not read. "
                                    "Save the sheet as CSV (UTF-8) and pass that file instead"
                                ).format(file=display, limit=MAX_UNPACKED_BYTES // 2**20)
                            )
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError,
            NotImplementedError, RuntimeError, zlib.error) as exc:  # fmt: skip
        raise InputError(
            _("{file}: is not a readable workbook ({reason})").format(
                file=display, reason=str(exc) or type(exc).__name__
            )
        ) from None


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
    from opsplay.pilot.readers.opened import Source, unique_columns

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
