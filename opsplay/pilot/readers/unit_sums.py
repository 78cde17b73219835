"""Sums per group of one chunk of unit rows: n, Σy, Σy² per metric column, Σnum·den per ratio.

A chunk is first parsed with column types and summed at once; a chunk that does not parse
cleanly (a blank, a full-width digit, a bad value) is parsed again as text and checked cell
by cell, so that bad rows are named or skipped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from opsplay.pilot.readers.cells import (
    MAX_EXAMPLES,
    normalize_label,
    parse_number,
    parse_numbers,
    quote,
)
from opsplay.pilot.readers.chunks import Chunk, parse_chunk
from opsplay.pilot.readers.sources import Source

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

Sums = dict[tuple[str, ...], list[float]]  # group key (arm, [period], segments) -> sums


@dataclass(frozen=True)
class UnitPlan:
    """Which columns a unit-row chunk is read with and how each metric maps onto sums."""

    keys: tuple[str, ...]  # arm, [period], segments (header names)
    values: tuple[str, ...]  # distinct metric columns (header names)
    proportions: frozenset[str]  # value columns that must hold 0/1
    products: tuple[tuple[str, str], ...]  # (numerator, denominator) pairs of ratio metrics

    @property
    def columns(self) -> tuple[str, ...]:
        """Key and value columns, each once."""
        return tuple(dict.fromkeys(self.keys + self.values))

    def sum_names(self) -> list[str]:
        """Names of the sums of a group, in the order `ChunkResult.groups` holds them."""
        names = ["n"]
        for col in self.values:
            names += [f"sum:{col}", f"sq:{col}"]
        names += [f"prod:{num}:{den}" for num, den in self.products]
        return names


@dataclass
class ChunkResult:
    """The sums per group of one chunk, its rows used and skipped, and its bad cells."""

    groups: Sums = field(default_factory=dict)
    rows: int = 0
    skipped: int = 0
    problems: list[tuple[int, str, str]] = field(default_factory=list)  # (record, column, message)


def add_sums(sums: Sums, key: tuple[str, ...], values: list[float]) -> None:
    """Add a group's sums into `sums`."""
    if key in sums:
        sums[key] = [a + b for a, b in zip(sums[key], values, strict=True)]
    else:
        sums[key] = values


def aggregate_chunk(
    source: Source, chunk: Chunk, plan: UnitPlan, skip_bad_rows: bool
) -> ChunkResult:
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
        table = parse_chunk(source, chunk, plan.columns, types, False, None, strict=True)
        result = _aggregate_fast(table, plan)
        if result is not None:
            return result
    except pa.ArrowException:
        pass  # a blank, malformed or full-width cell: read the chunk again as text
    skipped_invalid: list[str] = []
    table = parse_chunk(
        source,
        chunk,
        plan.columns,
        {c: pa.string() for c in plan.columns},
        skip_bad_rows,
        skipped_invalid,
    )
    result = aggregate_checked(table, plan, skip_bad_rows)
    result.skipped += len(skipped_invalid)
    result.problems = [(-1, "", text) for text in skipped_invalid[:MAX_EXAMPLES]] + result.problems
    return result


