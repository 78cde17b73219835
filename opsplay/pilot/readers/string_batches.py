"""Some columns of any export (CSV, Parquet, Excel) as normalised text, batch by batch, read by
DuckDB (the small exports, checked row by row in Python)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from opsplay.pilot.readers.cells import normalize_text
from opsplay.pilot.readers.chunks import Progress
from opsplay.pilot.readers.engine import open_table
from opsplay.pilot.readers.sources import Source

BATCH_ROWS = 65536


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
    chunk_bytes: int | None = None,  # noqa: ARG001 (kept for callers; DuckDB sizes its reads)
) -> Iterator[StringBatch]:
    """Read the given columns of any export as normalised strings, batch by batch.

    Rows with the wrong number of fields are skipped (their description appended to
    `skipped`) when `skip_bad_rows`, else reported with their line.
    """
    with open_table(source, skip_bad_rows) as table:
        select = ", ".join('CAST("' + name.replace('"', '""') + '" AS VARCHAR)' for name in columns)
        if skip_bad_rows:  # learn the skipped lines first: rows are located while read
            table.fetch(f"SELECT count(*) FROM {table.relation}")
            table.count_rejects()
        cursor = table.execute(f"SELECT {select} FROM {table.relation}")
        first = 0
        while rows := table.next_rows(cursor, BATCH_ROWS):
            data = {
                name: ["" if row[i] is None else normalize_text(row[i]) for row in rows]
                for i, name in enumerate(columns)
            }

            def locate(index: int, first: int = first) -> str:
                return table.where(first + index + 1)

            first += len(rows)
            yield StringBatch(data, len(rows), locate)
        skipped.extend(
            table.skipped_examples + [""] * (table.skipped_rows - len(table.skipped_examples))
        )
    progress.add(source.size)
