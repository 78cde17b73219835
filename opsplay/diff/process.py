"""SPEC 8 changes: levels, per-level limits, escalation ladders, RACI, schedules, fallbacks.

A limit is compared level by level (a plain limit holds for every level); a longer limit,
or one removed, is a loosening. An escalation ladder's steps are matched by the role they
go to (in order, for several steps to one role): a step removed or waiting longer is
major, a step added or waiting less is minor, its wording a patch. Several fallbacks are
compared trigger by trigger, so a trigger no fallback handles any more is a narrowing.

Floor: a section comparer. May import the model and `opsplay.diff`'s `values` and `differ`
(the `Differ` protocol); never `opsplay.diff.compare`, which calls it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from opsplay.diff.values import norm
from opsplay.model.duration import Duration
from opsplay.model.process import DEFAULT_LEVEL

if TYPE_CHECKING:
    from opsplay.diff.differ import Differ
    from opsplay.model.playbook import Fallback, Node

RACI_FIELDS = ("responsible", "accountable", "consulted", "informed")


def per_level(node_sla: Any) -> bool:
    """Whether a node's limit is written per level."""
    return node_sla is not None and not isinstance(node_sla, Duration)


def compare_sla(d: Differ, old: Node, new: Node, context: dict[str, Any]) -> None:
    """Per-level limits, level by level: tightened (shorter or added) or loosened."""
    levels = list(dict.fromkeys([*_levels(old.sla), *_levels(new.sla)]))
    for level in levels:
        before = _limit(old.sla, level)
        after = _limit(new.sla, level)
        if before is None and after is None:
            continue
        if before is None or after is None:
            loosened = after is None
            note = "removed" if loosened else "added"
        else:
            seconds = before.resolve(d.realtime), after.resolve(d.realtime)
            if seconds[0] == seconds[1]:
                continue
            loosened = seconds[1] > seconds[0]
            note = "loosened" if loosened else "tightened"
        d.add(
            "node.sla.loosened" if loosened else "node.sla.tightened",
            "nodes",
            field="sla",
            old=before and _shown(old.sla, level, before),
            new=after and _shown(new.sla, level, after),
            note=note,
            **context,
        )


def _shown(sla: Any, level: str, limit: Duration) -> str:
    """A plain limit as written; a per-level one with its level (`P1 5分钟`)."""
    return limit.text if isinstance(sla, Duration) else f"{level} {limit.text}"


def _levels(sla: Any) -> list[str]:
    if sla is None:
        return []
    if isinstance(sla, Duration):
        return [DEFAULT_LEVEL]
    return list(sla.root)


def _limit(sla: Any, level: str) -> Duration | None:
    """The limit a case of `level` gets (`default`: a case of an unlisted level)."""
    if sla is None or isinstance(sla, Duration):
        return sla
    return sla.root.get(level, sla.root.get(DEFAULT_LEVEL))


def compare_escalation(d: Differ, old: Node, new: Node, context: dict[str, Any]) -> None:
    """Escalation steps matched by the role they go to."""
    before = _steps(old, d.roles)
    after = _steps(new, {})
    # a step is shown with the role's name (技术副总裁), as the SOP's escalation ladder shows it
    names = {role.id: role.name or role.id for role in (*d.old.roles, *d.new.roles)}

    def shown(step: Any) -> str:
        return f"{step.after.text} → {names.get(step.to, step.to)}"

    for key, step in before.items():
        if key not in after:
            d.add(
                "node.escalation.removed",
                "nodes",
                field="escalation",
                old=shown(step),
                **context,
            )
    for key, step in after.items():
        previous = before.get(key)
        if previous is None:
            d.add(
                "node.escalation.added",
                "nodes",
                field="escalation",
                new=shown(step),
                **context,
            )
            continue
        waits = previous.after.resolve(d.realtime), step.after.resolve(d.realtime)
        if waits[0] != waits[1]:
            later = waits[1] > waits[0]
            d.add(
                "node.escalation.loosened" if later else "node.escalation.tightened",
                "nodes",
                field="escalation",
                old=shown(previous),
                new=shown(step),
                note="loosened" if later else "tightened",
                **context,
            )
        d.scalar(
            "node.escalation.action", "nodes", "escalation", previous.action, step.action, **context
        )


