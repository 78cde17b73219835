"""Metric exports → sufficient statistics: shapes, encodings, streaming, and every bad input."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from opsplay.errors import InputError
from opsplay.pilot import readers
from opsplay.pilot.readers import (
    GroupKey,
    MetricColumns,
    ReadOptions,
    parse_number,
    read_exports,
    totals,
)
from opsplay.pilot.sufficient import ArmStats
from tests.pilot.conftest import (
    EXAMPLES,
    ONBOARDING_METRICS,
    RECALL_METRICS,
    assert_same_stats,
    onboarding_options,
)

UNITS = EXAMPLES / "onboarding_units.csv"
STATS = EXAMPLES / "onboarding_stats.csv"
GBK = EXAMPLES / "onboarding_units_gbk.csv"
SUMMARY = EXAMPLES / "onboarding_summary.csv"


def pandas_stats(frame: pd.DataFrame, keys: list[str]) -> dict[GroupKey, ArmStats]:
    """Independent sufficient statistics of the onboarding unit rows, with pandas."""
    out: dict[GroupKey, ArmStats] = {}
    for values, rows in frame.groupby(keys, sort=True):
        values = values if isinstance(values, tuple) else (values,)
        segment = tuple(zip(keys[1:], values[1:], strict=True))
        for metric in ONBOARDING_METRICS:
            if metric.kind == "ratio":
                num = rows[metric.numerator].astype(float)
                den = rows[metric.denominator].astype(float)
                stats = ArmStats(
                    len(rows),
                    num.sum(),
                    (num * num).sum(),
                    den.sum(),
                    (den * den).sum(),
                    (num * den).sum(),
                )
            else:
                y = rows[metric.column].astype(float)
                stats = ArmStats(len(rows), y.sum(), (y * y).sum())
            out[GroupKey(metric.id, str(values[0]), None, segment)] = stats
    return out


# ---------------------------------------------------------------- shapes agree


@pytest.mark.parametrize("segments", [(), ("region",), ("region", "channel")])
def test_unit_rows_match_an_independent_pandas_computation(segments: tuple[str, ...]) -> None:
    data = read_exports([UNITS], onboarding_options(segment_columns=segments))
    frame = pd.read_csv(UNITS)
    assert data.shape == "units"
    assert data.sources[0].rows == len(frame) and data.sources[0].encoding == "utf-8"
    assert_same_stats(data.stats, pandas_stats(frame, ["group", *segments]))


@pytest.mark.parametrize("segments", [(), ("region",), ("channel", "region")])
def test_statistics_export_gives_the_same_stats_as_unit_rows(segments: tuple[str, ...]) -> None:
    """The warehouse path and the unit-row path agree (float64 sums to ~1e-12, counts exact)."""
    units = read_exports([UNITS], onboarding_options(segment_columns=segments))
    stats = read_exports([STATS], onboarding_options(segment_columns=segments))
    assert stats.shape == "stats" and stats.warnings == ()
    assert_same_stats(units.stats, stats.stats)


def test_totals_merge_segments_into_the_overall_group() -> None:
    by_region = read_exports([UNITS], onboarding_options(segment_columns=("region",)))
    overall = read_exports([UNITS], onboarding_options())
    assert_same_stats(totals(by_region.stats), dict(overall.stats))


def test_parquet_unit_rows_match_csv(tmp_path: Path) -> None:
    parquet = tmp_path / "units.parquet"
    pq.write_table(pa.Table.from_pandas(pd.read_csv(UNITS)), parquet)
    csv_data = read_exports([UNITS], onboarding_options(segment_columns=("region",)))
    parquet_data = read_exports([parquet], onboarding_options(segment_columns=("region",)))
    assert parquet_data.sources[0].encoding == "parquet"
    assert_same_stats(csv_data.stats, parquet_data.stats)


def test_several_files_merge_like_one(tmp_path: Path) -> None:
    lines = UNITS.read_text(encoding="utf-8").splitlines(keepends=True)
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_text("".join(lines[:4001]), encoding="utf-8")
    second.write_text(lines[0] + "".join(lines[4001:]), encoding="utf-8")
    whole = read_exports([UNITS], onboarding_options(segment_columns=("channel",)))
    parts = read_exports([first, second], onboarding_options(segment_columns=("channel",)))
    assert [s.rows for s in parts.sources] == [4000, len(lines) - 4001]
    assert_same_stats(whole.stats, parts.stats)


def test_many_small_chunks_and_quoted_newlines(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Chunks are cut at line ends outside quotes; the sums do not depend on the cut points."""
    frame = pd.read_csv(UNITS).head(3000)
    frame.insert(1, "note", ["第一行\n第二行, 带逗号" if i % 7 == 0 else "" for i in range(3000)])
    path = tmp_path / "quoted.csv"
    frame.to_csv(path, index=False)
    expected = pandas_stats(frame, ["group", "region"])
    monkeypatch.setattr(readers, "_CHUNK_BYTES", 2048)
    data = read_exports([path], onboarding_options(segment_columns=("region",)))
    assert_same_stats(data.stats, expected)


