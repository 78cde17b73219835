"""Chinese words accepted for enumerated playbook values (SPEC 6); the English value is stored.

One table serves the models (a value is read as its English word before it is checked),
the JSON Schema (editors complete the Chinese words too) and the rules, which read the
raw data and so see it through `canonical_data`.
"""

from __future__ import annotations

from typing import Any

# field → English value → the Chinese words for it, as SPEC 6 lists them
CHOICES: dict[str, dict[str, tuple[str, ...]]] = {
    "status": {
        "draft": ("草稿",),
        "pilot": ("试点",),
        "rollout": ("推广",),
        "active": ("生效", "启用"),
        "retired": ("停用", "废弃"),
    },
    "lang": {"zh": ("中文", "zh-CN", "zh_CN"), "en": ("英文", "en-US")},
    "kind": {
        "proportion": ("比例", "占比"),
        "mean": ("均值", "平均值"),
        "ratio": ("比率", "比值"),
    },
    "better": {"higher": ("越高越好", "升高"), "lower": ("越低越好", "降低")},
    "when": {
        "failure": ("失败",),
        "timeout": ("超时",),
        "rejected": ("拒绝", "被拒绝", "拒答"),
        "no_response": ("无响应", "未响应"),
    },
    "severity": {"info": ("提示",), "warning": ("警告",), "critical": ("严重", "紧急")},
    "measure": {
        "completion_rate": ("完成率",),
        "fallback_rate": ("兜底率",),
        "failure_rate": ("失败率",),
        "timeout_rate": ("超时率",),
        "sla_compliance": ("时限达标率", "及时率"),
        "p50_s": ("耗时中位数",),
        "p95_s": ("耗时P95",),
        "schedule_adherence": ("按时执行率",),
    },
    "design": {
        "ab": ("A/B测试", "AB测试", "随机对照"),
        "before_after": ("前后对比",),
        "did": ("双重差分",),
    },
}

_ENGLISH: dict[str, dict[str, str]] = {
    field: {alias: value for value, aliases in table.items() for alias in aliases}
    for field, table in CHOICES.items()
}


def canonical(field: str, value: Any) -> Any:
    """The English value for a Chinese alias of `field`; anything else unchanged."""
    if isinstance(value, str):
        return _ENGLISH[field].get(value.strip(), value)
    return value


def english_values(field: str) -> list[str]:
    """The English values of a field, in SPEC order."""
    return list(CHOICES[field])


def every_word(field: str) -> list[str]:
    """English values then their Chinese aliases: what the JSON Schema lists for editors."""
    return [*CHOICES[field], *(alias for aliases in CHOICES[field].values() for alias in aliases)]


# Where each enumerated field sits in the raw data ("*" = every entry of a list).
_PLACES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("metadata", "status"), "status"),
    (("metadata", "lang"), "lang"),
    (("metrics", "*", "kind"), "kind"),
    (("metrics", "*", "better"), "better"),
    (("nodes", "*", "fallback", "when", "*"), "when"),
    (("alerts", "*", "severity"), "severity"),
    (("alerts", "*", "measure"), "measure"),
    (("pilot", "design"), "design"),
)


def canonical_data(data: Any) -> Any:
    """Raw playbook data with every alias replaced by its English value (a copy where changed)."""
    for place, field in _PLACES:
        data = _replace(data, place, field)
    return data


def _replace(value: Any, place: tuple[str, ...], field: str) -> Any:
    if not place:
        return canonical(field, value)
    head, rest = place[0], place[1:]
    if head == "*":
        if not isinstance(value, list):
            return value
        changed = [_replace(item, rest, field) for item in value]
        return changed if any(a is not b for a, b in zip(changed, value, strict=True)) else value
    if not isinstance(value, dict) or head not in value:
        return value
    inner = _replace(value[head], rest, field)
    return value if inner is value[head] else {**value, head: inner}