def _steps(node: Node, renames: dict[str, str]) -> dict[tuple[str, str, int], Any]:
    """(level, role, n-th step to that role) → step; old roles follow renames; level "" for
    a ladder every level climbs (per-level ladders: `escalation: {P1: [...]}`)."""
    counts: dict[tuple[str, str], int] = {}
    steps = {}
    for level, ladder in node.ladders.items():
        for step in ladder:
            role = renames.get(step.to, step.to)
            key = (level or "", role)
            counts[key] = counts.get(key, 0) + 1
            steps[(level or "", role, counts[key])] = step
    return steps


def compare_raci(d: Differ, old: Node, new: Node, context: dict[str, Any]) -> None:
    """RACI entries added or removed, per letter (R, A, C, I)."""
    for field in RACI_FIELDS:
        before = [d.roles.get(r, r) for r in _roles(old, field)]
        after = _roles(new, field)
        added = tuple(r for r in after if r not in before)
        removed = tuple(r for r in before if r not in after)
        if added:
            d.add("node.raci.added", "nodes", field=f"raci.{field}", added=added, **context)
        if removed:
            d.add("node.raci.removed", "nodes", field=f"raci.{field}", removed=removed, **context)


def _roles(node: Node, field: str) -> list[str]:
    if node.raci is None:
        return []
    value = getattr(node.raci, field)
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def compare_schedule(d: Differ, old: Node, new: Node, context: dict[str, Any]) -> None:
    """When a recurring node runs."""
    d.scalar(
        "node.schedule",
        "nodes",
        "schedule",
        old.schedule and old.schedule.text,
        new.schedule and new.schedule.text,
        **context,
    )


def compare_fallbacks(d: Differ, old: Node, new: Node, context: dict[str, Any]) -> None:
    """Several fallbacks, trigger by trigger: who handles it, how, and where it continues."""
    before, after = _by_trigger(old.fallbacks), _by_trigger(new.fallbacks)
    added = tuple(t for t in after if t not in before)
    removed = tuple(t for t in before if t not in after)
    if removed or added:
        d.add(
            "node.fallback.narrowed" if removed else "node.fallback.widened",
            "nodes",
            field="when",
            old=tuple(before),
            new=tuple(after),
            added=added,
            removed=removed,
            note="narrowed" if removed else "widened",
            **context,
        )
    for trigger in (t for t in after if t in before):
        was, now = before[trigger], after[trigger]
        d.scalar(
            "node.fallback.goto",
            "nodes",
            "goto",
            d.nodes.get(was.goto or "", was.goto),
            now.goto,
            **context,
        )
        d.scalar("node.fallback.action", "nodes", "action", was.action, now.action, **context)


def _by_trigger(fallbacks: list[Fallback]) -> dict[str, Fallback]:
    found: dict[str, Fallback] = {}
    for fallback in fallbacks:
        for trigger in fallback.when:
            found.setdefault(trigger, fallback)
    return found


def compare_levels(d: Differ) -> None:
    """Levels added (minor), removed (major) or renamed in wording (patch), by id."""
    old = {level.id: level for level in d.old.levels}
    new = {level.id: level for level in d.new.levels}
    for level_id, level in old.items():
        if level_id not in new:
            d.add("level.removed", "levels", item=level_id, name=norm(level.name))
    for level_id, level in new.items():
        if level_id not in old:
            d.add("level.added", "levels", item=level_id, name=norm(level.name))
        else:
            d.scalar(
                "level.text",
                "levels",
                "name",
                old[level_id].name,
                level.name,
                item=level_id,
                name=norm(level.name),
            )
