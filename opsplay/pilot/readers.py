"""Read pilot metric exports (unit rows, sufficient statistics, summaries) into ArmStats.

Conventions every message follows:
- A CSV problem names the physical **line** of the file (line 1 is the header, the same
  numbers a text editor and Excel show); a Parquet problem names the 1-based data **row**.
- Headers, labels (arm, period, segment values, metric ids) and numbers are NFKC-normalised
  (full-width `３５％` reads as `35%`) and stripped of surrounding white space.
- Unit rows: proportion cells are `0`/`1` (also `0.0`/`1.0`, `true`/`false`, `yes`/`no`); mean and
  ratio cells are plain numbers, thousands separators allowed (`1,234.5`). Percentages are
  rejected in unit rows: a unit's value is never a share, so `35%` there means a summary
  export was read as unit rows.
- Every arm value found is kept in the statistics (the caller picks baseline and pilot);
  when `ReadOptions.arm_labels` is given, a missing label is an error and the other values
  are listed in a warning. Periods likewise with `period_labels`.
- Encodings, in order: `ReadOptions.encoding`; a byte-order mark (utf-8-sig, utf-16); strict
  UTF-8; strict GB18030 (a superset of GBK, which Excel and WPS write on Chinese Windows).
  The choice is made on the first MB; a later line that does not decode is named.
- Unit rows stream: the file is cut into ~4 MB chunks at line ends (never inside quotes),
  each chunk is parsed by pyarrow with column types and summed per group on a thread pool,
  and the sums are merged, so memory stays flat whatever the file size. A chunk that does
  not parse cleanly (a blank, a full-width digit, a bad value) is parsed again as text and
  checked cell by cell. Sums are float64; the same data as a statistics export gives the
  same counts and sums equal to ~1e-12 relative (addition order differs, nothing else).
"""

from __future__ import annotations

import codecs
import csv
import difflib
import io
import os
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal

from opsplay.errors import InputError
from opsplay.pilot.sufficient import ArmStats

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

MetricKind = Literal["proportion", "mean", "ratio"]
InputFormat = Literal["auto", "units", "stats", "summary"]

SHAPE_NAMES = {"units": "unit rows", "stats": "sufficient statistics", "summary": "summary"}
SKIP_HINT = "or pass --skip-bad-rows to skip such rows"

_SAMPLE_BYTES = 1 << 20  # encoding detection reads this much of the file
_CHUNK_BYTES = 4 << 20  # unit rows are parsed in chunks of about this size
_MAX_EXAMPLES = 5  # bad rows quoted in a skip warning


# ---------------------------------------------------------------- public interface


@dataclass(frozen=True)
class MetricColumns:
    """Where one metric lives in an export: `column` for proportion/mean, or a ratio's columns."""

    id: str
    kind: MetricKind
    column: str | None = None
    numerator: str | None = None
    denominator: str | None = None


@dataclass(frozen=True)
class ReadOptions:
    """What to read from the exports and how."""

    metrics: tuple[MetricColumns, ...]
    arm_column: str
    period_column: str | None = None
    segment_columns: tuple[str, ...] = ()
    input_format: InputFormat = "auto"
    encoding: str | None = None
    skip_bad_rows: bool = False
    progress: Callable[[int], None] | None = None  # bytes read so far, all files together
    arm_labels: tuple[str, ...] = ()  # when given, each must occur in the arm column
    period_labels: tuple[str, ...] = ()  # when given, each must occur in the period column


@dataclass(frozen=True)
class SourceInfo:
    """One file that was read: its shape, encoding, rows used and rows skipped."""

    path: str
    shape: str
    encoding: str
    rows: int  # data rows used (skipped rows not included)
    skipped_rows: int


@dataclass(frozen=True)
class GroupKey:
    """One metric in one arm, period and segment; segment is ((column, value), ...)."""

    metric: str
    arm: str
    period: str | None
    segment: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class SummaryValue:
    """A metric value as a dashboard reports it, with the number of units when given."""

    value: float
    n: int | None


@dataclass(frozen=True)
class ExportData:
    """Everything read from the exports: sufficient statistics or summary values per group."""

    shape: str  # "units" | "stats" | "summary"
    sources: tuple[SourceInfo, ...]
    stats: Mapping[GroupKey, ArmStats]
    summary: Mapping[GroupKey, SummaryValue]
    warnings: tuple[str, ...]


def totals(stats: Mapping[GroupKey, ArmStats]) -> dict[GroupKey, ArmStats]:
    """Merge per-segment statistics into one group per metric, arm and period."""
    merged: dict[GroupKey, ArmStats] = {}
    for key, value in stats.items():
        total = GroupKey(key.metric, key.arm, key.period, ())
        merged[total] = merged[total] + value if total in merged else value
    return merged


def read_exports(paths: Sequence[Path], options: ReadOptions) -> ExportData:
    """Read metric exports (CSV or Parquet, one shape for all files) into sufficient statistics."""
    if not paths:
        raise InputError("no metric export given; pass one or more CSV or Parquet files")
    _check_options(options)
    sources = [open_source(Path(p), options.encoding) for p in paths]
    shapes = [_detect_shape(src, options) for src in sources]
    if len(set(shapes)) > 1:
        listing = "; ".join(
            f"{s.display} is {SHAPE_NAMES[sh]}" for s, sh in zip(sources, shapes, strict=True)
        )
        raise InputError(f"the exports have different shapes ({listing}); pass files of one shape")
    shape = shapes[0]
    progress = Progress(options.progress)
    reader = {"units": _UnitsReader, "stats": _StatsReader, "summary": _SummaryReader}[shape]
    return reader(options, progress).read_all(sources, shape)


# ---------------------------------------------------------------- text helpers


def normalize_text(text: str) -> str:
    """NFKC-normalise and strip a header, label or number (full-width to half-width)."""
    return unicodedata.normalize("NFKC", text).replace("\ufeff", "").strip()


_NUMBER_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_THOUSANDS_RE = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")
_TRUE = frozenset({"true", "yes"})
_FALSE = frozenset({"false", "no"})


def parse_number(raw: str, *, percent: bool, boolean: bool = False) -> float | str:
    """Parse one cell as a number; return the float or a message saying what to write instead.

    `percent` allows `35%` (read as 0.35); `boolean` allows true/false (1/0). Thousands
    separators (`1,234`) and full-width digits are always accepted.
    """
    text = normalize_text(raw).replace("\u2212", "-")
    if not text:
        return "is blank; fill in a value"
    core = text[:-1].rstrip() if text.endswith("%") else text
    is_percent = core is not text
    if _THOUSANDS_RE.match(core):
        core = core.replace(",", "")
    if boolean and not is_percent and core.casefold() in _TRUE | _FALSE:
        return 1.0 if core.casefold() in _TRUE else 0.0
    if not _NUMBER_RE.match(core):
        return f"{_quote(raw)} is not a number; write a plain number such as 12.5"
    if is_percent and not percent:
        return (
            f"{_quote(raw)} is a percentage; unit rows hold each unit's own value "
            "(0 or 1 for a proportion)"
        )
    value = float(core)
    if value in (float("inf"), float("-inf")):
        return f"{_quote(raw)} is too large to be a number here"
    return value / 100.0 if is_percent else value


