"""Metric exports → sufficient statistics: shapes, encodings, streaming, and every bad input."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from opsplay import readers
from opsplay.errors import InputError
from opsplay.query.sufficient import ArmStats
from opsplay.readers import (
    GroupKey,
    MetricColumns,
    ReadOptions,
    parse_number,
    read_exports,
    totals,
)
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
    assert "`holdout` (1 row)" in data.warnings[0]


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
    written = sorted(path.name for path in tmp_path.glob("*.csv"))
    assert written == sorted(path.name for path in EXAMPLES.glob("*.csv"))
    for name in written:
        assert (tmp_path / name).read_bytes() == (EXAMPLES / name).read_bytes(), name
        assert (tmp_path / name).stat().st_size < 1_000_000


# ---------------------------------------------------------------- Excel, Chinese headers, window


def test_xlsx_with_a_title_row_and_several_sheets_gives_its_csv_twin(tmp_path: Path) -> None:
    import openpyxl

    frame = pd.read_csv(UNITS).head(3000)
    book = openpyxl.Workbook()
    notes = book.active
    notes.title = "说明"
    notes.append(["这张表不是数据"])
    sheet = book.create_sheet("明细")
    sheet.append(["新用户引导试点明细（2024年8月）"])  # a title row above the header
    sheet.append([])
    sheet.append(list(frame.columns))
    for row in frame.itertuples(index=False):
        sheet.append(list(row))
    path = tmp_path / "units.xlsx"
    book.save(path)
    twin = tmp_path / "units.csv"
    frame.to_csv(twin, index=False)
    options = onboarding_options(segment_columns=("region",))
    by_name = read_exports([path], replace(options, sheet="明细"))
    by_number = read_exports([path], replace(options, sheet="2"))
    csv_data = read_exports([twin], options)
    assert by_name.stats == csv_data.stats == by_number.stats  # exactly, not approximately
    with pytest.raises(InputError, match="no sheet `汇总`.*`说明`, `明细`"):
        read_exports([path], replace(options, sheet="汇总"))
    # no --sheet: the 说明 sheet comes first; the message names the sheet that has the data
    with pytest.raises(
        InputError, match="first sheet `说明`.*sheet `明细` does: pass --sheet 明细"
    ):
        read_exports([path], options)
    bad = frame.astype(object)
    bad.loc[10, "revenue"] = "abc"
    sheet = book["明细"]
    sheet.cell(row=3 + 11, column=list(frame.columns).index("revenue") + 1, value="abc")
    book.save(path)
    with pytest.raises(InputError, match=r'sheet 明细, row 14, column "revenue"'):
        read_exports([path], replace(options, sheet="明细"))


def test_chinese_header_gbk_dashboard_gives_its_english_twin(tmp_path: Path) -> None:
    english = tmp_path / "dashboard.csv"
    english.write_text(
        "arm,period,metric,value,n\ncontrol,before,d1_retention,35%,5000\n"
        "pilot,before,d1_retention,38%,4800\n",
        encoding="utf-8",
    )
    chinese = tmp_path / "看板.csv"
    chinese.write_bytes(
        "组别,阶段,指标名称,指标值,样本量\ncontrol,before,次日留存率,35%,5000\n"
        "pilot,before,次日留存率,38%,4800\n".encode("gbk")
    )
    retention = replace(ONBOARDING_METRICS[0], name="次日留存率")
    options = ReadOptions(metrics=(retention,), arm_column="group", period_column="period")
    a, b = read_exports([english], options), read_exports([chinese], options)
    assert b.sources[0].encoding == "gb18030" and a.summary == b.summary
    wide = tmp_path / "wide.csv"
    wide.write_text("ＡＲＭ,Metric,VALUE\ncontrol,d1_retention,35%\n", encoding="utf-8")
    data = read_exports([wide], ReadOptions(metrics=ONBOARDING_METRICS[:1], arm_column="group"))
    assert list(data.summary.values())[0].value == 0.35


def test_the_pilot_window_keeps_the_dated_rows_and_counts_the_others(tmp_path: Path) -> None:
    import datetime as dt

    from opsplay.query.columns import Window

    path = tmp_path / "dated.csv"
    path.write_text(
        "group,day,retained_d1\n"
        "control,2024-07-31,1\ncontrol,2024-08-01,1\ncontrol,2024/08/15 09:30,0\n"
        "pilot,2024-08-31,1\npilot,2024-09-01,1\npilot,,1\n",
        encoding="utf-8",
    )
    window = Window("day", (dt.date(2024, 8, 1), dt.date(2024, 8, 31)))
    options = ReadOptions(metrics=METRICS[:1], arm_column="group", window=window)
    data = read_exports([path], options)
    assert data.stats[GroupKey("d1_retention", "control", None)].n == 2
    assert data.stats[GroupKey("d1_retention", "pilot", None)].n == 1
    assert any("3 rows are outside the pilot window" in w for w in data.warnings), data.warnings
    derived = Window(
        "day",
        (dt.date(2024, 8, 1), dt.date(2024, 8, 31)),
        (dt.date(2024, 7, 1), dt.date(2024, 7, 31)),
        ("before", "after"),
        derive_period=True,
    )
    options = ReadOptions(
        metrics=METRICS[:1], arm_column="group", period_column="period", window=derived
    )
    periods = read_exports([path], options)
    assert periods.stats[GroupKey("d1_retention", "control", "before")].n == 1
    assert periods.stats[GroupKey("d1_retention", "control", "after")].n == 2


def test_parquet_typed_columns_are_read_natively(tmp_path: Path) -> None:
    frame = pd.read_csv(UNITS)
    frame["retained_d1"] = frame["retained_d1"].astype(bool)  # a boolean column
    frame.loc[5, "revenue"] = np.nan  # a NaN is a missing value
    path = tmp_path / "typed.parquet"
    frame.to_parquet(path)
    data = read_exports([path], onboarding_options())
    revenue = data.stats[GroupKey("revenue", frame.loc[5, "group"], None)]
    assert revenue.missing == 1
    nested = tmp_path / "nested.parquet"
    pq.write_table(pa.table({"group": ["control", "pilot"], "retained_d1": [[1], [0, 1]]}), nested)
    with pytest.raises(InputError, match='column "retained_d1" holds lists'):
        read_exports([nested], ReadOptions(metrics=METRICS[:1], arm_column="group"))


# ---------------------------------------------------------------- issue 13: hostile exports


def test_hostile_exports_give_messages_not_tracebacks(tmp_path: Path) -> None:
    options = ReadOptions(metrics=METRICS, arm_column="group")
    bom_gbk = tmp_path / "bom_gbk.csv"
    bom_gbk.write_bytes(
        b"\xef\xbb\xbf" + (HEADER + "u1,对照,1,2,1\nu2,pilot,0,1,1\n").encode("gbk")
    )
    data = read_exports([bom_gbk], options)
    assert {k.arm for k in data.stats} == {"对照", "pilot"}
    cr_only = tmp_path / "cr.csv"
    cr_only.write_bytes((HEADER + GOOD).replace("\n", "\r").encode())
    assert read_exports([cr_only], options).sources[0].rows == 2
    wide_cell = tmp_path / "wide_cell.csv"
    wide_cell.write_text(
        HEADER.replace("orders", "orders,note")
        + GOOD.replace("\n", ",x\n").replace(",x\n", "," + "y" * 200_000 + "\n", 1),
        encoding="utf-8",
    )
    assert read_exports([wide_cell], options).sources[0].rows == 2
    long_header = tmp_path / "long_header.csv"
    long_header.write_text(
        HEADER.rstrip("\n") + "," + "h" * 200_000 + "\n" + GOOD.replace("\n", ",1\n"),
        encoding="utf-8",
    )
    assert read_exports([long_header], options).sources[0].rows == 2
    no_newline = tmp_path / "no_newline.csv"
    no_newline.write_bytes(b"a" * 10_000_000)
    with pytest.raises(InputError, match="longer than 1 MB"):
        read_exports([no_newline], options)
    huge = tmp_path / "huge.csv"
    huge.write_text(HEADER + "u1,control,1,1e200,1\nu2,pilot,0,1.7e308,1\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"huge.csv: the values of metric `revenue` are too large"):
        read_exports([huge], options)


@pytest.mark.parametrize(
    ("row", "words"),
    [
        ("control,revenue,10,1e308,1e308", ["line 2", "`revenue`", "too large"]),
        ("control,revenue,10,5,1e309", ["line 2", '"sum_sq"', "too large"]),
        ("control,aov,10,5,5,3,-1,2", ["line 2", '"sum_den_sq"', "negative"]),
    ],
)
def test_statistics_beyond_float_range_or_negative_are_named(
    tmp_path: Path, row: str, words: list[str]
) -> None:
    path = tmp_path / "stats.csv"
    ratio = ",sum_den,sum_den_sq,sum_prod" if "aov" in row else ""
    path.write_text(f"arm,metric,n,sum,sum_sq{ratio}\n{row}\n", encoding="utf-8")
    metrics = METRICS[2:] if "aov" in row else METRICS[1:2]
    with pytest.raises(InputError) as error:
        read_exports([path], ReadOptions(metrics=metrics, arm_column="group"))
    for word in words:
        assert word in error.value.message, error.value.message


def test_lines_after_a_skipped_row_are_still_named_right(tmp_path: Path) -> None:
    lines = STATS.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[2] = "control,too,few\n"  # line 3: wrong number of fields, skipped by DuckDB
    lines[4] = lines[4].replace(",493,", ",many,", 1) if ",493," in lines[4] else lines[4]
    lines[4] = ",".join(lines[4].split(",")[:2] + ["many"] + lines[4].split(",")[3:])
    path = tmp_path / "stats.csv"
    path.write_text("".join(lines), encoding="utf-8")
    data = read_exports([path], onboarding_options(skip_bad_rows=True))
    warning = next(w for w in data.warnings if "skipped" in w)
    assert "line 3" in warning and 'line 5, column "n"' in warning, warning


def test_typed_columns_with_gaps_give_the_text_path_figures(tmp_path: Path) -> None:
    """The fast typed query hands over to the full one when a ratio unit lacks one value."""
    frame = pd.read_csv(UNITS).head(4000)
    frame.loc[::7, "orders"] = np.nan  # the denominator only: the ratio must leave these units
    frame.loc[::11, "retained_d1"] = np.nan
    typed = tmp_path / "gaps.parquet"
    frame.to_parquet(typed)
    text = tmp_path / "gaps.csv"
    frame.astype(object).where(frame.notna(), "NA").to_csv(text, index=False)
    a = read_exports([typed], onboarding_options(segment_columns=("region",)))
    b = read_exports([text], onboarding_options(segment_columns=("region",)))
    assert_same_stats(a.stats, b.stats)
    assert all(a.stats[k].missing == b.stats[k].missing for k in a.stats)
    aov = a.stats[GroupKey("aov", "pilot", None, (("region", "上海"),))]
    assert aov.missing > 0


def test_blanks_of_an_unconfigured_arm_are_not_counted_as_missing(tmp_path: Path) -> None:
    """灰度组 rows are left out whole: their blank cells are no metric's missing values."""
    path = tmp_path / "three_arms.csv"
    path.write_text(
        "group,retained_d1\ncontrol,1\ncontrol,\npilot,0\n灰度组,\n灰度组,\n", encoding="utf-8"
    )
    options = ReadOptions(metrics=METRICS[:1], arm_column="group", arm_labels=("control", "pilot"))
    data = read_exports([path], options)
    missing = [w for w in data.warnings if "missing value" in w]
    assert missing == [
        "metric `d1_retention`: 1 unit with a missing value was left out of this metric"
    ], data.warnings


