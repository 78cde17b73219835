"""Bring an export to DuckDB: CSV as it is (or transcoded to UTF-8 as a stream), Parquet natively,
an Excel sheet through pandas + python-calamine; and say where a record of it is (file, line)."""

from __future__ import annotations

import codecs
import contextlib
import csv
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from opsplay.errors import InputError
from opsplay.i18n import _
from opsplay.readers.opened import connection
from opsplay.readers.sources import (
    Source,
    decode_message,
    excel_frame,
    undecodable,
)

_NUMERIC = re.compile(
    r"^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|"
    r"FLOAT|DOUBLE|DECIMAL.*|BOOLEAN)$"
)
_INTEGRAL = re.compile(
    r"^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT)$"
)
_NESTED = re.compile(r"(\[\]$|^STRUCT|^MAP|^UNION|^LIST)")
_LINE = re.compile(r"CSV Error on Line: (\d+)")


class TypedReadFailed(Exception):
    """A column read as numbers holds text (`NA`, `是`, `35%`): read the file again as text."""


class IntegerOverflow(Exception):
    """An integer square or product beyond BIGINT's range: sum the values as DOUBLE instead."""


@dataclass
class Table:
    """An export as DuckDB sees it: the SQL of its relation and how to point at a record."""

    source: Source
    con: Any
    relation: str
    encoding: str
    numeric: frozenset[str] = frozenset()
    integral: frozenset[str] = frozenset()  # of `numeric`, the integer columns
    nested: frozenset[str] = frozenset()  # Parquet columns holding lists or structs
    text_path: Path | None = None  # the UTF-8 text the records are counted in (CSV)
    excel_first_row: int = 0  # Excel: the sheet row of the header (1-based)
    skipped_rows: int = 0
    skipped_examples: list[str] = field(default_factory=list)
    dialect: str = "duckdb"  # "postgres" (or another) for a warehouse table (`--db`)
    text_relation: str | None = None  # the same records as text (a CSV read with numbers)
    numbered: str | None = None  # Parquet: the relation before `<condition on rows>) src`
    stamps: frozenset[str] = frozenset()  # CSV columns of `relation` read as TIMESTAMP
    _lines: list[int] | None = None  # CSV: the line each record starts on, read when first asked
    _rejected: set[int] = field(default_factory=set)  # CSV lines skipped (--skip-bad-rows)
    _csv: tuple[Path, str] | None = None  # the UTF-8 CSV read and read_csv's extra options
    # CSV: `relation` and `text_relation` read with a small buffer (first_rows)
    _heads: tuple[str, str] | None = None
    _scratch: Path | None = None  # a folder for files of the time the table is open (CSV)

    def with_stamps(self, columns: frozenset[str], stamp_format: str) -> Table | None:
        """The same CSV with `columns` read as TIMESTAMP in `stamp_format` by DuckDB's reader
        (much cheaper than parsing text in the query); a cell that is not in that format
        makes the query raise TypedReadFailed. None when the export is not a CSV read whole
        (with --skip-bad-rows the reader would drop such rows)."""
        if self._csv is None or self._csv[1] or self.dialect != "duckdb":
            return None
        types = {c: "TIMESTAMP" if c in columns else "VARCHAR" for c in self.source.columns}
        # half DuckDB's 32 MiB buffer: a node log's peak memory 376 -> 351 MB at 10M rows
        # (395 at 15M), at the same speed (8 MiB: 296 MB, 4 % more CPU)
        buffer = f", buffer_size = {16 << 20}"
        relation = _csv_relation(self._csv[0], self.source, types, buffer, stamp_format)
        return replace(self, relation=relation, numeric=frozenset(), stamps=columns, _heads=None)

    def first_rows(self, count: int, text: bool = False) -> str:
        """The relation of the first `count` records (`text`: every cell as text). Parquet's
        by row number: DuckDB turns a LIMIT into a join on row numbers and a sort, five times
        the work for a sample. A CSV's read with a small buffer: DuckDB's own reads many MiB
        a thread before the first row (30 ms of a big log's 0.5 s start-up)."""
        if self.numbered is not None:
            return f"{self.numbered}file_row_number < {int(count)}) src"
        relation = self.text_relation if text and self.text_relation else self.relation
        if self._heads is not None:
            relation = self._heads[1] if text else self._heads[0]
        return f"(SELECT * FROM {relation} LIMIT {int(count)}) src"

    def spread_rows(self, count: int) -> str | None:
        """The relation of about `count` records taken from pieces spread over the whole export;
        None when the export is not much bigger than that (its first rows are all of it). For
        an export sorted by group or region, whose first rows hold one group only. CSV: whole
        lines from evenly spaced byte offsets, as text (a piece starting inside a quoted cell
        loses that record); Parquet: evenly spaced row ranges; Excel: a seeded draw."""
        if self._csv is not None and self._scratch is not None and self.dialect == "duckdb":
            piece, path = _SPREAD_PIECE_BYTES, self._csv[0]
            if path.stat().st_size <= 2 * _SPREAD_PIECES * piece:
                return None
            target = _csv_pieces(path, self._scratch / "spread.csv", _SPREAD_PIECES, piece)
            text = {column: "VARCHAR" for column in self.source.columns}
            return _csv_relation(target, self.source, text, ", ignore_errors = true", header=False)
        if self.numbered is not None:
            total = int(self.fetch(f"SELECT COUNT(*) FROM {self.relation}")[0][0])
            if total <= 2 * count:
                return None
            step, size = total // _SPREAD_PIECES, max(count // _SPREAD_PIECES, 1)
            ranges = " OR ".join(
                f"file_row_number BETWEEN {k * step} AND {k * step + size - 1}"
                for k in range(_SPREAD_PIECES)
            )
            return f"{self.numbered}{ranges}) src"
        if self.source.format == "excel":
            return (
                f"(SELECT * FROM {self.relation} "
                f"USING SAMPLE reservoir({int(count)} ROWS) REPEATABLE (7)) src"
            )
        return None

    def count_rejects(self) -> None:
        """After the first full read (with --skip-bad-rows): the rows DuckDB skipped, and a few
        of their lines (later reads, to locate a cell, must not count them again)."""
        if self._csv is None or not self._csv[1] or self.skipped_rows:
            return  # not read with --skip-bad-rows: nothing recorded (a failed query costs 5 ms)
        with contextlib.suppress(Exception):  # no rejects table: nothing was skipped
            # one row per line (DuckDB may record several errors for one line)
            rejects = self.con.execute(
                "SELECT line, min(error_message) FROM reject_errors GROUP BY line ORDER BY line"
            ).fetchall()
            self.skipped_rows = len(rejects)
            self._rejected = {int(line) for line, _msg in rejects}
            self.skipped_examples = [
                _("line {line}: {reason}").format(line=line, reason=str(msg).splitlines()[0])
                for line, msg in rejects[:5]
            ]

    def execute(self, sql: str) -> Any:
        """A DuckDB cursor over the result of `sql` (files only), errors as messages."""
        try:
            return self.con.execute(sql)
        except Exception as exc:  # duckdb.Error and its subclasses
            raise self._error(exc) from None

    def next_rows(self, cursor: Any, count: int) -> list[tuple[Any, ...]]:
        """The next `count` rows of `cursor` (DuckDB reads lazily: errors come here too)."""
        try:
            return cursor.fetchmany(count)
        except Exception as exc:  # duckdb.Error and its subclasses
            raise self._error(exc) from None

    def fetch(self, sql: str) -> list[tuple[Any, ...]]:
        """Run `sql` and return its rows; the engine's errors become messages naming the file."""
        try:
            if self.dialect == "duckdb":
                return self.con.execute(sql).fetchall()
            cursor = self.con.cursor()  # a DB-API connection: no parameters, so `%` stays text
            try:
                cursor.execute(sql)
                return [tuple(row) for row in cursor.fetchall()]
            finally:
                cursor.close()
        except InputError:
            raise
        except Exception as exc:  # duckdb.Error, the driver's errors
            if self.dialect != "duckdb":
                with contextlib.suppress(Exception):
                    self.con.rollback()
            raise self._error(exc) from None

    def cell(self, record: int, column: str) -> str:
        """The text of one cell (record 1-based, in file order)."""
        quoted = '"' + column.replace('"', '""') + '"'
        text = "VARCHAR" if self.dialect == "duckdb" else "TEXT"
        rows = self.fetch(
            f"SELECT CAST({quoted} AS {text}) FROM (SELECT ROW_NUMBER() OVER () AS rn, * "
            f"FROM {self.text_relation or self.relation}) t WHERE rn = {int(record)}"
        )
        return "" if not rows or rows[0][0] is None else str(rows[0][0])

    def where(self, record: int, column: str | None = None) -> str:
        """`file, line N, column "x"` (CSV), `file, sheet S, row N` (Excel), `file, row N`."""
        source = self.source
        if source.format == "csv":
            if (
                self._lines is None
            ):  # the records DuckDB returned: rejected lines are not among them
                lines = record_lines(self.text_path or source.path, source)
                self._lines = [n for n in lines if n not in self._rejected]
            line = self._lines[record - 1] if 0 < record <= len(self._lines) else None
            where = source.where(line=line)
        elif source.format == "excel":
            where = _("{file}, sheet {sheet}, row {row}").format(
                file=source.display, sheet=source.sheet, row=self.excel_first_row + record
            )
        else:
            where = source.where(row=record)
        return (
            _('{where}, column "{column}"').format(where=where, column=column) if column else where
        )

    def _error(self, exc: Exception) -> Exception:
        text = str(exc)
        if type(exc).__name__ == "OutOfRangeException" and "Overflow in" in text:
            return IntegerOverflow()
        if (
            self.source.format == "csv"
            and (self.numeric or self.stamps)
            and "Could not convert" in text
        ):
            return TypedReadFailed()
        line = _LINE.search(text)
        if "Invalid unicode" in text:
            return undecodable(self.source, int(line.group(1)) if line else None)
        if "Expected Number of Columns" in text and line:
            found = re.search(r"Found: (\d+)", text)
            return InputError(
                _(
                    "{where}: the row has {found} fields but the header has {expected}; check "
                    "the quotes and delimiters on that line, or pass --skip-bad-rows to skip such rows"
                ).format(
                    where=self.source.where(line=int(line.group(1))),
                    found=found.group(1) if found else "?",
                    expected=len(self.source.columns),
                )
            )
        first = text.splitlines()[0] if text else type(exc).__name__
        return InputError(
            _("{file}: cannot be read ({reason})").format(file=self.source.display, reason=first)
        )