def _quote(value: str) -> str:
    shown = value if len(value) <= 40 else value[:37] + "..."
    return f'"{shown}"'


def _names(values: Sequence[str], limit: int = 12) -> str:
    shown = ", ".join(f"`{v}`" for v in list(values)[:limit])
    return shown + (f" … ({len(values)} in all)" if len(values) > limit else "")


# ---------------------------------------------------------------- opening a source


@dataclass(frozen=True)
class Source:
    """An export file opened for reading: format, encoding and normalised header."""

    path: Path
    display: str
    format: Literal["csv", "parquet"]
    encoding: str
    delimiter: str
    columns: tuple[str, ...]  # normalised header names, made unique
    header_end: int  # byte offset just after the header line (CSV)
    size: int

    def where(
        self, line: int | None = None, row: int | None = None, column: str | None = None
    ) -> str:
        """`file, line N, column "x"`: the position prefix of a message."""
        parts = [self.display]
        if line is not None:
            parts.append(f"line {line}")
        elif row is not None:
            parts.append(f"row {row}")
        if column is not None:
            parts.append(f'column "{column}"')
        return ", ".join(parts)


def open_source(path: Path, encoding: str | None = None) -> Source:
    """Open an export: check it is a readable, non-empty CSV or Parquet file; read its header."""
    display = str(path)
    if not path.exists():
        raise InputError(f"{display}: no such file")
    if path.is_dir():
        raise InputError(f"{display}: is a folder; pass the export files inside it")
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            sample = handle.read(_SAMPLE_BYTES)
    except OSError as exc:
        raise InputError(f"{display}: cannot be read ({exc.strerror})") from None
    if not sample:
        raise InputError(
            f"{display}: the file is empty; export it again with a header row and data"
        )
    if sample[:4] == b"PAR1" or path.suffix.lower() in (".parquet", ".pq"):
        return _open_parquet(path, display, size)
    _reject_binary(sample, display)
    enc = _detect_encoding(sample, size, encoding, display)
    return _open_csv(path, display, size, sample, enc)


def _reject_binary(sample: bytes, display: str) -> None:
    kinds = {
        b"PK\x03\x04": "an Excel workbook or ZIP archive; save the sheet as CSV UTF-8",
        b"\xd0\xcf\x11\xe0": "an old Excel workbook (.xls); save the sheet as CSV UTF-8",
        b"%PDF": "a PDF document; export the data as CSV",
        b"\x1f\x8b": "a gzip archive; unpack it first",
    }
    for magic, what in kinds.items():
        if sample.startswith(magic):
            raise InputError(f"{display}: is not a CSV file: it looks like {what}")
    if sample[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return
    if b"\x00" in sample:
        raise InputError(
            f"{display}: is not a CSV file (it contains binary data); export it as CSV"
        )


def _detect_encoding(sample: bytes, size: int, forced: str | None, display: str) -> str:
    if forced:
        try:
            return codecs.lookup(forced).name
        except LookupError:
            raise InputError(
                f"unknown encoding {_quote(forced)}; use for example utf-8, utf-8-sig or gb18030"
            ) from None
    if sample.startswith(codecs.BOM_UTF8):
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
        f"{display}: the text is neither UTF-8 nor GBK/GB18030; save it as CSV UTF-8, "
        "or pass --encoding with the file's encoding"
    )


def _ascii_compatible(encoding: str) -> bool:
    """True when a newline, comma and quote are single ASCII bytes that never occur inside
    a multi-byte character, so the raw bytes can be cut at newlines."""
    name = codecs.lookup(encoding).name
    if name.startswith(("utf-16", "utf-32", "utf-7")) or "2022" in name:
        return False
    try:
        return '\n,;\t"'.encode(name) == b'\n,;\t"'
    except UnicodeError:
        return False


def _open_csv(path: Path, display: str, size: int, sample: bytes, encoding: str) -> Source:
    if _ascii_compatible(encoding):
        end = sample.find(b"\n")
        header_end = len(sample) if end < 0 else end + 1
        try:
            header_text = sample[:header_end].decode(encoding)
        except UnicodeDecodeError:
            raise InputError(
                f"{display}, line 1: the header is not valid {encoding}; pass --encoding "
                "with the file's encoding"
            ) from None
    else:  # UTF-16: read the header through a decoder
        with path.open("r", encoding=encoding, newline="") as text:
            header_text = text.readline()
        header_end = -1
    if header_end == len(sample) and size > len(sample):
        raise InputError(
            f"{display}, line 1: the header line is longer than 1 MB; is this a CSV file?"
        )
    first = header_text.rstrip("\r\n")
    if not first.strip():
        raise InputError(f"{display}, line 1: the first line is blank; it must be the header row")
    delimiter = _sniff_delimiter(first)
    raw = next(csv.reader([first], delimiter=delimiter))
    columns = _unique_columns([normalize_text(name) for name in raw])
    return Source(path, display, "csv", encoding, delimiter, columns, header_end, size)


