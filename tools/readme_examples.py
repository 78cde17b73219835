"""The README's example outputs, made by running the commands they show, so they cannot drift.

    python tools/readme_examples.py           # rewrite the example blocks of README.md
    python tools/readme_examples.py --check   # exit 1 when a block is not what the command prints

A block is generated when a marker comment stands right before it:

    <!-- example: opsplay validate tests/cases/invalid/unknown-owner.yaml -->
    <!-- example: opsplay pilot compare … ; keep: ^• -->     (only the lines matching a regex)
    <!-- example: opsplay watch … ; robot: dingtalk -->      (what a chat robot receives)

The block becomes ```text, `$ <command>`, then what the command prints (stdout, then
stderr), in Chinese (OPSPLAY_LANG=zh), 100 columns wide, run from a scratch folder holding
copies of the repository's playbooks/, examples/ and test data (so `watch` writes its state
file there, not into the repository, and paths print as they read in the README).
With `robot: KIND` (dingtalk, feishu, wecom, slack, json) the command runs with `--notify`
pointing at a stand-in robot on 127.0.0.1 (a real HTTP server answering as the robot does),
shown as `--notify "$DINGTALK_URL"`, and the block is what the robot received: each message's
type, title, text (one paragraph a line) and its @-mention fields, as posted.
tests/test_docs.py runs `--check`.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
MARKER = re.compile(
    r"^<!-- example: (?P<command>.+?)(?: ; keep: (?P<keep>.+?))?(?: ; robot: (?P<robot>[a-z]+))?"
    r" -->\n```[a-z]*\n(?P<body>.*?)^```\n",
    re.M | re.S,
)
SHARED = ("playbooks", "examples", "tests/cases", "tests/diff/fixtures", "tests/watch/data")
# How examples run: the same on every machine (language, width, time zone, no colours).
ENVIRONMENT = {"OPSPLAY_LANG": "zh", "COLUMNS": "100", "TZ": "Asia/Shanghai", "NO_COLOR": "1"}


def run(command: str, scratch: Path, more: tuple[str, ...] = ()) -> str:
    """What `command` (an `opsplay …` line, then `more` words) prints, stdout then stderr."""
    words = [*shlex.split(command), *more]
    assert words[0] == "opsplay", f"an example runs opsplay, not {words[0]}"
    environment = {**os.environ, **ENVIRONMENT, "PYTHONPATH": str(ROOT)}
    environment.pop("OPSPLAY_STATE", None)
    result = subprocess.run(
        [sys.executable, "-m", "opsplay", *words[1:]],
        cwd=scratch,
        env=environment,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
    )
    return result.stdout + result.stderr


# A stand-in robot's URL per kind, in the shape of the real one; `$…_URL` as the README shows it.
ROBOT_PATHS = {
    "dingtalk": "/robot/send?access_token=readme",
    "feishu": "/open-apis/bot/v2/hook/readme",
    "wecom": "/cgi-bin/webhook/send?key=readme",
    "slack": "/services/T0/B0/readme",
    "json": "/gateway/alerts",
}


def received(command: str, kind: str, scratch: Path) -> str:
    """What a stand-in robot of `kind` on 127.0.0.1 receives when `command` notifies it."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    bodies: list[dict] = []

    class Robot(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (the standard library's name)
            length = int(self.headers.get("Content-Length") or 0)
            bodies.append(json.loads(self.rfile.read(length)))
            answer = b'{"errcode": 0, "errmsg": "ok", "code": 0, "msg": "success"}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Robot)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"{kind}+http://127.0.0.1:{server.server_address[1]}{ROBOT_PATHS[kind]}"
        printed = run(command, scratch, ("--notify", url))
    finally:
        server.shutdown()
        server.server_close()
    if not bodies:
        return printed  # nothing was sent: show why
    return "\n\n".join(message_lines(kind, body) for body in bodies)


def message_lines(kind: str, body: dict) -> str:
    """One posted message as a reader looks at it: type, title, text one paragraph a line,
    and the fields that @-mention people, as posted (JSON)."""
    import json

    def shown(value: object) -> str:
        return json.dumps(value, ensure_ascii=False)

    if kind == "dingtalk" and body.get("msgtype") == "markdown":
        text = [line for line in body["markdown"]["text"].split("\n") if line.strip()]
        lines = [f"msgtype: markdown · title: {body['markdown']['title']}", *text]
        return "\n".join([*lines, f"at: {shown(body.get('at'))}"])
    if kind == "wecom" and body.get("msgtype") in ("text", "markdown"):
        content = body[body["msgtype"]]
        mentions = {k: v for k, v in content.items() if k.startswith("mentioned")}
        lines = [f"msgtype: {body['msgtype']}", *content["content"].split("\n")]
        return "\n".join([*lines, *([f"mentions: {shown(mentions)}"] if mentions else [])])
    return json.dumps(body, ensure_ascii=False, indent=2)


def block(command: str, keep: str | None, output: str, robot: str | None = None) -> str:
    """The README block of one example."""
    lines = output.rstrip("\n").splitlines()
    if keep:
        pattern = re.compile(keep)
        lines = ["…"] + [line for line in lines if pattern.search(line)]
    ran = command + (f' --notify "${robot.upper()}_URL"' if robot else "")
    shown = "\n".join(line.rstrip() for line in [f"$ {ran}", *lines])
    options = (f" ; keep: {keep}" if keep else "") + (f" ; robot: {robot}" if robot else "")
    return f"<!-- example: {command}{options} -->\n```text\n{shown}\n```\n"


def generate(text: str) -> str:
    """The README with every marked example block made again."""
    with tempfile.TemporaryDirectory(prefix="opsplay-readme-") as folder:
        scratch = Path(folder)
        for name in SHARED:
            shutil.copytree(ROOT / name, scratch / name)

        def made(match: re.Match[str]) -> str:
            command, keep, robot = match.group("command", "keep", "robot")
            if robot:
                return block(command, keep, received(command, robot, scratch), robot)
            return block(command, keep, run(command, scratch))

        return MARKER.sub(made, text)


def main(argv: list[str]) -> int:
    text = README.read_text("utf-8")
    wanted = generate(text)
    if "--check" in argv:
        if wanted != text:
            print("README.md examples are stale: run python tools/readme_examples.py")
            return 1
        return 0
    README.write_text(wanted, "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