@contextlib.contextmanager
def open_table(
    source: Source, skip_bad_rows: bool = False, numbers: frozenset[str] = frozenset()
) -> Iterator[Table]:
    """The export as a DuckDB relation, for the time of the block.

    CSV columns in `numbers` are read as DOUBLE (fast: no text cleaning in the query); when one
    holds text after all, the query raises TypedReadFailed and the caller reads them as text.
    """
    con = connection()
    scratch = Path(tempfile.mkdtemp(prefix="opsplay-"))
    try:
        if source.format == "parquet":
            yield _parquet(con, source)
        elif source.format == "excel":
            yield _excel(con, source)
        else:
            yield _csv(con, source, skip_bad_rows, scratch, numbers)
    finally:
        con.close()
        shutil.rmtree(scratch, ignore_errors=True)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _csv(
    con: Any, source: Source, skip_bad_rows: bool, scratch: Path, numbers: frozenset[str]
) -> Table:
    path, encoding = source.path, source.encoding
    if codecs.lookup(encoding).name not in ("utf-8", "ascii") and encoding != "utf-8-sig":
        path = transcode(source, scratch / "utf8.csv")
    numbers = frozenset() if skip_bad_rows else numbers  # rejected rows must be text rows
    extra = ", ignore_errors = true, store_rejects = true" if skip_bad_rows else ""

    def relation(typed: frozenset[str], options: str = extra) -> str:
        types = {c: "DOUBLE" if c in typed else "VARCHAR" for c in source.columns}
        return _csv_relation(path, source, types, options)

    # the smallest buffer DuckDB takes with its longest line (2 MiB): for the first rows
    small = f"{extra}, buffer_size = {(2 << 20) + 1}"

    # a cell is quoted as written (`1e400`, not the `inf` its number is), from the text read
    return Table(
        source,
        con,
        relation(numbers),
        encoding,
        numbers,
        text_path=path,
        text_relation=relation(frozenset()),
        _csv=(path, extra),
        _heads=(relation(numbers, small), relation(frozenset(), small)),
        _scratch=scratch,
    )


