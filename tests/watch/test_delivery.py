"""Issue 19 (robots): hostile or broken robots against a real local server. A refused message
never blocks other lines and is given up after a few runs; a trickling or huge answer ends
within a deadline and a few KB; "sent, no answer" is not sent again; playbook text cannot
mention everyone or link anywhere; no credential is shown or stored."""

from __future__ import annotations

import base64
import json
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from opsplay.cli import app
from opsplay.watch import clock, notify
from tests.watch.conftest import NOW, SECRET, TOKEN, write_playbook

runner = CliRunner()
Handler = Callable[[str, dict[str, Any], socket.socket], None]


class RawRobot:
    """A robot on a raw socket: each request's path and JSON body are recorded, then
    `answer(path, body, connection)` writes whatever it likes (slowly, hugely, or not)."""

    def __init__(self, answer: Handler) -> None:
        self.answer = answer
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def url(self, kind: str) -> str:
        base = f"http://127.0.0.1:{self.port}"
        return {
            "dingtalk": f"dingtalk+{base}/robot/send?access_token={TOKEN}",
            "wecom": f"wecom+{base}/cgi-bin/webhook/send?key={TOKEN}",
            "slack": f"slack+{base}/services/T0AB12CD3/B0AB12CD3/{TOKEN}",
            "json": f"json+{base}/gateway/alerts?token={TOKEN}",
        }[kind]

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                connection, _address = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(connection,), daemon=True).start()

    def _one(self, connection: socket.socket) -> None:
        with connection:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = connection.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, body = data.split(b"\r\n\r\n", 1)
            lines = head.decode("latin-1").split("\r\n")
            length = next(
                int(line.split(":", 1)[1])
                for line in lines
                if line.lower().startswith("content-length")
            )
            while len(body) < length:
                body += connection.recv(65536)
            path = lines[0].split(" ")[1]
            self.received.append((path, json.loads(body)))
            try:
                self.answer(path, json.loads(body), connection)
            except OSError:
                pass  # the client hung up: what a deadline does

    def close(self) -> None:
        self.stop.set()
        self.server.close()


def reply(connection: socket.socket, text: str, status: str = "200 OK") -> None:
    data = text.encode("utf-8")
    connection.sendall(
        f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(data)}\r\n"
        f"Connection: close\r\n\r\n".encode()
        + data
    )


def accept(_path: str, _body: dict[str, Any], connection: socket.socket) -> None:
    reply(connection, json.dumps({"errcode": 0, "errmsg": "ok"}))


@pytest.fixture
def robots() -> Iterator[Callable[[Handler], RawRobot]]:
    made: list[RawRobot] = []

    def make(answer: Handler) -> RawRobot:
        made.append(RawRobot(answer))
        return made[-1]

    yield make
    for robot in made:
        robot.close()


def watch(playbook: Path, log: Path, state: Path, *urls: str, extra: tuple[str, ...] = ()):
    args = ["watch", str(playbook), "--events", str(log), "--state", str(state)]
    for url in urls:
        args += ["--notify", url]
    return runner.invoke(app, [*args, *extra])


def other_playbook(folder: Path) -> Path:
    """A second playbook (another id and title) with the same alert."""
    path = write_playbook(folder, version="1.2.0")
    data = yaml.safe_load(path.read_text("utf-8"))
    data["metadata"]["id"] = "other-process"
    data["metadata"]["title"] = "其他流程"
    other = folder / "other.yaml"
    other.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    return other


