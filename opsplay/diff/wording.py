"""Changes in the user's terms, in the language of the diff, from the one catalogue.

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
from opsplay.i18n import N_, _, language
from opsplay.labels import label_of
from opsplay.text import display_width, joined

Lang = str  # "zh" | "en"

NOUNS: dict[str, str] = {
    "roles": N_("role"),
    "metrics": N_("metric"),
    "scenarios": N_("scenario"),
    "nodes": N_("node"),
    "alerts": N_("alert"),
    "levels": N_("level"),
}

# (section, field) → label. For list sections the label follows "node <id>"; for the
# others it is the whole phrase.
FIELDS: dict[tuple[str, str], str] = {
    ("metadata", "id"): N_("playbook id"),
    ("metadata", "title"): N_("title"),
    ("metadata", "owner"): N_("process owner"),
    ("metadata", "status"): N_("status"),
    ("metadata", "lang"): N_("language"),
    ("metadata", "tags"): N_("tags"),
    ("goal", "metric"): N_("goal metric"),
    ("goal", "baseline"): N_("goal baseline"),
    ("goal", "target"): N_("goal target"),
    ("goal", "deadline"): N_("goal deadline"),
    ("goal", "statement"): N_("goal statement"),
    ("scope", "segments"): N_("scope segments"),
    ("scope", "stages"): N_("scope stages"),
    ("scope", "period"): N_("scope period"),
    ("roles", "name"): N_("name"),
    ("roles", "duties"): N_("duties"),
    ("metrics", "name"): N_("name"),
    ("metrics", "kind"): N_("kind"),
    ("metrics", "column"): N_("column"),
    ("metrics", "numerator"): N_("numerator"),
    ("metrics", "denominator"): N_("denominator"),
    ("metrics", "better"): N_("better direction"),
    ("metrics", "unit"): N_("unit"),
    ("scenarios", "name"): N_("name"),
    ("scenarios", "persona"): N_("persona"),
    ("scenarios", "trigger"): N_("trigger"),
    ("scenarios", "behavior"): N_("behavior"),
    ("scenarios", "defect"): N_("defect"),
    ("scenarios", "demand"): N_("demand"),
    ("scenarios", "expected"): N_("expected effect"),
    ("nodes", "name"): N_("name"),
    ("nodes", "stage"): N_("stage"),
    ("nodes", "standard"): N_("execution standard"),
    ("nodes", "owner"): N_("owner"),
    ("nodes", "inputs"): N_("inputs"),
    ("nodes", "outputs"): N_("outputs"),
    ("nodes", "tools"): N_("tools"),
    ("nodes", "sla"): N_("time limit"),
    ("nodes", "when"): N_("fallback triggers"),
    ("nodes", "goto"): N_("fallback continues at"),
    ("nodes", "action"): N_("fallback action"),
    ("nodes", "next"): N_("next nodes"),
    ("nodes", "start"): N_("first node"),
    ("nodes", "escalation"): N_("escalation step"),
    ("nodes", "schedule"): N_("schedule"),
    ("nodes", "raci.responsible"): N_("responsible (R)"),
    ("nodes", "raci.accountable"): N_("accountable (A)"),
    ("nodes", "raci.consulted"): N_("consulted (C)"),
    ("nodes", "raci.informed"): N_("informed (I)"),
    ("levels", "name"): N_("name"),
    ("metrics", "weight"): N_("weight"),
    ("pilot", "feedback"): N_("pilot feedback channels"),
    ("alerts", "node"): N_("node"),
    ("alerts", "measure"): N_("measure"),
    ("alerts", "metric"): N_("metric"),
    ("alerts", "op"): N_("comparison"),
    ("alerts", "threshold"): N_("threshold"),
    ("alerts", "for"): N_("consecutive runs before firing (for)"),
    ("alerts", "min_n"): N_("fewest rows or units (min_n)"),
    ("alerts", "severity"): N_("severity"),
    ("alerts", "owner"): N_("owner"),
    ("alerts", "action"): N_("action"),
    ("pilot", "scope"): N_("pilot scope"),
    ("pilot", "design"): N_("pilot design"),
    ("pilot", "arm_column"): N_("pilot arm column"),
    ("pilot", "arms"): N_("pilot arm labels"),
    ("pilot", "period"): N_("pilot period"),
    ("pilot", "alpha"): N_("pilot significance level"),
    ("pilot", "split"): N_("pilot share"),
    ("pilot", "min_n"): N_("pilot minimum sample"),
    ("pilot", "period_column"): N_("pilot period column"),
    ("pilot", "periods"): N_("pilot period labels"),
    ("pilot", "metrics"): N_("pilot primary metrics"),
    ("pilot", "guardrails"): N_("pilot guardrail metrics"),
    ("rollout", "training"): N_("rollout training"),
    ("rollout", "resources"): N_("rollout resources"),
    ("review", "findings"): N_("review findings"),
    ("review", "successes"): N_("review successes"),
    ("review", "improvements"): N_("review improvements"),
}

NOTES: dict[str, str] = {
    "loosened": N_("loosened"),
    "tightened": N_("tightened"),
    "more_ambitious": N_("more ambitious"),
    "less_ambitious": N_("less ambitious"),
    "later": N_("later"),
    "earlier": N_("earlier"),
    "narrowed": N_("narrowed"),
    "widened": N_("widened"),
    "raised": N_("raised"),
    "lowered": N_("lowered"),
}

LEVELS: dict[Level, str] = {
    Level.MAJOR: N_("major"),
    Level.MINOR: N_("minor"),
    Level.PATCH: N_("patch"),
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
# Fields holding a fixed value of the schema (stored in English whatever alias the user
# wrote), shown in the language of the diff: `failure` → `失败`.
_ENUM_FIELDS = {
    "status": "status",
    "kind": "kind",
    "better": "better",
    "design": "design",
    "severity": "severity",
    "measure": "measure",
    "when": "trigger",
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


def aside(text: str) -> str:
    """A remark after a phrase: ` (loosened)` / `（放宽）`."""
    # TRANSLATORS: a remark in brackets after a phrase; Chinese uses full-width brackets, no space.
    return _(" ({text})").format(text=text)


def level_name(level: Level, lang: Lang) -> str:
    """major / 主版本 …"""
    with language(lang):
        return _(LEVELS[level])


def describe(change: Change, lang: Lang, style: Style = PLAIN) -> Description:
    """The change in the user's terms, in `lang`."""
    with language(lang):
        return _describe(change, style)


