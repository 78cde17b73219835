"""`opsplay watch` end to end against a real local HTTP server: on change only, signed as each
robot documents, never lost, never twice, never a secret shown."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from opsplay.cli import app
from tests.watch.conftest import NOW, SECRET, TOKEN, RobotServer, write_events

runner = CliRunner()


def watch(scene: dict[str, Path], log: str, *urls: str, extra: tuple[str, ...] = ()):
    """Run `opsplay watch` in-process on one of the scene's logs."""
    args = ["watch", str(scene["playbook"]), "--events", str(scene[log])]
    for url in urls:
        args += ["--notify", url]
    return runner.invoke(app, [*args, "--state", str(scene["state"]), *extra])


def test_fires_once_stays_quiet_then_resolves_once(scene, robot: RobotServer, frozen) -> None:
    url = robot.url("wecom")
    first = watch(scene, "firing", url)
    assert first.exit_code == 1, first.output
    assert len(robot.received) == 1
    second = watch(scene, "firing", url)
    assert second.exit_code == 1, second.output
    assert len(robot.received) == 1, "a second run while the alert still fires posts nothing"
    third = watch(scene, "healthy", url)
    assert third.exit_code == 0, third.output
    assert len(robot.received) == 2
    fourth = watch(scene, "healthy", url)
    assert fourth.exit_code == 0 and len(robot.received) == 2

    fired, resolved = (r.body for r in robot.received)
    assert fired["msgtype"] == "markdown" and set(fired["markdown"]) == {"content"}
    text = fired["markdown"]["content"]
    # which alert, which node (by name), value against threshold, playbook and version, what to do
    for expected in (
        "push-completion",
        "个性化内容推送",
        "80.0%",
        "90.0%",
        "新用户引导优化",
        "1.2.0",
        "检查推送平台队列积压",  # the alert's action
        "推送热门商品TOP5",  # the node's fallback
    ):
        assert expected in text, (expected, text)
    assert "95.0%" in resolved["markdown"]["content"]


def test_a_robot_added_later_hears_of_the_alert_still_firing(
    scene, robot: RobotServer, frozen
) -> None:
    """A first run without --notify saw the alert start: the chat, added next run, must still
    be told (it was never told), once; a second robot added later too."""
    alone = watch(scene, "firing")
    assert alone.exit_code == 1 and "--notify" in alone.output, alone.output
    assert robot.received == []
    first = watch(scene, "firing", robot.url("wecom"))
    assert first.exit_code == 1 and len(robot.received) == 1, first.output
    assert "push-completion" in robot.received[0].body["markdown"]["content"]
    watch(scene, "firing", robot.url("wecom"))
    assert len(robot.received) == 1, "told once"
    watch(scene, "firing", robot.url("wecom"), robot.url("dingtalk"))
    assert len(robot.received) == 2 and robot.received[1].path.startswith("/robot/send")


def test_dingtalk_signature_verifies(scene, robot: RobotServer, frozen) -> None:
    result = watch(scene, "firing", robot.url("dingtalk"), extra=("--secret", SECRET))
    assert result.exit_code == 1, result.output
    (request,) = robot.of("/robot/send")
    timestamp = request.query["timestamp"][0]
    assert timestamp == str(int(NOW.timestamp() * 1000))  # milliseconds, from the clock
    expected = base64.b64encode(
        hmac.new(SECRET.encode(), f"{timestamp}\n{SECRET}".encode(), hashlib.sha256).digest()
    ).decode()
    assert request.query["sign"] == [expected]
    assert request.query["access_token"] == [TOKEN]
    assert request.body["msgtype"] == "markdown"
    assert "push-completion" in request.body["markdown"]["text"]
    assert request.body["markdown"]["title"]


def test_feishu_signature_verifies(scene, robot: RobotServer, frozen, monkeypatch) -> None:
    monkeypatch.setenv("OPSPLAY_NOTIFY_SECRET", SECRET)
    result = watch(scene, "firing", robot.url("feishu"))
    assert result.exit_code == 1, result.output
    (request,) = robot.of("/open-apis/bot/v2/hook/")
    body = request.body
    assert body["timestamp"] == str(int(NOW.timestamp()))  # seconds
    key = f"{body['timestamp']}\n{SECRET}".encode()
    assert body["sign"] == base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    assert body["msg_type"] == "post"
    post = body["content"]["post"]["zh_cn"]
    assert "push-completion" in post["title"]
    assert any("个性化内容推送" in item["text"] for row in post["content"] for item in row)