def test_a_refused_message_blocks_no_other_playbook_and_is_given_up(scene, robots, frozen) -> None:
    """A keyword-secured robot refuses the onboarding playbook's messages for ever (310000);
    the other playbook's alert is still sent, and the refused one is given up after
    DEAD_AFTER runs, kept, and shown by `history`."""

    def keyword_robot(_path: str, body: dict[str, Any], connection: socket.socket) -> None:
        if "新用户引导优化" in json.dumps(body, ensure_ascii=False):
            reply(connection, json.dumps({"errcode": 310000, "errmsg": "keywords not in content"}))
        else:
            accept(_path, body, connection)

    robot = robots(keyword_robot)
    url = robot.url("dingtalk")
    other = other_playbook(scene["playbook"].parent)
    first = watch(scene["playbook"], scene["firing"], scene["state"], url)
    assert first.exit_code == 1 and "310000" in first.stderr
    assert "stays queued" in first.stderr
    # what to do about it, not only DingTalk's English: the keyword every message carries
    assert "add `alert` as its custom keyword" in first.stderr, first.stderr
    second = watch(other, scene["firing"], scene["state"], url)
    assert second.exit_code == 1, second.stderr  # its alert fires
    texts = [json.dumps(body, ensure_ascii=False) for _path, body in robot.received]
    assert sum("其他流程" in text for text in texts) == 1, "the other playbook's message is sent"
    # the run delivers the robot's older queue too, and says whose message failed
    assert "of `new-user-onboarding`" in second.stderr and "other-process`" not in second.stderr
    last = watch(scene["playbook"], scene["firing"], scene["state"], url, extra=("-f", "json"))
    assert "given up" in last.stderr and "310000" in last.stderr
    failure = json.loads(last.stdout)["failures"][0]
    assert failure["status"] == "dead" and failure["playbook"] == "new-user-onboarding"
    refused = sum("新用户引导优化" in json.dumps(b, ensure_ascii=False) for _p, b in robot.received)
    assert refused == 3  # once a run: a refusal is not retried at once (it would say no again)
    again = watch(scene["playbook"], scene["firing"], scene["state"], url)
    assert "310000" not in again.stderr and len(robot.received) == 3 + 1
    with sqlite3.connect(scene["state"]) as db:
        rows = db.execute("SELECT playbook, dead, delivered FROM outbox").fetchall()
    assert sorted((p, d is not None, s is not None) for p, d, s in rows) == [
        ("new-user-onboarding", True, False),
        ("other-process", False, True),
    ]
    history = runner.invoke(
        app, ["history", str(scene["playbook"]), "--state", str(scene["state"])]
    )
    assert history.exit_code == 0 and "given up" in history.stderr
    assert "push-completion" in history.stderr and TOKEN not in history.stderr
    # when, on the team's clock with its zone (frozen at 01:30 UTC), not ISO UTC (SPEC 12)
    assert "of 2024-08-05 09:30 (Beijing time) about" in history.stderr, history.stderr
    assert "given up on 2024-08-05 09:30 (Beijing time):" in history.stderr


def test_after_a_failed_post_the_next_message_of_the_same_alert_waits(
    scene, robots, frozen
) -> None:
    """Order per robot x playbook x alert: while the "firing" message fails, its "resolved"
    waits, in the same run too; both go out, in order, once the robot answers."""
    answers = iter([("500 Internal Server Error", "{}")] * (2 * notify.ATTEMPTS))

    def flaky(_path: str, _body: dict[str, Any], connection: socket.socket) -> None:
        status, text = next(answers, ("200 OK", json.dumps({"errcode": 0})))
        reply(connection, text, status)

    robot = robots(flaky)
    url = robot.url("wecom")
    assert watch(scene["playbook"], scene["firing"], scene["state"], url).exit_code == 1
    healthy = watch(scene["playbook"], scene["healthy"], scene["state"], url)
    assert healthy.exit_code == 1 and "could not post" in healthy.stderr
    events = [body["markdown"]["content"] for _path, body in robot.received]
    assert len(events) == 2 * notify.ATTEMPTS
    assert not any("95.0%" in text for text in events), "the resolved message was not sent"
    assert watch(scene["playbook"], scene["healthy"], scene["state"], url).exit_code == 0
    events = [body["markdown"]["content"] for _path, body in robot.received]
    assert len(events) == 2 * notify.ATTEMPTS + 2
    assert "95.0%" not in events[-2] and "95.0%" in events[-1], "firing first, then resolved"


