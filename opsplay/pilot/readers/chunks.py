"""A CSV export cut into UTF-8 chunks at line ends, and each chunk parsed with pyarrow."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from opsplay.errors import InputError
from opsplay.pilot.readers.cells import SKIP_HINT
from opsplay.pilot.readers.sources import Source, arrow_message, ascii_compatible, undecodable

if TYPE_CHECKING:
    import pyarrow as pa

CHUNK_BYTES = 4 << 20  # unit rows are parsed in chunks of about this size


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
        """Count `nbytes` more bytes read and report the total."""
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
    chunk_bytes = chunk_bytes or CHUNK_BYTES
    if not ascii_compatible(source.encoding):
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


def parse_chunk(
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
            raise undecodable(source, _first_bad_utf8_line(chunk)) from None
        raise InputError(
            f"{source.display}: cannot be read as CSV ({arrow_message(exc)})"
        ) from None
    finally:
        if skipped is not None:
            for text in invalid:
                if skip_bad_rows:
                    skipped.append(f"line {chunk.line_of_text(text)}: wrong number of fields")


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
        raise undecodable(source, bad) from None


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
            raise undecodable(source, None) from None


def _first_bad_utf8_line(chunk: Chunk) -> int:
    data = bytes(chunk.data)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return chunk.first_line + data.count(b"\n", 0, exc.start)
    return chunk.first_line