def test_did_export_keeps_periods(examples: Path) -> None:
    options = ReadOptions(
        metrics=RECALL_METRICS,
        arm_column="group",
        period_column="period",
        arm_labels=("comparison", "pilot"),
        period_labels=("before", "after"),
    )
    data = read_exports([examples / "recall_did.csv"], options)
    frame = pd.read_csv(examples / "recall_did.csv")
    for (arm, period), rows in frame.groupby(["group", "period"]):
        stats = data.stats[GroupKey("recall_rate", arm, period)]
        assert (stats.n, stats.sum) == (len(rows), rows["recalled"].sum())
    pilot_after = data.stats[GroupKey("recall_rate", "pilot", "after")]
    assert 0.22 < pilot_after.sum / pilot_after.n < 0.30


# ---------------------------------------------------------------- encodings and full-width text


def test_gbk_excel_export_is_detected_and_matches_utf8(tmp_path: Path) -> None:
    utf8 = tmp_path / "utf8.csv"
    utf8.write_bytes(GBK.read_bytes().decode("gbk").encode("utf-8"))
    gbk = read_exports([GBK], onboarding_options(segment_columns=("region",)))
    plain = read_exports([utf8], onboarding_options(segment_columns=("region",)))
    assert gbk.sources[0].encoding == "gb18030" and gbk.sources[0].rows == 2000
    assert_same_stats(gbk.stats, plain.stats)
    assert {key.segment for key in gbk.stats} >= {(("region", "上海"),)}


def test_forced_encoding_is_used_and_reported() -> None:
    data = read_exports([GBK], onboarding_options(encoding="gbk"))
    assert data.sources[0].encoding == "gbk"


def test_utf8_bom_summary_like_table_3() -> None:
    metrics = ONBOARDING_METRICS[:3]
    data = read_exports([SUMMARY], ReadOptions(metrics=metrics, arm_column="group"))
    assert data.shape == "summary" and data.sources[0].encoding == "utf-8-sig"
    value = {(k.metric, k.arm): v for k, v in data.summary.items()}
    assert value[("d1_retention", "control")] == readers.SummaryValue(0.35, 5000)
    deviation = {
        m: (value[(m, "pilot")].value - value[(m, "control")].value) / value[(m, "control")].value
        for m in ("d1_retention", "core_usage")
    }
    assert round(deviation["d1_retention"] * 100, 1) == 8.6
    assert round(deviation["core_usage"] * 100, 1) == 7.1


def test_utf16_export(tmp_path: Path) -> None:
    path = tmp_path / "utf16.csv"
    path.write_text(UNITS.read_text(encoding="utf-8")[:20000].rsplit("\n", 1)[0], encoding="utf-16")
    data = read_exports([path], onboarding_options())
    assert data.sources[0].encoding == "utf-16" and data.sources[0].rows > 100


