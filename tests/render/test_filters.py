"""Filters: numbers, durations, dates and the escapers, on fixed inputs."""

from __future__ import annotations

from typing import Any

import pytest
import yaml as pyyaml

from opsplay.render import filters
from opsplay.text import fmt_p


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.3512, "35.1%"),
        (0, "0.0%"),
        (1, "100.0%"),
        (-0.00001, "0.0%"),
        (None, "—"),
        (float("nan"), "—"),
    ],
)
def test_percent(value: Any, expected: str) -> None:
    assert filters.percent(value) == expected


def test_signed_and_points() -> None:
    assert filters.signed_percent(0.0857) == "+8.6%"
    assert filters.signed_percent(-0.0187) == "-1.9%"
    assert filters.signed_percent(0.0) == "0.0%"
    assert filters.points(0.03, lang="zh") == "+3.0个百分点"
    assert filters.points(-0.004, lang="en") == "-0.4 pp"
    assert filters.points(None) == "—"


@pytest.mark.parametrize(
    ("seconds", "zh", "en"),
    [
        (1, "1秒", "1 second"),
        (0.5, "0.5秒", "0.5 seconds"),
        (120, "2分钟", "2 minutes"),
        (5400, "1小时30分钟", "1 hour 30 minutes"),
        (86400, "24小时", "24 hours"),  # limits under three days stay in hours
        (2 * 86400, "48小时", "48 hours"),
        (3 * 86400 + 3600, "3天1小时", "3 days 1 hour"),
        (1830.5, "30分钟30.5秒", "30 minutes 30.5 seconds"),  # tenths under an hour
        (120.2, "2分钟0.2秒", "2 minutes 0.2 seconds"),  # not its 2-minute limit
        (11012.5, "3小时4分钟", "3 hours 4 minutes"),
        (59.94, "59.9秒", "59.9 seconds"),
        (0.366, "0.4秒", "0.4 seconds"),
        (0.004, "0.004秒", "0.004 seconds"),
        (None, "—", "—"),
    ],
)
def test_duration_in_words(seconds: Any, zh: str, en: str) -> None:
    assert filters.duration(seconds, lang="zh") == zh
    assert filters.duration(seconds, lang="en") == en


def test_sla_of_a_node_is_shown_as_written() -> None:
    def node(written: str | None, seconds: float | None = None, realtime: bool = False) -> dict:
        return {"sla": written, "sla_seconds": seconds, "sla_realtime": realtime}

    # What the user wrote, never a normalised form (2天 is not 48小时).
    assert filters.sla(node("2天", 172800.0), lang="zh") == "2天"
    assert filters.sla(node("30分钟内", 1800.0), lang="en") == "30分钟内"
    assert filters.sla(node("T+1"), lang="zh") == "T+1"
    assert filters.sla(node("3个工作日"), lang="en") == "3个工作日"
    assert filters.sla(node("实时", 1.0, realtime=True), lang="zh") == "实时（1秒内）"
    assert filters.sla(node("realtime", 1.0, realtime=True), lang="en") == (
        "realtime (within 1 second)"
    )
    assert filters.sla(node(None), lang="en") == "—"


def test_a_length_counted_in_business_hours_names_its_calendar() -> None:
    """Issue 21 try-out: `2小时` of a node with `calendar: 客服班次` read as two clock hours in
    the flowchart and Table 2. A length names the calendar; a limit due at a time of day
    (T+1, 次日12点前), which business hours do not touch, does not."""
    shifts = {"calendar": "客服班次", "sla_seconds": 7200.0, "sla_realtime": False}
    assert filters.sla({**shifts, "sla": "2小时"}, lang="zh") == "2小时（客服班次）"
    assert filters.sla({**shifts, "sla": "2小时"}, lang="en") == "2小时 (客服班次)"
    assert filters.sla({**shifts, "sla": "次日12点前"}, lang="zh") == "次日12点前"
    per_level = {**shifts, "sla": {"P1": "2小时", "P2": "T+1", "default": "4h"}}
    assert filters.sla_parts(per_level, lang="zh") == [
        "P1 2小时（客服班次）",
        "P2 T+1",
        "其他级别 4h（客服班次）",
    ]
    assert filters.sla({"sla": "2小时", "calendar": None}, lang="zh") == "2小时"
    assert filters.sla_parts({"sla": None}, lang="zh") == []


def test_dates() -> None:
    assert filters.date("2024-08-01", lang="zh") == "2024年8月1日"
    assert filters.date("2024-08-01", lang="en") == "1 Aug 2024"
    assert (
        filters.period({"start": "2024-07-01", "end": "2024-09-30"}, lang="zh")
        == "2024年7月1日 至 2024年9月30日"
    )
    assert filters.date(None) == "—"


