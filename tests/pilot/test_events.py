"""Node execution logs: figures against an independent pandas computation, and bad input."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from opsplay.errors import InputError
from opsplay.i18n import language
from opsplay.model.duration import parse_duration
from opsplay.model.process import LevelLimits
from opsplay.nodes.log import read_events
from opsplay.workdays import WorkdayCalendar
from tests.pilot.conftest import EXAMPLES, ONBOARDING_SLAS

LOG = EXAMPLES / "onboarding_events.csv"


def missed(data, node: str | None = None) -> set[str]:
    """Case ids past their limit (the first ten of each node), of one node or all."""
    return {
        case
        for figures in data.nodes
        if node is None or figures.node == node
        for case in figures.missed_cases.get("", (0, ()))[1]
    }


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

    def on_start_clock(row: pd.Series) -> list[datetime]:
        """The row's stamps on its start's clock (no `timezone` configured), naive."""
        start = datetime.fromisoformat(row["started_at"])
        if pd.isna(row["finished_at"]):
            return [start.replace(tzinfo=None)]
        finish = datetime.fromisoformat(row["finished_at"])
        if start.tzinfo is not None and finish.tzinfo is not None:
            finish = finish.astimezone(start.tzinfo)
        return [start.replace(tzinfo=None), finish.replace(tzinfo=None)]

    # The evaluation time of open cases: the log's last timestamp.
    as_of = max(moment for _, row in frame.iterrows() for moment in on_start_clock(row))
    out = {}
    for node, rows in frame.groupby("node"):
        timed = rows["duration"].dropna()
        # Open cases (no finish time, not skipped) past their deadline at `as_of` are breaches.
        open_rows = rows[rows["finished_at"].isna() & (rows["status"] != "skipped")]
        breached = sum(
            (as_of - datetime.fromisoformat(start).replace(tzinfo=None)).total_seconds()
            > slas[node]
            for start in open_rows["started_at"]
        )
        out[node] = {
            "count": len(rows),
            "completion_rate": (rows["status"] == "ok").mean(),
            "fallback_rate": (rows["status"] == "fallback").mean(),
            "failure_rate": (rows["status"] == "failed").mean(),
            "p50_s": timed.quantile(0.5),
            "p95_s": timed.quantile(0.95),
            "sla_compliance": (timed <= slas[node]).sum() / (len(timed) + breached),
            "open": len(open_rows),
            "breached_open": breached,
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
    assert [n.node for n in data.nodes] == list(ONBOARDING_SLAS)
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
        ["line 3", '"status"', '"done"', "ok (成功), failed (失败)"],
    ),
    "bad timestamp": (
        "c1,a,01/08/2024 10:00,,ok",
        ["line 3", '"started_at"', "is not a time", "2024/8/1 9:30"],
    ),
    "impossible date": ("c1,a,2024-02-30T10:00:00,,ok", ["line 3", "not a valid date"]),
    "finished before started": (
        "c1,a,2024-08-01T10:00:05,2024-08-01T10:00:00,ok",
        ["line 3", '"finished_at"', "before the start time"],
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
    assert "skipped 1 bad row (" in data.warnings[0]


def test_a_skipped_rows_example_speaks_the_results_language(tmp_path: Path) -> None:
    """Results in Chinese under English messages (a Chinese playbook, LANG=C): the skipped row's
    reason in the warning is Chinese too (a try-out read `跳过了 2 行有错的数据（line 513,
    column "结束时间": "昨天下午" is not an ISO 8601 timestamp…`); the error stays English."""
    path = tmp_path / "log.csv"
    path.write_text(
        "工单号,节点,开始时间,结束时间,状态\n"
        "c0,a,2024-08-01T09:00:00,2024-08-01T09:00:01,成功\n"
        "c1,a,2024-08-01T09:00:00,昨天下午,成功\n",
        encoding="utf-8",
    )
    with language("en"):
        with pytest.raises(InputError, match="is not a time; write for example"):
            read_events(path, {"a": 1.0}, lang="zh")
        warning = read_events(path, {"a": 1.0}, skip_bad_rows=True, lang="zh").warnings[0]
    assert "第 3 行" in warning and "昨天下午" in warning, warning
    assert not re.search(r"[A-Za-z]{3,} [A-Za-z]{3,}", warning), warning


def test_missing_column_and_empty_log(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text("case_id,node,start,finished_at,status\nc1,a,x,,ok\n", encoding="utf-8")
    with pytest.raises(
        InputError, match='missing column "started_at".*started_at / 开始时间.*"start"'
    ):
        read_events(path, {"a": 1.0})
    path.write_text(HEADER, encoding="utf-8")
    with pytest.raises(InputError, match="no data rows"):
        read_events(path, {"a": 1.0})


# --- Chinese logs, calendar limits, timeouts and levels (SPEC 6) -----------------------

CHINESE_STATUS = {"ok": "成功", "failed": "失败", "fallback": "兜底", "skipped": "跳过"}


def test_chinese_log_gives_exactly_the_figures_of_its_english_twin(tmp_path: Path) -> None:
    log = pd.read_csv(LOG, dtype=str, keep_default_na=False)
    chinese = log.rename(
        columns={
            "case_id": "工单号",
            "node": "节点",
            "started_at": "开始时间",
            "finished_at": "完成时间",
            "status": "状态",
        }
    ).replace({"状态": CHINESE_STATUS})
    path = tmp_path / "执行日志.csv"
    path.write_bytes(chinese.to_csv(index=False).encode("gbk"))
    english = read_events(LOG, ONBOARDING_SLAS, group_columns=("region",))
    translated = read_events(path, ONBOARDING_SLAS, group_columns=("region",))
    assert translated.nodes == english.nodes
    assert dict(translated.groups) == dict(english.groups)
    assert translated.source.rows == english.source.rows == 2700


def test_headers_match_in_any_case_and_width(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text(
        "Case_ID,ＮＯＤＥ,Started_At,结束时间,ｓｔａｔｕｓ,优先级\n"
        "c1,a,2024-08-01T10:00:00,2024-08-01T10:00:02,正常,P1\n"
        "c2,a,2024-08-01T10:00:00,2024-08-01T10:00:03,异常,P2\n"
        "c3,a,2024-08-01T10:00:00,2024-08-01T10:00:09,超时,\n"
        "c4,a,2024-08-01T10:00:00,2024-08-01T10:00:01,降级,P1\n",
        encoding="utf-8",
    )
    data = read_events(path, {"a": 3.0})
    (a,) = data.nodes
    assert (a.completion_rate, a.failure_rate, a.fallback_rate, a.timeout_rate) == (
        0.25,
        0.25,
        0.25,
        0.25,
    )
    assert sorted(data.facts.levels["a"]) == ["P1", "P2"]  # 优先级: the level column
    assert missed(data) == {"c3"}  # 9 s over the 3 s limit


def test_two_columns_for_one_field_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text(
        "工单号,节点,开始时间,结束时间,完成时间,状态\nc1,a,2024-08-01,,,成功\n", encoding="utf-8"
    )
    with pytest.raises(InputError, match='"结束时间"、"完成时间".*`finished_at`'):
        read_events(path, {"a": 1.0})


def test_a_duration_exactly_equal_to_its_limit_is_compliant(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text(
        HEADER + "c1,a,2024-08-01T10:00:00,2024-08-01T10:02:00,ok\n"  # exactly 2 minutes
        "c2,a,2024-08-01T10:00:00.5,2024-08-01T10:02:00.500000001,ok\n"  # 1 ns over
        "c3,b,2024-08-01T10:00:00,2024-08-01T10:30:00,ok\n",  # exactly 半小时
        encoding="utf-8",
    )
    data = read_events(path, {"a": parse_duration("2分钟"), "b": parse_duration("半小时")})
    a, b = data.nodes
    assert missed(data) == {"c2"}  # 1 ns over
    assert (a.sla_compliance, b.sla_compliance, a.sla_s, b.sla) == (0.5, 1.0, 120.0, "半小时")


def test_a_row_finishing_the_second_it_started_is_a_zero_duration(tmp_path: Path) -> None:
    """An automatic step logged to the second often starts and finishes on the same stamp,
    also when the two are written in different zones; one second earlier is an error."""
    path = tmp_path / "log.csv"
    path.write_text(
        HEADER + "c1,tag,2024-08-01 10:00:00,2024-08-01 10:00:00,成功\n"
        "c2,tag,2024-08-01T10:00:00+08:00,2024-08-01T02:00:00Z,成功\n"
        "c3,tag,2024-08-01 10:00:00,2024-08-01 10:00:03,成功\n",
        encoding="utf-8",
    )
    data = read_events(path, {"tag": parse_duration("实时")})
    (tag,) = data.nodes
    assert (tag.count, tag.completion_rate) == (3, 1.0)
    assert missed(data) == {"c3"}
    path.write_text(HEADER + "c1,tag,2024-08-01 10:00:00,2024-08-01 09:59:59,成功\n", "utf-8")
    with language("en"), pytest.raises(InputError, match="is before the start time"):
        read_events(path, {"tag": parse_duration("实时")})


# National Day 2024: holiday 10-01..10-07; make-up working days Sun 09-29 and Sat 10-12.
# Each row: node, start, finish, and whether it met its limit on the official calendar
# (deadline worked out by hand in the comment).
NATIONAL_DAY = [
    # review: 3个工作日 — 24:00 of the 3rd working day after the start day
    (
        "review",
        "2024-09-29 10:00",
        "2024-10-09 10:00",
        True,
    ),  # Sun make-up: 09-30, 10-08, 10-09 → due 10-10 00:00
    ("review", "2024-09-30 09:00", "2024-10-10 09:00:01", True),  # 10-08, 10-09, 10-10 24:00
    (
        "review",
        "2024-10-03 15:00",
        "2024-10-10 23:59:59",
        True,
    ),  # holiday: 10-08, 10-09, 10-10 → due 10-11 00:00
    ("review", "2024-10-09 14:00", "2024-10-13 10:00", False),  # 10-10, 10-11, Sat 10-12 24:00
    (
        "review",
        "2024-10-10 09:00",
        "2024-10-14 15:30",
        True,
    ),  # the afternoon of its 3rd working day (10-11, Sat 10-12, Mon 10-14): within, as teams read it
    # payout: T+1 — 24:00 of the next working day
    (
        "payout",
        "2024-10-11 18:00",
        "2024-10-12 23:59:59",
        True,
    ),  # Sat 10-12 is a working day: due 10-13 00:00
    (
        "payout",
        "2024-09-30 18:00",
        "2024-10-08 20:00",
        True,
    ),  # next working day 10-08: due 10-09 00:00
    ("payout", "2024-10-01 10:00", "2024-10-09 00:00", True),  # due 10-09 00:00 exactly
    ("payout", "2024-10-08 10:00", "2024-10-10 00:00:01", False),  # due 10-10 00:00
    # reply: 当天 — 24:00 of the start day, holiday or not
    ("reply", "2024-10-01 08:00", "2024-10-01 23:59:59", True),
    ("reply", "2024-10-12 22:00", "2024-10-13 00:30", False),
]
NATIONAL_DAY_LIMITS = {"review": "3个工作日", "payout": "T+1", "reply": "当天"}


def national_day_log(tmp_path: Path) -> Path:
    """The rows above as a Chinese log, with a timeout row that has no finish time."""
    lines = ["工单号,节点,开始时间,结束时间,状态"]
    for index, (node, start, finish, _met) in enumerate(NATIONAL_DAY):
        lines.append(f"T{index},{node},{start},{finish},成功")
    lines.append("T99,reply,2024-10-12 09:00,,超时")
    path = tmp_path / "国庆执行日志.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_calendar_limits_across_national_day_2024(tmp_path: Path) -> None:
    limits = {node: parse_duration(text) for node, text in NATIONAL_DAY_LIMITS.items()}
    data = read_events(national_day_log(tmp_path), limits)
    late = {f"T{index}" for index, (*_, met) in enumerate(NATIONAL_DAY) if not met}
    assert missed(data) == late | {"T99"}  # T99: open past its deadline
    review, payout, reply = data.nodes
    # The open T99 (当天 from 10-12 09:00, due 10-13 00:00) is past its deadline at the log's
    # last timestamp (10-13 10:00): a breach, not a row left out.
    assert (review.sla_compliance, payout.sla_compliance, reply.sla_compliance) == (
        4 / 5,
        3 / 4,
        1 / 3,
    )
    assert (reply.open, reply.breached_open, reply.pending) == (1, 1, 0)
    assert data.as_of == datetime(2024, 10, 14, 15, 30)
    assert (review.sla, payout.sla, reply.sla) == ("3个工作日", "T+1", "当天")
    assert review.sla_s is None  # a calendar limit has no fixed length
    assert reply.timeout_rate == pytest.approx(1 / 3) and reply.timed == 2
    assert data.warnings == ()


def test_weekday_calendar_ignores_the_holiday_and_make_up_days(tmp_path: Path) -> None:
    limits = {node: parse_duration(text) for node, text in NATIONAL_DAY_LIMITS.items()}
    data = read_events(national_day_log(tmp_path), limits, calendar=WorkdayCalendar("weekdays"))
    # 3个工作日 on Monday–Friday: 09-29 (Sun) → 09-30, 10-01, 10-02 → due 10-03 00:00, late;
    # 09-30 09:00 → due 10-04 00:00, late; 10-03 15:00 → 10-04, 10-07, 10-08 → 10-09 00:00,
    # late; 10-09 14:00 → due 10-15 00:00, met; 10-10 09:00 → due 10-16 00:00, met.
    assert missed(data, "review") == {"T0", "T1", "T2"}


def test_dates_beyond_the_official_calendar_warn_and_use_weekdays(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text(HEADER + "c1,a,2099-01-02T09:00:00,2099-01-05T09:00:00,ok\n", encoding="utf-8")
    data = read_events(path, {"a": parse_duration("1个工作日")})
    assert data.nodes[0].sla_compliance == 1.0  # Fri → Mon 09:00 on Monday–Friday
    assert any("2099" in w and "Monday to Friday" in w for w in data.warnings)
    with language("zh"):
        chinese = read_events(path, {"a": parse_duration("1个工作日")})
    assert any("2099" in w and "周一至周五" in w for w in chinese.warnings)


@pytest.mark.parametrize("case", sorted(BAD_LOGS))
def test_bad_rows_are_reported_in_chinese(tmp_path: Path, case: str) -> None:
    line, _words = BAD_LOGS[case]
    path = tmp_path / "log.csv"
    path.write_text(HEADER + line + "\n", encoding="utf-8")
    with language("zh"), pytest.raises(InputError) as error:
        read_events(path, {"a": 1.0})
    message = error.value.message
    assert "--skip-bad-rows" in message and "列" in message
    assert not re.search(r"\b(column|write|is not|blank|or pass)\b", message), message


def test_warnings_are_chinese_in_chinese(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text(
        HEADER + "c0,a,2024-08-01T09:00:00,2024-08-01T09:00:01,ok\n"
        "c1,a,2024-08-01T10:00:00,,done\n"
        "c2,未知,2024-08-01T10:00:00,,ok\n",
        encoding="utf-8",
    )
    with language("zh"):
        data = read_events(path, {"a": 1.0, "b": 1.0}, skip_bad_rows=True)
    # The statuses a user may type are listed with their English spellings, on purpose.
    text = "\n".join(data.warnings).replace(
        "成功（ok）、失败（failed）、兜底（fallback）、跳过（skipped）、超时（timeout）", ""
    )
    assert "跳过" in text and "未知" in text and "`b`" in text
    assert not re.search(r"\b(skipped|bad rows?|rows?|nodes?|left out|check)\b", text), text
    assert "(s)" not in text


def test_limit_for_gives_each_row_its_own_limit_by_level(tmp_path: Path) -> None:
    """The hook per-level limits use: `limit_for(node, level)` decides each row's limit."""
    path = tmp_path / "log.csv"
    path.write_text(
        "工单号,节点,开始时间,结束时间,状态,级别\n"
        "c1,respond,2024-10-11 09:00,2024-10-11 09:04,成功,P1\n"  # 4 min: P1 limit 5 min
        "c2,respond,2024-10-11 09:00,2024-10-11 09:06,成功,P1\n"  # 6 min: over
        "c3,respond,2024-10-11 18:00,2024-10-12 20:00,完成,P2\n"  # P2 T+1: Sat 10-12 works
        "c4,respond,2024-10-11 09:00,2024-10-11 10:00,成功,\n",  # no level: the default 2h
        encoding="utf-8",
    )
    limits = LevelLimits(
        {
            "P1": parse_duration("5分钟"),
            "P2": parse_duration("T+1"),
            "default": parse_duration("2小时"),
        }
    )
    data = read_events(
        path, {"respond": limits.overall}, limit_for=SimpleNamespace(limits={"respond": limits})
    )
    assert missed(data) == {"c2"}
    levels = data.facts.levels["respond"]
    assert {level: (f.within, f.checked) for level, f in levels.items()} == {
        "P1": (1, 2),
        "P2": (1, 1),
    }
    assert data.nodes[0].sla_compliance == 3 / 4 and data.nodes[0].completion_rate == 1.0