def test_full_width_headers_labels_and_numbers(tmp_path: Path) -> None:
    """What an IME produces: full-width digits, letters, percent and spaces (NFKC)."""
    plain = tmp_path / "plain.csv"
    wide = tmp_path / "wide.csv"
    plain.write_text(
        "group,region,retained_d1,revenue\ncontrol,上海,1,1234.5\npilot,上海,0,12\npilot,杭州,1,0\n",
        encoding="utf-8",
    )
    wide.write_text(
        "ｇｒｏｕｐ,region ,retained_d1,revenue\n"
        'ｃｏｎｔｒｏｌ,上海,１,"1,234.5"\n pilot ,上海　,０,１２\npilot,杭州,true,0\n',
        encoding="utf-8",
    )
    metrics = (ONBOARDING_METRICS[0], ONBOARDING_METRICS[3])
    options = ReadOptions(metrics=metrics, arm_column="group", segment_columns=("region",))
    assert read_exports([wide], options).stats == read_exports([plain], options).stats


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("35%", 0.35),
        ("３５％", 0.35),
        ("0.35", 0.35),
        ("1,234", 1234.0),
        ("-2.5e3", -2500.0),
        (" 12 ", 12.0),
        ("\u22121", -1.0),
    ],
)
def test_summary_numbers(text: str, expected: float) -> None:
    assert parse_number(text, percent=True) == pytest.approx(expected)


def test_summary_may_show_only_some_metrics() -> None:
    data = read_exports([SUMMARY], onboarding_options())
    assert {key.metric for key in data.summary} == {"d1_retention", "first_order", "core_usage"}
    assert "`revenue`, `aov`" in data.warnings[0]


def test_full_width_summary_with_thousands(tmp_path: Path) -> None:
    path = tmp_path / "summary.csv"
    path.write_text(
        'arm,metric,value,n\ncontrol,d1_retention,３５％,"5,000"\npilot,d1_retention,0.38,\n',
        encoding="utf-8",
    )
    data = read_exports([path], ReadOptions(metrics=ONBOARDING_METRICS[:1], arm_column="group"))
    values = list(data.summary.values())
    assert values == [readers.SummaryValue(0.35, 5000), readers.SummaryValue(0.38, None)]


# ---------------------------------------------------------------- bad input: clear messages

HEADER = "user_id,group,retained_d1,revenue,orders\n"
GOOD = "u1,control,1,10.5,1\nu2,pilot,0,0,0\n"
METRICS = (
    MetricColumns("d1_retention", "proportion", "retained_d1"),
    MetricColumns("revenue", "mean", "revenue"),
    MetricColumns("aov", "ratio", None, "revenue", "orders"),
)

BAD_UNIT_ROWS = {  # case: (file text, words the message must contain)
    "not a number": (HEADER + GOOD + "u3,pilot,1,abc,1\n", ["line 4", '"revenue"', '"abc"']),
    "outside 0/1": (HEADER + GOOD + "u3,pilot,2,3,1\n", ["line 4", '"retained_d1"', "0 or 1"]),
    "word in a proportion": (HEADER + GOOD + "u3,pilot,maybe,3,1\n", ["line 4", '"maybe"']),
    "infinite": (HEADER + GOOD + "u3,pilot,1,1e999,1\n", ["line 4", '"revenue"']),
    "wrong field count": (HEADER + GOOD + "u3,pilot,1,3\n", ["line 4", "4 fields", "5"]),
    "after a blank line": (HEADER + GOOD + "\nu3,pilot,1,x,1\n", ["line 5", '"revenue"']),
}


