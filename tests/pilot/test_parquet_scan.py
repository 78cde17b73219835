"""The typed Parquet scan (issue 22): integer columns summed as they are (0/1 columns checked by
the OR of their bits; squares too large for BIGINT summed as DOUBLE); the assignment check's
sample taken by row number, several columns to a query. Each case agrees with the same rows
read from CSV."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from opsplay.errors import InputError
from opsplay.readers import GroupKey, MetricColumns, ReadOptions, read_exports
from tests.pilot.conftest import EXAMPLES, assert_same_stats, onboarding_options

UNITS = EXAMPLES / "onboarding_units.csv"
RETAINED = (MetricColumns("d1_retention", "proportion", "retained_d1"),)


def _write(tmp_path: Path, table: pa.Table, name: str = "units.parquet") -> Path:
    path = tmp_path / name
    pq.write_table(table, path, row_group_size=1000)  # several row groups, as big files have
    return path


def test_integer_columns_give_the_csv_figures(tmp_path: Path) -> None:
    frame = pd.read_csv(UNITS)
    for column in ("retained_d1", "ordered", "used_core_feature", "orders"):
        assert frame[column].dtype.kind == "i"  # int64 in Parquet: the typed path
    parquet = _write(tmp_path, pa.Table.from_pandas(frame, preserve_index=False))
    options = onboarding_options(segment_columns=("region",))
    assert_same_stats(read_exports([UNITS], options).stats, read_exports([parquet], options).stats)


@pytest.mark.parametrize("bad", [2, -1])
def test_an_integer_proportion_other_than_0_or_1_names_its_row(tmp_path: Path, bad: int) -> None:
    parquet = _write(
        tmp_path,
        pa.table(
            {
                "group": ["control", "pilot", "pilot", "control"],
                "retained_d1": pa.array([1, 0, bad, 1], pa.int64()),
            }
        ),
    )
    options = ReadOptions(metrics=RETAINED, arm_column="group")
    with pytest.raises(InputError, match=rf'row 3, column "retained_d1": "{bad}" is not 0 or 1'):
        read_exports([parquet], options)


@pytest.mark.parametrize("kind", [pa.uint8(), pa.int16(), pa.uint64()])
def test_an_unsigned_or_small_integer_proportion_is_checked(
    tmp_path: Path, kind: pa.DataType
) -> None:
    parquet = _write(
        tmp_path,
        pa.table(
            {"group": ["control", "pilot", "pilot"], "retained_d1": pa.array([1, 0, 3], kind)}
        ),
    )
    options = ReadOptions(metrics=RETAINED, arm_column="group")
    with pytest.raises(InputError, match=r'row 3, column "retained_d1": "3" is not 0 or 1'):
        read_exports([parquet], options)


AMOUNTS = (
    MetricColumns("spend", "mean", "spend"),
    MetricColumns("per_order", "ratio", None, "spend", "orders"),
)


@pytest.mark.parametrize("large", [False, True])
def test_integer_means_and_ratios_give_the_csv_figures(tmp_path: Path, large: bool) -> None:
    """Integer sums are exact; values whose squares pass BIGINT's range (4e9² > 9.2e18) are
    summed again as DOUBLE, as the CSV's are, with the same figures."""
    scale = 4_000_000_000 if large else 1
    spend = [120 * scale, 0, 35 * scale, None, 99 * scale, 7 * scale]
    orders = [3, 0, 1, 2, 4 * scale, 1]
    frame = pd.DataFrame(
        {
            "group": ["control", "pilot", "pilot", "control", "pilot", "control"],
            "spend": pd.array(spend, dtype="Int64"),
            "orders": pd.array(orders, dtype="Int64"),
        }
    )
    csv = tmp_path / "units.csv"
    frame.to_csv(csv, index=False)
    parquet = _write(tmp_path, pa.Table.from_pandas(frame, preserve_index=False))
    options = ReadOptions(metrics=AMOUNTS, arm_column="group")
    typed, text = read_exports([parquet], options).stats, read_exports([csv], options).stats
    assert_same_stats(text, typed)
    control = typed[GroupKey("spend", "control", None)]
    assert (control.n, control.sum, control.sum_sq) == (
        2,
        127.0 * scale,
        (120.0**2 + 49) * scale**2,
    )


def test_an_integer_mean_alone_is_read(tmp_path: Path) -> None:
    """No 0/1 column, no ratio: the typed query has nothing to check but still runs."""
    parquet = _write(
        tmp_path, pa.table({"group": ["control", "pilot"], "spend": pa.array([5, 8], pa.int32())})
    )
    options = ReadOptions(metrics=(AMOUNTS[0],), arm_column="group")
    stats = read_exports([parquet], options).stats
    assert stats[GroupKey("spend", "pilot", None)].sum_sq == 64.0


def test_missing_integer_proportions_are_counted(tmp_path: Path) -> None:
    parquet = _write(
        tmp_path,
        pa.table(
            {
                "group": ["control", "control", "pilot", "pilot", "pilot"],
                "retained_d1": pa.array([1, None, 0, 1, None], pa.int32()),
            }
        ),
    )
    data = read_exports([parquet], ReadOptions(metrics=RETAINED, arm_column="group"))
    pilot = data.stats[GroupKey("d1_retention", "pilot", None)]
    control = data.stats[GroupKey("d1_retention", "control", None)]
    assert (pilot.n, pilot.sum, pilot.sum_sq, pilot.missing) == (2, 1.0, 1.0, 1)
    assert (control.n, control.sum, control.sum_sq, control.missing) == (1, 1.0, 1.0, 1)


def _assigned_frame(extra: int) -> pd.DataFrame:
    """Units of a pilot assigned by region (each region in one arm), with `extra` other
    columns of many values before the region column."""
    rows = 600
    frame = pd.DataFrame({"group": ["control" if i % 2 else "pilot" for i in range(rows)]})
    for k in range(extra):
        frame[f"note{k}"] = [f"n{k}-{i}" for i in range(rows)]
    frame["区域"] = [("杭州" if i % 4 == 1 else "宁波") if i % 2 else "上海" for i in range(rows)]
    frame["retained_d1"] = [i % 3 == 0 for i in range(rows)]
    frame["retained_d1"] = frame["retained_d1"].astype("int64")
    return frame


@pytest.mark.parametrize("extra", [0, 9])
def test_the_assignment_is_seen_in_parquet_as_in_csv(tmp_path: Path, extra: int) -> None:
    """Nine other columns before it: the region column is looked at in a second query."""
    frame = _assigned_frame(extra)
    csv = tmp_path / "units.csv"
    frame.to_csv(csv, index=False)
    parquet = _write(tmp_path, pa.Table.from_pandas(frame, preserve_index=False))
    options = ReadOptions(metrics=RETAINED, arm_column="group", find_assignment=True)
    assert read_exports([parquet], options).assignment == ("区域",)
    assert read_exports([csv], options).assignment == ("区域",)


def test_a_column_named_file_row_number_is_read_as_data(tmp_path: Path) -> None:
    """DuckDB's own row-number column would clash with it: the sample is taken by LIMIT."""
    frame = _assigned_frame(0)
    frame.insert(0, "file_row_number", range(len(frame)))
    parquet = _write(tmp_path, pa.Table.from_pandas(frame, preserve_index=False))
    options = ReadOptions(metrics=RETAINED, arm_column="group", find_assignment=True)
    data = read_exports([parquet], options)
    assert data.assignment == ("区域",)
    assert data.sources[0].rows == len(frame)