def test_a_stats_export_counts_an_unconfigured_arm_in_units(tmp_path: Path) -> None:
    path = tmp_path / "stats.csv"
    path.write_text(
        "arm,metric,n,sum,sum_sq,missing\n"
        "control,d1_retention,500,170,170,4\npilot,d1_retention,480,180,180,0\n"
        "holdout,d1_retention,190,60,60,3\n",
        encoding="utf-8",
    )
    options = ReadOptions(metrics=METRICS[:1], arm_column="group", arm_labels=("control", "pilot"))
    data = read_exports([path], options)
    assert any("`holdout` (193 rows)" in w for w in data.warnings), data.warnings
    assert "metric `d1_retention`: 4 units with a missing value were left out of this metric" in (
        data.warnings
    )


@pytest.mark.parametrize("shape", ["csv", "parquet", "xlsx"])
def test_a_spread_sample_reaches_every_part_of_an_export(tmp_path: Path, shape: str) -> None:
    """The rows an export sorted by group is sampled from (region-pilot detection): pieces from
    all over it, so both groups are in; a CSV cell spanning lines costs at most its record."""
    from opsplay.readers.engine import open_table
    from opsplay.readers.sources import open_source

    rows = {"csv": 300_000, "parquet": 120_000, "xlsx": 30_000}[shape]
    frame = pd.DataFrame(
        {
            "组别": ["试点"] * (rows // 2) + ["对照"] * (rows // 2),
            "城市": [f"城市{i // 1000}" for i in range(rows)],
            "备注": ["第一行\n第二行" if i % 997 == 0 else "" for i in range(rows)],
        }
    )
    path = tmp_path / f"sorted.{shape}"
    if shape == "csv":
        frame.to_csv(path, index=False, encoding="gbk")
    elif shape == "parquet":
        frame.to_parquet(path)
    else:
        frame.to_excel(path, index=False)
    source = open_source(path)
    with open_table(source) as table:
        first = table.fetch(f"SELECT DISTINCT 组别 FROM {table.first_rows(1000)}")
        assert first == [("试点",)]
        sample = table.fetch(
            f"SELECT 组别, COUNT(*), COUNT(DISTINCT 城市) FROM {table.spread_rows(10_000)} "
            "GROUP BY 组别 ORDER BY 组别"
        )
        (control, pilot) = sample
        assert control[0] == "对照" and pilot[0] == "试点"
        assert min(control[1], pilot[1]) > 2_000  # about half each
        assert min(control[2], pilot[2]) >= 8  # cities from all over each half
        cities = table.fetch(f"SELECT DISTINCT 城市 FROM {table.spread_rows(10_000)}")
        assert {city for (city,) in cities} <= set(frame["城市"])  # no record cut apart