def test_slack_and_json_gateway_formats(scene, robot: RobotServer, frozen) -> None:
    result = watch(scene, "firing", robot.url("slack"), robot.url("json"))
    assert result.exit_code == 1, result.output
    (slack,) = robot.of("/services/")
    assert set(slack.body) == {"text"} and "push-completion" in slack.body["text"]
    (gateway,) = robot.of("/gateway/")
    assert gateway.body["event"] == "firing"
    assert gateway.body["alert"] == "push-completion"
    assert gateway.body["value"] == 0.8 and gateway.body["threshold"] == 0.9
    assert gateway.body["playbook"] == {"id": "new-user-onboarding", "version": "1.2.0"}


def test_english_playbook_speaks_english(scene, robot: RobotServer, frozen, tmp_path) -> None:
    from tests.watch.conftest import write_playbook

    scene = {**scene, "playbook": write_playbook(tmp_path, lang="en")}
    watch(scene, "firing", robot.url("slack"))
    text = robot.received[0].body["text"]
    assert "Node: " in text and "Fallback on failure: " in text and "节点" not in text


def test_failed_posts_are_reported_kept_and_sent_next_run(
    scene, robot: RobotServer, frozen
) -> None:
    # A 500 that echoes the request (token included), then DingTalk's HTTP-200 refusal.
    robot.failures += [(500, f"boom at /robot/send?access_token={TOKEN}")] * 3
    url = robot.url("dingtalk")
    first = watch(scene, "firing", url, extra=("--secret", SECRET))
    assert first.exit_code == 1
    assert len(robot.received) == 3, "three attempts"
    assert frozen == [1.0, 2.0], "with backoff between them"
    assert "HTTP 500" in first.stderr and "queued" in first.stderr
    robot.failures += [(200, json.dumps({"errcode": 310000, "errmsg": "sign not match"}))]
    second = watch(scene, "firing", url, extra=("--secret", SECRET))
    assert "310000" in second.stderr and second.exit_code == 1
    assert len(robot.received) == 4, "a refusal is not retried in the same run"
    third = watch(scene, "firing", url, extra=("--secret", SECRET))
    assert third.exit_code == 1 and "could not post" not in third.stderr
    assert len(robot.received) == 5, "the queued message is delivered, once"
    assert "push-completion" in robot.received[-1].body["markdown"]["text"]
    for output in (first.output, first.stderr, second.stderr, third.output):
        assert TOKEN not in output and SECRET not in output
    stored = scene["state"].read_bytes()
    assert TOKEN.encode() not in stored and SECRET.encode() not in stored


def test_unreachable_host_is_reported_without_traceback(scene, closed_port, frozen) -> None:
    url = f"dingtalk+http://127.0.0.1:{closed_port}/robot/send?access_token={TOKEN}"
    result = watch(scene, "firing", url, extra=("--secret", SECRET))
    assert result.exit_code == 1
    assert "cannot connect" in result.stderr
    assert "Traceback" not in result.output + result.stderr
    assert TOKEN not in result.stderr and SECRET not in result.stderr
    with sqlite3.connect(scene["state"]) as db:
        assert db.execute("SELECT COUNT(*) FROM outbox WHERE delivered IS NULL").fetchone() == (1,)


def test_bad_urls_are_usage_errors(scene, frozen) -> None:
    for url, words in (
        ("not a url", "not an http(s) URL"),
        (f"https://example.com/hook/{TOKEN}?key={TOKEN}", "dingtalk+"),
        ("ftp://oapi.dingtalk.com/robot/send", "not an http(s) URL"),
    ):
        result = watch(scene, "firing", url)
        assert result.exit_code == 2, (url, result.output)
        assert words in result.stderr
        assert TOKEN not in result.stderr and "Traceback" not in result.stderr
    assert not scene["state"].exists(), "nothing written for a usage error"