@pytest.mark.parametrize("case", sorted(BAD_UNIT_ROWS))
def test_bad_unit_rows_name_file_line_and_column(tmp_path: Path, case: str) -> None:
    text, words = BAD_UNIT_ROWS[case]
    path = tmp_path / "export.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as error:
        read_exports([path], ReadOptions(metrics=METRICS, arm_column="group"))
    assert error.value.exit_code == 2
    assert str(path) in error.value.message
    for word in words:
        assert word in error.value.message, error.value.message
    assert "--skip-bad-rows" in error.value.message


def test_bad_row_far_into_a_big_file_names_its_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(readers, "_CHUNK_BYTES", 4096)
    lines = UNITS.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[7000] = lines[7000].replace(",0,", ",x,", 1) if ",0," in lines[7000] else lines[7000]
    path = tmp_path / "units.csv"
    path.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(InputError, match=r"line 7001, column"):
        read_exports([path], onboarding_options())


def test_skip_bad_rows_turns_a_bad_cell_into_a_missing_value_of_its_metric_only(
    tmp_path: Path,
) -> None:
    bad_lines = {"u3,pilot,,3,1\n", "u4,pilot,1,abc,1\n", "u5,pilot,1,3\n", "u6,control,2,1,1\n"}
    path = tmp_path / "export.csv"
    path.write_text(
        HEADER + GOOD + "".join(sorted(bad_lines)) + "u7,pilot,1,4,2\n", encoding="utf-8"
    )
    options = ReadOptions(metrics=METRICS, arm_column="group", skip_bad_rows=True)
    data = read_exports([path], options)
    # u5 has 4 fields: the row is skipped; the others stay in every metric they can be read for
    assert (data.sources[0].rows, data.sources[0].skipped_rows) == (6, 1)
    retention = data.stats[GroupKey("d1_retention", "pilot", None)]
    assert (retention.n, retention.sum, retention.missing) == (3, 2.0, 1)  # u2, u4, u7; u3 blank
    control = data.stats[GroupKey("d1_retention", "control", None)]
    assert (control.n, control.invalid) == (1, 1)  # u6's 2 is not 0/1
    revenue = data.stats[GroupKey("revenue", "pilot", None)]
    assert (revenue.n, revenue.sum, revenue.invalid) == (3, 7.0, 1)  # u4's abc
    assert any("skipped 1 bad row" in w and "line 6" in w for w in data.warnings), data.warnings
    assert any("`revenue`: 1 unreadable value" in w for w in data.warnings), data.warnings
    assert any("`d1_retention`: 1 unit with a missing value" in w for w in data.warnings)


def test_missing_values_leave_only_their_metric(tmp_path: Path) -> None:
    """SPEC 7: a blank or NA leaves one metric; a blank arm leaves the row, counted."""
    path = tmp_path / "export.csv"
    path.write_text(
        HEADER
        + "u1,control,1,10.5,1\nu2,control,NA,20,2\nu3,control,0,,1\nu4,,1,3,1\n"
        + "u5,pilot,是,35%,1\nu6,pilot,否,N/A,0\nu7,pilot,#N/A,1,1\n",
        encoding="utf-8",
    )
    data = read_exports([path], ReadOptions(metrics=METRICS, arm_column="group"))
    stats = {(k.metric, k.arm): v for k, v in data.stats.items()}
    assert (stats["d1_retention", "control"].n, stats["d1_retention", "control"].missing) == (2, 1)
    assert stats["revenue", "control"].sum == 30.5 and stats["revenue", "control"].missing == 1
    assert (stats["d1_retention", "pilot"].n, stats["d1_retention", "pilot"].sum) == (2, 1.0)
    assert stats["revenue", "pilot"].sum == pytest.approx(1.35)  # 35% is 0.35
    assert (stats["aov", "pilot"].n, stats["aov", "pilot"].missing) == (2, 1)
    assert any("1 row has no value in `group`" in w for w in data.warnings), data.warnings
    zero = tuple(replace(m, missing="zero") if m.id == "revenue" else m for m in METRICS)
    counted = read_exports([path], ReadOptions(metrics=zero, arm_column="group"))
    revenue = counted.stats[GroupKey("revenue", "control", None)]
    assert (revenue.n, revenue.sum, revenue.missing) == (3, 30.5, 1)
    error = tuple(replace(m, missing="error") if m.id == "revenue" else m for m in METRICS)
    with pytest.raises(InputError, match=r'line 4, column "revenue".*missing: error'):
        read_exports([path], ReadOptions(metrics=error, arm_column="group"))


