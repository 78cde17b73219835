"""`watch` on watch's clock (SPEC 10, 12; issue 21 try-out findings 1, 7, 8, 9): a warehouse
on-call lead's playbook and logs (tests/watch/data/warehouse, from the try-out), watched at
several evaluation times (`--as-of`) against a real local robot server. The machine's clock
(opsplay.watch.clock) stays frozen at conftest.NOW — years before the logs — so everything
that moves here moves on the evaluation time, never on the real clock."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from opsplay.cli import app
from tests.watch.conftest import RobotServer

DATA = Path(__file__).parent / "data" / "warehouse"
runner = CliRunner()


@pytest.fixture
def warehouse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, frozen) -> dict[str, Path]:
    """The try-out's project: its playbook, logs and `.opsplay.toml` (Beijing time)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OPSPLAY_NOTIFY_SECRET", raising=False)
    monkeypatch.delenv("OPSPLAY_STATE", raising=False)
    (tmp_path / ".opsplay.toml").write_text(
        '[tool.opsplay]\nlang = "zh"\ntimezone = "Asia/Shanghai"\n', encoding="utf-8"
    )
    found = {"state": tmp_path / "state.db", "folder": tmp_path}
    for name in ("wms-oncall.yaml", "events_night.csv", "events_morning.csv"):
        target = tmp_path / name
        target.write_bytes((DATA / name).read_bytes())
        found[name.split(".")[0]] = target
    found["p2open"] = tmp_path / "events_morning_p2open.csv"
    found["p2open"].write_bytes((DATA / "events_morning_p2open.csv").read_bytes())
    return found


def _edit_alert(warehouse: dict[str, Path], alert_id: str, **fields: object) -> None:
    path = warehouse["wms-oncall"]
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    alert = next(a for a in data["alerts"] if a["id"] == alert_id)
    alert.update(fields)
    for key in [k for k, v in alert.items() if v is None]:
        del alert[key]
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _watch(warehouse: dict[str, Path], log: str, as_of: str, *urls: str, fmt: str = "text"):
    args = ["watch", str(warehouse["wms-oncall"]), "--events", str(warehouse[log])]
    for url in urls:
        args += ["--notify", url]
    args += ["--as-of", as_of, "--state", str(warehouse["state"]), "--format", fmt]
    return runner.invoke(app, args)


def _alert(result, alert_id: str) -> dict:
    return next(a for a in json.loads(result.stdout)["alerts"] if a["id"] == alert_id)


def _texts(robot: RobotServer, alert_id: str | None = None) -> list[str]:
    texts = [r.body["markdown"]["text"] for r in robot.of("/robot/send")]
    return [t for t in texts if alert_id is None or f"：{alert_id}\n" in t]


# --- finding 1: a later evaluation time on the same file is new evidence ----------------------


def test_a_missed_inspection_fires_on_the_same_file_later(warehouse, robot: RobotServer) -> None:
    """08:45: today's 08:30 巡检 is not due yet (30分钟). 09:05, same file: it is missed —
    6 of 8 on time, 75% < 80% — as `pilot compare --as-of 09:05` says; watch used to keep
    the 08:45 result because the file had not changed."""
    url = robot.url("dingtalk")
    early = _watch(warehouse, "events_night", "2026-10-13 08:45", url, fmt="json")
    assert early.exit_code == 0, early.output
    assert _alert(early, "漏巡检")["status"] == "ok"
    assert _texts(robot) == []
    late = _watch(warehouse, "events_night", "2026-10-13 09:05", url, fmt="json")
    assert late.exit_code == 1, late.output
    document = json.loads(late.stdout)
    missed = _alert(late, "漏巡检")
    assert (missed["value"], missed["status"], missed["counted"]) == (0.75, "fired", True)
    assert {"alert": "漏巡检", "event": "firing", "value": 0.75} in document["changes"]
    # the message names the occurrences not met and when it was judged (finding 8)
    (text,) = _texts(robot, "漏巡检")
    assert (
        "截至 2026-10-13 09:05（北京时间）：按时执行率 75.0%（应执行 8 次，按时完成 6 次）" in text
    )
    assert (
        "未按时执行（北京时间）：2026-09-30 08:30（09:10 才完成，已超时）、"
        "2026-10-13 08:30（未执行）" in text
    ), text
    assert document["process"]["schedule_missed"]["巡检"] == {
        "count": 2,
        "first": [
            {"at": "2026-09-30T08:30:00+08:00", "finished": "2026-09-30T09:10:00+08:00"},
            {"at": "2026-10-13T08:30:00+08:00", "finished": None},
        ],
    }
    # the run that fired is in the history, though its data was the same as the 08:45 run's
    history = runner.invoke(
        app,
        ["history", str(warehouse["wms-oncall"]), "--state", str(warehouse["state"]), "-f", "json"],
    )
    assert "漏巡检" in json.loads(history.stdout)["versions"][0]["alerts_fired"]


