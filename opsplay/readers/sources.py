"""Opening an export: CSV or Parquet, its encoding and delimiter, its header and columns."""

from __future__ import annotations

import codecs
import csv
import difflib
import re
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from opsplay.discovery import require_regular_file
from opsplay.errors import InputError
from opsplay.i18n import N_, _
from opsplay.readers.cells import joined, names, normalize_text, quote
from opsplay.readers.opened import Source, column_words, connection, unique_columns

__all__ = [
    "Source",
    "column_words",
    "open_source",
]  # Source and column_words: opened's, re-exported

SAMPLE_BYTES = 1 << 20  # encoding detection reads this much of the file
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods", ".xlsb")
# SPEC 6: Chinese headers of the default column names (case- and width-insensitive).
ALIASES = {
    "arm": ("group", "组别", "分组", "组"),
    "group": ("arm", "组别", "分组", "组"),
    "metric": ("指标", "指标名称"),
    "value": ("数值", "值", "指标值"),
    "n": ("样本量", "样本数", "人数"),
    "period": ("阶段", "时期", "期间"),
}


def open_source(
    path: Path,
    encoding: str | None = None,
    sample_bytes: int = SAMPLE_BYTES,
    sheet: str | None = None,
    wanted: Sequence[str] = (),
) -> Source:
    """Open an export: a readable, non-empty CSV, Parquet or Excel file; read its header.

    `wanted` are column names the reader needs: an Excel sheet's header is the first row
    holding them (title rows above it are skipped).
    """
    display = str(path)
    if not path.exists():
        if re.match(r"^[A-Za-z][A-Za-z0-9+.\-]*:/", display):  # a URL (`//` became `/`)
            from opsplay.credentials import mask_url

            raise InputError(
                _(
                    "{file}: a web address, not a file; DATA takes metric export files "
                    "(a robot's webhook goes after --notify, a database after --db)"
                ).format(file=mask_url(display, keep_user=False))
            )
        raise InputError(_("{file}: no such file; check the path").format(file=display))
    if path.is_dir():
        raise InputError(
            _("{file}: is a folder; pass the export files inside it").format(file=display)
        )
    require_regular_file(path, display)
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            sample = handle.read(sample_bytes)
    except OSError as exc:
        raise InputError(
            _("{file}: cannot be read ({reason})").format(file=display, reason=exc.strerror)
        ) from None
    if not sample:
        raise InputError(
            _("{file}: the file is empty; export it again with a header row and data").format(
                file=display
            )
        )
    if sample[:4] == b"PAR1" or path.suffix.lower() in (".parquet", ".pq"):
        return _open_parquet(path, display, size)
    if path.suffix.lower() in EXCEL_SUFFIXES:
        from opsplay.readers.excel import open_excel

        return open_excel(path, display, size, sheet, wanted)
    _reject_binary(sample, display)
    enc = _detect_encoding(sample, size, encoding, display)
    opened = _open_csv(path, display, size, sample, enc)
    if encoding is None and enc == "utf-8" and size > len(sample) and sample.isascii():
        return replace(opened, ascii_guess=True)
    return opened


def find_column(source: Source, wanted: str, role: str) -> str:
    """The header name of column `wanted` (NFKC, then case-insensitive); a clear error if absent."""
    name = normalize_text(wanted)
    if name in source.columns:
        if f"{name} (2)" in source.columns:
            raise InputError(
                _(
                    '{where}: column "{column}" appears more than once in the header; '
                    "rename one of them"
                ).format(
                    where=source.where(line=1 if source.format == "csv" else None), column=name
                )
            )
        return name
    folded = [c for c in source.columns if c.casefold() == name.casefold()]
    if len(folded) == 1:
        return folded[0]
    for alias in ALIASES.get(name.casefold(), ()):
        if alias not in ("arm", "group"):
            folded = [c for c in source.columns if c.casefold() == alias]
            if len(folded) == 1:
                return folded[0]
    aliases = [a for a in ALIASES.get(name.casefold(), ()) if a not in ("arm", "group")]
    close: list[str] = []
    for candidate in (name, *aliases):  # 分组别 is close to 组别, not to `group`
        close = close or difflib.get_close_matches(candidate, source.columns, n=1, cutoff=0.6)
    if close:
        message = _(
            '{file}: missing column "{column}" ({role}){also}; {has}; did you mean "{close}"?'
        )
    else:
        message = _(
            '{file}: missing column "{column}" ({role}){also}; {has}; add this column to the export'
        )
    has = (
        _("the table has the columns {columns}")
        if source.format == "db"
        else _("the file has the columns {columns}")
    )
    raise InputError(
        message.format(
            file=source.display,
            column=name,
            role=role,
            also=_(", or one named {names}").format(names=joined(aliases)) if aliases else "",
            has=has.format(columns=names(source.columns, 30)),
            close=close[0] if close else "",
        )
    )


def has_column(source: Source, name: str) -> bool:
    """True when the header has `name` (a lower-case name) in any case, or its Chinese alias."""
    names = {name} | {a for a in ALIASES.get(name, ()) if a not in ("arm", "group")}
    return any(c.casefold() in names for c in source.columns)


def ascii_compatible(encoding: str) -> bool:
    """True when a newline, comma and quote are single ASCII bytes that never occur inside
    a multi-byte character, so the raw bytes can be cut at newlines."""
    name = codecs.lookup(encoding).name
    if name.startswith(("utf-16", "utf-32", "utf-7")) or "2022" in name:
        return False
    try:
        return '\n,;\t"'.encode(name) == b'\n,;\t"'
    except UnicodeError:
        return False


class LateDecodeError(InputError):
    """Bytes past the sample that do not decode in the encoding chosen from the sample."""

    def __init__(self, message: str, path: Path) -> None:
        super().__init__(message)
        self.path = path


