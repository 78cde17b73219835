"""An export once opened: `Source` (what a file is and its header), the naming of its columns,
and the process's one in-memory DuckDB. The floor of the readers: imports nothing of them, so
`sources` (opening files), `excel` (workbooks) and `engine` (queries) all build on it without
importing one another in a circle.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from opsplay.i18n import _


@dataclass(frozen=True)
class Source:
    """An export file opened for reading: format, encoding and normalised header."""

    path: Path
    display: str
    format: Literal["csv", "parquet", "excel"]
    encoding: str
    delimiter: str
    columns: tuple[str, ...]  # normalised header names, made unique
    header_end: int  # byte offset just after the header line (CSV)
    size: int
    # UTF-8 chosen from a sample that was plain ASCII while the file goes on: a later
    # non-UTF-8 byte means the file is GBK after all (see LateDecodeError).
    ascii_guess: bool = False
    sheet: str | None = None  # Excel: the sheet read
    header_row: int = 0  # Excel: the sheet row (1-based) of the header

    def where(
        self, line: int | None = None, row: int | None = None, column: str | None = None
    ) -> str:
        """`file, line N, column "x"`: the position prefix of a message."""
        parts = [self.display]
        if line is not None:
            parts.append(_("line {line}").format(line=line))
        elif row is not None:
            parts.append(_("row {row}").format(row=row))
        if column is not None:
            parts.append(column_words(column))
        return _(", ").join(parts)


def column_words(column: str) -> str:
    """`column "x"` in a message's position prefix."""
    return _('column "{column}"').format(column=column)


def unique_columns(headers: list[str]) -> tuple[str, ...]:
    """Header names made unique: a blank cell named by its place, a repeat numbered."""
    seen: dict[str, int] = {}
    out = []
    for index, name in enumerate(headers, start=1):
        name = name or _("column {number}").format(number=index)  # a blank header cell
        if name in seen:
            seen[name] += 1
            name = f"{name} ({seen[name]})"  # a duplicate header; `find_column` reports it if used
        else:
            seen[name] = 1
        out.append(name)
    return tuple(out)


@functools.cache
def _database() -> Any:
    import duckdb

    return duckdb.connect()


def connection() -> Any:
    """A new connection to the process's one in-memory DuckDB (files only).

    Creating a database costs about 25 ms, a connection to it next to nothing; each connection
    keeps its own registered frames and temporary tables (`reject_errors`).
    """
    con = _database().cursor()
    con.execute("SET enable_progress_bar = false")
    return con
