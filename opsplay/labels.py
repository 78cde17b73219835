"""Words for the fixed values of a playbook and a comparison (status, triggers, verdicts…),
and a playbook's time limits, triggers and escalation waits in words.

The model stores the English value whatever the user wrote (`status: 试点` is `pilot`);
documents show it in their own language through these labels, marked for the one
catalogue and translated where they are shown (the `label` filter, `label_of`).

Below the documents (opsplay.render's filters hand these to templates), the pilot's
presentation and watch's messages, which all word a node's limit the same way; imports only
the catalogue (the model's durations and opsplay.humantime where a limit is worded).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from opsplay.i18n import N_, translate

MISSING = "—"  # a missing value, in every output

LABELS: dict[str, dict[str, str]] = {
    "status": {
        "draft": N_("draft"),
        "pilot": N_("pilot"),
        "rollout": N_("rollout"),
        "active": N_("active"),
        "retired": N_("retired"),
    },
    "trigger": {
        "failure": N_("failure"),
        "timeout": N_("timeout"),
        "rejected": N_("rejected"),
        "no_response": N_("no response"),
    },
    "severity": {"info": N_("info"), "warning": N_("warning"), "critical": N_("critical")},
    "design": {
        "ab": N_("A/B randomised control"),
        "before_after": N_("before/after (not causal)"),
        "did": N_("difference in differences (pilot and comparison groups, before and after)"),
    },
    "kind": {"proportion": N_("proportion"), "mean": N_("mean"), "ratio": N_("ratio")},
    "better": {"higher": N_("higher is better"), "lower": N_("lower is better")},
    "measure": {
        "completion_rate": N_("completion rate"),
        "fallback_rate": N_("fallback rate"),
        "failure_rate": N_("failure rate"),
        "timeout_rate": N_("timeout rate"),
        "sla_compliance": N_("SLA compliance"),
        "p50_s": N_("median duration"),
        "p95_s": N_("p95 duration"),
        "schedule_adherence": N_("schedule adherence"),
    },
    "role": {"primary": N_("primary"), "guardrail": N_("guardrail"), "secondary": N_("secondary")},
    "verdict": {
        "met": N_("target met"),
        "improved": N_("improved"),
        "worse": N_("worse"),
        "no_change": N_("no change"),
        "inconclusive": N_("not enough data"),
        # not a verdict of the JSON: an inconclusive row of dashboard values (method `point`)
        "dashboard": N_("cannot be tested (dashboard values)"),
        "not_testable": N_("cannot be tested with this design"),
        "changed_up": N_("went up (cause not shown)"),
        "changed_down": N_("went down (cause not shown)"),
        "no_change_seen": N_("no clear change"),
    },
    "conclusion": {
        "met": N_("met"),
        "partly": N_("partly met"),
        "not_met": N_("not met"),
        "insufficient": N_("not enough data to decide"),
        "untested": N_("this design cannot tell what the change did"),
    },
    "next_step": {
        "promote": N_("promote to full rollout"),
        "iterate": N_("iterate and pilot again"),
        "stop": N_("stop and roll back"),
        "declare_cluster": N_(
            "declare pilot.cluster (the column the warnings name) and compare again"
        ),
        "check_assignment": N_(
            "check how users were assigned to the groups, fix it and measure again"
        ),
        "add_comparison": N_(
            "measure again with comparison regions that keep the old process (design: did)"
        ),
    },
    "shape": {
        "units": N_("unit rows"),
        "stats": N_("sufficient statistics"),
        "summary": N_("summary"),
        "events": N_("node execution log"),
    },
}

# Comparison signs as printed (the same in both languages).
OPERATORS = {"<": "<", "<=": "≤", ">": ">", ">=": "≥"}


def label_of(group: str, value: object, lang: str | None = None) -> str:
    """The word for `value` of `group` in `lang`; a value without a label is shown as is."""
    english = LABELS.get(group, {}).get(str(value)) if value is not None else None
    return translate(english, lang) if english else str(value)


def is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def listing(values: Iterable[Any] | None, *, lang: str = "en") -> str:
    """Items of a list as text: `、` between Chinese items, `, ` between English ones."""
    items = [str(v) for v in values or []]
    if not items:
        return MISSING
    return ("、" if lang == "zh" else ", ").join(items)


def sla(node: Any, *, lang: str = "en") -> str:
    """A node's time limit as the user wrote it (`2天`, `30分钟内`, `T+1`), never normalised;
    `realtime` adds the configured limit: `实时（1秒内）`; a length counted in a business-hour
    calendar names it: `2小时（客服班次）`. Per level: `P1 5分钟、P2 30分钟内、其他级别 2小时`."""
    parts = sla_parts(node, lang=lang)
    return listing(parts, lang=lang) if parts else MISSING


def sla_parts(node: Any, *, lang: str = "en") -> list[str]:
    """Each limit of a node as `sla` shows it (`P1 5分钟`, `P2 次日12点前`, `2小时（客服班次）`),
    for a table cell with one line per level, or a drawing that must not break one; [] when
    the node has no limit."""
    if not node or is_missing(node.get("sla")) or not str(node["sla"]).strip():
        return []
    calendar = node.get("calendar")
    if isinstance(node["sla"], dict):  # a limit per level
        return [
            f"{translate(N_('other levels'), lang) if level == 'default' else level} "
            f"{in_business_hours(str(limit).strip(), calendar, lang=lang)}"
            for level, limit in node["sla"].items()
        ]
    written = str(node["sla"]).strip()
    if node.get("sla_realtime") and not is_missing(node.get("sla_seconds")):
        limit = duration(node["sla_seconds"], lang=lang)
        written = translate(N_("{written} (within {limit})"), lang).format(
            written=written, limit=limit
        )
    return [in_business_hours(written, calendar, lang=lang, limit=str(node["sla"]).strip())]


def in_business_hours(
    shown: str, calendar: Any, *, lang: str = "en", limit: str | None = None
) -> str:
    """A limit as shown, naming the business-hour calendar its length counts in
    (`2小时（客服班次）`); unchanged without a calendar, or for a limit due at a time of day
    (`T+1`, `次日12点前`), which business hours do not touch. `limit`: the limit as written
    when `shown` adds to it."""
    if is_missing(calendar) or not str(calendar).strip():
        return shown
    from opsplay.model.duration import parse_duration

    try:
        if parse_duration(limit or shown).is_calendar:
            return shown
    except ValueError:
        return shown
    # TRANSLATORS: a time limit counted only in a business-hour calendar's hours: 2小时（客服班次）
    return translate(N_("{limit} ({calendar})"), lang).format(limit=shown, calendar=calendar)


def label(value: Any, group: str, *, lang: str = "en") -> str:
    """A fixed value of the playbook in the document's language: `pilot` → `试点`."""
    return MISSING if is_missing(value) else label_of(group, value, lang)


