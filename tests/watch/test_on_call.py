"""An on-call lead's night (SPEC 12): a two-entry warehouse process (a scheduled 巡检 and an
incoming 报警) with P1/P2 ladders and business hours, watched after midnight against a real
local robot server. Only the clock is replaced (opsplay.watch.clock)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from opsplay.cli import app
from tests.watch.conftest import RobotServer

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOK = ROOT / "tests" / "cases" / "valid" / "zh-two-entries.yaml"
# 00:30 Beijing time on Tuesday 2026-12-08: today's 08:30 巡检 is not due yet.
NIGHT = datetime(2026, 12, 7, 16, 30, tzinfo=UTC)
LOG = """工单号,节点,级别,开始时间,结束时间,状态
i1,库区巡检,,2026-12-07 08:30,2026-12-07 08:52,成功
a1,报警接入,P1,2026-12-07 10:00,2026-12-07 10:03,成功
a2,报警接入,P1,2026-12-07 10:00,2026-12-07 10:09,成功
a3,报警接入,P1,2026-12-07 14:00,,成功
a4,报警接入,P1,2026-12-07 23:50,,成功
a5,报警接入,P1,2026-12-08 00:28,,成功
b1,报警接入,P2,2026-12-07 11:00,2026-12-07 11:20,成功
"""
runner = CliRunner()


@pytest.fixture
def night(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    """The playbook and log in a folder of their own, the clock at 00:30 Beijing time."""
    from opsplay.watch import clock

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OPSPLAY_NOTIFY_SECRET", raising=False)
    monkeypatch.delenv("OPSPLAY_STATE", raising=False)
    now = {"at": NIGHT}
    monkeypatch.setattr(clock, "now", lambda: now["at"])
    monkeypatch.setattr(clock, "sleep", lambda seconds: None)
    playbook = tmp_path / "on-call.yaml"
    playbook.write_text(PLAYBOOK.read_text(encoding="utf-8"), encoding="utf-8")
    log = tmp_path / "值班日志.csv"
    log.write_text(LOG, encoding="utf-8")
    return {"playbook": playbook, "log": log, "state": tmp_path / "state.db", "now": now}


def _watch(night: dict, *urls: str, fmt: str = "text"):
    args = ["watch", str(night["playbook"]), "--events", str(night["log"])]
    for url in urls:
        args += ["--notify", url]
    return runner.invoke(app, [*args, "--state", str(night["state"]), "--format", fmt])


def test_the_lead_is_mentioned_and_no_inspection_is_missed_overnight(
    night: dict, robot: RobotServer
) -> None:
    result = _watch(night, robot.url("dingtalk"), robot.url("feishu"), robot.url("wecom"))
    assert result.exit_code == 1, result.output
    # Only the P1 alert fires: the 08:30 巡检 of 12-08 is pending, not missed.
    document = json.loads(_watch(night, fmt="json").stdout)
    fired = (
        {a["id"]: a["fired"] for a in document["result"]["alerts"]}
        if "result" in document
        else {a["id"]: a["fired"] for a in document["alerts"]}
    )
    assert fired == {"p1-sla": True, "inspect-missed": False}
    dingtalk = robot.of("/robot/send")[0].body
    assert dingtalk["at"] == {
        "atMobiles": ["13800000000", "13900000000"],  # the alert's owner, then the node's
        "atUserIds": ["lead-4220"],
        "isAtAll": False,
    }
    text = dingtalk["markdown"]["text"]
    assert "@13800000000" in text
    # The cases that breached (a2 late, a3 and a4 open past 5 minutes); a5 is not due yet.
    assert "a2、a3（未结）、a4（未结）" in text, text  # a3, a4: still open, past the limit
    assert (
        "截至 2026-12-08 00:30（北京时间）未结 3 单：2 单已过时限（计为未达标），1 单未到期" in text
    )
    assert (
        "检查时间：2026-12-08 00:30（北京时间）" in text or "2026-12-08 00:30（北京时间）" in text
    )
    feishu = robot.of("/open-apis/")[0].body
    rows = feishu["content"]["post"]["zh_cn"]["content"]
    assert rows[-1] == [{"tag": "at", "user_id": "ou_lead"}]
    wecom = robot.of("/cgi-bin/")[0].body
    assert wecom["msgtype"] == "text"
    assert wecom["text"]["mentioned_list"] == ["LiLei"]
    assert wecom["text"]["mentioned_mobile_list"] == ["13800000000", "13900000000"]


def test_still_firing_is_sent_again_after_renotify_and_at_once_when_severity_rises(
    night: dict, robot: RobotServer
) -> None:
    url = robot.url("dingtalk")
    data = yaml.safe_load(night["playbook"].read_text(encoding="utf-8"))
    data["alerts"][0]["severity"] = "warning"
    night["playbook"].write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert _watch(night, url).exit_code == 1
    assert len(robot.received) == 1
    night["now"]["at"] = NIGHT + timedelta(hours=1)
    _watch(night, url)
    assert len(robot.received) == 1, "within renotify (2小时): quiet"
    night["now"]["at"] = NIGHT + timedelta(hours=2)
    _watch(night, url)
    assert len(robot.received) == 2, "renotify passed: sent again"
    again = robot.received[-1].body["markdown"]["text"]
    assert "仍在告警" in again and "2小时" in again
    night["now"]["at"] = NIGHT + timedelta(hours=2, minutes=10)
    data["alerts"][0]["severity"] = "critical"
    night["playbook"].write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    _watch(night, url)
    assert len(robot.received) == 3, "severity rose: sent again at once"
    assert "严重" in robot.received[-1].body["markdown"]["text"]
