"""Chat robots: which one a URL is, its JSON message, its signature, and posting with retries.

DingTalk (钉钉) and WeCom (企业微信) group robots, Feishu/Lark (飞书) custom bots, Slack
incoming webhooks, and `json+` (the message as data) for a gateway of one's own. The
URL's host picks the format; a prefix (`dingtalk+http://…`) picks it for a gateway.
A URL carries its access token, so it is only ever shown through `redact`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from opsplay.errors import UsageError
from opsplay.i18n import _
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
WECOM_LIMIT = 4096  # bytes of a WeCom markdown message
_SECRET_SEGMENT = re.compile(r"^(?=.*\d)[A-Za-z0-9_\-]{12,}$")


@dataclass(frozen=True)
class Target:
    """One `--notify` URL: the real URL (never printed), its format, key and shown form."""

    url: str
    kind: str
    key: str
    shown: str


@dataclass(frozen=True)
class Outcome:
    """Whether a post was accepted, and if not why (secrets scrubbed)."""

    ok: bool
    reason: str = ""


def redact(url: str) -> str:
    """The URL with its token, key, signature and any secret-looking path part as `***`."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "***"
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    if parts.username or parts.password:
        host = "***@" + host
    segments = parts.path.split("/")
    hidden = False
    for index, segment in enumerate(segments):
        # Slack's and Feishu's tokens are the path after services/ and hook/.
        if hidden or _SECRET_SEGMENT.match(segment):
            segments[index] = "***" if segment else segment
        if segment in ("services", "hook"):
            hidden = True
    query = urlencode([(key, "***") for key, _value in parse_qsl(parts.query, True)], safe="*")
    return urlunsplit((parts.scheme, host, "/".join(segments), query, ""))


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


def payload(kind: str, message: dict[str, Any]) -> dict[str, Any]:
    """The robot's documented JSON body for a message (title, lines, lang, data)."""
    title, lines = message["title"], message["lines"]
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
    return {"title": title, "text": "\n".join(lines), **message["data"]}


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


def _refusal(kind: str, response: Any) -> str | None:
    """Why a robot refused a post it answered (HTTP 200 with an error code counts), or None."""
    text = response.text.strip()
    if response.status_code >= 300:
        return _("HTTP {status}: {body}").format(status=response.status_code, body=text[:200])
    if kind == "slack":
        return None if text == "ok" else _("answered `{body}`").format(body=text[:200])
    if kind == "json":
        return None
    try:
        answer = response.json()
    except ValueError:
        return _("answered something that is not JSON: {body}").format(body=text[:200])
    if not isinstance(answer, dict):
        return _("answered something that is not JSON: {body}").format(body=text[:200])
    code = answer.get("errcode", answer.get("code", answer.get("StatusCode", 0)))
    if code in (0, "0", None):
        return None
    detail = answer.get("errmsg", answer.get("msg", answer.get("StatusMessage", "")))
    return _("error code {code}: {detail}").format(code=code, detail=str(detail)[:200])


def post(client: Any, target: Target, message: dict[str, Any], secret: str | None) -> Outcome:
    """Post one message, retrying with backoff; the outcome never contains a secret."""
    import httpx

    reason = ""
    for attempt in range(ATTEMPTS):
        if attempt:
            clock.sleep(BACKOFF_SECONDS * 2 ** (attempt - 1))
        params, body = _signed(target, payload(target.kind, message), secret)
        try:
            # The signature joins the URL's own query (access_token) rather than replacing it.
            url = httpx.URL(target.url).copy_merge_params(params) if params else target.url
            response = client.post(url, json=body)
        except httpx.TimeoutException:
            reason = _("no answer within {seconds:g} s").format(seconds=TIMEOUT_SECONDS)
            continue
        except httpx.ConnectError:
            reason = _("cannot connect (host unreachable or connection refused)")
            continue
        except httpx.HTTPError as error:
            reason = _("the request failed ({kind})").format(kind=type(error).__name__)
            continue
        refusal = _refusal(target.kind, response)
        if refusal is None:
            return Outcome(True)
        reason = refusal
    return Outcome(False, scrub(reason, target, secret))


def scrub(text: str, target: Target, secret: str | None) -> str:
    """`text` with the URL, its query values, path tokens and the secret replaced by ***."""
    parts = urlsplit(target.url)
    hidden = [target.url, *(v for _k, v in parse_qsl(parts.query) if len(v) >= 4)]
    hidden += [s for s in parts.path.split("/") if _SECRET_SEGMENT.match(s)]
    if secret:
        hidden.append(secret)
    for value in sorted(set(hidden), key=len, reverse=True):
        text = text.replace(value, "***")
    return text


def client() -> Any:
    """An HTTP client with the timeouts every post uses."""
    import httpx

    return httpx.Client(timeout=httpx.Timeout(TIMEOUT_SECONDS, connect=5.0))


def as_json(message: dict[str, Any]) -> str:
    """A message as stored in the outbox."""
    return json.dumps(message, ensure_ascii=False, sort_keys=True)