def _sniff_delimiter(header: str) -> str:
    counts = {d: header.count(d) for d in (",", "\t", ";")}
    best = max(counts, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


def _unique_columns(names: list[str]) -> tuple[str, ...]:
    seen: dict[str, int] = {}
    out = []
    for index, name in enumerate(names, start=1):
        name = name or f"column_{index}"
        if name in seen:
            seen[name] += 1
            name = f"{name} ({seen[name]})"  # a duplicate header; `find_column` reports it if used
        else:
            seen[name] = 1
        out.append(name)
    return tuple(out)


def _open_parquet(path: Path, display: str, size: int) -> Source:
    import pyarrow.parquet as pq

    try:
        schema = pq.ParquetFile(path).schema_arrow
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise InputError(
            f"{display}: is not a readable Parquet file ({_arrow_message(exc)})"
        ) from None
    columns = _unique_columns([normalize_text(name) for name in schema.names])
    return Source(path, display, "parquet", "parquet", ",", columns, 0, size)


def _arrow_message(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def find_column(source: Source, wanted: str, role: str) -> str:
    """The header name of column `wanted` (NFKC, then case-insensitive); a clear error if absent."""
    name = normalize_text(wanted)
    if name in source.columns:
        if f"{name} (2)" in source.columns:
            raise InputError(
                f'{source.where(line=1 if source.format == "csv" else None)}: column "{name}" '
                "appears more than once in the header; rename one of them"
            )
        return name
    folded = [c for c in source.columns if c.casefold() == name.casefold()]
    if len(folded) == 1:
        return folded[0]
    close = difflib.get_close_matches(name, source.columns, n=1, cutoff=0.6)
    hint = f'; did you mean "{close[0]}"?' if close else ""
    raise InputError(
        f'{source.display}: missing column "{name}" ({role}); the file has columns '
        f"{_names(source.columns, 30)}{hint}"
    )


# ---------------------------------------------------------------- reading CSV in chunks


@dataclass
class Chunk:
    """A piece of a CSV file cut at line ends, as UTF-8, with the line number it starts at."""

    data: bytes | memoryview
    first_line: int
    quoted: bool  # contains a quote character, so values may span lines
    buffer: bytearray | None = None  # pooled memory behind `data`, handed back by release()
    pool: list[bytearray] | None = None

    def release(self) -> None:
        """Give the chunk's memory back for the next chunk (only once it is fully processed)."""
        if self.buffer is not None and self.pool is not None:
            self.pool.append(self.buffer)
            self.buffer = None

    def line_of_record(self, record: int, delimiter: str, width: int) -> int:
        """Physical line where the `record`-th (0-based) well-formed record of this chunk starts."""
        text = io.StringIO(bytes(self.data).decode("utf-8", errors="replace"), newline="")
        reader = csv.reader(text, delimiter=delimiter)
        previous_end = 0
        count = 0
        for fields in reader:
            start = previous_end + 1
            previous_end = reader.line_num
            if not fields or len(fields) != width:
                continue  # pyarrow skips blank lines; rows of the wrong width are reported apart
            if count == record:
                return self.first_line + start - 1
            count += 1
        return self.first_line + previous_end

    def line_of_text(self, text: str) -> int:
        """Physical line of the first occurrence of `text` in this chunk."""
        data = bytes(self.data)
        position = data.find(text.encode("utf-8"))
        return self.first_line + (data.count(b"\n", 0, position) if position >= 0 else 0)


class Progress:
    """Reports bytes read so far, across files, to an optional callback (a progress bar)."""

    def __init__(self, callback: Callable[[int], None] | None) -> None:
        self.callback = callback
        self.done = 0

    def add(self, nbytes: int) -> None:
        self.done += nbytes
        if self.callback is not None and nbytes:
            self.callback(self.done)


def iter_chunks(
    source: Source,
    progress: Progress,
    chunk_bytes: int | None = None,
    pool: list[bytearray] | None = None,
) -> Iterator[Chunk]:
    """Yield the data lines of a CSV source (header excluded) in UTF-8 chunks cut at line ends.

    A cut never falls inside a quoted value: the quote count before it must be even. With a
    `pool`, chunk memory is reused once the consumer calls `Chunk.release()` (fresh memory
    for every chunk costs more than parsing it).
    """
    chunk_bytes = chunk_bytes or _CHUNK_BYTES
    if not _ascii_compatible(source.encoding):
        yield from _iter_decoded_chunks(source, progress, chunk_bytes)
        return
    recode = source.encoding not in ("utf-8", "utf-8-sig", "ascii")
    line = 2
    tail = b""
    with source.path.open("rb") as handle:
        handle.seek(source.header_end)
        progress.add(source.header_end)
        while True:
            size = len(tail) + chunk_bytes
            buffer = pool.pop() if pool else bytearray(size)
            if len(buffer) < size:
                buffer = bytearray(size)
            buffer[: len(tail)] = tail
            with memoryview(buffer) as view:
                read = handle.readinto(view[len(tail) : size]) or 0
            progress.add(read)
            total = len(tail) + read
            cut = total if read == 0 else _safe_cut(buffer, total)
            if cut <= 0 or (read == 0 and not bytes(buffer[:total]).strip()):
                tail = bytes(buffer[:total])
                if pool is not None:
                    pool.append(buffer)
                if read == 0:
                    return
                continue
            tail = bytes(buffer[cut:total])
            lines = buffer.count(b"\n", 0, cut)
            quoted = buffer.find(b'"', 0, cut) >= 0
            if recode:
                data: bytes | memoryview = _recode(source, bytes(buffer[:cut]), line)
                chunk = Chunk(data, line, quoted)
                if pool is not None:
                    pool.append(buffer)
            else:
                chunk = Chunk(memoryview(buffer)[:cut], line, quoted, buffer, pool)
            yield chunk
            line += lines
            if read == 0:
                return


def _safe_cut(data: bytes | bytearray, total: int) -> int:
    """Offset just after the last newline outside quotes in `data[:total]` (0 if none)."""
    end = data.rfind(b"\n", 0, total)
    if end < 0 or data.find(b'"', 0, end) < 0:
        return end + 1
    quotes = data.count(b'"', 0, end)
    while end >= 0 and quotes % 2:
        previous = data.rfind(b"\n", 0, end)
        quotes -= data.count(b'"', previous + 1, end)
        end = previous
    return end + 1


def _recode(source: Source, data: bytes, line: int) -> bytes:
    try:
        return data.decode(source.encoding).encode("utf-8")
    except UnicodeDecodeError as exc:
        bad = line + data.count(b"\n", 0, exc.start)
        raise InputError(_decode_message(source, bad)) from None


def _decode_message(source: Source, line: int | None) -> str:
    where = source.where(line=line)
    other = "gb18030" if source.encoding.startswith("utf") else "utf-8"
    return (
        f"{where}: bytes that are not valid {source.encoding} (the start of the file read as "
        f"{source.encoding}); save the whole file in one encoding, or pass --encoding {other}"
    )


def _iter_decoded_chunks(source: Source, progress: Progress, chunk_bytes: int) -> Iterator[Chunk]:
    """Chunks of a file whose encoding is not ASCII-compatible (UTF-16), through a decoder."""
    line = 2
    position = 0
    carry = ""
    with source.path.open("r", encoding=source.encoding, newline="") as text:
        try:
            text.readline()  # the header, already read by open_source
            while True:
                block = text.read(chunk_bytes // 2)
                progress.add(text.buffer.tell() - position)
                position = text.buffer.tell()
                data = carry + block
                if not block:
                    if data.strip():
                        yield Chunk(data.encode("utf-8"), line, '"' in data)
                    return
                raw = data.encode("utf-8")
                cut = _safe_cut(raw, len(raw))
                if cut <= 0:
                    carry = data
                    continue
                piece, carry = raw[:cut], raw[cut:].decode("utf-8")
                yield Chunk(piece, line, b'"' in piece)
                line += piece.count(b"\n")
        except UnicodeDecodeError:
            raise InputError(_decode_message(source, None)) from None


@dataclass
class StringBatch:
    """Some rows of an export as NFKC-normalised text columns, with a way to locate each row."""

    columns: dict[str, list[str]]
    num_rows: int
    locate: Callable[[int], str]  # row index in this batch -> "file, line N"


def iter_string_batches(
    source: Source,
    columns: Sequence[str],
    skip_bad_rows: bool,
    progress: Progress,
    skipped: list[str],
) -> Iterator[StringBatch]:
    """Read the given columns of any export as normalised strings, batch by batch.

    Rows with the wrong number of fields are skipped (their description appended to
    `skipped`) when `skip_bad_rows`, else reported.
    """
    import pyarrow as pa

    if source.format == "parquet":
        yield from _parquet_string_batches(source, columns, progress)
        return
    for chunk in iter_chunks(source, progress):
        table = _parse_chunk(
            source, chunk, columns, {c: pa.string() for c in columns}, skip_bad_rows, skipped
        )
        data = {
            name: [normalize_text(v) for v in table.column(name).to_pylist()] for name in columns
        }

        def locate(index: int, chunk: Chunk = chunk) -> str:
            return source.where(
                line=chunk.line_of_record(index, source.delimiter, len(source.columns))
            )

        yield StringBatch(data, table.num_rows, locate)


def _parquet_string_batches(
    source: Source, columns: Sequence[str], progress: Progress
) -> Iterator[StringBatch]:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(source.path)
    names = _parquet_names(source, parquet)
    total = max(parquet.metadata.num_rows, 1)
    offset = 0
    for batch in parquet.iter_batches(batch_size=65536, columns=[names[c] for c in columns]):
        data = {}
        for name in columns:
            array = batch.column(names[name])
            if not pa.types.is_string(array.type):
                array = pc.cast(array, pa.string())
            data[name] = ["" if v is None else normalize_text(v) for v in array.to_pylist()]

        def locate(index: int, first: int = offset) -> str:
            return source.where(row=first + index + 1)

        offset += batch.num_rows
        progress.add(source.size * batch.num_rows // total)
        yield StringBatch(data, batch.num_rows, locate)


def _parquet_names(source: Source, parquet: object) -> dict[str, str]:
    """Normalised column name -> name in the Parquet schema."""
    raw = parquet.schema_arrow.names  # type: ignore[attr-defined]
    return dict(zip(source.columns, raw, strict=True))


def _parse_chunk(
    source: Source,
    chunk: Chunk,
    columns: Sequence[str],
    types: Mapping[str, pa.DataType],
    skip_bad_rows: bool,
    skipped: list[str] | None,
    *,
    strict: bool = False,
) -> pa.Table:
    """Parse a chunk with pyarrow. `strict` (the fast path) raises ArrowInvalid on any problem;
    otherwise problems become InputErrors naming the line, or skipped rows."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    invalid: list[str] = []
    width = len(source.columns)

    def on_invalid_row(row: pcsv.InvalidRow) -> str:
        if strict:
            return "error"
        invalid.append(row.text)
        return "skip" if skip_bad_rows else "error"

    try:
        return pcsv.read_csv(
            pa.BufferReader(chunk.data),
            read_options=pcsv.ReadOptions(
                column_names=list(source.columns), use_threads=False, block_size=len(chunk.data) + 1
            ),
            parse_options=pcsv.ParseOptions(
                delimiter=source.delimiter,
                newlines_in_values=chunk.quoted,
                invalid_row_handler=on_invalid_row,
            ),
            convert_options=pcsv.ConvertOptions(
                include_columns=list(columns),
                column_types=dict(types),
                null_values=[""],
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                true_values=["1", "1.0", "true", "True", "TRUE"],
                false_values=["0", "0.0", "false", "False", "FALSE"],
            ),
        )
    except pa.ArrowInvalid as exc:
        if strict:
            raise
        if invalid:
            line = chunk.line_of_text(invalid[-1])
            fields = len(next(csv.reader([invalid[-1]], delimiter=source.delimiter), []))
            raise InputError(
                f"{source.where(line=line)}: the row has {fields} fields but the header has "
                f"{width}; fix the row (a value with a comma needs quotes), {SKIP_HINT}"
            ) from None
        if "UTF8" in str(exc) or "UTF-8" in str(exc):
            raise InputError(_decode_message(source, _first_bad_utf8_line(chunk))) from None
        raise InputError(
            f"{source.display}: cannot be read as CSV ({_arrow_message(exc)})"
        ) from None
    finally:
        if skipped is not None:
            for text in invalid:
                if skip_bad_rows:
                    skipped.append(f"line {chunk.line_of_text(text)}: wrong number of fields")


def _first_bad_utf8_line(chunk: Chunk) -> int:
    data = bytes(chunk.data)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return chunk.first_line + data.count(b"\n", 0, exc.start)
    return chunk.first_line


# ---------------------------------------------------------------- shapes


_STATS_COLUMNS = ("metric", "n", "sum", "sum_sq")
_RATIO_COLUMNS = ("sum_den", "sum_den_sq", "sum_prod")


def _has(source: Source, name: str) -> bool:
    return any(c.casefold() == name for c in source.columns)


def _detect_shape(source: Source, options: ReadOptions) -> str:
    if options.input_format != "auto":
        return options.input_format
    if all(_has(source, c) for c in _STATS_COLUMNS):
        return "stats"
    if _has(source, "metric") and _has(source, "value"):
        return "summary"
    return "units"


def _check_options(options: ReadOptions) -> None:
    if not options.metrics:
        raise InputError("no metrics to read; the playbook must list metrics")
    for metric in options.metrics:
        needed = ("numerator", "denominator") if metric.kind == "ratio" else ("column",)
        missing = [n for n in needed if not getattr(metric, n)]
        if missing:
            raise InputError(f"metric `{metric.id}` ({metric.kind}) needs {' and '.join(missing)}")


class _Reader:
    """Shared parts of the three shape readers: labels, arms/periods checks, result assembly."""

    def __init__(self, options: ReadOptions, progress: Progress) -> None:
        self.options = options
        self.progress = progress
        self.warnings: list[str] = []
        self.sources: list[SourceInfo] = []
        self.metric_ids = {m.id: m for m in options.metrics}

    def key_columns(
        self, source: Source, arm_default: str | None
    ) -> tuple[str, str | None, list[str]]:
        """Header names of the arm, period and segment columns in `source`."""
        opts = self.options
        arm = self._column_or_default(source, opts.arm_column, arm_default, "the arm column")
        period = None
        if opts.period_column:
            default = "period" if arm_default else None
            period = self._column_or_default(
                source, opts.period_column, default, "the period column"
            )
        segments = [find_column(source, s, "a segment column") for s in opts.segment_columns]
        return arm, period, segments

    @staticmethod
    def _column_or_default(source: Source, name: str, default: str | None, role: str) -> str:
        if (
            default is not None
            and normalize_text(name) not in source.columns
            and _has(source, default)
        ):
            return find_column(source, default, role)
        return find_column(source, name, role)

    def check_labels(
        self, found: Mapping[str, int], labels: Sequence[str], column: str, what: str
    ) -> None:
        """Raise if a configured arm/period label is absent; warn about the other values."""
        if not labels:
            return
        values = sorted(found)
        for label in labels:
            if normalize_text(label) not in found:
                files = ", ".join(source.path for source in self.sources)
                raise InputError(
                    f"{what} `{label}` not in column `{column}` ({files}); values found: "
                    f"{_names(values)}{_close_hint(label, values)}"
                )
        wanted = {normalize_text(label) for label in labels}
        others = [v for v in values if v not in wanted]
        if others:
            counts = ", ".join(f"`{v}` ({found[v]:,} rows)" for v in others[:12])
            self.warnings.append(
                f"column `{column}` also has the values {counts}; they are kept in the statistics "
                f"but are not one of the configured {what}s ({', '.join(labels)})"
            )

    def finish(
        self,
        shape: str,
        stats: Mapping[GroupKey, ArmStats],
        summary: Mapping[GroupKey, SummaryValue],
    ) -> ExportData:
        order = {m.id: i for i, m in enumerate(self.options.metrics)}

        def sort_key(key: GroupKey) -> tuple[object, ...]:
            return (order.get(key.metric, len(order)), key.arm, key.period or "", key.segment)

        return ExportData(
            shape=shape,
            sources=tuple(self.sources),
            stats=MappingProxyType({k: stats[k] for k in sorted(stats, key=sort_key)}),
            summary=MappingProxyType({k: summary[k] for k in sorted(summary, key=sort_key)}),
            warnings=tuple(self.warnings),
        )

    def skip_warning(self, source: Source, count: int, examples: list[str]) -> None:
        if count:
            shown = "; ".join(examples[:_MAX_EXAMPLES]) + ("; …" if count > _MAX_EXAMPLES else "")
            self.warnings.append(f"{source.display}: skipped {count:,} bad row(s) ({shown})")

    def label_counts(self, rows: Mapping[tuple[str, ...], int], position: int) -> dict[str, int]:
        counts: dict[str, int] = {}
        for key, n in rows.items():
            counts[key[position]] = counts.get(key[position], 0) + n
        return counts


def _close_hint(label: str, values: Sequence[str]) -> str:
    close = difflib.get_close_matches(normalize_text(label), list(values), n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""


# ---------------------------------------------------------------- unit rows


@dataclass(frozen=True)
class _UnitPlan:
    """Which columns a unit-row chunk is read with and how each metric maps onto sums."""

    keys: tuple[str, ...]  # arm, [period], segments (header names)
    values: tuple[str, ...]  # distinct metric columns (header names)
    proportions: frozenset[str]  # value columns that must hold 0/1
    products: tuple[tuple[str, str], ...]  # (numerator, denominator) pairs of ratio metrics

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.keys + self.values))

    def sum_names(self) -> list[str]:
        names = ["n"]
        for col in self.values:
            names += [f"sum:{col}", f"sq:{col}"]
        names += [f"prod:{num}:{den}" for num, den in self.products]
        return names


@dataclass
class _ChunkResult:
    groups: dict[tuple[str, ...], list[float]] = field(default_factory=dict)
    rows: int = 0
    skipped: int = 0
    problems: list[tuple[int, str, str]] = field(default_factory=list)  # (record, column, message)


class _UnitsReader(_Reader):
    def read_all(self, sources: list[Source], shape: str) -> ExportData:
        sums: dict[tuple[str, ...], list[float]] = {}
        plans = []
        for source in sources:
            plan, metric_columns = self._plan(source)
            plans.append((plan, metric_columns))
            for key, values in self._read_source(source, plan).items():
                label = tuple(_label(part) for part in key)  # `３月` and `3月 ` are one label
                sums[label] = (
                    [a + b for a, b in zip(sums[label], values, strict=True)]
                    if label in sums
                    else values
                )
        # Every file's plan lists the same metrics in the same order, so the sums line up.
        plan, metric_columns = plans[0]
        self._labels(plan, sums)
        return self.finish(shape, self._stats(plan, metric_columns, sums), {})

    def _plan(self, source: Source) -> tuple[_UnitPlan, dict[str, tuple[str, str | None]]]:
        arm, period, segments = self.key_columns(source, None)
        keys = (arm,) + ((period,) if period else ()) + tuple(segments)
        values: list[str] = []
        proportions: set[str] = set()
        products: list[tuple[str, str]] = []
        metric_columns: dict[str, tuple[str, str | None]] = {}
        for metric in self.options.metrics:
            if metric.kind == "ratio":
                num = find_column(
                    source, metric.numerator or "", f"numerator of metric `{metric.id}`"
                )
                den = find_column(
                    source, metric.denominator or "", f"denominator of metric `{metric.id}`"
                )
                values += [num, den]
                products.append((num, den))
                metric_columns[metric.id] = (num, den)
            else:
                col = find_column(source, metric.column or "", f"metric `{metric.id}`")
                values.append(col)
                if metric.kind == "proportion":
                    proportions.add(col)
                metric_columns[metric.id] = (col, None)
        for col in values:
            if col in keys:
                raise InputError(
                    f'{source.display}: column "{col}" is both a metric and the arm, '
                    "period or a segment column"
                )
        plan = _UnitPlan(
            keys=keys,
            values=tuple(dict.fromkeys(values)),
            proportions=frozenset(proportions),
            products=tuple(dict.fromkeys(products)),
        )
        return plan, metric_columns

    def _read_source(self, source: Source, plan: _UnitPlan) -> dict[tuple[str, ...], list[float]]:
        sums: dict[tuple[str, ...], list[float]] = {}
        examples: list[str] = []
        rows = skipped = 0
        for result, locate in self._results(source, plan):
            for record, column, message in result.problems:
                if len(examples) >= _MAX_EXAMPLES:
                    break  # locating a row re-reads its chunk: only for the rows quoted
                if record < 0:  # a row with the wrong number of fields, located when parsed
                    examples.append(message)
                    continue
                where = locate(record, column)
                if not self.options.skip_bad_rows:
                    raise InputError(f"{where}: {message}, {SKIP_HINT}")
                examples.append(f"{where.removeprefix(source.display + ', ')}: {message}")
            rows += result.rows
            skipped += result.skipped
            for key, values in result.groups.items():
                if key in sums:
                    sums[key] = [a + b for a, b in zip(sums[key], values, strict=True)]
                else:
                    sums[key] = values
        if rows == 0 and skipped == 0:
            raise InputError(f"{source.display}: has a header but no data rows")
        if rows == 0:
            raise InputError(
                f"{source.display}: every data row is bad ({skipped:,} skipped); "
                + "; ".join(examples[:3])
            )
        self.skip_warning(source, skipped, examples)
        self.sources.append(SourceInfo(source.display, "units", source.encoding, rows, skipped))
        return sums

    def _results(
        self, source: Source, plan: _UnitPlan
    ) -> Iterator[tuple[_ChunkResult, Callable[[int, str], str]]]:
        """Chunk results in file order; CSV chunks are aggregated on a thread pool."""
        if source.format == "parquet":
            yield from self._parquet_results(source, plan)
            return
        skip = self.options.skip_bad_rows
        workers = max(1, min(4, os.cpu_count() or 1))

        def locator(chunk: Chunk) -> Callable[[int, str], str]:
            def locate(record: int, column: str) -> str:
                line = chunk.line_of_record(record, source.delimiter, len(source.columns))
                return source.where(line=line, column=column)

            return locate

        buffers: list[bytearray] = []
        with ThreadPoolExecutor(max_workers=workers) as pool:
            pending: list[tuple[Future[_ChunkResult], Chunk]] = []
            try:
                for chunk in iter_chunks(source, self.progress, pool=buffers):
                    pending.append(
                        (pool.submit(_aggregate_chunk, source, chunk, plan, skip), chunk)
                    )
                    while len(pending) > 2 * workers:
                        future, done = pending.pop(0)
                        yield future.result(), locator(done)
                        done.release()
                while pending:
                    future, done = pending.pop(0)
                    yield future.result(), locator(done)
                    done.release()
            finally:
                for future, _ in pending:
                    future.cancel()

    def _parquet_results(
        self, source: Source, plan: _UnitPlan
    ) -> Iterator[tuple[_ChunkResult, Callable[[int, str], str]]]:
        import pyarrow.parquet as pq

        parquet = pq.ParquetFile(source.path)
        names = _parquet_names(source, parquet)
        total = max(parquet.metadata.num_rows, 1)
        offset = 0
        for batch in parquet.iter_batches(
            batch_size=262144, columns=[names[c] for c in plan.columns]
        ):
            import pyarrow as pa

            table = pa.Table.from_batches([batch]).rename_columns(list(plan.columns))
            result = _aggregate_checked(table, plan, self.options.skip_bad_rows)

            def locate(record: int, column: str, first: int = offset) -> str:
                return source.where(row=first + record + 1, column=column)

            offset += batch.num_rows
            self.progress.add(source.size * batch.num_rows // total)
            yield result, locate

    def _labels(self, plan: _UnitPlan, sums: Mapping[tuple[str, ...], list[float]]) -> None:
        counts = {key: int(values[0]) for key, values in sums.items()}
        self.check_labels(
            self.label_counts(counts, 0), self.options.arm_labels, self.options.arm_column, "arm"
        )
        if self.options.period_column:
            self.check_labels(
                self.label_counts(counts, 1),
                self.options.period_labels,
                self.options.period_column,
                "period",
            )

    def _stats(
        self,
        plan: _UnitPlan,
        metric_columns: Mapping[str, tuple[str, str | None]],
        sums: Mapping[tuple[str, ...], list[float]],
    ) -> dict[GroupKey, ArmStats]:
        index = {name: i for i, name in enumerate(plan.sum_names())}
        has_period = self.options.period_column is not None
        segment_names = self.options.segment_columns
        out: dict[GroupKey, ArmStats] = {}
        for key, values in sums.items():
            period = key[1] if has_period else None
            segment = tuple(zip(segment_names, key[1 + has_period :], strict=True))
            for metric in self.options.metrics:
                col, den = metric_columns[metric.id]
                stats = ArmStats(
                    n=int(values[0]),
                    sum=values[index[f"sum:{col}"]],
                    sum_sq=values[index[f"sq:{col}"]],
                )
                if den is not None:
                    stats = ArmStats(
                        n=stats.n,
                        sum=stats.sum,
                        sum_sq=stats.sum_sq,
                        sum_den=values[index[f"sum:{den}"]],
                        sum_den_sq=values[index[f"sq:{den}"]],
                        sum_prod=values[index[f"prod:{col}:{den}"]],
                    )
                out[GroupKey(metric.id, key[0], period, segment)] = stats
        return out


@lru_cache(maxsize=4096)
def _label(value: str) -> str:
    return normalize_text(value)


def _aggregate_chunk(
    source: Source, chunk: Chunk, plan: _UnitPlan, skip_bad_rows: bool
) -> _ChunkResult:
    """Sums per group of one chunk: a typed fast parse, and a careful one when that fails."""
    import pyarrow as pa

    types: dict[str, pa.DataType] = {
        key: pa.dictionary(pa.int32(), pa.string()) for key in plan.keys
    }
    for col in plan.values:
        types[col] = (
            pa.bool_() if col in plan.proportions and _only_proportion(plan, col) else pa.float64()
        )
    try:
        table = _parse_chunk(source, chunk, plan.columns, types, False, None, strict=True)
        result = _aggregate_fast(table, plan)
        if result is not None:
            return result
    except pa.ArrowException:
        pass  # a blank, malformed or full-width cell: read the chunk again as text
    skipped_invalid: list[str] = []
    table = _parse_chunk(
        source,
        chunk,
        plan.columns,
        {c: pa.string() for c in plan.columns},
        skip_bad_rows,
        skipped_invalid,
    )
    result = _aggregate_checked(table, plan, skip_bad_rows)
    result.skipped += len(skipped_invalid)
    result.problems = [(-1, "", text) for text in skipped_invalid[:_MAX_EXAMPLES]] + result.problems
    return result


def _only_proportion(plan: _UnitPlan, col: str) -> bool:
    return all(col not in pair for pair in plan.products)


def _aggregate_fast(table: pa.Table, plan: _UnitPlan) -> _ChunkResult | None:
    """Aggregate a cleanly typed chunk; None when anything needs a careful look."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if any(table.column(c).null_count for c in plan.values):
        return None
    for col in plan.proportions:
        column = table.column(col)
        if not pa.types.is_boolean(column.type):
            if not pc.all(pc.is_in(column, value_set=pa.array([0.0, 1.0]))).as_py():
                return None
    result = _aggregate(table, plan)
    for key, values in result.groups.items():
        if any(not _label(part) for part in key) or any(
            v != v or v in (_INF, -_INF) for v in values
        ):
            return None
    return result


_INF = float("inf")


def _aggregate(table: pa.Table, plan: _UnitPlan) -> _ChunkResult:
    """Group a chunk (keys as strings, values as numbers) and sum n, y, y² and num·den.

    The sums come out in `plan.sum_names()` order.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    arrays: dict[str, pa.ChunkedArray] = {f"k{i}": table.column(k) for i, k in enumerate(plan.keys)}
    aggregations: list[tuple[object, str]] = [([], "count_all")]
    outputs = ["count_all"]
    for i, col in enumerate(plan.values):
        values = table.column(col)
        boolean = pa.types.is_boolean(values.type)
        arrays[f"s{i}"] = values = pc.cast(values, pa.float64())
        aggregations.append((f"s{i}", "sum"))
        if boolean:  # y² = y for 0/1
            outputs += [f"s{i}_sum", f"s{i}_sum"]
        else:
            arrays[f"q{i}"] = pc.multiply(values, values)
            aggregations.append((f"q{i}", "sum"))
            outputs += [f"s{i}_sum", f"q{i}_sum"]
    position = {col: i for i, col in enumerate(plan.values)}
    for j, (num, den) in enumerate(plan.products):
        arrays[f"p{j}"] = pc.multiply(arrays[f"s{position[num]}"], arrays[f"s{position[den]}"])
        aggregations.append((f"p{j}", "sum"))
        outputs.append(f"p{j}_sum")
    keys = [f"k{i}" for i in range(len(plan.keys))]
    grouped = pa.table(arrays).group_by(keys, use_threads=False).aggregate(aggregations)
    key_lists = [grouped.column(k).to_pylist() for k in keys]
    sum_lists = {name: grouped.column(name).to_pylist() for name in dict.fromkeys(outputs)}
    result = _ChunkResult(rows=table.num_rows)
    for r in range(grouped.num_rows):
        key = tuple(str(column[r]) for column in key_lists)
        result.groups[key] = [float(sum_lists[name][r] or 0.0) for name in outputs]
    return result


def _aggregate_checked(table: pa.Table, plan: _UnitPlan, skip_bad_rows: bool) -> _ChunkResult:
    """Validate every cell of a chunk read as text (or Parquet), then aggregate the good rows."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    bad = np.zeros(table.num_rows, dtype=bool)
    problem_columns: list[tuple[str, np.ndarray]] = []
    typed: dict[str, pa.Array] = {}
    for col in plan.keys:
        column = table.column(col)
        if not pa.types.is_string(column.type) and not pa.types.is_large_string(column.type):
            column = pc.cast(column, pa.string())
        text = pc.utf8_trim_whitespace(pc.utf8_normalize(column, "NFKC"))
        blank = pc.fill_null(pc.equal(text, ""), True).to_numpy(zero_copy_only=False)
        problem_columns.append((col, blank))
        typed[col] = column
    for col in plan.values:
        values, invalid = _numbers(
            table.column(col), proportion=col in plan.proportions and _only_proportion(plan, col)
        )
        if col in plan.proportions:
            invalid |= ~np.isin(np.nan_to_num(values, nan=0.0), (0.0, 1.0))
        problem_columns.append((col, invalid))
        typed[col] = pa.array(np.where(invalid, 0.0, values))
    for _, mask in problem_columns:
        bad |= mask
    problems: list[tuple[int, str, str]] = []
    if bad.any():
        bad_rows = np.flatnonzero(bad)
        for record in bad_rows[: _MAX_EXAMPLES if skip_bad_rows else 1]:
            for col, mask in problem_columns:
                if mask[record]:
                    problems.append(
                        (
                            int(record),
                            col,
                            _cell_problem(table.column(col)[record].as_py(), col, plan),
                        )
                    )
                    break
    keep = ~bad
    clean = pa.table({c: typed[c] for c in plan.columns}).filter(pa.array(keep))
    result = _aggregate(clean, plan) if clean.num_rows else _ChunkResult()
    result.skipped = int(bad.sum())
    result.problems = problems
    return result


def _numbers(column: pa.ChunkedArray, proportion: bool) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised `parse_number` (no percentages) over a column: values and an invalid mask."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        values = pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False)
        values = np.asarray(values, dtype=float)
        return values, ~np.isfinite(values)
    text = pc.utf8_trim_whitespace(pc.utf8_normalize(column, "NFKC"))
    text = pc.replace_substring(text, "\u2212", "-")
    thousands = pc.match_substring_regex(text, _THOUSANDS_RE.pattern)
    text = pc.if_else(thousands, pc.replace_substring(text, ",", ""), text)
    valid = pc.match_substring_regex(text, _NUMBER_RE.pattern)
    numbers = pc.cast(pc.if_else(valid, text, pa.scalar(None, pa.string())), pa.float64())
    if proportion:
        lowered = pc.utf8_lower(text)
        truthy = pc.is_in(lowered, value_set=pa.array(sorted(_TRUE)))
        falsy = pc.is_in(lowered, value_set=pa.array(sorted(_FALSE)))
        numbers = pc.if_else(truthy, 1.0, pc.if_else(falsy, 0.0, numbers))
    values = np.asarray(pc.fill_null(numbers, np.nan).to_numpy(zero_copy_only=False), dtype=float)
    return values, ~np.isfinite(values)


def _cell_problem(raw: object, col: str, plan: _UnitPlan) -> str:
    """The message for one bad unit-row cell (the scalar twin of `_numbers`)."""
    text = "" if raw is None else str(raw)
    if col in plan.keys:
        return "is blank; every row needs a value here"
    proportion = col in plan.proportions
    value = parse_number(text, percent=False, boolean=proportion and _only_proportion(plan, col))
    if isinstance(value, str):
        if proportion and value.startswith("is blank"):
            return "is blank; write 0 or 1"
        return value
    if proportion and value not in (0.0, 1.0):
        return (
            f"{_quote(text)} is not 0 or 1; a proportion column holds 0/1 (or true/false) per unit"
        )
    return f"{_quote(text)} is not a finite number"


# ---------------------------------------------------------------- statistics and summaries


class _RowReader(_Reader):
    """Reads small exports (statistics, summaries) row by row."""

    def rows(
        self, source: Source, columns: Mapping[str, str]
    ) -> Iterator[tuple[Callable[[str | None], str], dict[str, str]]]:
        """(locate, row) for every data row; `columns` maps role -> header name."""
        skipped: list[str] = []
        self.bad_examples = skipped
        headers = list(dict.fromkeys(columns.values()))
        count = 0
        for batch in iter_string_batches(
            source, headers, self.options.skip_bad_rows, self.progress, skipped
        ):
            for i in range(batch.num_rows):
                row = {role: batch.columns[name][i] for role, name in columns.items()}

                def locate(column: str | None, i: int = i, batch: StringBatch = batch) -> str:
                    where = batch.locate(i)
                    return f'{where}, column "{columns[column]}"' if column else where

                count += 1
                yield locate, row
        if count == 0 and not skipped:
            raise InputError(f"{source.display}: has a header but no data rows")

    def number(
        self,
        locate: Callable[[str | None], str],
        row: Mapping[str, str],
        role: str,
        *,
        percent: bool,
        integer: bool = False,
    ) -> float:
        value = parse_number(row[role], percent=percent)
        if isinstance(value, str):
            raise _BadRow(f"{locate(role)}: {value}")
        if integer and (value != int(value) or value < 0):
            raise _BadRow(f"{locate(role)}: {_quote(row[role])} is not a whole number of units")
        return value

    def read_rows(
        self,
        source: Source,
        columns: Mapping[str, str],
        handle: Callable[[Callable[[str | None], str], dict[str, str]], None],
    ) -> None:
        """Apply `handle` to every row, raising or skipping (and counting) bad ones."""
        used = skipped = 0
        examples: list[str] = []
        for locate, row in self.rows(source, columns):
            try:
                handle(locate, row)
                used += 1
            except _BadRow as bad:
                if not self.options.skip_bad_rows:
                    raise InputError(f"{bad.message}, {SKIP_HINT}") from None
                skipped += 1
                if len(examples) < _MAX_EXAMPLES:
                    examples.append(bad.message.removeprefix(source.display + ", "))
        skipped += len(self.bad_examples)
        examples = self.bad_examples + examples
        if used == 0:
            raise InputError(f"{source.display}: no usable data rows ({skipped:,} bad)")
        self.skip_warning(source, skipped, examples)
        self.sources.append(SourceInfo(source.display, self.shape, source.encoding, used, skipped))

    def key(
        self, locate: Callable[[str | None], str], row: Mapping[str, str], roles: Sequence[str]
    ) -> None:
        for role in roles:
            if not row[role]:
                raise _BadRow(f"{locate(role)}: is blank; every row needs a value here")

    def key_roles(self, source: Source) -> dict[str, str]:
        arm, period, segments = self.key_columns(source, "arm")
        roles = {"arm": arm}
        if period:
            roles["period"] = period
        for name, header in zip(self.options.segment_columns, segments, strict=True):
            roles[f"segment:{name}"] = header
        return roles

    def group(self, metric: str, row: Mapping[str, str]) -> GroupKey:
        segment = tuple((name, row[f"segment:{name}"]) for name in self.options.segment_columns)
        return GroupKey(metric, row["arm"], row.get("period"), segment)

    def check_metrics(
        self, found: Mapping[str, int], sources: Sequence[Source], *, all_required: bool
    ) -> None:
        """Raise for a metric missing from the export's `metric` column.

        A dashboard summary often shows only some metrics: there a missing metric is a
        warning, and an error only when none of the metrics is present.
        """
        names = ", ".join(s.display for s in sources)
        values = sorted(found)
        missing = [m.id for m in self.options.metrics if m.id not in found]
        if missing and (all_required or len(missing) == len(self.options.metrics)):
            raise InputError(
                f"metric `{missing[0]}` is not in the `metric` column of {names}; "
                f"metrics found: {_names(values) or 'none'}{_close_hint(missing[0], values)}"
            )
        if missing:
            self.warnings.append(
                f"{names}: no values for the metrics {_names(missing)}; they are not compared"
            )
        ignored = sorted(set(found) - set(self.metric_ids))
        if ignored:
            self.warnings.append(
                "metrics in the export that the playbook does not define were ignored: "
                + _names(ignored)
            )

    def check_key_labels(self, keys: Sequence[GroupKey]) -> None:
        arms: dict[str, int] = {}
        periods: dict[str, int] = {}
        for key in keys:
            arms[key.arm] = arms.get(key.arm, 0) + 1
            if key.period is not None:
                periods[key.period] = periods.get(key.period, 0) + 1
        self.check_labels(arms, self.options.arm_labels, self.options.arm_column, "arm")
        if self.options.period_column:
            self.check_labels(
                periods, self.options.period_labels, self.options.period_column, "period"
            )


class _BadRow(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class _StatsReader(_RowReader):
    shape = "stats"

    def read_all(self, sources: list[Source], shape: str) -> ExportData:
        stats: dict[GroupKey, ArmStats] = {}
        found: dict[str, int] = {}
        for source in sources:
            roles = self.key_roles(source)
            for name in _STATS_COLUMNS:
                roles[name] = find_column(source, name, "a sufficient-statistics column")
            if any(m.kind == "ratio" for m in self.options.metrics):
                for name in _RATIO_COLUMNS:
                    roles[name] = find_column(source, name, "needed for ratio metrics")
            keys = [r for r in roles if r == "arm" or r == "period" or r.startswith("segment:")]

            def handle(
                locate: Callable[[str | None], str], row: dict[str, str], keys: list[str] = keys
            ) -> None:
                self.key(locate, row, keys + ["metric"])
                metric_id = row["metric"]
                found[metric_id] = found.get(metric_id, 0) + 1
                metric = self.metric_ids.get(metric_id)
                if metric is None:
                    return
                n = int(self.number(locate, row, "n", percent=False, integer=True))
                total = self.number(locate, row, "sum", percent=False)
                sum_sq = self.number(locate, row, "sum_sq", percent=False)
                extra = {}
                if metric.kind == "ratio":
                    extra = {
                        name: self.number(locate, row, name, percent=False)
                        for name in _RATIO_COLUMNS
                    }
                if metric.kind == "proportion" and not 0 <= total <= n:
                    raise _BadRow(
                        f"{locate('sum')}: sum {row['sum']} is outside 0..n ({n}); "
                        "for a proportion it counts the units with 1"
                    )
                if sum_sq < 0:
                    raise _BadRow(f"{locate('sum_sq')}: a sum of squares cannot be negative")
                value = ArmStats(n, total, sum_sq, **extra)
                key = self.group(metric_id, row)
                stats[key] = stats[key] + value if key in stats else value

            self.read_rows(source, roles, handle)
        self.check_metrics(found, sources, all_required=True)
        self.check_key_labels(list(stats))
        return self.finish(shape, stats, {})


class _SummaryReader(_RowReader):
    shape = "summary"

    def read_all(self, sources: list[Source], shape: str) -> ExportData:
        summary: dict[GroupKey, SummaryValue] = {}
        seen_at: dict[GroupKey, str] = {}
        found: dict[str, int] = {}
        for source in sources:
            roles = self.key_roles(source)
            roles["metric"] = find_column(source, "metric", "a summary column")
            roles["value"] = find_column(source, "value", "a summary column")
            if _has(source, "n"):
                roles["n"] = find_column(source, "n", "a summary column")
            keys = [r for r in roles if r == "arm" or r == "period" or r.startswith("segment:")]

            def handle(
                locate: Callable[[str | None], str], row: dict[str, str], keys: list[str] = keys
            ) -> None:
                self.key(locate, row, keys + ["metric"])
                metric_id = row["metric"]
                found[metric_id] = found.get(metric_id, 0) + 1
                metric = self.metric_ids.get(metric_id)
                if metric is None:
                    return
                value = self.number(locate, row, "value", percent=True)
                if metric.kind == "proportion" and not 0 <= value <= 1:
                    hint = (
                        f"write {row['value']}% or {value / 100:g}"
                        if 1 < value <= 100
                        else "write a share between 0 and 1 (or a percentage)"
                    )
                    raise _BadRow(
                        f"{locate('value')}: {_quote(row['value'])} is not a proportion; {hint}"
                    )
                n = None
                if "n" in row and row["n"]:
                    n = int(self.number(locate, row, "n", percent=False, integer=True))
                key = self.group(metric_id, row)
                if key in summary:
                    raise _BadRow(
                        f"{locate(None)}: a second value for metric `{metric_id}` in arm "
                        f"`{key.arm}` (the first is at {seen_at[key]}); "
                        "keep one row per arm and metric"
                    )
                summary[key] = SummaryValue(value, n)
                seen_at[key] = locate(None)

            self.read_rows(source, roles, handle)
        self.check_metrics(found, sources, all_required=False)
        self.check_key_labels(list(summary))
        return self.finish(shape, {}, summary)