def test_an_open_ticket_passing_its_deadline_fires_on_an_unchanged_file(
    warehouse, robot: RobotServer
) -> None:
    """GD-1012-01's P1 复核 (次日12点前) is open: pending at 10:00, breached at 12:30."""
    url = robot.url("dingtalk")
    morning = _watch(warehouse, "events_morning", "2026-10-13 10:00", url, fmt="json")
    assert _alert(morning, "复核超时")["status"] == "ok", morning.output
    noon = _watch(warehouse, "events_morning", "2026-10-13 12:30", url, fmt="json")
    review = _alert(noon, "复核超时")
    assert (review["value"], review["status"], review["fired"]) == (0.75, "fired", True)
    (text,) = _texts(robot, "复核超时")
    assert re.search(r"超时工单（共 \d+ 单）：[^\n]*GD-1012-01", text), text  # ids and the count
    assert "P1 级工单截至 2026-10-13 12:30（北京时间）未结 2 单：1 单已过时限" in text, text


def test_the_same_evaluation_time_on_the_same_file_is_not_counted_twice(
    warehouse, robot: RobotServer
) -> None:
    """`for: 2` on the schedule alert: a re-run at 09:05 is no second look; 09:15 is."""
    _edit_alert(warehouse, "漏巡检", **{"for": 2})
    url = robot.url("dingtalk")
    first = _watch(warehouse, "events_night", "2026-10-13 09:05", url, fmt="json")
    assert first.exit_code == 0, first.output
    assert (_alert(first, "漏巡检")["status"], _alert(first, "漏巡检")["held"]) == ("pending", 1)
    again = _watch(warehouse, "events_night", "2026-10-13 09:05", url, fmt="json")
    assert again.exit_code == 0, again.output
    alert = _alert(again, "漏巡检")
    assert (alert["status"], alert["held"], alert["counted"]) == ("pending", 1, False)
    assert _texts(robot) == []
    later = _watch(warehouse, "events_night", "2026-10-13 09:15", url, fmt="json")
    assert later.exit_code == 1, later.output
    alert = _alert(later, "漏巡检")
    assert (alert["status"], alert["held"], alert["counted"]) == ("fired", 2, True)
    assert len(_texts(robot, "漏巡检")) == 1


def test_a_figure_the_clock_cannot_move_is_not_counted_again(warehouse) -> None:
    """The issue-18 rule stands where the evaluation time changes nothing: a completion rate
    on a node without a schedule, the same file at a later time, is the same look."""
    _edit_alert(warehouse, "整改超时", measure="完成率", op="<", threshold=0.9, **{"for": 2})
    first = _watch(warehouse, "events_night", "2026-10-13 09:05", fmt="json")
    assert (_alert(first, "整改超时")["status"], _alert(first, "整改超时")["held"]) == (
        "pending",
        1,
    )
    later = _watch(warehouse, "events_night", "2026-10-14 09:05", fmt="json")
    alert = _alert(later, "整改超时")
    assert (alert["status"], alert["held"], alert["counted"]) == ("pending", 1, False)


# --- finding 7: the evaluation time and the open cases in watch's own output ------------------


