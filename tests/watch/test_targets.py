"""Which robot a `--notify` URL is, how it is shown, and the command line's format choices."""

from __future__ import annotations

import re

import pytest

from opsplay.errors import UsageError
from opsplay.watch.notify import parse_target, redact

TOKEN = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        (f"https://oapi.dingtalk.com/robot/send?access_token={TOKEN}", "dingtalk"),
        (f"https://open.feishu.cn/open-apis/bot/v2/hook/{TOKEN}", "feishu"),
        (f"https://open.larksuite.com/open-apis/bot/v2/hook/{TOKEN}", "feishu"),
        (f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={TOKEN}", "wecom"),
        (f"https://hooks.slack.com/services/T0001/B0001/{TOKEN}", "slack"),
        (f"dingtalk+http://gateway.internal/robot/send?access_token={TOKEN}", "dingtalk"),
        (f"FEISHU+https://proxy.corp/lark/{TOKEN}", "feishu"),
        (f"json+https://alerts.corp/in?token={TOKEN}", "json"),
    ],
)
def test_the_host_or_prefix_picks_the_format_and_the_token_is_never_shown(url, kind) -> None:
    target = parse_target(url)
    assert target.kind == kind
    assert TOKEN not in target.shown and TOKEN not in target.key
    assert "***" in target.shown
    # the robot is still called at the URL as written, only the `kind+` prefix taken off
    assert target.url == re.sub(r"^[A-Za-z]+\+", "", url)
    assert target.url.startswith(("https://", "http://")) and TOKEN in target.url


def test_the_same_robot_behind_two_prefixes_is_two_queues() -> None:
    plain = parse_target(f"http://gw.corp/send?key={TOKEN}".replace("http", "wecom+http", 1))
    other = parse_target(f"http://gw.corp/send?key={TOKEN}".replace("http", "json+http", 1))
    assert plain.key != other.key


def test_redact_hides_credentials_and_keeps_where_it_goes() -> None:
    shown = redact(f"https://user:pw@oapi.dingtalk.com:8443/robot/send?access_token={TOKEN}&x=1")
    assert shown == "https://***@oapi.dingtalk.com:8443/robot/send?access_token=***&x=***"


@pytest.mark.parametrize("url", ["", "oapi.dingtalk.com/robot/send", "http://", "wecom+ftp://x/y"])
def test_bad_urls(url) -> None:
    with pytest.raises(UsageError):
        parse_target(url)


def test_format_choices_match_the_registries() -> None:
    from opsplay.cli.watch import HistoryFormat, WatchFormat
    from opsplay.watch.history import FORMATTERS as HISTORY_FORMATS
    from opsplay.watch.output import FORMATTERS as WATCH_FORMATS

    assert {m.value for m in WatchFormat} == set(WATCH_FORMATS)
    assert {m.value for m in HistoryFormat} == set(HISTORY_FORMATS)


def test_escalation_ladder_and_fallback_list_read_as_sentences() -> None:
    """Shapes the model may carry (a fallback per trigger, an escalation ladder): plain lines,
    never a Python repr."""
    from pydantic import BaseModel

    from opsplay.i18n import language
    from opsplay.watch.message import _escalation, _fallback_lines

    class Step(BaseModel):
        after: str
        to: str
        action: str

    class Fallback(BaseModel):
        action: str

    class Node(BaseModel):
        fallback: list[Fallback]
        escalation: list[Step]

    node = Node(
        fallback=[Fallback(action="改用短信通道"), Fallback(action="人工补发")],
        escalation=[Step(after="15分钟", to="ops-manager", action="电话通知运维经理")],
    )
    with language("zh"):
        assert _fallback_lines(node, "zh") == [
            "异常处理（兜底）：改用短信通道",
            "异常处理（兜底）：人工补发",
        ]
        (line,) = _escalation({"ops-manager": "运维经理"}, None, node)
    assert line == "超过 15分钟未完成 → 运维经理：电话通知运维经理"