def test_rows_of_a_level_without_a_limit_are_named_in_the_message_language(tmp_path: Path) -> None:
    """{P1, P2} and no `default`: a P3 row is left out of the rate, and the warning lists the
    levels to write as the language lists them (`P1、P2`, not `P1, P2`, in Chinese)."""
    path = tmp_path / "log.csv"
    path.write_text(
        "工单号,节点,开始时间,结束时间,状态,级别\n"
        "c1,respond,2024-10-11 09:00,2024-10-11 09:04,成功,P1\n"
        "c2,respond,2024-10-11 09:00,2024-10-11 09:40,成功,P3\n",
        encoding="utf-8",
    )
    limits = LevelLimits({"P1": parse_duration("5分钟"), "P2": parse_duration("30分钟")})
    for lang, listed in (("zh", "P1、P2"), ("en", "P1, P2")):
        with language(lang):
            data = read_events(
                path,
                {"respond": limits.overall},
                limit_for=SimpleNamespace(limits={"respond": limits}),
            )
        (warning,) = [w for w in data.warnings if "P3" in w]
        assert listed in warning, warning
    assert data.nodes[0].sla_compliance == 1.0  # P3 is out of the rate (1 of 1)


def test_rows_of_an_undeclared_level_judged_by_the_default_are_named(tmp_path: Path) -> None:
    """A try-out: `P 1` (a typo for P1) and `一级` were judged by the 8-hour default with no
    warning, loosening P1's 2 hours; `p1` and `Ｐ２` are P1 and P2, and P3, declared under
    `levels` with no limit of its own, is meant for the default: neither is named."""
    path = tmp_path / "log.csv"
    path.write_text(
        "工单号,节点,开始时间,结束时间,状态,级别\n"
        "c1,respond,2024-10-11 09:00,2024-10-11 10:00,成功,P1\n"
        "c2,respond,2024-10-11 09:00,2024-10-11 15:00,成功,P 1\n"  # 6 h: within the default
        "c3,respond,2024-10-11 09:00,2024-10-11 15:00,成功,P 1\n"
        "c4,respond,2024-10-11 09:00,2024-10-11 10:00,成功,一级\n"
        "c5,respond,2024-10-11 09:00,2024-10-11 10:00,成功,p1\n"
        "c6,respond,2024-10-11 09:00,2024-10-11 10:00,成功,Ｐ２\n"
        "c7,respond,2024-10-11 09:00,2024-10-11 10:00,成功,P3\n",
        encoding="utf-8",
    )
    limits = LevelLimits(
        {
            "P1": parse_duration("2小时"),
            "P2": parse_duration("4小时"),
            "default": parse_duration("8小时"),
        }
    )
    hook = SimpleNamespace(limits={"respond": limits}, levels=("P1", "P2", "P3"))
    for lang, words in (
        ("zh", ("`P 1`（2 行）", "`一级`（1 行）", "`default`", "P1、P2、P3")),
        ("en", ("`P 1` (2 rows)", "`一级` (1 row)", "`default`", "P1, P2, P3")),
    ):
        with language(lang):
            data = read_events(path, {"respond": limits.overall}, limit_for=hook)
        (warning,) = [w for w in data.warnings if "P 1" in w]
        assert all(word in warning for word in words), warning
        assert "p1" not in warning and "Ｐ２" not in warning and "`P3`" not in warning
    assert data.nodes[0].sla_compliance == 1.0  # the default judged them: all within


