"""Chat robots: which one a URL is, its JSON message, its signature, and posting with retries.

DingTalk (钉钉) and WeCom (企业微信) group robots, Feishu/Lark (飞书) custom bots, Slack
incoming webhooks, and `json+` (the message as data) for a gateway of one's own. The
URL's host picks the format; a prefix (`dingtalk+http://…`) picks it for a gateway.
A URL carries its access token, so it is only ever shown through `redact`.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from opsplay.credentials import forms, mask_url, secrets_of_url
from opsplay.credentials import scrub as scrub_text
from opsplay.errors import UsageError
from opsplay.i18n import _
from opsplay.text import visible
from opsplay.watch import clock

KINDS = ("dingtalk", "feishu", "wecom", "slack", "json")
HOSTS = {
    "oapi.dingtalk.com": "dingtalk",
    "open.feishu.cn": "feishu",
    "open.larksuite.com": "feishu",
    "qyapi.weixin.qq.com": "wecom",
    "hooks.slack.com": "slack",
}
ATTEMPTS = 3
BACKOFF_SECONDS = 1.0  # 1 s, then 2 s between the three attempts
TIMEOUT_SECONDS = 10.0
# A whole post (connect, send, answer): httpx times each read, so a robot trickling a byte a
# second would otherwise hold `watch` for ever.
DEADLINE_SECONDS = 20.0
REPLY_LIMIT = 4096  # bytes of a robot's answer read; its error code comes first
WECOM_LIMIT = 4096  # bytes of a WeCom markdown message
# A path part that is a token: 12+ characters with a digit, 20+ characters, a run of 16+
# letters and digits (`QWERTYUIOPASDFGH`: gateways' tokens may be letters only), or 10+
# letters of which 3 are capitals after the first (`kQzXwPtRmVbN`; `sendMessage` stays).
_SECRET_SEGMENT = re.compile(
    r"^(?:(?=.*\d)[A-Za-z0-9_\-]{12,}|[A-Za-z0-9_\-]{20,}"
    r"|[A-Za-z0-9_\-]*[A-Za-z0-9]{16,}[A-Za-z0-9_\-]*"
    r"|(?=.(?:[a-z_\-]*[A-Z]){3})[A-Za-z_\-]{10,})$"
)
# Robots' error codes that mean "too many messages, try later", not "this message is refused".
_SCHEME_SPLIT = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*://)(.*)$", re.S)
_BUSY_CODES = {"130101", "45009", "9499", "11232", "11233"}
# a robot's security setting refused the message: DingTalk (keyword, IP, signature), Feishu
# (signature, IP, keyword)
_SECURITY_CODES = {"310000", "19021", "19022", "19024"}


@dataclass(frozen=True)
class Target:
    """One `--notify` URL: the real URL (never printed), its format, key and shown form."""

    url: str
    kind: str
    key: str
    shown: str


@dataclass(frozen=True)
class Outcome:
    """Whether a post was accepted, and if not why (secrets scrubbed).

    `refused`: the robot answered and said no (a keyword or format it will refuse again),
    not "unreachable", "busy" or "down". `maybe`: the message was sent and no answer came:
    it may have arrived, so it is not sent again.
    """

    ok: bool
    reason: str = ""
    refused: bool = False
    maybe: bool = False


def redact(url: str) -> str:
    """The URL with its user info, every query value, the fragment and any secret-looking
    path part as `***`."""
    parts = _SCHEME_SPLIT.match(url)
    if not parts:
        return "***"
    shown = mask_url(url, keep_user=False, every_query_value=True)
    scheme, rest = _SCHEME_SPLIT.match(shown).groups()  # type: ignore[union-attr]
    cut = min((i for i in (rest.find("?"), rest.find("#")) if i >= 0), default=len(rest))
    segments = rest[:cut].split("/")
    hidden = False
    for index, segment in enumerate(segments[1:], start=1):
        # Slack's and Feishu's tokens are the path after services/ and hook/.
        if hidden or _SECRET_SEGMENT.match(unquote(segment)):
            segments[index] = "***" if segment else segment
        if segment in ("services", "hook"):
            hidden = True
    return scheme + "/".join(segments) + rest[cut:]


def url_key(url: str) -> str:
    """The name a robot's messages are queued under in the state file (no secret in it)."""
    return hashlib.sha256(url.encode("utf-8")).hexdigest()


