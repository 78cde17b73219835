"""Some columns of any export (CSV or Parquet) as normalised text, batch by batch."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from opsplay.pilot.readers.cells import normalize_text
from opsplay.pilot.readers.chunks import Chunk, Progress, iter_chunks, parse_chunk
from opsplay.pilot.readers.sources import Source, parquet_names


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
    chunk_bytes: int | None = None,
) -> Iterator[StringBatch]:
    """Read the given columns of any export as normalised strings, batch by batch.

    Rows with the wrong number of fields are skipped (their description appended to
    `skipped`) when `skip_bad_rows`, else reported.
    """
    import pyarrow as pa

    if source.format == "parquet":
        yield from _parquet_string_batches(source, columns, progress)
        return
    for chunk in iter_chunks(source, progress, chunk_bytes):
        table = parse_chunk(
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
    names = parquet_names(source, parquet)
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
