"""Issue 19 (low): odd words and characters — malformed Chinese numerals are refused, terminal
escapes and bidi controls from data never reach the terminal raw."""

from __future__ import annotations

import pytest

from opsplay.model.duration import parse_duration


@pytest.mark.parametrize(
    "text", ["十十十十十天", "一一一天", "二二小时", "十一十分钟", "三百百天", "零五天"]
)
def test_malformed_chinese_numerals_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is not a Chinese number"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("十天", 864000), ("一十天", 864000), ("二十五分钟", 1500), ("一百零五分钟", 6300),
     ("两千零一十分钟", 120600), ("一百一十天", 9504000), ("两小时", 7200), ("一个半小时", 5400)],
)  # fmt: skip
def test_well_formed_chinese_numerals_still_read(text: str, seconds: int) -> None:
    assert parse_duration(text).seconds == seconds
