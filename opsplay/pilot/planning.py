"""`pilot plan` and `pilot sql`: the playbook-facing side of the planner and the SQL generator."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING

from opsplay.errors import UsageError

if TYPE_CHECKING:
    from opsplay.model.playbook import Playbook
    from opsplay.pilot.plan import SamplePlan


def plan_for_playbook(
    playbook: Playbook, *, mde: float | None, power: float, daily: float | None, sd: float | None
) -> SamplePlan:
    """Sample size to detect the goal's change (baseline → target, or baseline + --mde)."""
    from opsplay.pilot.plan import sample_size, target_from_mde

    goal = playbook.goal
    definition = playbook.metric(goal.metric)
    if definition is None:
        raise UsageError(f"the goal's metric `{goal.metric}` is not declared under metrics")
    if definition.kind == "ratio":
        raise UsageError(
            f"`{goal.metric}` is a ratio metric; plan it as a mean with --sd from historical data"
        )
    if definition.kind == "mean" and sd is None:
        raise UsageError(
            f"`{goal.metric}` is a mean metric; pass its per-unit standard deviation with --sd"
        )
    target = goal.target if mde is None else target_from_mde(goal.baseline, mde)
    pilot = playbook.pilot
    return sample_size(
        definition.kind,
        goal.baseline,
        target,
        sd=sd,
        alpha=pilot.alpha if pilot else 0.05,
        power=power,
        split=pilot.split if pilot else 0.5,
        daily=daily,
    )


def format_plan(plan: SamplePlan, output_format: str) -> str:
    """The plan as text or JSON."""
    if output_format == "json":
        return json.dumps(asdict(plan), ensure_ascii=False, indent=2) + "\n"
    lines = [
        f"{plan.kind}: {plan.baseline:g} → {plan.target:g} (effect size {plan.effect_size:.4f}, {plan.method})",
        f"alpha {plan.alpha:g} (two-sided), power {plan.power:g}, pilot share {plan.split:g}",
        f"units needed: baseline {plan.n_baseline:,}, pilot {plan.n_pilot:,}, total {plan.n_total:,}",
    ]
    if plan.days is not None:
        lines.append(
            f"at {plan.daily:g} units per day: {plan.days} day{'' if plan.days == 1 else 's'}"
        )
    return "\n".join(lines) + "\n"


def sql_for_playbook(playbook: Playbook, *, table: str, dialect: str, by: list[str]) -> str:
    """Warehouse SQL producing the sufficient-statistics export for the pilot's metrics."""
    from opsplay.pilot.readers import MetricColumns
    from opsplay.pilot.sql import generate_sql

    pilot = playbook.pilot
    if pilot is None:
        raise UsageError(f"playbook `{playbook.metadata.id}` has no `pilot` section")
    wanted = [*pilot.metrics, *pilot.guardrails]
    metrics = [MetricColumns.of(m) for m in playbook.metrics if m.id in wanted]
    period = None if pilot.design == "ab" else pilot.period_column
    try:
        return generate_sql(metrics, table, pilot.arm_column, period, by, dialect)  # type: ignore[arg-type]
    except ValueError as error:
        raise UsageError(str(error)) from None