def test_a_message_claimed_by_a_run_that_died_keeps_its_place(
    scene, robots, frozen, monkeypatch
) -> None:
    """kill -9 mid-post: the firing message stays claimed until its lease ends; the resolved
    one waits for it, and an expired claim is taken back."""
    robot = robots(accept)
    url = robot.url("wecom")
    assert watch(scene["playbook"], scene["firing"], scene["state"]).exit_code == 1
    with sqlite3.connect(scene["state"]) as db:  # no robot yet: queue it as the crash left it
        db.execute("DELETE FROM outbox")
    assert watch(scene["playbook"], scene["firing"], scene["state"], url).exit_code == 1
    with sqlite3.connect(scene["state"]) as db:
        db.execute("UPDATE outbox SET delivered = NULL, claim = 'dead-run', claimed_until = ?",
                   (NOW.timestamp() + 100,))  # fmt: skip
    before = len(robot.received)
    assert watch(scene["playbook"], scene["healthy"], scene["state"], url).exit_code == 0
    assert len(robot.received) == before, "the resolved message waits for the claimed firing one"
    later = NOW + timedelta(seconds=200)
    monkeypatch.setattr(clock, "now", lambda: later)
    assert watch(scene["playbook"], scene["healthy"], scene["state"], url).exit_code == 0
    contents = [body["markdown"]["content"] for _path, body in robot.received[before:]]
    assert len(contents) == 2 and "95.0%" in contents[1] and "95.0%" not in contents[0]


def test_a_trickling_robot_is_cut_off_at_the_deadline(scene, robots, frozen, monkeypatch) -> None:
    """One byte a second never trips httpx's per-read timeout; the deadline ends the post,
    and since the message went out whole it is not sent again (maybe delivered)."""
    monkeypatch.setattr(notify, "DEADLINE_SECONDS", 1.5)

    def trickle(_path: str, _body: dict[str, Any], connection: socket.socket) -> None:
        for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b" " * 100000:
            connection.sendall(bytes([byte]))
            time.sleep(0.2)

    robot = robots(trickle)
    started = time.monotonic()
    result = watch(scene["playbook"], scene["firing"], scene["state"], robot.url("json"))
    assert time.monotonic() - started < 10
    assert len(robot.received) == 1, "sent once: no retry of a message that may have arrived"
    assert "no answer within 1.5 s" in result.stderr and "message id" in result.stderr
    message_id = robot.received[0][1]["message_id"]
    assert message_id in result.stderr
    watch(scene["playbook"], scene["firing"], scene["state"], robot.url("json"))
    assert len(robot.received) == 1, "and not by the next run either"
    with sqlite3.connect(scene["state"]) as db:
        assert db.execute("SELECT maybe, message_id FROM outbox").fetchall() == [(1, message_id)]


def test_a_slow_answer_after_sending_is_one_message_not_three(scene, robots, frozen, monkeypatch):
    """The robot answers after 3 s (the deadline is 1 s here): the message arrived once."""
    monkeypatch.setattr(notify, "DEADLINE_SECONDS", 1.0)

    def slow(path: str, body: dict[str, Any], connection: socket.socket) -> None:
        time.sleep(3)
        accept(path, body, connection)

    robot = robots(slow)
    for _run in range(3):
        watch(scene["playbook"], scene["firing"], scene["state"], robot.url("dingtalk"))
    assert len(robot.received) == 1


def test_a_huge_answer_is_read_only_a_few_kilobytes(scene, robots, frozen) -> None:
    sent = []

    def huge(_path: str, _body: dict[str, Any], connection: socket.socket) -> None:
        head = b'HTTP/1.1 200 OK\r\nContent-Length: 1000000000\r\n\r\n{"errcode": 0}'
        connection.sendall(head)
        total = 0
        try:
            while total < 10**9:
                connection.sendall(b" " * 65536)
                total += 65536
        finally:
            sent.append(total)

    robot = robots(huge)
    started = time.monotonic()
    result = watch(scene["playbook"], scene["firing"], scene["state"], robot.url("dingtalk"))
    assert time.monotonic() - started < 10
    assert result.exit_code == 1 and "could not post" not in result.stderr, result.stderr
    for _wait in range(50):
        if sent:
            break
        time.sleep(0.1)
    assert sent and sent[0] < 16 * 2**20, "the client stopped reading after a few KB"


HOSTILE_ACTION = (
    "<!channel> <https://evil.example/x|点这里> [官方文档](https://evil.example/doc) "
    "![](https://evil.example/pixel.png) <font color=red>紧急</font> <@U123> # 标题"
)


def _with_action(scene: dict[str, Path]) -> Path:
    data = yaml.safe_load(scene["playbook"].read_text("utf-8"))
    data["alerts"][0]["action"] = HOSTILE_ACTION
    data["nodes"][1]["name"] = "推送 <!here> [x](http://evil.example)"
    scene["playbook"].write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    return scene["playbook"]