def test_locked_state_file_is_a_clear_error(scene, robot: RobotServer, frozen, monkeypatch):
    from opsplay.watch import state

    watch(scene, "healthy", robot.url("wecom"))
    monkeypatch.setattr(state, "LOCK_TIMEOUT", 0.2)
    holder = sqlite3.connect(scene["state"], isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        result = watch(scene, "firing", robot.url("wecom"))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.exit_code == 2
    assert "locked by another run" in result.stderr and "Traceback" not in result.stderr
    assert robot.received == []
    # Nothing of the refused run was kept: the next run sees the change and announces it.
    assert watch(scene, "firing", robot.url("wecom")).exit_code == 1
    assert len(robot.received) == 1


def test_corrupt_state_file_is_left_untouched(scene, robot: RobotServer, frozen) -> None:
    garbage = b"this is not a database\n" * 200
    scene["state"].write_bytes(garbage)
    result = watch(scene, "firing", robot.url("wecom"))
    assert result.exit_code == 2
    assert "not a readable opsplay state file" in result.stderr
    assert "Traceback" not in result.stderr
    assert scene["state"].read_bytes() == garbage
    assert robot.received == []


def test_two_overlapping_runs_send_each_message_once(scene, robot: RobotServer) -> None:
    robot.delay = 0.5  # keep the first post open while the second run gets going
    command = [
        sys.executable,
        "-m",
        "opsplay",
        "watch",
        str(scene["playbook"]),
        "--events",
        str(scene["firing"]),
        "--notify",
        robot.url("dingtalk"),
        "--notify",
        robot.url("feishu"),
        "--state",
        str(scene["state"]),
    ]
    runs = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [1, 1], outputs
    assert len(robot.of("/robot/send")) == 1, outputs
    assert len(robot.of("/open-apis/")) == 1, outputs
    assert all("Traceback" not in err for _out, err in outputs)
    # and when it resolves, again exactly one message per robot
    resolve = [c if c != str(scene["firing"]) else str(scene["healthy"]) for c in command]
    runs = [subprocess.Popen(resolve, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in "ab"]
    for run in runs:
        run.communicate(timeout=120)
    assert [run.returncode for run in runs] == [0, 0]
    assert len(robot.received) == 4


def test_unmeasured_alert_keeps_its_state(scene, robot: RobotServer, frozen, tmp_path) -> None:
    url = robot.url("wecom")
    assert watch(scene, "firing", url).exit_code == 1
    empty = write_events(tmp_path / "other-node.csv", ok=50, failed=0, node="tag-detect")
    result = watch({**scene, "other": empty}, "other", url)
    assert result.exit_code == 1, "no rows for the node is no evidence that it recovered"
    assert len(robot.received) == 1


def test_json_output(scene, robot: RobotServer, frozen) -> None:
    result = watch(scene, "firing", robot.url("wecom"), extra=("--format", "json"))
    document = json.loads(result.stdout)
    assert document["firing"] == ["push-completion"]
    assert document["changes"] == [{"alert": "push-completion", "event": "firing", "value": 0.8}]
    assert document["sent"] == 1 and document["queued"] == 0 and document["failures"] == []
    with sqlite3.connect(scene["state"]) as db:
        (stored,) = db.execute("SELECT result FROM runs").fetchone()
    recorded = json.loads(stored)
    nodes = {n["node"]: n for n in recorded["nodes"]}
    assert nodes["push-content"]["completion_rate"] == 0.8 and nodes["push-content"]["count"] == 100
    assert recorded["metrics"] == [] and recorded["alerts"][0]["fired"] is True


def test_chinese_log_by_node_names_and_the_lines_a_lead_reads(
    scene, robot: RobotServer, frozen, tmp_path: Path
) -> None:
    import yaml

    data = yaml.safe_load(scene["playbook"].read_text(encoding="utf-8"))
    data["alerts"].append(
        {
            "id": "push-timeout",
            "node": "push-content",
            "measure": "timeout_rate",
            "op": ">",
            "threshold": 0.1,
        }
    )
    scene["playbook"].write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    # A Chinese team's log: GBK, Chinese headers and statuses, the node by its name.
    log = tmp_path / "执行日志.csv"
    rows = ["工单号,节点,开始时间,结束时间,状态"]
    rows += [f"u{i},个性化内容推送,2024-10-08 09:00,2024-10-08 09:01,成功" for i in range(80)]
    rows += [f"t{i},个性化内容推送,2024-10-08 09:00,,超时" for i in range(20)]
    log.write_text("\n".join(rows) + "\n", encoding="gbk")
    scene["cn"] = log
    first = watch(scene, "cn", robot.url("json"))
    assert first.exit_code == 1, first.output
    summary = first.stdout.splitlines()[0]
    assert summary.startswith("新用户引导优化（new-user-onboarding），版本 1.2.0：2 个告警触发中：")
    assert "）、push-timeout" in summary  # listed with 、
    texts = {r.body["alert"]: r.body["text"] for r in robot.received}
    # timeout_rate has its words (it used to leave the measure blank); the comparison in words
    assert "节点超时率为 20.0%，告警条件为高于 10.0%" in texts["push-timeout"]
    assert "节点完成率为 80.0%，告警条件为低于 90.0%" in texts["push-completion"]
    healthy = watch(scene, "healthy", robot.url("json"))
    # resolved: never `95.0% < 90.0%`, a statement that reads false
    assert "已恢复：push-completion（现为 95.0%，告警条件为低于 90.0%）" in healthy.stdout
    assert "95.0% < 90.0%" not in healthy.stdout


def test_the_first_run_does_not_speak_of_a_last_run(scene, frozen) -> None:
    first = watch(scene, "healthy", extra=("--lang", "en"))
    assert first.exit_code == 0 and "first run for this playbook" in first.output, first.output
    again = watch(scene, "healthy", extra=("--lang", "en"))
    assert "no change since the last run" in again.output, again.output