def test_a_log_naming_nodes_by_their_playbook_names_counts_them(tmp_path: Path) -> None:
    # Ticket systems log the node's name (退款审核), not the playbook's id.
    log = tmp_path / "log.csv"
    log.write_text(
        "工单号,节点,开始时间,结束时间,状态\n"
        "TK1,退款审核,2024-09-30 10:00:00,2024-09-30 11:00:00,成功\n"
        "TK2,退款审核 ,2024-09-30 10:00:00,2024-09-30 13:00:00,超时\n"
        "TK3,review,2024-09-30 10:00:00,2024-09-30 10:30:00,成功\n"
        "TK4,财务打款,2024-09-30 10:00:00,2024-10-08 12:00:00,成功\n"
        "TK5,回访,2024-09-30 10:00:00,2024-09-30 12:00:00,成功\n",
        encoding="gbk",
    )
    slas = {"review": parse_duration("2小时"), "pay": parse_duration("T+1")}
    with language("zh"):
        data = read_events(log, slas, names={"退款审核": "review", "财务打款": "pay"}, lang="zh")
    figures = {n.node: n for n in data.nodes}
    assert figures["review"].count == 3 and figures["review"].sla_compliance == pytest.approx(2 / 3)
    # T+1 from Monday 30 September: due 24:00 on 8 October, the first working day after 国庆.
    assert figures["pay"].count == 1 and figures["pay"].sla_compliance == 1.0
    assert dict(data.unknown_nodes) == {"回访": 1}
    assert "节点 id 或节点名称" in data.warnings[0]