def test_playbook_text_cannot_mention_everyone_or_link_in_slack(scene, robots, frozen) -> None:
    robot = robots(lambda _p, _b, c: reply(c, "ok"))
    result = watch(_with_action(scene), scene["firing"], scene["state"], robot.url("slack"))
    assert result.exit_code == 1, result.output
    text = robot.received[0][1]["text"]
    assert "&lt;!channel&gt;" in text and "&lt;!here&gt;" in text
    assert "<" not in text and ">" not in text, text


@pytest.mark.parametrize("kind", ["dingtalk", "wecom"])
def test_playbook_text_is_no_link_image_or_tag_in_chat_markdown(
    scene, robots, frozen, kind
) -> None:
    robot = robots(accept)
    result = watch(_with_action(scene), scene["firing"], scene["state"], robot.url(kind))
    assert result.exit_code == 1, result.output
    markdown = robot.received[0][1]["markdown"]
    text = markdown.get("text") or markdown["content"]
    for raw in ("](", "![", "<font", "<@", "<!", "https://", "http://"):
        assert raw not in text, (raw, text)
    assert "紧急" in text and "evil.example" in text  # still readable


def test_credentials_echoed_by_a_robot_are_never_shown_or_stored(scene, robots, frozen) -> None:
    """The error body echoes the signature, a Basic-auth header and the token percent-encoded."""
    basic = base64.b64encode(f"robot:{TOKEN}".encode()).decode()

    def echo(path: str, _body: dict[str, Any], connection: socket.socket) -> None:
        encoded = TOKEN[:8] + "%" + TOKEN[8:10].upper()
        text = f"bad request {path} Authorization: Basic {basic} token={encoded} \x1b[31m\u202e"
        reply(connection, text, "400 Bad Request")

    robot = robots(echo)
    url = (
        robot.url("dingtalk")
        .replace("access_token=", "access_token=")
        .replace("//127.0.0.1", f"//robot:{TOKEN}@127.0.0.1")
    )
    result = watch(
        scene["playbook"], scene["firing"], scene["state"], url, extra=("--secret", SECRET)
    )
    assert result.exit_code == 1 and "HTTP 400" in result.stderr
    sign = robot.received[0][0].split("sign=")[1].split("&")[0]
    stored = scene["state"].read_bytes().decode("utf-8", "replace")
    for output in (result.stderr, result.output, stored):
        for secret in (TOKEN, SECRET, basic, sign, TOKEN[:8]):
            assert secret not in output, (secret, output[-500:])
    assert "\x1b" not in result.stderr and "\u202e" not in result.stderr


@pytest.mark.parametrize("token", ["QWERTYUIOPASDFGH", "qwertyuiopasdfghjk", "kQzXwPtRmVbN"])
def test_a_gateway_path_token_of_letters_only_is_never_shown_or_stored(
    scene, robots, frozen, token: str
) -> None:
    """`/robot/QWERTYUIOPASDFGH/send` (no digit) was shown in stderr and kept in last_error."""

    def echo(path: str, _body: dict[str, Any], connection: socket.socket) -> None:
        reply(connection, f"no such robot at {path}", "404 Not Found")

    robot = robots(echo)
    url = f"json+http://127.0.0.1:{robot.port}/robot/{token}/send"
    result = watch(scene["playbook"], scene["firing"], scene["state"], url)
    assert result.exit_code == 1 and "HTTP 404" in result.stderr, result.output
    assert "/robot/***/send" in result.stderr
    stored = scene["state"].read_bytes().decode("utf-8", "replace")
    for output in (result.stderr, result.output, stored):
        assert token not in output, output[-500:]


def test_words_of_a_robot_path_stay_readable() -> None:
    shown = notify.redact("https://gw.corp/open-apis/alertmanager/sendMessage/notifications")
    assert shown == "https://gw.corp/open-apis/alertmanager/sendMessage/notifications"


def test_a_port_out_of_range_is_a_usage_error(scene, frozen) -> None:
    result = watch(
        scene["playbook"],
        scene["firing"],
        scene["state"],
        f"https://oapi.dingtalk.com:99999/robot/send?access_token={TOKEN}",
    )
    assert result.exit_code == 2 and "not an http(s) URL" in result.stderr
    assert "Traceback" not in result.output and TOKEN not in result.stderr
