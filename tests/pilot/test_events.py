"""Node execution logs: figures against an independent pandas computation, and bad input."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from opsplay.errors import InputError
from opsplay.pilot.events import read_events
from tests.pilot.conftest import EXAMPLES, ONBOARDING_SLAS

LOG = EXAMPLES / "onboarding_events.csv"
HEADER = "case_id,node,started_at,finished_at,status\n"


def independent_figures(frame: pd.DataFrame, slas: dict[str, float]) -> dict[str, dict[str, float]]:
    """Per-node figures with pandas and datetime.fromisoformat (each row's stamps share a style)."""

    def seconds(row: pd.Series) -> float:
        if pd.isna(row["finished_at"]):
            return np.nan
        start = datetime.fromisoformat(row["started_at"])
        finish = datetime.fromisoformat(row["finished_at"])
        return (finish - start).total_seconds()

    frame = frame.assign(duration=frame.apply(seconds, axis=1))
    out = {}
    for node, rows in frame.groupby("node"):
        timed = rows["duration"].dropna()
        out[node] = {
            "count": len(rows),
            "completion_rate": (rows["status"] == "ok").mean(),
            "fallback_rate": (rows["status"] == "fallback").mean(),
            "failure_rate": (rows["status"] == "failed").mean(),
            "p50_s": timed.quantile(0.5),
            "p95_s": timed.quantile(0.95),
            "sla_compliance": (timed <= slas[node]).mean(),
        }
    return out


def test_example_log_figures_match_pandas() -> None:
    data = read_events(LOG, ONBOARDING_SLAS)
    expected = independent_figures(pd.read_csv(LOG), ONBOARDING_SLAS)
    assert [n.node for n in data.nodes] == list(ONBOARDING_SLAS)
    for figures in data.nodes:
        for name, value in expected[figures.node].items():
            assert getattr(figures, name) == pytest.approx(value, rel=1e-9), (figures.node, name)
        assert figures.sla_s == ONBOARDING_SLAS[figures.node]
    push = {n.node: n for n in data.nodes}["push-content"]
    assert push.completion_rate == pytest.approx(0.93, abs=0.01)
    assert data.source.rows == 2700 and data.warnings == ()


def test_groups_by_segment_column_add_up() -> None:
    data = read_events(LOG, ONBOARDING_SLAS, group_columns=("region",))
    assert {key for key in data.groups} == {
        (("region", r),) for r in ("上海", "南京", "杭州", "苏州")
    }
    for index, overall in enumerate(data.nodes):
        assert sum(nodes[index].count for nodes in data.groups.values()) == overall.count


def test_mixed_formats_time_zones_and_gbk(tmp_path: Path) -> None:
    text = HEADER + (
        "c1,a,2024-08-01T10:00:00,2024-08-01 10:00:01.5,ok\n"
        "c2,a,2024-08-01T10:00:00+08:00,2024-08-01T02:00:03Z,ok\n"
        "c3,a,2024-08-01 10:00:00,2024-08-01T10:00:04+08:00,fallback\n"  # naive = same zone
        "c4,a,2024/8/1 10:00,,skipped\n"
        "c5,b,2024-08-01T10:00:00.123456789,2024-08-01T10:00:00.623456789,FAILED\n"
        "c6,未知节点,2024-08-01T10:00:00,2024-08-01T10:00:01,ok\n"
    )
    path = tmp_path / "log.csv"
    path.write_bytes(text.replace("\n", "\r\n").encode("gbk"))
    data = read_events(path, {"a": 2.0, "b": None, "c": 60.0})
    a, b, c = data.nodes
    assert data.source.encoding == "gb18030"
    assert (a.count, a.timed, a.completion_rate, a.skipped_rate) == (4, 3, 0.5, 0.25)
    assert a.p50_s == pytest.approx(3.0) and a.p95_s == pytest.approx(3.9)
    assert a.sla_compliance == pytest.approx(1 / 3)
    assert (b.failure_rate, b.p50_s, b.sla_s, b.sla_compliance) == (
        1.0,
        pytest.approx(0.5),
        None,
        None,
    )
    assert (c.count, c.completion_rate, c.p50_s, c.sla_compliance) == (0, None, None, None)
    assert dict(data.unknown_nodes) == {"未知节点": 1}
    assert any("未知节点" in w for w in data.warnings)
    assert any("`c` has no rows" in w for w in data.warnings)


BAD_LOGS = {  # case: (data line, words the message must contain)
    "unknown status": (
        "c1,a,2024-08-01T10:00:00,,done",
        ["line 3", '"status"', '"done"', "ok, failed"],
    ),
    "bad timestamp": ("c1,a,01/08/2024 10:00,,ok", ["line 3", '"started_at"', "ISO 8601"]),
    "impossible date": ("c1,a,2024-02-30T10:00:00,,ok", ["line 3", "not a valid date"]),
    "finished before started": (
        "c1,a,2024-08-01T10:00:05,2024-08-01T10:00:00,ok",
        ["line 3", '"finished_at"', "before started_at"],
    ),
    "finish without start": ("c1,a,,2024-08-01T10:00:00,ok", ["line 3", '"started_at"', "blank"]),
    "blank node": ("c1,,2024-08-01T10:00:00,,ok", ["line 3", '"node"', "blank"]),
}


@pytest.mark.parametrize("case", sorted(BAD_LOGS))
def test_bad_rows_are_reported_with_line_and_column(tmp_path: Path, case: str) -> None:
    line, words = BAD_LOGS[case]
    path = tmp_path / "log.csv"
    path.write_text(
        HEADER + "c0,a,2024-08-01T09:00:00,2024-08-01T09:00:01,ok\n" + line + "\n", encoding="utf-8"
    )
    with pytest.raises(InputError) as error:
        read_events(path, {"a": 1.0})
    assert str(path) in error.value.message
    for word in words:
        assert word in error.value.message, error.value.message
    data = read_events(path, {"a": 1.0}, skip_bad_rows=True)
    assert (data.source.rows, data.source.skipped_rows) == (1, 1)
    assert "skipped 1 bad row(s)" in data.warnings[0]


def test_missing_column_and_empty_log(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text("case_id,node,start,finished_at,status\nc1,a,x,,ok\n", encoding="utf-8")
    with pytest.raises(InputError, match='missing column "started_at".*did you mean "start"'):
        read_events(path, {"a": 1.0})
    path.write_text(HEADER, encoding="utf-8")
    with pytest.raises(InputError, match="no data rows"):
        read_events(path, {"a": 1.0})
