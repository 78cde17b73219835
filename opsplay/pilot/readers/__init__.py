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

The modules, in the order the data flows through them:
- `options`, `results`: what `read_exports` takes and what it returns.
- `sources`: opening a file (CSV or Parquet), its encoding, delimiter, header and columns.
- `shape`: which of the three shapes a file has, from its header.
- `chunks`: a CSV file cut into UTF-8 chunks at line ends, each parsed with pyarrow.
- `string_batches`: some columns of any file as normalised text, batch by batch.
- `cells`: one cell read as a label or a number, and cells quoted in messages.
- `base`: what the three shape readers share (key columns, arm and period checks, result).
- `units` and `unit_sums`: unit rows, summed per group chunk by chunk on a thread pool.
- `row_reader`, `stats_export`, `summary_export`: the small exports, row by row.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from opsplay.errors import InputError
from opsplay.i18n import _
from opsplay.pilot.readers.base import BaseReader
from opsplay.pilot.readers.cells import parse_number
from opsplay.pilot.readers.cells import parse_numbers as _numbers  # noqa: F401 (tests use it)
from opsplay.pilot.readers.chunks import Progress
from opsplay.pilot.readers.options import MetricColumns, ReadOptions, check_options
from opsplay.pilot.readers.results import ExportData, GroupKey, SummaryValue, totals
from opsplay.pilot.readers.shape import SHAPE_NAMES, detect_shape
from opsplay.pilot.readers.sources import SAMPLE_BYTES, LateDecodeError, open_source
from opsplay.pilot.readers.stats_export import StatsReader
from opsplay.pilot.readers.summary_export import SummaryReader
from opsplay.pilot.readers.units import UnitsReader

__all__ = [
    "ExportData",
    "GroupKey",
    "MetricColumns",
    "ReadOptions",
    "SummaryValue",
    "parse_number",
    "read_exports",
    "totals",
]

# How much of a file encoding detection reads, and the size unit rows are parsed in. They are
# read here, at each call, so that tests can shrink them (monkeypatch) to reach chunk
# boundaries and late decoding errors with small files.
_SAMPLE_BYTES = SAMPLE_BYTES
_CHUNK_BYTES = None

_READERS: dict[str, type[BaseReader]] = {
    "units": UnitsReader,
    "stats": StatsReader,
    "summary": SummaryReader,
}


def wanted_columns(options: ReadOptions) -> list[str]:
    """The columns a unit-row export needs: where an Excel sheet's header row is found."""
    out = [options.arm_column, *options.segment_columns]
    for metric in options.metrics:
        if metric.required:
            out += [c for c in (metric.column, metric.numerator, metric.denominator) if c]
    return out


def read_exports(paths: Sequence[Path], options: ReadOptions) -> ExportData:
    """Read metric exports (CSV or Parquet, one shape for all files) into sufficient statistics."""
    if options.db:
        check_options(options)
        if not options.table:
            raise InputError(_("--db needs --table: the table of unit rows to compare"))
        return UnitsReader(options, Progress(options.progress)).read_database(
            options.db, options.table
        )
    if not paths:
        raise InputError(_("no metric export given; pass one or more CSV, Parquet or Excel files"))
    check_options(options)
    # A file whose first megabyte is plain ASCII is read as UTF-8; if GBK text turns up
    # later, the read starts again with that file as GB18030 (rare, and never silent).
    encodings: dict[Path, str] = {}
    while True:
        sources = [
            open_source(
                Path(p),
                encodings.get(Path(p), options.encoding),
                _SAMPLE_BYTES,
                options.sheet,
                wanted_columns(options),
            )
            for p in paths
        ]
        shapes = [detect_shape(src, options) for src in sources]
        if len(set(shapes)) > 1:
            listing = "; ".join(
                f"{s.display} is {SHAPE_NAMES[sh]}" for s, sh in zip(sources, shapes, strict=True)
            )
            raise InputError(
                f"the exports have different shapes ({listing}); pass files of one shape"
            )
        reader = _READERS[shapes[0]](options, Progress(options.progress), _CHUNK_BYTES)
        try:
            return reader.read_all(sources)
        except LateDecodeError as error:
            if error.path in encodings:
                raise
            encodings[error.path] = "gb18030"