def test_watch_shows_its_evaluation_time_and_each_nodes_open_cases(warehouse) -> None:
    text = _watch(warehouse, "p2open", "2026-10-13 10:00").stdout
    lines = text.splitlines()
    assert lines[1] == "评估时间：2026-10-13 10:00（北京时间）", text
    assert (
        "故障处置，截至 2026-10-13 10:00（北京时间）未结 2 单：1 单已过时限（计为未达标），"
        "1 单未到期" in lines
    ), text
    assert "早班巡检，按时执行率 87.5%（应执行 8 次，按时完成 7 次）" in lines, text
    document = json.loads(_watch(warehouse, "p2open", "2026-10-13 10:00", fmt="json").stdout)
    assert document["as_of"] == "2026-10-13T10:00:00+08:00"
    handling = next(n for n in document["nodes"] if n["node"] == "处置")
    assert (handling["open"], handling["breached_open"], handling["pending"]) == (2, 1, 1)
    assert handling["as_of"] == "2026-10-13T10:00:00+08:00"
    assert document["process"]["open_by_level"]["处置"] == {
        "P1": {"open": 1, "breached_open": 1, "pending": 0},
        "P2": {"open": 1, "breached_open": 0, "pending": 1},
    }


def test_history_times_are_on_the_teams_clock_with_the_zone(warehouse) -> None:
    """Recorded at conftest.NOW, 01:30 UTC: 09:30 in Beijing, 03:30 in Berlin."""
    assert _watch(warehouse, "events_night", "2026-10-13 08:45").exit_code == 0
    args = ["history", str(warehouse["wms-oncall"]), "--state", str(warehouse["state"])]
    text = runner.invoke(app, args).stdout
    assert "记录于 2024-08-05 09:30（北京时间）" in text, text
    markdown = runner.invoke(app, [*args, "-f", "markdown"]).stdout
    assert "| 2024-08-05 09:30（北京时间） |" in markdown, markdown
    (warehouse["folder"] / ".opsplay.toml").write_text(
        '[tool.opsplay]\nlang = "zh"\ntimezone = "Europe/Berlin"\n', encoding="utf-8"
    )
    assert "记录于 2024-08-05 03:30（Europe/Berlin）" in runner.invoke(app, args).stdout


# --- finding 8: robot messages -----------------------------------------------------------------


def test_a_level_alert_says_its_level_and_counts_only_its_open_cases(
    warehouse, robot: RobotServer
) -> None:
    """处置 has two open cases at 10:00: GD-1013-02 (P1, past its 2小时) and GD-1013-04 (P2,
    not yet due). The P1 alert's message counts the P1 one only."""
    result = _watch(warehouse, "p2open", "2026-10-13 10:00", robot.url("dingtalk"))
    assert result.exit_code == 1, result.output
    (text,) = _texts(robot, "处置P1超时")
    assert "P1 级时限达标率为 66.7%，告警条件为低于 75.0%" in text, text
    assert "P1 级工单截至 2026-10-13 10:00（北京时间）未结 1 单：1 单已过时限" in text, text
    assert "未结 2 单" not in text and "节点时限达标率" not in text


def test_a_resend_says_why_not_that_nothing_changed(warehouse, robot: RobotServer) -> None:
    """renotify 1分钟 on watch's clock: 10:00 tells, 12:30 (same file) re-sends and says so."""
    url = robot.url("dingtalk")
    assert _watch(warehouse, "p2open", "2026-10-13 10:00", url).exit_code == 1
    told = len(_texts(robot, "处置P1超时"))
    assert _watch(warehouse, "p2open", "2026-10-13 12:30", url).exit_code == 1
    again = _watch(warehouse, "p2open", "2026-10-13 12:35", url)
    assert len(_texts(robot, "处置P1超时")) == told + 2
    assert "仍在告警，距上次通知已超过 1分钟，再次发送：处置P1超时（66.7% < 75.0%）" in again.stdout
    assert "没有变化" not in again.stdout and "已发送消息：2 条" in again.stdout, again.stdout
    quiet = _watch(warehouse, "p2open", "2026-10-13 12:35", url)  # no time passed
    assert "与上次运行相比没有变化，不发通知" in quiet.stdout and "已发送消息：0 条" in quiet.stdout
    document = json.loads(_watch(warehouse, "p2open", "2026-10-13 12:40", url, fmt="json").stdout)
    assert {"alert": "处置P1超时", "why": "renotify"} in document["resent"]


# --- finding 9: renotify on watch's clock, calendar forms included -----------------------------