def undecodable(source: Source, line: int | None) -> InputError:
    """The error for a line that does not decode; a LateDecodeError when it may be retried."""
    message = decode_message(source, line)
    return LateDecodeError(message, source.path) if source.ascii_guess else InputError(message)


def decode_message(source: Source, line: int | None) -> str:
    """The message for a line that does not decode in the encoding chosen from the sample."""
    where = source.where(line=line)
    other = "gb18030" if source.encoding.startswith("utf") else "utf-8"
    return _(
        "{where}: bytes that are not valid {encoding} (the start of the file read as "
        "{encoding}); save the whole file in one encoding, or pass --encoding {other}"
    ).format(where=where, encoding=source.encoding, other=other)


def arrow_message(exc: BaseException) -> str:
    """The first line of an engine's error, for a message that names the file."""
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _reject_binary(sample: bytes, display: str) -> None:
    kinds = {
        b"PK\x03\x04": N_(
            "{file}: is not a CSV file: it looks like an Excel workbook or ZIP archive; "
            "name it .xlsx, or save the sheet as CSV UTF-8"
        ),
        b"\xd0\xcf\x11\xe0": N_(
            "{file}: is not a CSV file: it looks like an old Excel workbook; name it .xls, "
            "or save the sheet as CSV UTF-8"
        ),
        b"%PDF": N_(
            "{file}: is not a CSV file: it looks like a PDF document; export the data as CSV"
        ),
        b"\x1f\x8b": N_("{file}: is not a CSV file: it looks like a gzip archive; unpack it first"),
    }
    for magic, what in kinds.items():
        if sample.startswith(magic):
            raise InputError(_(what).format(file=display))
    if sample[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return
    if b"\x00" in sample:
        raise InputError(
            _("{file}: is not a CSV file (it contains binary data); export it as CSV").format(
                file=display
            )
        )


def _detect_encoding(sample: bytes, size: int, forced: str | None, display: str) -> str:
    if forced:
        try:
            return codecs.lookup(forced).name
        except LookupError:
            raise InputError(
                _(
                    "unknown encoding {encoding}; use for example utf-8, utf-8-sig or gb18030"
                ).format(encoding=quote(forced))
            ) from None
    if sample.startswith(codecs.BOM_UTF8):
        final = len(sample) >= size
        try:
            codecs.getincrementaldecoder("utf-8")("strict").decode(sample[3:], final=final)
        except UnicodeDecodeError:
            return "gb18030"  # a UTF-8 BOM in front of GBK text: the BOM is dropped when read
        return "utf-8-sig"
    if sample[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return "utf-16"
    final = len(sample) >= size  # a cut multi-byte character at the end is not an error
    for candidate in ("utf-8", "gb18030"):
        try:
            codecs.getincrementaldecoder(candidate)("strict").decode(sample, final=final)
        except UnicodeDecodeError:
            continue
        return candidate
    raise InputError(
        _(
            "{file}: the text is neither UTF-8 nor GBK/GB18030; save it as CSV UTF-8, "
            "or pass --encoding with the file's encoding"
        ).format(file=display)
    )


def _open_csv(path: Path, display: str, size: int, sample: bytes, encoding: str) -> Source:
    if ascii_compatible(encoding):
        ends = [i for i in (sample.find(b"\n"), sample.find(b"\r")) if i >= 0]
        end = min(ends) if ends else -1
        header_end = len(sample) if end < 0 else end + 1
        try:
            skip = 3 if encoding == "gb18030" and sample.startswith(codecs.BOM_UTF8) else 0
            header_text = sample[skip:header_end].decode(encoding)
        except UnicodeDecodeError:
            raise InputError(
                _(
                    "{file}, line 1: the header is not valid {encoding}; pass --encoding "
                    "with the file's encoding"
                ).format(file=display, encoding=encoding)
            ) from None
    else:  # UTF-16: read the header through a decoder
        with path.open("r", encoding=encoding, newline="") as text:
            header_text = text.readline()
        header_end = -1
    if header_end == len(sample) and size > len(sample):
        raise InputError(
            _("{file}, line 1: the header line is longer than 1 MB; is this a CSV file?").format(
                file=display
            )
        )
    first = header_text.split("\r")[0].rstrip("\r\n")
    if not first.strip():
        raise InputError(
            _("{file}, line 1: the first line is blank; it must be the header row").format(
                file=display
            )
        )
    delimiter = _sniff_delimiter(first)
    csv.field_size_limit(sys.maxsize)  # a header cell may be long; the reader decides
    raw = next(csv.reader([first], delimiter=delimiter))
    columns = unique_columns([normalize_text(name) for name in raw])
    return Source(path, display, "csv", encoding, delimiter, columns, header_end, size)


def _sniff_delimiter(header: str) -> str:
    counts = {d: header.count(d) for d in (",", "\t", ";")}
    best = max(counts, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


def _open_parquet(path: Path, display: str, size: int) -> Source:
    import duckdb

    literal = "'" + str(path).replace("'", "''") + "'"
    try:
        with connection() as con:
            names = [
                row[0]
                for row in con.execute(f"DESCRIBE SELECT * FROM read_parquet({literal})").fetchall()
            ]
    except duckdb.Error as exc:
        raise InputError(
            _("{file}: is not a readable Parquet file ({reason})").format(
                file=display, reason=arrow_message(exc)
            )
        ) from None
    columns = unique_columns([normalize_text(name) for name in names])
    return Source(path, display, "parquet", "parquet", ",", columns, 0, size)


def excel_frame(source: Source) -> tuple[object, int]:
    """The data rows of an Excel source as text (a pandas DataFrame) and its header's sheet row."""
    from opsplay.readers.excel import frame_of

    return frame_of(source), source.header_row