def parse_target(text: str) -> Target:
    """A `--notify` value as a Target, or a UsageError saying what to write instead."""
    import httpx

    kind = None
    url = text.strip()
    prefix, plus, rest = url.partition("+")
    if plus and prefix.lower() in KINDS and "://" in rest:
        kind, url = prefix.lower(), rest
    shown = redact(url)
    try:
        parts = urlsplit(url)
        httpx.URL(url)
        _port = parts.port  # ValueError when out of range (`:99999`)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname)
    except (ValueError, httpx.InvalidURL):
        valid = False
    if not valid:
        raise UsageError(
            _(
                "--notify {url}: not an http(s) URL; write the robot's webhook address, "
                "e.g. https://oapi.dingtalk.com/robot/send?access_token=…"
            ).format(url=shown)
        )
    if kind is None:
        kind = HOSTS.get((parts.hostname or "").lower())
    if kind is None:
        raise UsageError(
            _(
                "--notify {url}: cannot tell which robot this is from the host; put the "
                "format before the address: {prefixes} (e.g. dingtalk+{url})"
            ).format(url=shown, prefixes=", ".join(f"{k}+" for k in KINDS))
        )
    return Target(url=url, kind=kind, key=url_key(f"{kind}+{url}"), shown=f"{kind}+{shown}")


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk: Base64(HmacSHA256(key=secret, "timestamp\\nsecret")), timestamp in ms."""
    digest = hmac.new(
        secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256
    ).digest()
    return base64.b64encode(digest).decode("ascii")


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Feishu/Lark: Base64(HmacSHA256(key="timestamp\\nsecret", empty message)), in seconds."""
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


_SLACK_MARKUP = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
# DingTalk's and WeCom's Markdown: links, images, HTML (`<font>`, `<@user>`) and line-start
# markers. The characters become their full-width look-alikes, and `://` loses its link.
_CHAT_MARKUP = str.maketrans({"<": "＜", ">": "＞", "[": "［", "]": "］"})
_LINE_START = re.compile(r"^([ \t]*)([#>*+\-]|\d+[.)])", re.M)


def chat_text(kind: str, text: str) -> str:
    """Playbook text as plain text in the robot's markup: no mention, link, image or tag
    (Slack `<!channel>`, `<url|text>`; Markdown `[x](url)`, `![](url)`, `<font>`)."""
    text = visible(str(text))
    if kind == "slack":
        return text.translate(_SLACK_MARKUP)
    if kind in ("dingtalk", "wecom"):
        text = text.translate(_CHAT_MARKUP).replace("://", "：//").replace("`", "ˋ")
        return _LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), text)
    return text  # Feishu's post text and JSON are not markup