def aggregate_checked(table: pa.Table, plan: UnitPlan, skip_bad_rows: bool) -> ChunkResult:
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
        values, invalid = parse_numbers(
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
        for record in bad_rows[: MAX_EXAMPLES if skip_bad_rows else 1]:
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
    result = _aggregate(clean, plan) if clean.num_rows else ChunkResult()
    result.skipped = int(bad.sum())
    result.problems = problems
    return result


def _only_proportion(plan: UnitPlan, col: str) -> bool:
    return all(col not in pair for pair in plan.products)


def _aggregate_fast(table: pa.Table, plan: UnitPlan) -> ChunkResult | None:
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
        if any(not normalize_label(part) for part in key) or any(
            not math.isfinite(v) for v in values
        ):
            return None
    return result


def _aggregate(table: pa.Table, plan: UnitPlan) -> ChunkResult:
    """Group a chunk (keys as strings, values as numbers) and sum n, y, y² and num·den.

    Groups are numbered from the key columns' dictionary codes and summed with
    `numpy.bincount`; pyarrow's own `group_by` would load pyarrow.dataset and, with it,
    pandas (a quarter of a second of start-up) for no gain. The sums come out in
    `plan.sum_names()` order.
    """
    import numpy as np

    # inf or huge cells make NaN sums here; the caller sees them and reads the chunk
    # carefully, reporting the cell, so numpy's own warning would only be noise.
    with np.errstate(invalid="ignore", over="ignore"):
        group, labels = _group_codes(table, plan.keys)
        size = len(labels)
        columns = {col: _float_numpy(table.column(col)) for col in plan.values}
        sums = [np.bincount(group, minlength=size).astype(np.float64)]
        for col in plan.values:
            values = columns[col]
            total = np.bincount(group, weights=values, minlength=size)
            squares = total if col in plan.proportions else None  # y² = y for 0/1
            if squares is None:
                squares = np.bincount(group, weights=values * values, minlength=size)
            sums += [total, squares]
        for num, den in plan.products:
            sums.append(np.bincount(group, weights=columns[num] * columns[den], minlength=size))
    result = ChunkResult(rows=table.num_rows)
    for g, key in enumerate(labels):
        result.groups[key] = [float(total[g]) for total in sums]
    return result


def _float_numpy(column: pa.ChunkedArray) -> np.ndarray:
    """A null-free numeric or boolean column as one float64 numpy array."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    chunks = pc.cast(column, pa.float64()).chunks
    return np.concatenate([_view(c) for c in chunks]) if chunks else np.zeros(0)


def _view(array: pa.Array) -> np.ndarray:
    """A numpy view of a null-free fixed-width arrow array, read from its data buffer.

    `Array.to_numpy` would do the same but imports pandas on first use (a quarter of a
    second of start-up for the whole command).
    """
    import numpy as np

    dtype = np.dtype(array.type.to_pandas_dtype())
    return np.frombuffer(
        array.buffers()[1], dtype=dtype, count=len(array), offset=array.offset * dtype.itemsize
    )


_DIRECT_GROUPS = 1 << 16  # up to this many key combinations, count into a dense array


def _group_codes(
    table: pa.Table, keys: tuple[str, ...]
) -> tuple[np.ndarray, list[tuple[str, ...]]]:
    """A group number per row (0..k-1) and the key values of each group number."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    code = np.zeros(table.num_rows, dtype=np.int64)
    dictionaries: list[list[str]] = []
    for name in keys:
        column = table.column(name)
        if not pa.types.is_dictionary(column.type):
            column = pc.dictionary_encode(column)
        column = column.unify_dictionaries()
        dictionary = (
            [str(v) for v in column.chunks[0].dictionary.to_pylist()] if column.num_chunks else []
        )
        indices = [_view(c.indices).astype(np.int64) for c in column.chunks]
        codes = np.concatenate(indices) if indices else np.zeros(0, dtype=np.int64)
        code = code * max(len(dictionary), 1) + codes
        dictionaries.append(dictionary)
    combinations = math.prod(max(len(d), 1) for d in dictionaries)
    if combinations <= _DIRECT_GROUPS:
        used = np.flatnonzero(np.bincount(code, minlength=combinations))
        renumber = np.zeros(combinations, dtype=np.int64)
        renumber[used] = np.arange(len(used))
        group = renumber[code]
    else:  # many combinations: number only those present
        used, group = np.unique(code, return_inverse=True)
    labels = []
    for value in used.tolist():
        parts = []
        for dictionary in reversed(dictionaries):
            value, index = divmod(value, max(len(dictionary), 1))
            parts.append(dictionary[index])
        labels.append(tuple(reversed(parts)))
    return group, labels


def _cell_problem(raw: object, col: str, plan: UnitPlan) -> str:
    """The message for one bad unit-row cell (the scalar twin of `parse_numbers`)."""
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
            f"{quote(text)} is not 0 or 1; a proportion column holds 0/1 (or true/false) per unit"
        )
    return f"{quote(text)} is not a finite number"
