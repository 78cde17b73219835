"""Changes in the user's terms, in Chinese and English.

`describe(change, lang, style)` returns one line ("节点 assign 时限 5分钟 → 10分钟（放宽）",
"fallback removed from node classify") and, for long text, the before/after texts to
show beneath it. The style decides how ids and free text are marked up (plain for text
and JSON, code spans and escaping for Markdown).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from opsplay.diff.changes import Change, Level, format_numbers
from opsplay.text import display_width

Lang = str  # "zh" | "en"

NOUNS = {
    "roles": ("role", "角色"),
    "metrics": ("metric", "指标"),
    "scenarios": ("scenario", "场景"),
    "nodes": ("node", "节点"),
    "alerts": ("alert", "告警"),
    "levels": ("level", "级别"),
}

# (section, field) → (en, zh). For list sections the label follows "node <id>"; for the
# others it is the whole phrase.
FIELDS: dict[tuple[str, str], tuple[str, str]] = {
    ("metadata", "id"): ("playbook id", "流程编号"),
    ("metadata", "title"): ("title", "标题"),
    ("metadata", "owner"): ("process owner", "流程负责人"),
    ("metadata", "status"): ("status", "状态"),
    ("metadata", "lang"): ("language", "语言"),
    ("metadata", "tags"): ("tags", "标签"),
    ("goal", "metric"): ("goal metric", "目标指标"),
    ("goal", "baseline"): ("goal baseline", "目标基线"),
    ("goal", "target"): ("goal target", "目标值"),
    ("goal", "deadline"): ("goal deadline", "目标截止日期"),
    ("goal", "statement"): ("goal statement", "目标描述"),
    ("scope", "segments"): ("scope segments", "范围人群"),
    ("scope", "stages"): ("scope stages", "范围阶段"),
    ("scope", "period"): ("scope period", "范围周期"),
    ("roles", "name"): ("name", "名称"),
    ("roles", "duties"): ("duties", "职责"),
    ("metrics", "name"): ("name", "名称"),
    ("metrics", "kind"): ("kind", "类型"),
    ("metrics", "column"): ("column", "数据列"),
    ("metrics", "numerator"): ("numerator", "分子列"),
    ("metrics", "denominator"): ("denominator", "分母列"),
    ("metrics", "better"): ("better direction", "优化方向"),
    ("metrics", "unit"): ("unit", "单位"),
    ("scenarios", "name"): ("name", "名称"),
    ("scenarios", "persona"): ("persona", "用户画像"),
    ("scenarios", "trigger"): ("trigger", "触发条件"),
    ("scenarios", "behavior"): ("behavior", "用户行为"),
    ("scenarios", "defect"): ("defect", "现存缺陷"),
    ("scenarios", "demand"): ("demand", "核心诉求"),
    ("scenarios", "expected"): ("expected effect", "预期效果"),
    ("nodes", "name"): ("name", "名称"),
    ("nodes", "stage"): ("stage", "阶段"),
    ("nodes", "standard"): ("execution standard", "执行标准"),
    ("nodes", "owner"): ("owner", "负责人"),
    ("nodes", "inputs"): ("inputs", "输入"),
    ("nodes", "outputs"): ("outputs", "输出"),
    ("nodes", "tools"): ("tools", "工具"),
    ("nodes", "sla"): ("time limit", "时限"),
    ("nodes", "when"): ("fallback triggers", "异常处理触发条件"),
    ("nodes", "goto"): ("fallback continues at", "异常处理后续节点"),
    ("nodes", "action"): ("fallback action", "异常处理方案"),
    ("nodes", "next"): ("next nodes", "后续节点"),
    ("nodes", "start"): ("first node", "起始节点"),
    ("nodes", "escalation"): ("escalation step", "升级步骤"),
    ("nodes", "schedule"): ("schedule", "定时执行"),
    ("nodes", "raci.responsible"): ("responsible (R)", "执行人（R）"),
    ("nodes", "raci.accountable"): ("accountable (A)", "审批人（A）"),
    ("nodes", "raci.consulted"): ("consulted (C)", "咨询对象（C）"),
    ("nodes", "raci.informed"): ("informed (I)", "知会对象（I）"),
    ("levels", "name"): ("name", "名称"),
    ("metrics", "weight"): ("weight", "权重"),
    ("pilot", "feedback"): ("pilot feedback channels", "试点反馈渠道"),
    ("alerts", "node"): ("node", "节点"),
    ("alerts", "measure"): ("measure", "度量"),
    ("alerts", "metric"): ("metric", "指标"),
    ("alerts", "op"): ("comparison", "比较方式"),
    ("alerts", "threshold"): ("threshold", "阈值"),
    ("alerts", "severity"): ("severity", "级别"),
    ("alerts", "owner"): ("owner", "负责人"),
    ("alerts", "action"): ("action", "处置动作"),
    ("pilot", "scope"): ("pilot scope", "试点范围"),
    ("pilot", "design"): ("pilot design", "试点设计"),
    ("pilot", "arm_column"): ("pilot arm column", "试点分组列"),
    ("pilot", "arms"): ("pilot arm labels", "试点分组取值"),
    ("pilot", "period"): ("pilot period", "试点周期"),
    ("pilot", "alpha"): ("pilot significance level", "试点显著性水平"),
    ("pilot", "split"): ("pilot share", "试点流量占比"),
    ("pilot", "min_n"): ("pilot minimum sample", "试点最小样本量"),
    ("pilot", "period_column"): ("pilot period column", "试点时期列"),
    ("pilot", "periods"): ("pilot period labels", "试点时期取值"),
    ("pilot", "metrics"): ("pilot primary metrics", "试点主要指标"),
    ("pilot", "guardrails"): ("pilot guardrail metrics", "试点护栏指标"),
    ("rollout", "training"): ("rollout training", "推广培训"),
    ("rollout", "resources"): ("rollout resources", "推广资源"),
    ("review", "findings"): ("review findings", "复盘发现"),
    ("review", "successes"): ("review successes", "复盘成功经验"),
    ("review", "improvements"): ("review improvements", "复盘改进点"),
}

NOTES = {
    "loosened": ("loosened", "放宽"),
    "tightened": ("tightened", "收紧"),
    "more_ambitious": ("more ambitious", "提高要求"),
    "less_ambitious": ("less ambitious", "降低要求"),
    "later": ("later", "推迟"),
    "earlier": ("earlier", "提前"),
    "narrowed": ("narrowed", "收窄"),
    "widened": ("widened", "扩大"),
    "raised": ("raised", "升级"),
    "lowered": ("lowered", "降级"),
}

LEVELS = {
    Level.MAJOR: ("major", "主版本"),
    Level.MINOR: ("minor", "次版本"),
    Level.PATCH: ("patch", "修订"),
}

# Fields whose values are ids or fixed words (shown as code in Markdown), not free text.
_ID_FIELDS = {
    "id",
    "owner",
    "metric",
    "goto",
    "node",
    "measure",
    "op",
    "status",
    "lang",
    "kind",
    "better",
    "design",
    "next",
    "start",
    "when",
    "column",
    "numerator",
    "denominator",
    "arm_column",
    "period_column",
    "expected",
    "metrics",
    "guardrails",
}
_LONG = 40  # text longer than this is shown on its own lines, not inline


@dataclass(frozen=True)
class Style:
    """How a format marks up ids (`code`) and user text (`text`)."""

    code: Callable[[str], str] = str
    text: Callable[[str], str] = str


PLAIN = Style()


@dataclass(frozen=True)
class Description:
    """One change as a line, plus the full before/after texts when they are too long for it."""

    line: str
    before: str | None = None
    after: str | None = None


def pick(pair: tuple[str, str], lang: Lang) -> str:
    """The English or Chinese member of a pair."""
    return pair[1] if lang == "zh" else pair[0]


def level_name(level: Level, lang: Lang) -> str:
    """major / 主版本 …"""
    return pick(LEVELS[level], lang)


def describe(change: Change, lang: Lang, style: Style = PLAIN) -> Description:
    """The change in the user's terms."""
    zh = lang == "zh"
    s = style
    noun_pair = NOUNS.get(change.section)
    noun = pick(noun_pair, lang) if noun_pair else ""
    item = s.code(change.item) if change.item else ""
    name = ""
    if change.name and change.section != "alerts":
        name = f"（{s.text(change.name)}）" if zh else f" ({s.text(change.name)})"
    event = change.kind.rsplit(".", 1)[-1]

    if event == "added" and change.field is None:
        if change.section == "alerts" and change.new:
            return Description(
                f"新增告警 {item}：{s.code(change.new)}"
                if zh
                else f"alert {item} added: {s.code(change.new)}"
            )
        return Description(f"新增{noun} {item}{name}" if zh else f"{noun} {item} added{name}")
    if event == "removed" and change.field is None:
        return Description(f"删除{noun} {item}{name}" if zh else f"{noun} {item} removed{name}")
    if event == "renamed":
        old, new = s.code(str(change.old)), s.code(str(change.new))
        return Description(
            f"{noun} {old} 改名为 {new}{name}" if zh else f"{noun} {old} renamed to {new}{name}"
        )

    label = pick(
        FIELDS.get((change.section, change.field or ""), (change.field or "", change.field or "")),
        lang,
    )
    subject = f"{noun} {item} {label}" if noun and item else label
    note = pick(NOTES[change.note], lang) if change.note in NOTES else ""
    note = (f"（{note}）" if lang == "zh" else f" ({note})") if note else ""

    if change.kind.startswith("node.sla") and change.note in ("added", "removed"):
        if change.note == "added":
            value = s.text(str(change.new))
            return Description(
                f"节点 {item} 新增时限 {value}"
                if zh
                else f"time limit {value} added to node {item}"
            )
        value = s.text(str(change.old))
        return Description(
            f"节点 {item} 删除时限（原为 {value}）"
            if zh
            else f"time limit removed from node {item} (was {value})"
        )
    if change.kind in ("node.escalation.added", "node.escalation.removed"):
        added = change.kind.endswith("added")
        step = s.text(str(change.new if added else change.old))
        if zh:
            return Description(f"节点 {item} {'新增' if added else '删除'}升级步骤 {step}")
        return Description(
            f"escalation step {step} {'added to' if added else 'removed from'} node {item}"
        )
    if change.kind == "node.fallback.added":
        return Description(
            f"节点 {item} 新增异常处理" if zh else f"fallback added to node {item}",
            after=s.text(str(change.new)),
        )
    if change.kind == "node.fallback.removed":
        return Description(
            f"节点 {item} 删除异常处理" if zh else f"fallback removed from node {item}",
            before=s.text(str(change.old)),
        )
    if change.kind == "pilot.changed" and change.field == "pilot":
        if change.note == "added":
            design = s.code(str(change.new))
            return Description(f"新增试点方案（{design}）" if zh else f"pilot added ({design})")
        return Description("删除试点方案" if zh else "pilot removed")
    if change.field == "next":
        return Description(f"{subject} {_ids(change.old, s, zh)} → {_ids(change.new, s, zh)}")
    if change.added or change.removed:
        return Description(_items(subject, change, s, zh) + note)

    old, new = _pair(change.old, change.new)
    if change.field in _ID_FIELDS or isinstance(change.old, tuple):
        shown_old, shown_new = _code(old, s, zh), _code(new, s, zh)
    else:
        if display_width(old) > _LONG or display_width(new) > _LONG:
            changed = f"{subject}已修改" if zh else f"{subject} changed"
            return Description(
                changed + note,
                before=s.text(old) if change.old is not None else None,
                after=s.text(new) if change.new is not None else None,
            )
        shown_old, shown_new = _text(old, change.old, s, zh), _text(new, change.new, s, zh)
    return Description(f"{subject} {shown_old} → {shown_new}{note}")