def test_listing_joins_by_language() -> None:
    assert filters.listing(["注册", "首单"], lang="zh") == "注册、首单"
    assert filters.listing(["a", "b"], lang="en") == "a, b"
    assert filters.listing([], lang="en") == "—"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a|b", "a\\|b"),
        ("第一行\n第二行", "第一行<br>第二行"),
        ("line\r\nnext", "line<br>next"),
        ("<script>x</script>", "&lt;script&gt;x&lt;/script&gt;"),
        ("*bold* _it_ `code` \\", "\\*bold\\* \\_it\\_ \\`code\\` \\\\"),
        ("[x](http://evil.example)", "\\[x\\](http://evil.example)"),
        ("[括号] 与 [x]", "[括号] 与 [x]"),
        ("# 不是标题", "\\# 不是标题"),
        ("- 不是列表", "\\- 不是列表"),
        ("1. 不是编号", "1\\. 不是编号"),
        ("1.2.0", "1.2.0"),
        ("-5%", "-5%"),
        ("&copy; & co", "&amp;copy; & co"),  # an entity escaped, a lone `&` as written
        ("p<0.0001，n > 30", "p<0.0001，n > 30"),  # no tag, link or quote: as written
        ("<b 未闭合", "&lt;b 未闭合"),  # a tag's start (an HTML block at a line's start)
        ("a<3 且 4>2", "a<3 且 4>2"),
        ("<0@x.cn> 与 <x", "&lt;0@x.cn&gt; 与 &lt;x"),  # a link, a tag
        ("> 不是引用", "&gt; 不是引用"),
        ("😀 “引号” #123;", "😀 “引号” #123;"),
        (None, "—"),
    ],
)
def test_markdown_cell(text: Any, expected: str) -> None:
    assert filters.markdown_cell(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('say "hi"', "say #quot;hi#quot;"),
        ("#123; entity", "#35;123; entity"),
        ("a < b > c", "a #lt; b #gt; c"),
        ("`md`", "#96;md#96;"),
        ("a|b", "a#124;b"),
        ("two\nlines", "two<br>lines"),
        ("[brackets] (parens) {braces} 😀", "[brackets] (parens) {braces} 😀"),
    ],
)
def test_mermaid_label(text: str, expected: str) -> None:
    assert filters.mermaid(text) == expected


def test_mermaid_label_escapes_hash_before_the_entities_it_writes() -> None:
    # Escaping quotes first would turn `"` into `#quot;` and then `#` into `#35;quot;`.
    assert filters.mermaid('#"') == "#35;#quot;"


def test_mermaid_label_cut_by_display_width() -> None:
    assert filters.mermaid("一二三四五六", 8) == "一二三…"
    assert filters.mermaid("abcdefgh", 8) == "abcdefgh"
    assert filters.mermaid("abc\ndef", 20) == "abc def"


@pytest.mark.parametrize(
    "value",
    [
        "新用户引导优化",
        "quotes \" and ' and # and | and: colon",
        "line\nbreak",
        "emoji 🚀",
        "\u2028separator\u0085nel\x7fdel",
        "1.10",
        "yes",
        "on",
        "2024-08-01",
        ["列表", "a|b"],
        {"segments": ["华东"], "period": {"start": "2024-07-01", "end": "2024-09-30"}},
        None,
        0.05,
        True,
    ],
)
def test_yaml_value_round_trips_and_keeps_chinese(value: Any) -> None:
    dumped = filters.yaml(value)
    assert "\n" not in dumped
    loaded = pyyaml.safe_load(f"key: {dumped}")["key"]
    if value == "2024-08-01":
        assert str(loaded) == value  # a bare ISO date, loaded as a date
    elif isinstance(value, dict):
        assert loaded["segments"] == ["华东"]
    elif isinstance(value, str):  # what themes read as markup becomes its full-width look-alike
        assert loaded == value.replace('"', "＂").replace("'", "＇")
    else:
        assert loaded == value
    if isinstance(value, str) and any("\u4e00" <= ch <= "\u9fff" for ch in value):
        assert value in dumped  # not \\u escaped


def test_lines_escapes_html_and_keeps_breaks() -> None:
    assert str(filters.lines("<b>\nx")) == "&lt;b&gt;<br>x"


def test_value_and_change_by_kind() -> None:
    assert filters.value_as(0.35, "proportion") == "35.0%"
    assert filters.value_as(68.177, "ratio", "元") == "68.18 元"
    assert filters.value_as(118.0, "seconds", lang="zh") == "1分钟58秒"
    assert filters.change_as(0.03, "proportion", lang="en") == "+3.0 pp"
    assert filters.change_as(-1.276, "mean", "元") == "-1.28 元"
    assert filters.interval([0.011, 0.049], "proportion", lang="zh") == "[+1.1, +4.9]个百分点"
    assert filters.interval([0.029, 0.142], "relative") == "[+2.9%, +14.2%]"
    assert filters.interval(None) == "—"
    assert filters.pvalue(0.0028) == "0.0028"
    assert filters.pvalue(1e-22) == "<0.0001"
    # as the terminal writes it: three decimals read 0.050 beside a significant change
    assert filters.pvalue(0.0496) == "0.0496" == fmt_p(0.0496)


def test_fixed_values_show_in_the_document_language() -> None:
    from opsplay.labels import LABELS

    assert filters.label("pilot", "status", lang="zh") == "试点"
    assert filters.label("no_response", "trigger", lang="en") == "no response"
    assert filters.label("something-new", "status", lang="zh") == "something-new"
    assert filters.op("<=") == "≤"
    for group, values in LABELS.items():  # every label reads as Chinese, not as its English id
        for value in values:
            assert filters.label(value, group, lang="zh") != values[value], (group, value)