def payload(kind: str, message: dict[str, Any]) -> dict[str, Any]:
    """The robot's documented JSON body for a message (title, lines, lang, data); the title
    and lines are plain text, escaped here for each robot's markup."""
    title = chat_text(kind, message["title"])
    lines = [chat_text(kind, line) for line in message["lines"]]
    if kind == "dingtalk":
        # DingTalk markdown needs a blank line between lines to break them.
        text = "\n\n".join([f"#### {title}", *lines])
        return {"msgtype": "markdown", "markdown": {"title": title, "text": text}}
    if kind == "feishu":
        locale = "zh_cn" if message["lang"] == "zh" else "en_us"
        rows = [[{"tag": "text", "text": line}] for line in lines]
        return {
            "msg_type": "post",
            "content": {"post": {locale: {"title": title, "content": rows}}},
        }
    if kind == "wecom":
        text = "\n".join([f"### {title}", *(f"> {line}" for line in lines)])
        while len(text.encode("utf-8")) > WECOM_LIMIT:
            text = text[: -max(1, len(text) // 10)]
        return {"msgtype": "markdown", "markdown": {"content": text}}
    if kind == "slack":
        return {"text": "\n".join([f"*{title}*", *lines])}
    extra = {"message_id": message["message_id"]} if message.get("message_id") else {}
    return {"title": title, "text": "\n".join(lines), **message["data"], **extra}


def _signed(target: Target, body: dict[str, Any], secret: str | None) -> tuple[dict, dict]:
    """Query parameters and body with the signature the robot's security setting asks for."""
    if not secret:
        return {}, body
    moment = clock.now()
    if target.kind == "dingtalk":
        stamp = int(moment.timestamp() * 1000)
        return {"timestamp": str(stamp), "sign": dingtalk_sign(secret, stamp)}, body
    if target.kind == "feishu":
        stamp = int(moment.timestamp())
        return {}, {"timestamp": str(stamp), "sign": feishu_sign(secret, stamp), **body}
    return {}, body


def _refusal(kind: str, status: int, text: str) -> tuple[str, bool] | None:
    """(why, whether the robot refused this message) for a post it answered (HTTP 200 with
    an error code counts), or None when it accepted it."""
    text = text.strip()
    if status >= 300:
        # 4xx: the robot read the message and said no; 408/425/429 and 5xx: try again later.
        refused = 400 <= status < 500 and status not in (408, 425, 429)
        return _("HTTP {status}: {body}").format(status=status, body=text[:200]), refused
    if kind == "slack":
        return None if text == "ok" else (_("answered `{body}`").format(body=text[:200]), True)
    if kind == "json":
        return None
    try:
        answer = json.loads(text)
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        return _("answered something that is not JSON: {body}").format(body=text[:200]), False
    code = answer.get("errcode", answer.get("code", answer.get("StatusCode", 0)))
    if code in (0, "0", None):
        return None
    detail = answer.get("errmsg", answer.get("msg", answer.get("StatusMessage", "")))
    reason = _("error code {code}: {detail}").format(code=code, detail=str(detail)[:200])
    if str(code) in _SECURITY_CODES:
        reason += _(
            " (the robot's security setting refused it: add `{keyword}` as its custom "
            "keyword, allow this machine's IP, or give its signing secret in "
            "OPSPLAY_NOTIFY_SECRET)"
        ).format(keyword=_("alert"))
    return reason, str(code) not in _BUSY_CODES


class _Watchdog:
    """The deadline of one post: when it passes, the post's sockets are shut, which ends a
    read httpx would keep waiting on; also notes whether the whole request went out."""

    def __init__(self, seconds: float) -> None:
        import threading

        self.sockets: list[Any] = []
        self.fired = False
        self.written = False
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def __enter__(self) -> _Watchdog:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()

    def trace(self, event: str, info: dict[str, Any]) -> None:
        """httpcore's `trace` extension: each new connection, and the request's end."""
        if event in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
            stream = info.get("return_value")
            sock = stream.get_extra_info("socket") if stream is not None else None
            with self._lock:
                if sock is not None:
                    self.sockets.append(sock)
                if self.fired:
                    self._shut()
        elif event == "http11.send_request_body.complete":
            self.written = True

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            self._shut()

    def _shut(self) -> None:
        import socket

        for sock in self.sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def _read_reply(response: Any) -> str:
    """At most REPLY_LIMIT bytes of the answer's body, as text (a 1 GB answer is not read)."""
    data = bytearray()
    for chunk in response.iter_raw():
        data += chunk
        if len(data) >= REPLY_LIMIT:
            break
    encoding = response.headers.get("content-encoding", "identity").lower()
    if encoding in ("gzip", "deflate"):
        with contextlib.suppress(zlib.error):
            data = bytearray(zlib.decompressobj(47).decompress(bytes(data), REPLY_LIMIT))
    return bytes(data[:REPLY_LIMIT]).decode(response.encoding or "utf-8", errors="replace")


def post(client: Any, target: Target, message: dict[str, Any], secret: str | None) -> Outcome:
    """Post one message, retrying with backoff; the outcome never contains a secret.

    Each attempt has an overall deadline (DEADLINE_SECONDS). A request that went out whole
    and got no answer is not sent again: the robot may have shown it (`maybe`).
    """
    import httpx

    reason, refused, echoed = "", False, []
    for attempt in range(ATTEMPTS):
        if attempt:
            clock.sleep(BACKOFF_SECONDS * 2 ** (attempt - 1))
        from opsplay.watch.message import with_mentions

        body = with_mentions(target.kind, payload(target.kind, message), message)
        params, body = _signed(target, body, secret)
        echoed += [str(value) for value in params.values()] + [str(body.get("sign", ""))]
        refused = False
        with _Watchdog(DEADLINE_SECONDS) as watchdog:
            try:
                # The signature joins the URL's own query (access_token) rather than replacing it.
                url = httpx.URL(target.url).copy_merge_params(params) if params else target.url
                with client.stream(
                    "POST",
                    url,
                    json=body,
                    headers={"Accept-Encoding": "identity"},
                    extensions={"trace": watchdog.trace},
                ) as response:
                    status, text = response.status_code, _read_reply(response)
            except httpx.HTTPError as error:
                reason = _failure(error, watchdog)
                if watchdog.written:
                    return Outcome(False, scrub(reason, target, secret, echoed), maybe=True)
                continue
        answer = _refusal(target.kind, status, text)
        if answer is None:
            return Outcome(True)
        reason, refused = answer
        if refused:  # it will say no again now (a keyword, a signature): the next run tries
            break
    return Outcome(False, scrub(reason, target, secret, echoed), refused=refused)


def _failure(error: Exception, watchdog: _Watchdog) -> str:
    """Why a post got no answer, in words."""
    import httpx

    if watchdog.fired:
        return _("no answer within {seconds:g} s").format(seconds=DEADLINE_SECONDS)
    if isinstance(error, httpx.TimeoutException):
        return _("no answer within {seconds:g} s").format(seconds=TIMEOUT_SECONDS)
    if isinstance(error, httpx.ConnectError):
        return _("cannot connect (host unreachable or connection refused)")
    return _("the request failed ({kind})").format(kind=type(error).__name__)


def scrub(text: str, target: Target, secret: str | None, echoed: Sequence[str] = ()) -> str:
    """`text` with the URL, its query values, user info, path tokens, the secret and the
    signatures sent replaced by ***, its control and bidi characters made visible."""
    parts = urlsplit(target.url)
    hidden = [target.url, *(v for _k, v in parse_qsl(parts.query) if len(v) >= 4)]
    hidden += [s for s in parts.path.split("/") if _SECRET_SEGMENT.match(unquote(s))]
    hidden += secrets_of_url(target.url) + [*echoed, secret or ""]
    return visible(scrub_text(text, forms(hidden)))


def client() -> Any:
    """An HTTP client with the timeouts every post uses; no connection is kept between posts,
    so each post's deadline watches its own socket."""
    import httpx

    return httpx.Client(
        timeout=httpx.Timeout(TIMEOUT_SECONDS, connect=5.0),
        limits=httpx.Limits(max_keepalive_connections=0),
        follow_redirects=False,
    )


def as_json(message: dict[str, Any]) -> str:
    """A message as stored in the outbox."""
    return json.dumps(message, ensure_ascii=False, sort_keys=True)
