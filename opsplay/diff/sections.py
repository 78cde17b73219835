"""Sections that appear once per playbook: metadata, goal, scope, pilot, rollout, review.

Floor: a section comparer. May import the model and `opsplay.diff`'s `values` and `differ`
(the `Differ` protocol); never `opsplay.diff.compare`, which calls it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from opsplay.diff.values import Renames, norm, period

if TYPE_CHECKING:
    from opsplay.diff.differ import Differ


def compare_metadata(d: Differ) -> None:
    """Title, owner, status, language and tags (version, updated and changelog are bookkeeping)."""
    old, new = d.old.metadata, d.new.metadata
    d.scalar("metadata.id", "metadata", "id", old.id, new.id)
    d.scalar("metadata.title", "metadata", "title", old.title, new.title)
    d.scalar("metadata.owner", "metadata", "owner", d.roles.get(old.owner, old.owner), new.owner)
    d.scalar("metadata.status", "metadata", "status", old.status, new.status)
    d.scalar("metadata.lang", "metadata", "lang", old.lang, new.lang)
    d.items("metadata.tags", "metadata", "tags", old.tags, new.tags)


def compare_goal(d: Differ) -> None:
    """The SMART goal: metric, baseline, target (more or less ambitious), deadline, statement."""
    old, new = d.old.goal, d.new.goal
    d.scalar("goal.metric", "goal", "metric", d.metrics.get(old.metric, old.metric), new.metric)
    d.scalar("goal.baseline", "goal", "baseline", old.baseline, new.baseline)
    if old.target != new.target:
        metric = d.new.metric(new.metric)
        higher = getattr(metric, "better", "higher") == "higher"
        ambitious = (new.target > old.target) == higher
        d.add(
            "goal.target",
            "goal",
            field="target",
            old=old.target,
            new=new.target,
            note="more_ambitious" if ambitious else "less_ambitious",
        )
    if old.deadline != new.deadline:
        d.add(
            "goal.deadline",
            "goal",
            field="deadline",
            old=norm(old.deadline),
            new=norm(new.deadline),
            note="later" if new.deadline > old.deadline else "earlier",
        )
    d.scalar("goal.statement", "goal", "statement", old.statement, new.statement)


def compare_scope(d: Differ) -> None:
    """Segments, stages and period."""
    old, new = d.old.scope, d.new.scope
    d.items("scope.changed", "scope", "segments", old and old.segments, new and new.segments)
    d.items("scope.changed", "scope", "stages", old and old.stages, new and new.stages)
    d.scalar(
        "scope.changed",
        "scope",
        "period",
        period(old and old.period),
        period(new and new.period),
    )


def compare_pilot(d: Differ) -> None:
    """The pilot design and its settings; a pilot added or removed is one change."""
    old, new = d.old.pilot, d.new.pilot
    if old is None and new is None:
        return
    if old is None or new is None:
        d.add(
            "pilot.changed",
            "pilot",
            field="pilot",
            old=old and old.design,
            new=new and new.design,
            note="added" if old is None else "removed",
        )
        return
    d.scalar("pilot.scope", "pilot", "scope", old.scope, new.scope)
    pairs = {
        "design": (old.design, new.design),
        "arm_column": (old.arm_column, new.arm_column),
        "arms": (
            f"{old.arms.baseline} / {old.arms.pilot}",
            f"{new.arms.baseline} / {new.arms.pilot}",
        ),
        "period": (period(old.period), period(new.period)),
        "alpha": (old.alpha, new.alpha),
        "split": (old.split, new.split),
        "min_n": (old.min_n, new.min_n),
        "period_column": (old.period_column, new.period_column),
        "periods": (
            f"{old.periods.before} / {old.periods.after}",
            f"{new.periods.before} / {new.periods.after}",
        ),
    }
    for field, (before, after) in pairs.items():
        d.scalar("pilot.changed", "pilot", field, before, after)
    for field in ("metrics", "guardrails"):
        renamed = [d.metrics.get(m, m) for m in getattr(old, field)]
        d.items("pilot.changed", "pilot", field, renamed, getattr(new, field))
    d.items("pilot.feedback", "pilot", "feedback", old.feedback, new.feedback)


def compare_rollout(d: Differ) -> None:
    """Training and resources."""
    old, new = d.old.rollout, d.new.rollout
    for field in ("training", "resources"):
        d.items(
            "rollout.changed",
            "rollout",
            field,
            old and getattr(old, field),
            new and getattr(new, field),
        )


def compare_review(d: Differ) -> None:
    """Findings, successes and improvements."""
    old, new = d.old.review, d.new.review

    def findings(review: Any, renames: Renames) -> list[str]:
        if review is None:
            return []
        return [
            f"{renames.get(f.metric, f.metric)}: {norm(f.cause)} → {norm(f.action)}"
            for f in review.findings
        ]

    d.items("review.changed", "review", "findings", findings(old, d.metrics), findings(new, {}))
    for field in ("successes", "improvements"):
        d.items(
            "review.changed",
            "review",
            field,
            old and getattr(old, field),
            new and getattr(new, field),
        )