def _csv_relation(
    path: Path,
    source: Source,
    types: dict[str, str],
    extra: str,
    stamp_format: str = "",
    header: bool = True,
) -> str:
    """read_csv of the (UTF-8) file with these column types."""
    columns = ", ".join(f"{_literal(c)}: '{types[c]}'" for c in source.columns)
    if stamp_format:
        extra += f", timestampformat = {_literal(stamp_format)}"
    return (
        f"(SELECT * FROM read_csv({_literal(str(path))}, delim = {_literal(source.delimiter)}, "
        f"quote = '\"', escape = '\"', header = {str(header).lower()}, auto_detect = false, "
        f"columns = {{{columns}}}, parallel = true{extra})) src"
    )


# A spread sample: this many pieces of the export, each this many bytes of a CSV.
_SPREAD_PIECES = 16
_SPREAD_PIECE_BYTES = 1 << 17


def _csv_pieces(path: Path, target: Path, pieces: int, piece_bytes: int) -> Path:
    """The whole lines of `pieces` blocks read at evenly spaced offsets of a CSV, without its
    header line, written to `target`."""
    size = path.stat().st_size
    with path.open("rb") as source, target.open("wb") as out:
        for k in range(pieces):
            source.seek(size * k // pieces)
            block = source.read(piece_bytes)
            start = block.find(b"\n") + 1  # after the line the offset falls in (or the header)
            end = block.rfind(b"\n") + 1
            if 0 < start < end:
                out.write(block[start:end])
    return target


def _parquet(con: Any, source: Source) -> Table:
    raw = con.execute(
        f"DESCRIBE SELECT * FROM read_parquet({_literal(str(source.path))})"
    ).fetchall()
    renames = []
    numeric, integral, nested = set(), set(), set()
    for (name, kind, *_rest), column in zip(raw, source.columns, strict=True):
        quoted = '"' + str(name).replace('"', '""') + '"'
        target = '"' + column.replace('"', '""') + '"'
        renames.append(f"{quoted} AS {target}")
        if _NUMERIC.match(str(kind)):
            numeric.add(column)
            if _INTEGRAL.match(str(kind)):
                integral.add(column)
        elif _NESTED.search(str(kind)):
            nested.add(column)
    path = _literal(str(source.path))
    relation = f"(SELECT {', '.join(renames)} FROM read_parquet({path})) src"
    numbered = None
    if "file_row_number" not in (str(name) for name, *_rest in raw):
        numbered = (
            f"(SELECT {', '.join(renames)} FROM read_parquet({path}, file_row_number = true) WHERE "
        )
    return Table(
        source,
        con,
        relation,
        "parquet",
        frozenset(numeric),
        frozenset(integral),
        frozenset(nested),
        numbered=numbered,
    )


def _excel(con: Any, source: Source) -> Table:
    frame, header_row = excel_frame(source)
    con.register("excel_sheet", frame)
    return Table(source, con, "excel_sheet", "excel", excel_first_row=header_row)


def transcode(source: Source, target: Path) -> Path:
    """The file as UTF-8, decoded as a stream (flat memory); a bad byte names its line."""
    decoder = codecs.getincrementaldecoder(source.encoding)("strict")
    line = 1
    with source.path.open("rb") as raw, target.open("w", encoding="utf-8", newline="") as out:
        first = True
        while block := raw.read(1 << 22):
            if first and block.startswith(codecs.BOM_UTF8):
                block = block[3:]  # a UTF-8 BOM in front of GBK text (WPS does it)
            first = False
            try:
                text = decoder.decode(block)
            except UnicodeDecodeError as exc:
                line += block[: exc.start].count(b"\n")
                raise InputError(decode_message(source, line)) from None
            line += block.count(b"\n")
            out.write(text)
        out.write(decoder.decode(b"", final=True))
    return target


def record_lines(path: Path, source: Source) -> list[int]:
    """The line (1-based, header is line 1) where each data record starts, in file order."""
    csv.field_size_limit(sys.maxsize)
    encoding = (
        "utf-8-sig"
        if path != source.path or source.encoding.startswith("utf-8")
        else source.encoding
    )
    with path.open(encoding=encoding, errors="replace", newline="") as handle:
        reader = csv.reader(handle, delimiter=source.delimiter)
        next(reader, None)
        lines = []
        start = reader.line_num + 1
        for row in reader:
            if row:  # DuckDB skips blank lines as well
                lines.append(start)
            start = reader.line_num + 1
    return lines
