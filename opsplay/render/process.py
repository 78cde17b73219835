"""SPEC 8 parts of the SOP as plain data: levels with limits, escalation ladders, a RACI
matrix (roles × nodes), schedules in words and every fallback of a node.

Limits are shown as the user wrote them (`5分钟`, `T+1`); schedules in the document's
words ("每个工作日 09:00", "every working day at 09:00"); role and node ids by name.
"""

from __future__ import annotations

from typing import Any

from opsplay.i18n import N_, translate
from opsplay.model.duration import Duration
from opsplay.model.playbook import Node, Playbook
from opsplay.model.process import DEFAULT_LEVEL
from opsplay.model.schedule import Schedule, parse_schedule

RACI_LETTERS = (("responsible", "R"), ("accountable", "A"), ("consulted", "C"), ("informed", "I"))
_WEEKDAYS = (
    N_("Monday"),
    N_("Tuesday"),
    N_("Wednesday"),
    N_("Thursday"),
    N_("Friday"),
    N_("Saturday"),
    N_("Sunday"),
)


def schedule_words(schedule: Schedule | str | None, lang: str) -> str:
    """A schedule in the document's words: `每个工作日 09:00`, `every Monday at 10:00`."""
    if schedule is None:
        return ""
    if isinstance(schedule, str):
        schedule = parse_schedule(schedule)
    time = schedule.time.strftime("%H:%M")
    timed = schedule.time.hour or schedule.time.minute
    if schedule.kind == "cron":
        return translate(N_("cron schedule {cron}"), lang).format(cron=schedule.text)
    if schedule.kind == "daily":
        return translate(N_("every day at {time}"), lang).format(time=time)
    if schedule.kind == "workdays":
        return translate(N_("every working day at {time}"), lang).format(time=time)
    if schedule.kind == "weekly":
        day = translate(_WEEKDAYS[schedule.weekday or 0], lang)
        message = N_("every {weekday} at {time}") if timed else N_("every {weekday}")
        return translate(message, lang).format(weekday=day, time=time)
    if schedule.kind == "monthly":
        message = (
            N_("on day {day} of every month at {time}")
            if timed
            else N_("on day {day} of every month")
        )
        return translate(message, lang).format(day=schedule.day, time=time)
    message = (
        N_("on day {day} of each quarter's first month at {time}")
        if timed
        else N_("on day {day} of each quarter's first month")
    )
    return translate(message, lang).format(day=schedule.day, time=time)


def shown_limit(limit: Duration, node: Node, lang: str) -> str:
    """A limit as written, naming the business-hour calendar a length counts in (`2小时（客服
    班次）`), as every part of the SOP shows it."""
    from opsplay.labels import in_business_hours

    return in_business_hours(limit.text, node.calendar, lang=lang)


def level_limits(node: Node, level_names: dict[str, str], lang: str) -> list[dict[str, str]]:
    """A per-level limit as rows (level, its name, the limit as written); [] for a plain one."""
    if node.sla is None or isinstance(node.sla, Duration):
        return []
    rows = []
    for level, limit in node.sla.root.items():
        shown = shown_limit(limit, node, lang)
        if level == DEFAULT_LEVEL:
            name = translate(N_("other levels"), lang)
            rows.append({"level": name, "name": name, "limit": shown})
        else:
            rows.append({"level": level, "name": level_names.get(level, level), "limit": shown})
    return rows


def ladder(
    node: Node,
    role_names: dict[str, str],
    lang: str = "en",
    level_names: dict[str, str] | None = None,
) -> list[dict[str, str]]:
    """The escalation ladder of a node, step by step, roles by name; ladders per level
    (`escalation: {P1: [...]}`) one after the other, each step's wait led by its level id
    (`P1：15分钟`), as the flowchart's arrows and the levels table name it: a level's long
    name (`一级故障（出库作业中断）`) would crowd the wait out of its cell. `level_names` is
    accepted for the rows' `level_name`."""
    rows = []
    for level, steps in node.ladders.items():
        for step in steps:
            after = step.after.text
            if level is not None:
                shown = translate(N_("other levels"), lang) if level == DEFAULT_LEVEL else level
                after = translate(N_("{level}: {after}"), lang).format(level=shown, after=after)
            rows.append(
                {
                    "after": after,
                    "to": step.to,
                    "to_name": role_names.get(step.to, step.to),
                    "action": step.action,
                    "level": level or "",
                    "level_name": (level_names or {}).get(level, level) if level else "",
                }
            )
    return rows


def raci_matrix(playbook: Playbook) -> dict[str, Any] | None:
    """Roles × nodes with R/A/C/I letters (`R/A` when both); None when no node has a RACI."""
    nodes = [node for node in playbook.nodes if node.raci is not None]
    if not nodes:
        return None
    rows = []
    for role in playbook.roles:
        cells = []
        for node in nodes:
            letters = [
                letter
                for field, letter in RACI_LETTERS
                if role.id in _roles(getattr(node.raci, field))
            ]
            cells.append("/".join(letters))
        if any(cells):
            rows.append({"role": role.id, "name": role.name, "cells": cells})
    return {"nodes": [{"id": n.id, "name": n.name} for n in nodes], "rows": rows}