def triggers(values: Iterable[Any] | None, *, lang: str = "en") -> str:
    """The triggers of an exception handling in words: `超时或无响应` / `timeout / no response`."""
    words = [label_of("trigger", v, lang) for v in values or []]
    if not words:
        return MISSING
    text = words[0]
    for word in words[1:-1]:
        text = translate(N_("{a}, {b}"), lang).format(a=text, b=word)
    if len(words) > 1:
        # TRANSLATORS: the last of the triggers of one exception handling; any one sets it off.
        text = translate(N_("{a} or {b}"), lang).format(a=text, b=words[-1])
    return text


def level_words(level: Any, *, lang: str = "en") -> str:
    """The level an escalation ladder is for, as a sentence starts with it: `P1 级` /
    `at level P1`, `其他级别` / `at other levels` for `default` (never the key itself)."""
    if str(level) == "default":
        return translate(N_("at other levels"), lang)
    # TRANSLATORS: the level (P1, SEV2…) an escalation ladder is for; a sentence follows it.
    return translate(N_("at level {level}"), lang).format(level=level)


def wait(edge: Any, *, lang: str = "en") -> str:
    """The label of an escalation edge: its wait, led by its level when the ladder is one of
    several (`P1：30分钟`, `其他级别：4小时`), never the `default` key."""
    after = str(edge.get("after") or "")
    level = edge.get("level")
    if not level:
        return after
    shown = translate(N_("other levels"), lang) if str(level) == "default" else str(level)
    return translate(N_("{level}: {after}"), lang).format(level=shown, after=after)


def op(value: Any) -> str:
    """A comparison sign as printed: `<=` → `≤`."""
    return OPERATORS.get(str(value), str(value))


def duration(seconds: Any, *, lang: str = "en") -> str:
    """A length of time in words: 5400 → `1小时30分钟` / `1 hour 30 minutes` (one format for
    every output: opsplay.humantime)."""
    from opsplay.humantime import duration as human_duration

    return human_duration(seconds, lang=lang)