def test_a_name_two_nodes_share_matches_neither(tmp_path: Path) -> None:
    log = tmp_path / "log.csv"
    log.write_text(
        HEADER + "c1,审核,2024-09-30T10:00:00,2024-09-30T10:01:00,ok\n", encoding="utf-8"
    )
    data = read_events(log, {"a": 60.0, "b": 60.0}, names={"审核": "a", "审核 ": "b"})
    assert dict(data.unknown_nodes) == {"审核": 1}


def test_chinese_dates_and_done_words_as_ticket_systems_write_them(tmp_path: Path) -> None:
    log = tmp_path / "log.csv"
    log.write_text(
        "工单号,节点,开始时间,结束时间,状态\n"
        "T1,review,2024年9月30日 10:00,2024年9月30日11:30,已完成\n"
        "T2,review,2024.9.30 10:00,2024.9.30 12:30:00,已超时\n"
        "T3,review,2024/9/30 10:00,2024-09-30 11:00,处理完成\n",
        encoding="gbk",
    )
    data = read_events(log, {"review": parse_duration("2小时")})
    review = data.nodes[0]
    assert review.count == 3 and review.completion_rate == pytest.approx(2 / 3)
    assert review.timeout_rate == pytest.approx(1 / 3)
    assert review.p50_s == 5400 and review.sla_compliance == pytest.approx(2 / 3)


def test_log_errors_name_columns_as_a_chinese_team_does(tmp_path: Path) -> None:
    log = tmp_path / "log.csv"
    log.write_text("工单,节点,开始,结束,状态\nT1,review,2024-09-30 10:00,,成功\n", encoding="utf-8")
    with language("zh"), pytest.raises(InputError) as missing:
        read_events(log, {"review": 60.0})
    assert "执行日志缺少“工单号”列" in str(missing.value)
    assert "文件中的列有：“工单”、“节点”、“开始”、“结束”、“状态”" in str(missing.value)
    log.write_text(
        HEADER + "T1,review,45573.37,45573.42,ok\nT2,,2024-09-30,,ok\n", encoding="utf-8"
    )
    with language("zh"), pytest.raises(InputError) as unusable:
        read_events(log, {"review": 60.0}, skip_bad_rows=True)
    # every row skipped: the error says why, not only how many
    message = str(unusable.value)
    assert "没有可用的行（2 行有错：" in message and "“45573.37” 不是有效的时间" in message
    assert "为空，请填写节点 id 或节点名称" in message