def _describe(change: Change, s: Style) -> Description:
    noun = _(NOUNS[change.section]) if change.section in NOUNS else ""
    item = s.code(change.item) if change.item else ""
    name = ""
    if change.name and change.section != "alerts":
        name = aside(s.text(change.name))
    event = change.kind.rsplit(".", 1)[-1]

    if event == "added" and change.field is None:
        if change.section == "alerts" and change.new:
            return Description(
                _("alert {item} added: {condition}").format(item=item, condition=s.code(change.new))
            )
        return Description(_("{noun} {item} added{name}").format(noun=noun, item=item, name=name))
    if event == "removed" and change.field is None:
        return Description(_("{noun} {item} removed{name}").format(noun=noun, item=item, name=name))
    if event == "renamed":
        old, new = s.code(str(change.old)), s.code(str(change.new))
        return Description(
            _("{noun} {old} renamed to {new}{name}").format(noun=noun, old=old, new=new, name=name)
        )

    field = change.field or ""
    label = _(FIELDS[(change.section, field)]) if (change.section, field) in FIELDS else field
    subject = f"{noun} {item} {label}" if noun and item else label
    if noun and item and name and field != "name":  # a lead knows a node by its name
        # TRANSLATORS: what changed: `node assign (智能派单) time limit`; `name` is ` (…)`.
        subject = _("{noun} {item}{name} {label}").format(
            noun=noun, item=item, name=name, label=label
        )
        item += name
    note = aside(_(NOTES[change.note])) if change.note in NOTES else ""

    if change.kind.startswith("node.sla") and change.note in ("added", "removed"):
        if change.note == "added":
            return Description(
                _("time limit {value} added to node {item}").format(
                    value=s.text(_other_levels(str(change.new))), item=item
                )
            )
        return Description(
            _("time limit removed from node {item} (was {value})").format(
                item=item, value=s.text(_other_levels(str(change.old)))
            )
        )
    if change.kind == "node.escalation.added":
        return Description(
            _("escalation step {step} added to node {item}").format(
                step=s.text(str(change.new)), item=item
            )
        )
    if change.kind == "node.escalation.removed":
        return Description(
            _("escalation step {step} removed from node {item}").format(
                step=s.text(str(change.old)), item=item
            )
        )
    if change.kind == "node.fallback.added":
        return Description(
            _("fallback added to node {item}").format(item=item), after=s.text(str(change.new))
        )
    if change.kind == "node.fallback.removed":
        return Description(
            _("fallback removed from node {item}").format(item=item),
            before=s.text(str(change.old)),
        )
    if change.kind == "pilot.changed" and change.field == "pilot":
        if change.note == "added":
            design = s.text(label_of("design", change.new))
            return Description(_("pilot added ({design})").format(design=design))
        return Description(_("pilot removed"))
    if change.field == "next":
        return Description(f"{subject} {_ids(change.old, s)} → {_ids(change.new, s)}")
    if change.added or change.removed:
        return Description(_items(subject, change, s) + note)

    old, new = _pair(change.old, change.new)
    if change.kind.startswith("node.sla"):  # `default 5d`: the limit of the levels not listed
        old, new = _other_levels(old), _other_levels(new)
    if field in _ENUM_FIELDS and not isinstance(change.old, tuple):
        shown_old, shown_new = (
            _text(label_of(_ENUM_FIELDS[field], value), value, s)
            for value in (change.old, change.new)
        )
    elif change.field in _ID_FIELDS or isinstance(change.old, tuple):
        shown_old, shown_new = _code(old, s), _code(new, s)
    else:
        if display_width(old) > _LONG or display_width(new) > _LONG:
            return Description(
                _("{subject} changed").format(subject=subject) + note,
                before=s.text(old) if change.old is not None else None,
                after=s.text(new) if change.new is not None else None,
            )
        shown_old, shown_new = _text(old, change.old, s), _text(new, change.new, s)
    return Description(f"{subject} {shown_old} → {shown_new}{note}")


def _other_levels(value: str) -> str:
    if value.startswith("default "):
        return _("other levels") + " " + value[len("default ") :]
    return value


def _code(value: str, s: Style) -> str:
    return s.code(value) if value else _("(none)")


def _text(shown: str, raw: Any, s: Style) -> str:
    return _("(none)") if raw is None else s.text(shown)


def _ids(values: Any, s: Style) -> str:
    if not values:
        return _("(end)")
    return joined(s.code(v) for v in values)


def _items(subject: str, change: Change, s: Style) -> str:
    mark = s.code if change.field in _ID_FIELDS else s.text
    if change.field in _ENUM_FIELDS:
        group = _ENUM_FIELDS[change.field]

        def mark(value: str) -> str:
            return s.text(label_of(group, value))

    parts = []
    if change.added:
        parts.append(_("added {items}").format(items=joined(mark(v) for v in change.added)))
    if change.removed:
        parts.append(_("removed {items}").format(items=joined(mark(v) for v in change.removed)))
    # TRANSLATORS: what separates independent parts of one line.
    return _("{subject}: {parts}").format(subject=subject, parts=_("; ").join(parts))


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
