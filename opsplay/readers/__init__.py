"""Read pilot metric exports (unit rows, sufficient statistics, summaries) and open every
input (node logs too) through the one engine, DuckDB.

Unit rows are not parsed here: `opsplay.query.units` holds the one query (cleaning rules,
missing values, the pilot window, one scan for all metrics) and DuckDB runs it over the file
(`engine`), or the database runs it (`warehouse`, `--db`). What stays in Python is what only
opsplay knows: which header is which playbook column (Chinese aliases, NFKC, case), the
encoding of a CSV (UTF-8, BOM, GB18030 transcoded as a stream), where an Excel sheet's
header is, and the words of a message — file, line (CSV) or row (Parquet, Excel), column.

The modules, in the order the data flows through them:
- `options`, `results`: what `read_exports` takes and what it returns.
- `sources`: opening a file (CSV, Parquet or Excel), its encoding, delimiter, header, columns.
- `excel`: a workbook sheet (pandas + python-calamine), title rows above the header skipped.
- `shape`: which of the three shapes a file has, from its header.
- `engine`: a file as a DuckDB relation, and where a record of it is.
- `units`: unit rows through the query; `warehouse`: the same query in a database.
- `small_exports`: the small exports' query (their cells read by DuckDB over the same
  relation), checked row by row in Python with a message per bad cell; `stats_export` and
  `summary_export`: the checks of each shape.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from opsplay.errors import InputError
from opsplay.i18n import _
from opsplay.readers.base import BaseReader
from opsplay.readers.cells import parse_number
from opsplay.readers.chunks import Progress
from opsplay.readers.options import MetricColumns, ReadOptions, check_options
from opsplay.readers.results import ExportData, GroupKey, SummaryValue, totals
from opsplay.readers.shape import SHAPE_NAMES, check_not_misnamed_stats, detect_shape
from opsplay.readers.sources import SAMPLE_BYTES, LateDecodeError, open_source
from opsplay.readers.stats_export import StatsReader
from opsplay.readers.summary_export import SummaryReader
from opsplay.readers.units import UnitsReader

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

# How much of a file encoding detection reads; read here, at each call, so that tests can
# shrink it (monkeypatch) to reach late decoding errors with small files.
_SAMPLE_BYTES = SAMPLE_BYTES

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
            listing = _("; ").join(
                _("{file} is {shape}").format(file=s.display, shape=_(SHAPE_NAMES[sh]))
                for s, sh in zip(sources, shapes, strict=True)
            )
            raise InputError(
                _("the exports have different shapes ({listing}); pass files of one shape").format(
                    listing=listing
                )
            )
        if shapes[0] == "units":
            for source in sources:
                check_not_misnamed_stats(source, options)
        reader = _READERS[shapes[0]](options, Progress(options.progress))
        try:
            return reader.read_all(sources)
        except LateDecodeError as error:
            if error.path in encodings:
                raise
            encodings[error.path] = "gb18030"
