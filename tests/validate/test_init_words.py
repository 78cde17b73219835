"""`opsplay init` writes enumerated values in the message language (SPEC 6 aliases)."""

from __future__ import annotations

import datetime as dt
import re

from opsplay.skeleton import skeleton_text
from opsplay.validate import load_playbook


def test_chinese_skeleton_uses_chinese_values_that_load_as_the_english_ones(tmp_path) -> None:
    text = skeleton_text("refund", "zh", "schema.json", dt.date(2026, 12, 7), "售后退款")
    body = "\n".join(line.split("#")[0] for line in text.splitlines())  # values, not comments
    for english in (
        "draft", "proportion", "higher", "failure", "timeout", "no_response",
        "completion_rate", "sla_compliance", "critical", "warning", ": ab",
    ):  # fmt: skip
        assert not re.search(rf"(?<![\w-]){re.escape(english)}(?![\w-])", body), english
    for chinese in (
        "status: 草稿",
        "kind: 比例",
        "better: 越高越好",
        "[失败, 超时]",
        "完成率",
        "A/B测试",
    ):
        assert chinese in text, chinese
    path = tmp_path / "refund.yaml"
    path.write_text(text, encoding="utf-8")
    playbook = load_playbook(path)
    assert playbook.metadata.status == "draft"
    assert playbook.metrics[0].kind == "proportion" and playbook.metrics[0].better == "higher"
    assert playbook.pilot is not None and playbook.pilot.design == "ab"
    assert [a.severity for a in playbook.alerts] == ["critical", "warning"]


def test_english_skeleton_keeps_english_values() -> None:
    text = skeleton_text("refund", "en", "schema.json", dt.date(2026, 12, 7), "Refunds")
    assert "status: draft" in text and "kind: proportion" in text
