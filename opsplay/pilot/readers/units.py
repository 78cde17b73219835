"""Unit rows (one row per unit): streamed in chunks, summed per group on a thread pool.

The file is cut into ~4 MB chunks at line ends (never inside quotes), each chunk is summed
per group by `unit_sums` on a thread pool, and the sums are merged, so memory stays flat
whatever the file size. Parquet files are read in row batches the same way.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor

from opsplay.errors import InputError
from opsplay.pilot.readers.base import BaseReader
from opsplay.pilot.readers.cells import MAX_EXAMPLES, SKIP_HINT, normalize_label
from opsplay.pilot.readers.chunks import Chunk, iter_chunks
from opsplay.pilot.readers.results import ExportData, GroupKey, SourceInfo
from opsplay.pilot.readers.sources import Source, find_column, parquet_names
from opsplay.pilot.readers.unit_sums import (
    ChunkResult,
    Sums,
    UnitPlan,
    add_sums,
    aggregate_checked,
    aggregate_chunk,
)
from opsplay.pilot.sufficient import ArmStats

Locate = Callable[[int, str], str]  # (record in a chunk, column) -> "file, line N, column"


class UnitsReader(BaseReader):
    """Reads unit-row exports into sufficient statistics per metric, arm, period and segment."""

    shape = "units"

    def read_all(self, sources: list[Source]) -> ExportData:
        """Sum every file's unit rows per group and turn the sums into statistics."""
        sums: Sums = {}
        plans = []
        for source in sources:
            plan, metric_columns = self._plan(source)
            plans.append((plan, metric_columns))
            for key, values in self._read_source(source, plan).items():
                # `３月` and `3月 ` are one label
                add_sums(sums, tuple(normalize_label(part) for part in key), values)
        # Every file's plan lists the same metrics in the same order, so the sums line up.
        plan, metric_columns = plans[0]
        has_period = self.options.period_column is not None
        self.check_arms_and_periods(
            (key[0], key[1] if has_period else None, int(values[0])) for key, values in sums.items()
        )
        return self.finish(self._stats(plan, metric_columns, sums), {})

    def _plan(self, source: Source) -> tuple[UnitPlan, dict[str, tuple[str, str | None]]]:
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
        plan = UnitPlan(
            keys=keys,
            values=tuple(dict.fromkeys(values)),
            proportions=frozenset(proportions),
            products=tuple(dict.fromkeys(products)),
        )
        return plan, metric_columns

    def _read_source(self, source: Source, plan: UnitPlan) -> Sums:
        sums: Sums = {}
        examples: list[str] = []
        rows = skipped = 0
        for result, locate in self._results(source, plan):
            for record, column, message in result.problems:
                if len(examples) >= MAX_EXAMPLES:
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
                add_sums(sums, key, values)
        if rows == 0 and skipped == 0:
            raise InputError(f"{source.display}: has a header but no data rows")
        if rows == 0:
            raise InputError(
                f"{source.display}: every data row is bad ({skipped:,} skipped); "
                + "; ".join(examples[:3])
            )
        self.skip_warning(source, skipped, examples)
        self.sources.append(SourceInfo(source.display, self.shape, source.encoding, rows, skipped))
        return sums

    def _results(self, source: Source, plan: UnitPlan) -> Iterator[tuple[ChunkResult, Locate]]:
        """Chunk results in file order; CSV chunks are aggregated on a thread pool."""
        if source.format == "parquet":
            yield from self._parquet_results(source, plan)
            return
        skip = self.options.skip_bad_rows
        workers = max(1, min(4, os.cpu_count() or 1))

        def locator(chunk: Chunk) -> Locate:
            def locate(record: int, column: str) -> str:
                line = chunk.line_of_record(record, source.delimiter, len(source.columns))
                return source.where(line=line, column=column)

            return locate

        buffers: list[bytearray] = []
        with ThreadPoolExecutor(max_workers=workers) as pool:
            pending: list[tuple[Future[ChunkResult], Chunk]] = []
            try:
                for chunk in iter_chunks(source, self.progress, self.chunk_bytes, pool=buffers):
                    pending.append((pool.submit(aggregate_chunk, source, chunk, plan, skip), chunk))
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
        self, source: Source, plan: UnitPlan
    ) -> Iterator[tuple[ChunkResult, Locate]]:
        import pyarrow as pa
        import pyarrow.parquet as pq

        parquet = pq.ParquetFile(source.path)
        names = parquet_names(source, parquet)
        total = max(parquet.metadata.num_rows, 1)
        offset = 0
        for batch in parquet.iter_batches(
            batch_size=262144, columns=[names[c] for c in plan.columns]
        ):
            table = pa.Table.from_batches([batch]).rename_columns(list(plan.columns))
            result = aggregate_checked(table, plan, self.options.skip_bad_rows)

            def locate(record: int, column: str, first: int = offset) -> str:
                return source.where(row=first + record + 1, column=column)

            offset += batch.num_rows
            self.progress.add(source.size * batch.num_rows // total)
            yield result, locate

    def _stats(
        self,
        plan: UnitPlan,
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