def test_skip_bad_rows_in_a_statistics_export(tmp_path: Path) -> None:
    lines = STATS.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[3] = lines[3].replace(",493,", ",many,", 1)
    path = tmp_path / "stats.csv"
    path.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(InputError, match=r'line 4, column "n"'):
        read_exports([path], onboarding_options())
    data = read_exports([path], onboarding_options(skip_bad_rows=True))
    assert data.sources[0].skipped_rows == 1 and "skipped 1" in data.warnings[0]


BAD_FILES = {  # case: (bytes, options changes, words the message must contain)
    "empty": (b"", {}, ["empty"]),
    "header only": (HEADER.encode(), {}, ["no data rows"]),
    "header only with blank lines": ((HEADER + "\n\n").encode(), {}, ["no data rows"]),
    "excel workbook": (b"PK\x03\x04" + b"\x00" * 200, {}, ["not a CSV", "Excel"]),
    "binary": (b"\x00\x01\x02garbage\x00", {}, ["not a CSV"]),
    "missing column": (
        b"user_id,grup,retained_d1,revenue,orders\nu1,pilot,1,2,1\n",
        {},
        ['missing column "group"', 'did you mean "grup"', "user_id"],
    ),
    "arm label absent": (
        (HEADER + GOOD).replace("pilot", "treatment").encode(),
        {"arm_labels": ("control", "pilot")},
        [
            "arm `pilot` not in column `group` (",
            "export.csv); values found: `control`, `treatment`",
        ],
    ),
    "metric absent from statistics": (
        b"arm,metric,n,sum,sum_sq\ncontrol,d1,10,3,3\npilot,d1,10,4,4\n",
        {"metrics": METRICS[:1]},
        ["metric `d1_retention`", "metrics found: `d1`"],
    ),
    "metric absent from summary": (
        b"arm,metric,value\ncontrol,retention,35%\n",
        {"metrics": METRICS[:1]},
        ["metric `d1_retention`", "`retention`"],
    ),
    "proportion written as 35": (
        b"arm,metric,value\ncontrol,d1_retention,35\n",
        {"metrics": METRICS[:1]},
        ["line 2", '"value"', "write 35% or 0.35"],
    ),
    "duplicate summary row": (
        b"arm,metric,value\ncontrol,d1_retention,35%\ncontrol,d1_retention,36%\n",
        {"metrics": METRICS[:1]},
        ["line 3", "line 2", "second value"],
    ),
    "proportion sum above n": (
        b"arm,metric,n,sum,sum_sq\ncontrol,d1_retention,10,30,30\n",
        {"metrics": METRICS[:1]},
        ["line 2", '"sum"', "outside 0..n"],
    ),
    "not gbk nor utf-8": (b"group,x\n\xff\xfe\xfa\xfb\xfc,1\n", {}, ["neither UTF-8 nor GBK"]),
    "forced unknown encoding": (HEADER.encode(), {"encoding": "klingon"}, ["unknown encoding"]),
    "forced shape without its columns": (
        (HEADER + GOOD).encode(),
        {"input_format": "summary"},
        ['missing column "metric"'],
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_files_get_clear_errors(tmp_path: Path, case: str) -> None:
    content, changes, words = BAD_FILES[case]
    path = tmp_path / "export.csv"
    path.write_bytes(content)
    options = ReadOptions(**{"metrics": METRICS, "arm_column": "group", **changes})  # type: ignore[arg-type]
    with pytest.raises(InputError) as error:
        read_exports([path], options)
    for word in words:
        assert word in error.value.message, error.value.message


def test_utf8_file_with_gbk_bytes_after_the_sample(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Detection reads the first MB: an ASCII start with GBK text later is read again as GB18030."""
    monkeypatch.setattr(readers, "_SAMPLE_BYTES", 256)
    rows = "".join(f"u{i},control,1,{i},1\n" for i in range(40))
    path = tmp_path / "mixed.csv"
    path.write_bytes((HEADER + rows).encode() + "u99,控制组,1,2,1\n".encode("gbk"))
    data = read_exports([path], ReadOptions(metrics=METRICS, arm_column="group"))
    assert data.sources[0].encoding == "gb18030"
    assert {key.arm for key in data.stats} == {"control", "控制组"}


def test_utf8_file_with_bad_bytes_after_non_ascii_start(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A file that starts as real UTF-8 and turns bad later is named, with what to do."""
    monkeypatch.setattr(readers, "_SAMPLE_BYTES", 256)
    rows = "".join(f"u{i},对照,1,{i},1\n" for i in range(40))
    path = tmp_path / "mixed.csv"
    path.write_bytes((HEADER + rows).encode() + "u99,控制组,1,2,1\n".encode("gbk"))
    with pytest.raises(InputError) as error:
        read_exports([path], ReadOptions(metrics=METRICS, arm_column="group"))
    assert "line 42" in error.value.message and "--encoding gb18030" in error.value.message


def test_other_files_and_mixed_shapes(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        read_exports([tmp_path / "nope.csv"], onboarding_options())
    with pytest.raises(InputError, match="different shapes"):
        read_exports([UNITS, STATS], onboarding_options())
    with pytest.raises(InputError, match="is a folder"):
        read_exports([tmp_path], onboarding_options())


def test_other_arm_values_are_kept_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text(HEADER + GOOD + "u3,holdout,1,2,1\n", encoding="utf-8")
    options = ReadOptions(metrics=METRICS, arm_column="group", arm_labels=("control", "pilot"))
    data = read_exports([path], options)
    assert {key.arm for key in data.stats} == {"control", "pilot", "holdout"}
    assert "`holdout` (1 rows)" in data.warnings[0]


def test_progress_reports_bytes_up_to_the_file_size() -> None:
    seen: list[int] = []
    read_exports([UNITS, UNITS], onboarding_options(progress=seen.append))
    assert seen == [UNITS.stat().st_size, 2 * UNITS.stat().st_size]


def test_the_query_reads_cells_as_the_statistics_reader_reads_numbers(tmp_path: Path) -> None:
    """One reading of a number: the query's (unit rows) and `parse_number` (small exports)."""
    texts = ["1", "0", "1.0", "２", "1,234", "12,34", "abc", " 7 ", "1e3", "35%", "-0", "−1"]
    path = tmp_path / "cells.csv"
    path.write_text(
        "group,revenue\n" + "".join(f'g{i},"{t}"\n' for i, t in enumerate(texts)),
        encoding="utf-8",
    )
    metric = (MetricColumns("revenue", "mean", "revenue"),)
    data = read_exports([path], ReadOptions(metrics=metric, arm_column="group", skip_bad_rows=True))
    for i, text in enumerate(texts):
        stats = data.stats[GroupKey("revenue", f"g{i}", None)]
        scalar = parse_number(text, percent=True)
        assert (stats.invalid == 1) == isinstance(scalar, str), text
        if stats.n:
            assert stats.sum == scalar, text


def test_examples_regenerate_byte_identically(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(EXAMPLES / "generate.py"), str(tmp_path)],
        check=True,
        capture_output=True,
    )
    for path in sorted(tmp_path.glob("*.csv")):
        assert path.read_bytes() == (EXAMPLES / path.name).read_bytes(), path.name
        assert path.stat().st_size < 1_000_000