def _roles(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


# Headings of the SPEC 8 sections; table columns shared with the rest of the SOP (node,
# role, time limit, action) come from the document's own words.
WORDS = {
    "h_levels": N_("Levels and time limits"),
    "col_level": N_("Level of the case"),
    "col_meaning": N_("What the level means"),
    "other_levels": N_("other levels, or no level given"),
    "other_short": N_("other levels"),
    "h_schedules": N_("Recurring nodes"),
    "col_when": N_("When it runs"),
    "h_entries": N_("Entry points"),
    # (the space after the colon is the language's: none after a full-width one)
    "entries_intro": N_("The process starts at any of these nodes: "),
    "h_calendars": N_("Business hours"),
    "calendars_intro": N_("The time limits of these nodes count only the business hours:"),
    "col_calendar": N_("Calendar"),
    "col_hours": N_("Hours"),
    "col_days": N_("Days"),
    "col_nodes": N_("Nodes"),
    "h_ladders": N_("Escalation ladders"),
    "ladders_intro": N_("Still unfinished after the time shown, the node goes to the next rung:"),
    "col_after": N_("Unfinished after"),
    "col_to": N_("Hand over or notify"),
    "h_raci": N_("RACI matrix"),
    "escalate_to": N_("escalate to"),
    "raci_legend": N_("R responsible · A accountable · C consulted · I informed"),
}


def level_rows(playbook: Playbook, lang: str) -> list[dict[str, Any]]:
    """Levels × nodes with per-level limits: the limit a case of the level gets, as written
    (its own, else `default`; `—` when neither)."""
    nodes = [n for n in playbook.nodes if n.sla is not None and not isinstance(n.sla, Duration)]
    rows = [
        {
            "level": level.id,
            "name": level.name,
            "limits": [
                _cell(node.sla.root.get(level.id, node.sla.root.get(DEFAULT_LEVEL)), node, lang)  # type: ignore[union-attr]
                for node in nodes
            ],
        }
        for level in playbook.levels
    ]
    if any(DEFAULT_LEVEL in node.sla.root for node in nodes):  # type: ignore[union-attr]
        rows.append(
            {
                "level": translate(WORDS["other_short"], lang),
                "name": translate(WORDS["other_levels"], lang),
                "limits": [_cell(node.sla.root.get(DEFAULT_LEVEL), node, lang) for node in nodes],  # type: ignore[union-attr]
            }
        )
    return rows


def _node_limit(node: Node, lang: str) -> str | None:
    """The node's limit as the SOP shows it: `2小时（客服班次）`, `P1 5分钟、P2 30分钟`."""
    if node.sla is None:
        return None
    if isinstance(node.sla, Duration):
        return shown_limit(node.sla, node, lang)
    return _listed([f"{row['level']} {row['limit']}" for row in level_limits(node, {}, lang)], lang)


def _cell(limit: Duration | None, node: Node, lang: str) -> str:
    return shown_limit(limit, node, lang) if limit is not None else "—"


def process_data(playbook: Playbook, lang: str) -> dict[str, Any]:
    """Everything SPEC 8 adds to an SOP, for the templates (empty parts are empty lists)."""
    roles = {role.id: role.name for role in playbook.roles}
    levels = {level.id: level.name for level in playbook.levels}
    nodes = []
    for node in playbook.nodes:
        nodes.append(
            {
                "id": node.id,
                "name": node.name,
                "owner_name": roles.get(node.owner, node.owner),
                "sla": _node_limit(node, lang),
                "level_limits": level_limits(node, levels, lang),
                "ladder": ladder(node, roles, lang, levels),
                "entry": node.entry,
                "calendar": node.calendar,
                "schedule": schedule_words(node.schedule, lang) if node.schedule else None,
                "fallbacks": [
                    {"when": list(f.when), "action": f.action, "goto": f.goto}
                    for f in node.fallbacks
                ],
            }
        )
    return {
        "levels": [{"id": level.id, "name": level.name} for level in playbook.levels],
        "nodes": nodes,
        "leveled": [n for n in nodes if n["level_limits"]],
        "escalated": [n for n in nodes if n["ladder"]],
        "scheduled": [n for n in nodes if n["schedule"]],
        "level_rows": level_rows(playbook, lang),
        "raci": raci_matrix(playbook),
        "entries": _listed(entry_names(playbook, lang), lang),
        "calendars": calendar_rows(playbook, lang),
        "words": {key: translate(text, lang) for key, text in WORDS.items()},
    }


def entry_names(playbook: Playbook, lang: str) -> list[str]:
    """Where the process starts, when it has several entries (`entry: true`, SPEC 12): the
    first node and each entry node, by name, a scheduled one with its schedule; [] otherwise."""
    if not any(node.entry for node in playbook.nodes):
        return []
    names = []
    for position, node in enumerate(playbook.nodes):
        if position == 0 or node.entry:
            when = schedule_words(node.schedule, lang) if node.schedule else ""
            names.append(
                translate(N_("{node} ({when})"), lang).format(node=node.name, when=when)
                if when
                else node.name
            )
    return names


def _listed(items: list[str], lang: str) -> str:
    """`a、b、c` in Chinese, `a, b, c` in English (opsplay.text.joined in `lang`)."""
    from opsplay.i18n import language
    from opsplay.text import joined

    with language(lang):
        return joined(items)


_DAY_WORDS = {
    "workdays": N_("working days"),
    "daily": N_("every day"),
    "weekdays": N_("Monday to Friday"),
}


def calendar_rows(playbook: Playbook, lang: str) -> list[dict[str, str]]:
    """Business-hour calendars (SPEC 12): name, hours, days, and the nodes counting in them."""
    from opsplay.model.hours import parse_days

    rows = []
    for calendar in playbook.calendars:
        nodes = [node.name for node in playbook.nodes if node.calendar == calendar.id]
        rows.append(
            {
                "name": calendar.name or calendar.id,
                "hours": calendar.hours,
                "days": translate(_DAY_WORDS[parse_days(calendar.days)], lang),
                "nodes": _listed(nodes, lang) or "—",
            }
        )
    return rows