def _none(zh: bool) -> str:
    return "（无）" if zh else "(none)"


def _code(value: str, s: Style, zh: bool) -> str:
    return s.code(value) if value else _none(zh)


def _text(shown: str, raw: Any, s: Style, zh: bool) -> str:
    return _none(zh) if raw is None else s.text(shown)


def _ids(values: Any, s: Style, zh: bool) -> str:
    if not values:
        return "（流程结束）" if zh else "(end)"
    return ", ".join(s.code(v) for v in values)


def _items(subject: str, change: Change, s: Style, zh: bool) -> str:
    mark = s.code if change.field in _ID_FIELDS else s.text
    parts = []
    if change.added:
        joined = ("、" if zh else ", ").join(mark(v) for v in change.added)
        parts.append(f"新增 {joined}" if zh else f"added {joined}")
    if change.removed:
        joined = ("、" if zh else ", ").join(mark(v) for v in change.removed)
        parts.append(f"删除 {joined}" if zh else f"removed {joined}")
    return f"{subject}：{'；'.join(parts)}" if zh else f"{subject}: {'; '.join(parts)}"


def _pair(old: Any, new: Any) -> tuple[str, str]:
    """Both values as text; numbers with the same number of decimals (0.45 → 0.50)."""
    present = [v for v in (old, new) if v is not None]
    if present and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
        before, after = format_numbers(old, new)
        return before, after
    return _show(old), _show(new)


def _show(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, tuple):
        return ", ".join(str(v) for v in value)
    return str(value)
