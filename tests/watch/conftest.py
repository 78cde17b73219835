"""A real chat-robot server on 127.0.0.1, a playbook with one node alert, and event logs that
make it fire or not. Only the clock is replaced (opsplay.watch.clock)."""

from __future__ import annotations

import csv
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ONBOARDING = ROOT / "playbooks" / "new-user-onboarding.yaml"
EXAMPLES = ROOT / "examples"
NOW = datetime(2024, 8, 5, 1, 30, 0, tzinfo=UTC)
TOKEN = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
SECRET = "SECd1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0"


@dataclass
class Received:
    """One request the robot server got."""

    path: str
    query: dict[str, list[str]]
    body: dict
    raw_url: str


@dataclass
class RobotServer:
    """Records every POST; answers like the robot its path names, or as told to fail."""

    port: int = 0
    received: list[Received] = field(default_factory=list)
    failures: list[tuple[int, str]] = field(default_factory=list)  # answered first, in order
    delay: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, kind: str) -> str:
        """A webhook URL of this server in the shape of each robot's real one."""
        base = f"http://127.0.0.1:{self.port}"
        return {
            "dingtalk": f"dingtalk+{base}/robot/send?access_token={TOKEN}",
            "feishu": f"feishu+{base}/open-apis/bot/v2/hook/{TOKEN}",
            "wecom": f"wecom+{base}/cgi-bin/webhook/send?key={TOKEN}",
            "slack": f"slack+{base}/services/T0AB12CD3/B0AB12CD3/{TOKEN}",
            "json": f"json+{base}/gateway/alerts?token={TOKEN}",
        }[kind]

    def of(self, prefix: str) -> list[Received]:
        """Requests whose path starts with `prefix`."""
        return [r for r in self.received if r.path.startswith(prefix)]


def _answer(path: str) -> tuple[int, str]:
    if path.startswith("/open-apis/"):
        return 200, json.dumps({"code": 0, "msg": "success", "data": {}})
    if path.startswith("/services/"):
        return 200, "ok"
    if path.startswith("/gateway/"):
        return 202, "{}"
    return 200, json.dumps({"errcode": 0, "errmsg": "ok"})


@pytest.fixture
def robot() -> Iterator[RobotServer]:
    """A threaded HTTP server standing in for DingTalk, Feishu, WeCom, Slack and a gateway."""
    server_state = RobotServer()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            parts = urlsplit(self.path)
            if server_state.delay:
                time.sleep(server_state.delay)
            with server_state.lock:
                server_state.received.append(
                    Received(parts.path, parse_qs(parts.query), body, self.path)
                )
                status, text = (
                    server_state.failures.pop(0) if server_state.failures else _answer(parts.path)
                )
            data = text.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server_state.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server_state
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def closed_port() -> int:
    """A local port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The clock stopped at NOW; retries' waits are recorded instead of slept."""
    from opsplay.watch import clock

    waits: list[float] = []
    monkeypatch.setattr(clock, "now", lambda: NOW)
    monkeypatch.setattr(clock, "sleep", waits.append)
    return waits


def write_playbook(folder: Path, *, lang: str = "zh", version: str = "1.2.0") -> Path:
    """The onboarding playbook with one critical alert: push-content completion below 90%."""
    data = yaml.safe_load(ONBOARDING.read_text(encoding="utf-8"))
    data["metadata"]["lang"] = lang
    data["metadata"]["version"] = version
    if version != data["metadata"]["changelog"][0]["version"]:
        entry = {"version": version, "date": "2024-09-01", "summary": "推送完成率告警改为严重级别"}
        data["metadata"]["changelog"].insert(0, entry)
    data["alerts"] = [
        {
            "id": "push-completion",
            "node": "push-content",
            "measure": "completion_rate",
            "op": "<",
            "threshold": 0.9,
            "severity": "critical",
            "action": "检查推送平台队列积压，必要时切换短信通道",
        }
    ]
    path = folder / f"onboarding-{lang}-{version}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def write_events(
    path: Path, ok: int, failed: int, node: str = "push-content", prefix: str = "u"
) -> Path:
    """An event log of one node's runs: `ok` finished, `failed` failed (case ids `prefix`…:
    another prefix is another export with the same figures)."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["case_id", "node", "started_at", "finished_at", "status"])
        for index in range(ok + failed):
            status = "ok" if index < ok else "failed"
            out.writerow(
                [
                    f"{prefix}{index:05d}",
                    node,
                    "2024-08-01T09:00:00+08:00",
                    "2024-08-01T09:00:40+08:00",
                    status,
                ]
            )
    return path


@pytest.fixture
def scene(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """A playbook, a log where the alert fires (80% completion), one where it does not (95%)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OPSPLAY_NOTIFY_SECRET", raising=False)
    monkeypatch.delenv("OPSPLAY_STATE", raising=False)
    return {
        "playbook": write_playbook(tmp_path),
        "firing": write_events(tmp_path / "firing.csv", ok=80, failed=20),
        "healthy": write_events(tmp_path / "healthy.csv", ok=95, failed=5),
        "state": tmp_path / "state.db",
    }