@pytest.mark.parametrize(
    ("renotify", "quiet", "due"),
    [
        # told Friday 10-16 10:00: 09:00 of the next working day is Monday 10-19
        ("下一个工作日9点前", "2026-10-19 08:59", "2026-10-19 09:00"),
        # T+1: once 24:00 of the next working day (Monday) has passed
        ("T+1", "2026-10-19 23:59", "2026-10-20 00:00"),
        ("2小时", "2026-10-16 11:59", "2026-10-16 12:00"),
    ],
)
def test_renotify_is_measured_on_watchs_clock_in_the_teams_forms(
    warehouse, robot: RobotServer, renotify: str, quiet: str, due: str
) -> None:
    _edit_alert(warehouse, "复核超时", renotify=renotify)
    url = robot.url("dingtalk")
    assert _watch(warehouse, "events_morning", "2026-10-16 10:00", url).exit_code == 1
    assert len(_texts(robot, "复核超时")) == 1
    weekend = [moment for moment in ("2026-10-17 09:00", "2026-10-18 12:00") if moment < quiet]
    for moment in [*weekend, quiet]:
        assert _watch(warehouse, "events_morning", moment, url).exit_code == 1
    assert len(_texts(robot, "复核超时")) == 1, "not yet"
    result = _watch(warehouse, "events_morning", due, url)
    assert result.exit_code == 1, result.output
    texts = _texts(robot, "复核超时")
    assert len(texts) == 2 and "【仍在告警】" in texts[-1], texts
    if renotify == "2小时":  # a length passed; a calendar form is a time reached
        assert f"距上次通知已超过 {renotify}，仍在告警" in texts[-1]
        assert "再次发送：复核超时" in result.stdout
    else:
        assert f"仍在告警：按「{renotify}」（从上次通知算起）再次提醒" in texts[-1]
        assert f"按「{renotify}」（从上次通知算起）再次提醒：复核超时" in result.stdout
        assert "已超过" not in texts[-1]
    with sqlite3.connect(warehouse["state"]) as db:
        (told,) = db.execute("SELECT told FROM alert_state WHERE alert = '复核超时'").fetchone()
    assert told.startswith(due.replace(" ", "T")), told  # measured from the evaluation time


def test_a_schedule_message_names_the_first_ten_misses_and_the_count(
    warehouse, robot: RobotServer
) -> None:
    """Three weeks after the log's last 巡检 every working day's is missed: ten are named,
    the rest counted (as the cases past their limit are); resolved names none."""
    url = robot.url("dingtalk")
    result = _watch(warehouse, "events_night", "2026-11-02 09:05", url, fmt="json")
    assert result.exit_code == 1, result.output
    process = json.loads(result.stdout)["process"]
    occurrences = process["schedule_occurrences"]["巡检"]
    missed = process["schedule_missed"]["巡检"]
    assert missed["count"] == occurrences["total"] - occurrences["met"] > 10
    assert len(missed["first"]) == 10
    (text,) = _texts(robot, "漏巡检")
    line = next(line for line in text.splitlines() if line.startswith("未按时执行（北京时间）："))
    assert line.count("（未执行）") + line.count("才完成，已超时") == 10, line
    assert line.endswith(f"…（共 {missed['count']} 次）"), line
    assert "2026-10-14 08:30（未执行）" in line  # the first working day after the log
    _edit_alert(warehouse, "漏巡检", threshold=0.1)  # below it now: resolved
    later = _watch(warehouse, "events_night", "2026-11-02 09:10", url)
    assert "已恢复：漏巡检" in later.stdout, later.stdout  # other alerts still fire (exit 1)
    resolved = _texts(robot, "漏巡检")[-1]
    assert resolved.startswith("#### 【已恢复】"), resolved
    assert (
        "未按时执行" not in resolved and "截至 2026-11-02 09:10（北京时间）：按时执行率" in resolved
    )


def test_open_cases_of_a_level_without_a_limit_are_said_apart() -> None:
    """4 open: 2 past the deadline, 1 not yet due, and a P3 with no limit for P3 — the counts
    add up in the words (the try-out read 2 + 1 of 4)."""
    from opsplay.i18n import language, translate
    from opsplay.pilot.presentation.cells import open_cases

    figures = {"open": 4, "breached_open": 2, "pending": 1, "as_of": "2026-10-13T09:05:00+08:00"}
    with language("zh"):
        text = open_cases(figures, lambda m: translate(m, "zh"))
    assert (
        "未结 4 单：2 单已过时限（计为未达标），1 单未到期，1 单所在级别没有时限（不评判）" in text
    )
    assert "没有时限" not in open_cases({**figures, "open": 3}, lambda m: translate(m, "zh"))
